"""``manage.py restore SRC``: check an archive, then (with ``--yes``) restore it.

``--verify`` only checks (checksums, sizes, database engine, migrations, encryption keys) and
changes nothing.  Restoring replaces this installation's whole database and copies the
uploads back, so it needs ``--yes``; it verifies first and refuses exactly as ``--verify``
would.  Stop the web server and the workers first.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from neonhub.ops.backup import BackupRefused, archive_open, archive_restore, archive_verify


class Command(BaseCommand):
    help = (
        "Verify a backup archive (--verify: check only) or restore it over this installation's "
        "database and uploads (--yes).  A damaged, truncated or mismatched archive is refused "
        "before anything is touched."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("src", help="the archive: a directory or a .tar.gz")
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--verify", action="store_true", help="check only; change nothing")
        what.add_argument(
            "--yes", action="store_true", help="replace this installation's database with it"
        )

    def handle(self, *args, src: str, verify: bool = False, yes: bool = False, **options):
        try:
            with archive_open(Path(src)) as root:
                verified = archive_verify(root)
                made = verified.manifest.get("created_at", "?")
                if verify:
                    self.stdout.write(f"{src} is sound: made {made}; it can be restored here.")
                    return
                if not yes:
                    raise CommandError(
                        f"{src} is sound (made {made}). Restoring replaces the database "
                        f"{connection.settings_dict['NAME']} and the uploads: add --yes to do it."
                    )
                done = archive_restore(verified)
        except BackupRefused as exc:
            raise CommandError(f"Refused: {exc}. Nothing was changed.") from None
        self.stdout.write(f"Restored {src} (made {made}) into {done['database']}.")
        if done["pending_migrations"]:
            self.stdout.write(
                f"{done['pending_migrations']} migrations of this code are not applied yet: "
                "run `manage.py migrate`."
            )
