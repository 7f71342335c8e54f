"""Recompute the hourly run rollups from the runs: backfills, imports and repairs."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from neonhub.core.models import Organization
from runs.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the hourly run rollups the overview charts read (all organizations, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="slug of one organization (default: all)")
        parser.add_argument("--since", help="only hours from this date or ISO datetime (UTC) on")

    def handle(self, *args, org=None, since=None, **options):
        organization = None
        if org:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"No organization with slug {org!r}")
        start = _parse_since(since) if since else None
        written = rollups_rebuild(organization=organization, since=start)
        self.stdout.write(f"Rebuilt {written} rollup rows")


def _parse_since(value: str) -> datetime:
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise CommandError(f"--since {value!r} is not a date (2025-01-31) or an ISO datetime")
    moment = moment or datetime.combine(day, time(0))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
