"""Run the retention job now (it also runs every hour in the worker), or reclaim space."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from neonhub.core.models import Organization
from neonhub.ops import retention, space


class Command(BaseCommand):
    help = (
        "Delete finished runs, their steps, outbox rows and webhook deliveries older than each "
        "organization's retention, in small batches; then reclaim the freed space on SQLite."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", help="slug of one organization (default: all)")
        parser.add_argument("--batch", type=int, help="runs per transaction (default: setting)")
        parser.add_argument(
            "--vacuum",
            action="store_true",
            help="SQLite: a full VACUUM afterwards (holds the write lock while it rewrites the "
            "file; also switches a database created before incremental auto-vacuum to it)",
        )

    def handle(self, *args, org=None, batch=None, vacuum=False, **options) -> None:
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organization with slug {org!r}")
            pruned = retention.organization_prune(organization=organization, batch=batch)
            pruned.space = space.space_reclaim().as_dict()
        else:
            pruned = retention.retention_prune(batch=batch)
        self.stdout.write(
            f"Deleted {pruned.runs} runs ({pruned.steps} steps, {pruned.approvals} approvals), "
            f"{pruned.outbox} outbox rows and {pruned.deliveries} webhook deliveries in "
            f"{pruned.batches} transactions (slowest {pruned.slowest_batch_ms:.1f} ms)."
        )
        self.stdout.write(_space_line(pruned.space))
        if vacuum:
            self.stdout.write(_space_line(space.space_vacuum().as_dict(), vacuum=True))


def _space_line(values: dict, *, vacuum: bool = False) -> str:
    if values.get("engine") != "sqlite":
        return f"{values.get('engine')}: space is reclaimed by the server's autovacuum."
    what = "VACUUM" if vacuum else "Incremental vacuum"
    return (
        f"{what}: {values['reclaimed_pages']} free pages returned, "
        f"{values['free_pages_after']} left; auto_vacuum is {values['auto_vacuum']}."
    )
