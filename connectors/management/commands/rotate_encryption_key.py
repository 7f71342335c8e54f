"""Re-encrypt every connector's credentials with the newest key of NEONHUB_ENCRYPTION_KEYS.

Rotation: put a new key first in NEONHUB_ENCRYPTION_KEYS (keep the old ones after it),
restart, run this command, then remove the old keys.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connectors import crypto
from connectors.services import credentials_rotate


class Command(BaseCommand):
    help = "Re-encrypt every connector's credentials with the newest key (the first of NEONHUB_ENCRYPTION_KEYS)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be re-encrypted; write nothing"
        )

    def handle(self, *args, **options) -> None:
        counts = credentials_rotate(dry_run=options["dry_run"])
        verb = "Would re-encrypt" if options["dry_run"] else "Re-encrypted"
        self.stdout.write(
            f"{verb} {counts['rotated']} connector(s) with key {crypto.current_key_id()}; "
            f"{counts['current']} already used it."
        )
        if counts["unreadable"]:
            raise CommandError(
                f"{len(counts['unreadable'])} connector(s) have credentials no configured key can read "
                f"(restore the old key, or enter their credentials again): {', '.join(counts['unreadable'])}"
            )
