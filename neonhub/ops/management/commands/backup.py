"""``manage.py backup DEST``: the database and the uploads, with a manifest of checksums."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from neonhub.ops.backup import BackupRefused, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite's online backup, or pg_dump on PostgreSQL) and the stored "
        "uploads to DEST: a new directory, or a file ending in .tar.gz.  Safe while NeonHub runs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("dest", help="a new directory, or a path ending in .tar.gz")
        parser.add_argument("--no-media", action="store_true", help="leave the stored uploads out")

    def handle(self, *args, dest: str, no_media: bool = False, **options) -> None:
        try:
            path = backup_create(dest=Path(dest), media=not no_media)
        except BackupRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backup written to {path}")
