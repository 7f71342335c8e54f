"""manage.py backup and restore: a round trip on this database (SQLite, or PostgreSQL when the
suite runs on it), a restore onto a fresh installation given the key ring, and archives that
are refused before anything is touched."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection

from connectors import crypto
from connectors.models import Connector
from connectors.runtime import credentials_load
from neonhub.ops import backup
from runs.models import AgentRun, RunStep
from tests.factories import AgentRunFactory, ConnectorFactory, OrganizationFactory, RunStepFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "restored-auth-token-77"


@pytest.fixture
def data(db):
    org = OrganizationFactory(slug="acme-backup")
    connector = ConnectorFactory(
        organization=org,
        credentials={"account_sid": "AC" + "1" * 32, "auth_token": TOKEN},
    )
    run = AgentRunFactory(organization=org, status="completed", output={"text": "kept"})
    RunStepFactory(run=run)
    return {"org": org, "connector": connector, "run": run}


def _archive(tmp_path, name="backup.tar.gz") -> Path:
    dest = tmp_path / name
    call_command("backup", str(dest))
    return dest


def _refused(src, match: str) -> None:
    with pytest.raises(CommandError, match=match):
        call_command("restore", str(src), "--verify")


def test_the_manifest_says_what_is_inside_and_holds_no_key(data, tmp_path):
    dest = tmp_path / "dir-backup"
    call_command("backup", str(dest))
    manifest = json.loads((dest / "manifest.json").read_text())
    database = manifest["database"]
    assert database["engine"] == connection.vendor and database["server_version"]
    assert manifest["product_version"] and manifest["created_at"]
    assert "0009_retention_mark" in manifest["migrations"]["runs"]
    assert manifest["encryption_keys"]["needed"] == [crypto.current_key_id()]
    info = manifest["files"][database["file"]]
    assert info["sha256"] == backup.sha256_of(dest / database["file"])
    text = (dest / "manifest.json").read_text()
    for key in django_settings.NEONHUB_ENCRYPTION_KEYS:
        assert key not in text


def test_round_trip_restores_what_was_there(data, tmp_path, capsys):
    dest = _archive(tmp_path)
    call_command("restore", str(dest), "--verify")
    assert "is sound" in capsys.readouterr().out

    AgentRun.objects.all().delete()
    Connector.objects.all().delete()
    AgentRunFactory(organization=data["org"], status="failed")  # written after the backup

    with pytest.raises(CommandError, match="add --yes"):
        call_command("restore", str(dest))
    assert AgentRun.objects.count() == 1  # unchanged without --yes

    call_command("restore", str(dest), "--yes")
    assert "Restored" in capsys.readouterr().out
    run = AgentRun.objects.get()
    assert run.pk == data["run"].pk and run.output == {"text": "kept"}
    assert RunStep.objects.filter(run=run).count() == 1
    connector = Connector.objects.get()
    assert credentials_load(connector=connector)["auth_token"] == TOKEN


def _other_database() -> tuple[str, str]:
    """A database URL for a fresh installation: a new SQLite file, or a new PostgreSQL database."""
    if connection.vendor == "sqlite":
        return "sqlite", ""
    name = f"neonhub_restore_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    return "postgresql", f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


def test_restore_onto_a_fresh_installation_given_the_key_ring(data, tmp_path):
    dest = _archive(tmp_path)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    vendor, url = _other_database()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NEONHUB_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "neonhub.settings",
        "NEONHUB_VAR_DIR": str(fresh),
        "NEONHUB_SECRET_KEY": "another-installation-secret-key-0123456789-abcdef",
        "NEONHUB_ENCRYPTION_KEYS": ",".join(django_settings.NEONHUB_ENCRYPTION_KEYS),
        "DATABASE_URL": url or f"sqlite:///{fresh / 'neonhub.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    script = (
        "from django.core.management import call_command\n"
        f"call_command('restore', {str(dest)!r}, '--yes')\n"
        "from runs.models import AgentRun\n"
        "from connectors.models import Connector\n"
        "from connectors.runtime import credentials_load\n"
        "run = AgentRun.objects.get()\n"
        "print('RUN', run.pk, run.output['text'], run.steps.count())\n"
        "print('TOKEN', credentials_load(connector=Connector.objects.get())['auth_token'])\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"')
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"RUN {data['run'].pk} kept 1" in done.stdout
    assert f"TOKEN {TOKEN}" in done.stdout
    if vendor == "sqlite":
        assert (fresh / "neonhub.sqlite3").stat().st_size > 0


def _unpacked(tmp_path) -> Path:
    dest = tmp_path / "dir-backup"
    call_command("backup", str(dest))
    return dest


def _database_file(root: Path) -> Path:
    manifest = json.loads((root / "manifest.json").read_text())
    return root / manifest["database"]["file"]


def test_a_flipped_byte_is_refused_and_nothing_is_touched(data, tmp_path):
    root = _unpacked(tmp_path)
    path = _database_file(root)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    _refused(root, "does not match its SHA-256")
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("restore", str(root), "--yes")
    assert AgentRun.objects.filter(pk=data["run"].pk).exists()


def test_a_truncated_file_or_archive_is_refused(data, tmp_path):
    root = _unpacked(tmp_path)
    path = _database_file(root)
    path.write_bytes(path.read_bytes()[:-100])
    _refused(root, "truncated")

    packed = _archive(tmp_path)
    packed.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    _refused(packed, "not a readable archive")


def test_a_missing_file_or_manifest_is_refused(data, tmp_path):
    root = _unpacked(tmp_path)
    _database_file(root).unlink()
    _refused(root, "is missing from the archive")
    (root / "manifest.json").unlink()
    _refused(root, "no manifest.json")


def test_an_archive_whose_keys_are_not_in_this_key_ring_is_refused(data, tmp_path, settings):
    dest = _archive(tmp_path)
    needed = crypto.current_key_id()
    settings.NEONHUB_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    _refused(dest, f"key\\(s\\) {needed}, which are not in NEONHUB_ENCRYPTION_KEYS")


def _edit_manifest(root: Path, change) -> None:
    manifest = json.loads((root / "manifest.json").read_text())
    change(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest))


def test_an_archive_from_newer_code_is_refused(data, tmp_path):
    root = _unpacked(tmp_path)
    _edit_manifest(root, lambda m: m["migrations"]["runs"].append("0999_from_the_future"))
    _refused(root, "runs.0999_from_the_future")


def test_an_archive_of_another_database_engine_is_refused(data, tmp_path):
    root = _unpacked(tmp_path)
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    _edit_manifest(root, lambda m: m["database"].update(engine=other))
    _refused(root, f"holds a {other} database; this installation uses {connection.vendor}")


def test_a_tarball_cannot_write_outside_its_folder(data, tmp_path):
    evil = tmp_path / "evil.tar.gz"
    outside = tmp_path / "outside.txt"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../outside.txt")
    _refused(evil, "not a readable archive")
    assert not outside.exists()


def test_a_backup_never_overwrites(data, tmp_path):
    dest = _archive(tmp_path)
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(dest))
