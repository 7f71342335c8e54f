"""``manage.py healthcheck [--check LEVEL|NAMES] [--wait SECONDS]``: the checks of /healthz from
the command line (with their reasons), exit status 0 when healthy and 1 when not. ``--wait`` asks
again every second until they pass or the time is up: the container entrypoint waits for the
database this way before it starts a web server or a worker."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from neonhub.core import health


class Command(BaseCommand):
    help = "Check the database, broker, migrations, workers and disk; exit 1 when unhealthy."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            default="all",
            help="live, ready, all (default) or a comma-separated list of "
            + ", ".join(health.CHECK_NAMES),
        )
        parser.add_argument(
            "--wait", type=float, default=0, help="seconds to keep asking until healthy"
        )

    def handle(self, *args, check, wait, **options):
        try:
            names = health.parse_selection(check)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        deadline = time.monotonic() + wait
        waited = False
        while True:
            health.cache_clear()
            report = health.run_checks(names, detail=True)
            if report["status"] == "ok" or time.monotonic() >= deadline:
                break
            if not waited:
                failing = ", ".join(n for n, c in report["checks"].items() if c["status"] == "fail")
                self.stderr.write(f"healthcheck: waiting for {failing} (up to {wait:g} s)")
                self.stderr.flush()
                waited = True
            # A connection that failed is not reused for the next try (Django marks it).
            for conn in connections.all(initialized_only=True):
                if conn.errors_occurred:
                    conn.close()
            time.sleep(1)
        self.stdout.write(json.dumps(report, indent=2))
        if report["status"] != "ok":
            raise SystemExit(1)
