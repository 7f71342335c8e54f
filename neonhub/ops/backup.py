"""Backup and restore of a whole installation: the database and the stored uploads.

An archive is a directory, or the same packed as a ``.tar.gz``, holding:

- ``database.sqlite3``: SQLite's online backup API (``sqlite3.Connection.backup``), a
  consistent copy taken while the web and the workers keep writing; or ``database.dump``:
  ``pg_dump --format=custom`` on PostgreSQL;
- ``media/…``: the stored uploads (batch input files, contact imports awaiting confirmation);
- ``manifest.json``: the SHA-256 and size of every file, the product version, the database
  engine and server version, the applied migrations per app, the ids of the encryption keys
  the stored secrets were encrypted with (``connectors.crypto.key_id``: 8 hex digits of the
  key's SHA-256; never a key), and when it was made.

``archive_verify`` refuses a damaged, truncated or mismatched archive before anything is
touched; ``archive_restore`` verifies, then replaces this installation's database and uploads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from connectors import crypto
from connectors.models import Connector
from neonhub.ops.sealed import sealed_tokens
from runs import rollups

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
MEDIA_DIR = "media"
CHUNK = 1 << 20


class BackupRefused(Exception):
    """The archive cannot be restored here, or a backup cannot be made; the message says why."""


@dataclass
class Verified:
    root: Path
    manifest: dict


# --- facts about this installation ---------------------------------------------------------


def engine() -> str:
    return connection.vendor  # "sqlite" or "postgresql"


def server_version() -> str:
    with connection.cursor() as cursor:
        if engine() == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("show server_version")
        return str(cursor.fetchone()[0])


def product_version() -> str:
    try:
        return metadata.version("neonhub")
    except metadata.PackageNotFoundError:  # pragma: no cover - a checkout that was never installed
        return "unknown"


def applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def keys_in_use() -> list[str]:
    """The ids of the keys the stored secrets (connector credentials, and every other encrypted
    field in ``neonhub/ops/sealed.py``) were encrypted with: the keys an installation needs to
    read this database."""
    tokens = [
        *Connector.objects.exclude(credentials="").values_list("credentials", flat=True),
        *sealed_tokens(),
    ]
    return sorted({crypto.token_key_id(t) for t in tokens} - {""})


def key_ring_ids() -> list[str]:
    return [key.id for key in crypto.key_ring()]


# --- writing -------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def backup_create(*, dest: Path, media: bool = True) -> Path:
    """Write an archive to ``dest`` (a new directory, or a ``.tar.gz`` file); returns it."""
    dest = Path(dest)
    packed = dest.name.endswith((".tar.gz", ".tgz"))
    if dest.exists():
        raise BackupRefused(f"{dest} already exists; choose a new name")
    with tempfile.TemporaryDirectory(prefix="neonhub-backup-") as scratch:
        root = Path(scratch) / "archive" if packed else dest
        root.mkdir(parents=True)
        keys = set(keys_in_use())
        database = _database_dump(root)
        keys |= set(keys_in_use())  # and any written while the copy was taken
        if media and Path(settings.MEDIA_ROOT).is_dir():
            shutil.copytree(settings.MEDIA_ROOT, root / MEDIA_DIR)
        manifest = {
            "format": FORMAT,
            "product": "neonhub",
            "product_version": product_version(),
            "created_at": datetime.now(UTC).isoformat(),
            "database": database,
            "migrations": applied_migrations(),
            "encryption_keys": {"needed": sorted(keys), "configured": key_ring_ids()},
            "files": _checksums(root),
        }
        (root / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        if packed:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(dest, "w:gz") as tar:
                for path in sorted(root.rglob("*")):
                    tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
    return dest


def _checksums(root: Path) -> dict[str, dict]:
    return {
        str(path.relative_to(root)): {"sha256": sha256_of(path), "bytes": path.stat().st_size}
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def _database_dump(root: Path) -> dict:
    facts = {"engine": engine(), "server_version": server_version()}
    if facts["engine"] == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(root / SQLITE_FILE)
        try:
            # A consistent snapshot while others keep writing (WAL: readers never wait).
            connection.connection.backup(target)
        finally:
            target.close()
        return {**facts, "file": SQLITE_FILE}
    if facts["engine"] == "postgresql":
        tool = _pg_tool_version("pg_dump")
        _pg_tool_fits("pg_dump", tool, facts["server_version"])
        _pg_run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={root / PG_FILE}"])  # fmt: skip
        return {**facts, "file": PG_FILE, "dump_tool_version": tool}
    raise BackupRefused(f"Backups of a {facts['engine']} database are not supported")


# --- PostgreSQL's tools ----------------------------------------------------------------------


def _major(version: str) -> int:
    found = re.search(r"(\d+)", version)
    return int(found.group(1)) if found else 0


def _pg_tool_version(tool: str) -> str:
    try:
        # Our own argument list, no shell.
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BackupRefused(
            f"{tool} is needed for PostgreSQL and could not be run: {exc}"
        ) from None
    found = re.search(r"(\d+(?:\.\d+)*)", out.stdout)
    return found.group(1) if found else out.stdout.strip()


def _pg_tool_fits(tool: str, tool_version: str, server: str) -> None:
    # pg_dump refuses a newer server; pg_restore reads archives of its own major or older.
    if _major(tool_version) < _major(server):
        raise BackupRefused(
            f"{tool} {tool_version} is older than the PostgreSQL server ({server}); "
            f"install {tool} {_major(server)} or newer"
        )


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                      ("PASSWORD", "PGPASSWORD")):  # fmt: skip
        if db.get(key):
            env[name] = str(db[key])
    return env


def _pg_run(args: list[str]) -> None:
    # Our own argument list (file paths and the database name), no shell; the password goes in
    # the environment, never on the command line.
    done = subprocess.run(args, capture_output=True, text=True, env=_pg_env())  # noqa: S603
    if done.returncode != 0:
        raise BackupRefused(f"{args[0]} failed: {done.stderr.strip()[:1000]}")


# --- verifying -----------------------------------------------------------------------------


@contextmanager
def archive_open(src: Path) -> Iterator[Path]:
    """The archive as a directory: itself, or a ``.tar.gz`` unpacked into a temporary one."""
    src = Path(src)
    if src.is_dir():
        yield src
        return
    if not src.is_file():
        raise BackupRefused(f"{src} does not exist")
    with tempfile.TemporaryDirectory(prefix="neonhub-restore-") as scratch:
        try:
            with tarfile.open(src, "r:*") as tar:
                tar.extractall(scratch, filter="data")  # no paths outside, no links, no devices
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            raise BackupRefused(
                f"{src} is not a readable archive (damaged or truncated): {exc}"
            ) from None
        yield Path(scratch)


def archive_verify(root: Path) -> Verified:
    """Refuse, with the reason, an archive this installation cannot restore; change nothing."""
    manifest = _manifest(root)
    _files_check(root, manifest)
    _engine_check(manifest)
    _migrations_check(manifest)
    _keys_check(manifest)
    return Verified(root=root, manifest=manifest)


def _manifest(root: Path) -> dict:
    path = root / MANIFEST
    if not path.is_file():
        raise BackupRefused("The archive has no manifest.json: it is not a NeonHub backup")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        raise BackupRefused("manifest.json is damaged (not JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"manifest.json is not a NeonHub backup of format {FORMAT}")
    return manifest


def _files_check(root: Path, manifest: dict) -> None:
    files = manifest.get("files") or {}
    database = (manifest.get("database") or {}).get("file")
    if database not in files:
        raise BackupRefused("The manifest lists no database file")
    for name, expected in sorted(files.items()):
        path = root / name
        if not path.is_file():
            raise BackupRefused(f"{name} is missing from the archive")
        size = path.stat().st_size
        if size != expected.get("bytes"):
            raise BackupRefused(
                f"{name} is {size} bytes, the manifest says {expected.get('bytes')} (truncated?)"
            )
        if sha256_of(path) != expected.get("sha256"):
            raise BackupRefused(f"{name} does not match its SHA-256 in the manifest (damaged)")


def _engine_check(manifest: dict) -> None:
    source = manifest["database"]
    here = engine()
    if source.get("engine") != here:
        raise BackupRefused(
            f"The archive holds a {source.get('engine')} database; this installation uses "
            f"{here}. Restore it onto a {source.get('engine')} installation"
        )
    if here == "postgresql":
        server = server_version()
        if _major(server) < _major(source.get("server_version", "")):
            raise BackupRefused(
                f"The archive comes from PostgreSQL {source['server_version']}; this server is "
                f"{server}, older"
            )
        _pg_tool_fits(
            "pg_restore", _pg_tool_version("pg_restore"), source.get("dump_tool_version", "")
        )


def _migrations_check(manifest: dict) -> None:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in sorted((manifest.get("migrations") or {}).items())
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise BackupRefused(
            "The archive's database has migrations this code does not have (it was made by a "
            f"newer version): {', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}. "
            "Restore it with that version or newer"
        )


def _keys_check(manifest: dict) -> None:
    needed = (manifest.get("encryption_keys") or {}).get("needed") or []
    missing = sorted(set(needed) - set(key_ring_ids()))
    if missing:
        raise BackupRefused(
            f"The archive's secrets were encrypted with key(s) {', '.join(missing)}, which are "
            "not in NEONHUB_ENCRYPTION_KEYS here; add them (any order after the first) and try again"
        )


# --- restoring -----------------------------------------------------------------------------


def archive_restore(verified: Verified) -> dict:
    """Replace this installation's database (and uploads) with the verified archive's."""
    root, manifest = verified.root, verified.manifest
    database = root / manifest["database"]["file"]
    if engine() == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            # Page by page into the live file, under its lock: processes with the database
            # open see the restored one on their next read.
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        for each in connections.all():
            each.close()
        _pg_run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--single-transaction", f"--dbname={connection.settings_dict['NAME']}",
                 str(database)])  # fmt: skip
    media = root / MEDIA_DIR
    if media.is_dir():
        shutil.copytree(media, settings.MEDIA_ROOT, dirs_exist_ok=True)
    rollups.rollups_invalidate()
    pending = _pending_migrations(manifest)
    return {"database": str(connection.settings_dict["NAME"]), "pending_migrations": pending}


def _pending_migrations(manifest: dict) -> int:
    applied = {(a, n) for a, names in (manifest.get("migrations") or {}).items() for n in names}
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return len(known - applied)
