"""Re-encrypt every stored secret with the newest key of NEONHUB_ENCRYPTION_KEYS: connector
credentials, and the trigger and alert webhook signing secrets, connected apps' secrets and
sign-ins waiting for an account (``neonhub/ops/sealed.py``).

Rotation: put a new key first in NEONHUB_ENCRYPTION_KEYS (keep the old ones after it),
restart, run this command, then remove the old keys.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connectors import crypto
from connectors.services import credentials_rotate
from neonhub.ops.sealed import sealed_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key (the first of NEONHUB_ENCRYPTION_KEYS)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be re-encrypted; write nothing"
        )

    def handle(self, *args, **options) -> None:
        dry_run = options["dry_run"]
        counts = credentials_rotate(dry_run=dry_run)
        others = sealed_rotate(dry_run=dry_run)
        verb = "Would re-encrypt" if dry_run else "Re-encrypted"
        key = crypto.current_key_id()
        self.stdout.write(
            f"{verb} {counts['rotated']} connector(s) with key {key}; "
            f"{counts['current']} already used it."
        )
        self.stdout.write(
            f"{verb} {others['rotated']} other secret(s) (trigger and alert signing secrets, "
            f"connected apps, sign-ins) with key {key}; {others['current']} already used it."
        )
        problems = []
        if counts["unreadable"]:
            problems.append(
                f"{len(counts['unreadable'])} connector(s) have credentials no configured key can "
                f"read (restore the old key, or enter their credentials again): "
                f"{', '.join(counts['unreadable'])}"
            )
        if others["unreadable"]:
            problems.append(
                f"{len(others['unreadable'])} other secret(s) no configured key can read (restore "
                f"the old key, or set them again): {', '.join(others['unreadable'])}"
            )
        if problems:
            raise CommandError("; ".join(problems))
