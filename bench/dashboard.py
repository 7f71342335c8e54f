"""Dashboard pages and the runs API at 10,000 runs and at 1,000,000 runs, interleaved.

Two SQLite databases under var/bench-dashboard/ are filled with runs spread over 90 days,
five agents and five organizations (bulk inserts; the hourly rollups are then rebuilt with the
real ``rollups_rebuild``).  The same requests go, in alternating order, to both databases
through Django's test client in this process: the overview, the run list (first and a deep
page), a run's detail page, and ``GET /api/v1/runs`` (first and a deep cursor page, with and
without filters).  Prints each one's median time at both sizes and the ratio 1M / 10k.

    python bench/dashboard.py [--small 10000] [--big 1000000] [--reps 15] [--rebuild]

Databases are kept between runs (delete them or pass --rebuild to fill them again).
Goal: every page's ratio at most 1.5, the API's at most 1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

# Benches measure throughput, not the per-key rate limit (it still counts every request).
BENCH_RATE_LIMIT = "1000000/minute"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench-dashboard"
DAYS = 90
ORGS = [("acme", 0.40), ("globex", 0.25), ("initech", 0.15), ("umbrella", 0.12), ("hooli", 0.08)]
AGENTS = {
    "support": (0.30, ["triage", "support", "macro-suggest"]),
    "content": (0.20, ["generate-draft", "summarize"]),
    "social": (0.20, ["generate-post", "publish"]),
    "email": (0.15, ["generate-sequence", "send"]),
    "seo": (0.15, ["seo-audit", "keyword-research"]),
}
FAILURES = [  # (code, provider or "", weight)
    ("CONNECTOR_UNAVAILABLE", "twilio_sms", 3),
    ("CONNECTOR_UNAVAILABLE", "reddit", 2),
    ("CONNECTOR_RATE_LIMITED", "instagram", 2),
    ("CONNECTOR_AUTH", "facebook_page", 2),
    ("CONNECTOR_REJECTED", "youtube", 1),
    ("CONNECTOR_REJECTED", "smtp_email", 1),
    ("TIMEOUT", "", 1),
    ("INVALID_INPUT", "", 1),
    ("INTERNAL", "", 1),
]
TRIGGERS = [("api", 5), ("ui", 2), ("schedule", 2), ("webhook", 1), ("batch", 1)]


def configure() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ["NEONHUB_VAR_DIR"] = str(VAR)
    os.environ["DATABASE_URL"] = f"sqlite:///{VAR / 'big.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neonhub.settings")
    os.environ.setdefault("NEONHUB_LOG_LEVEL", "WARNING")
    os.environ.setdefault("NEONHUB_ALLOWED_HOSTS", "testserver")
    import django
    from django.conf import settings

    django.setup()
    # A second database for the small size, known to Django before any connection opens.
    settings.DATABASES["small"] = {
        **settings.DATABASES["default"],
        "NAME": str(VAR / "small.sqlite3"),
    }


def weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


class RunRows:
    """Rows for ``runs_agentrun`` in column order, generated fast: a defaults template per row."""

    def __init__(self, connection, org_ids: dict[str, object], now: datetime):
        from runs.models import AgentRun

        self.connection, self.org_ids, self.now = connection, org_ids, now
        self.fields = [f for f in AgentRun._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        self.template = [
            self._prep(f, f.get_default() if f.has_default() else None) for f in self.fields
        ]
        self.template[self.index["input_hash"]] = "0" * 64
        self.by_name = {f.attname: f for f in self.fields}

    def _prep(self, field, value):
        return field.get_db_prep_save(value, self.connection)

    def sql(self) -> str:
        from runs.models import AgentRun

        qn = self.connection.ops.quote_name
        cols = ", ".join(qn(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        return f"INSERT INTO {qn(AgentRun._meta.db_table)} ({cols}) VALUES ({marks})"  # noqa: S608

    def row(self, rng: random.Random, created: datetime) -> list:
        row = list(self.template)
        put = self._put(row)
        org = weighted(rng, ORGS)
        agent = weighted(rng, [(a, w) for a, (w, _) in AGENTS.items()])
        intent = rng.choice(AGENTS[agent][1])
        put("id", uuid.uuid4())
        put("organization_id", self.org_ids[org])
        put("agent", agent)
        put("intent", intent)
        put("trigger", weighted(rng, TRIGGERS))
        put("input", {"content": f"Ticket {rng.randrange(10**6)} about an order"})
        put("created_at", created)
        put("updated_at", created)
        put("queued_at", created)
        self._outcome(rng, put, agent, created)
        return row

    def _put(self, row):
        def put(name, value):
            row[self.index[name]] = self._prep(self.by_name[name], value)

        return put

    def _outcome(self, rng, put, agent, created) -> None:
        if self.now - created < timedelta(minutes=3):
            put("status", rng.choice(["queued", "running"]))
            return
        started = created + timedelta(milliseconds=rng.randrange(50, 2000))
        duration = int(min(3_000_000, rng.lognormvariate(6.7, 1.0)))  # median ~800 ms
        roll = rng.random()
        status = "completed" if roll < 0.90 else ("failed" if roll < 0.97 else "cancelled")
        put("status", status)
        put("attempt", 1)
        put("started_at", started)
        put("finished_at", started + timedelta(milliseconds=duration))
        put("duration_ms", duration)
        if agent in ("social", "email") and rng.random() < 0.4:
            put("cost", Decimal("0.0079") * rng.randrange(1, 6))
        if status == "completed":
            put("output", {"ok": True})
        elif status == "failed":
            code, provider, _ = rng.choices(FAILURES, weights=[w for *_, w in FAILURES])[0]
            put("error_code", code)
            put("error_message", f"{code.replace('_', ' ').lower()}")
            put("error_context", {"provider": provider} if provider else {"exception": code})
        else:
            put("error_code", "CANCELLED")
            put("error_message", "Cancelled while running")


def fill(alias: str, n: int, seed: int) -> None:
    from django.db import connections, transaction

    from neonhub.core.models import Organization
    from runs.rollups import rollups_rebuild

    connection = connections[alias]
    now = datetime.now(UTC)
    org_ids = {}
    for slug, _ in ORGS:
        org, _ = Organization.objects.using(alias).get_or_create(
            slug=slug, defaults={"name": slug.title()}
        )
        org_ids[slug] = org.pk
    rows = RunRows(connection, org_ids, now)
    rng = random.Random(seed)
    span = DAYS * 86400
    # Created times in order, as they would arrive.
    offsets = sorted(rng.uniform(60, span) for _ in range(n))
    sql = rows.sql()
    started = time.monotonic()
    batch = 20_000
    for i in range(0, n, batch):
        chunk = [rows.row(rng, now - timedelta(seconds=s)) for s in offsets[i : i + batch]]
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.executemany(sql, chunk)
        print(
            f"  {alias}: {min(i + batch, n):>9,} runs ({time.monotonic() - started:.0f}s)",
            end="\r",
            flush=True,
        )
    print(f"  {alias}: {n:,} runs inserted in {time.monotonic() - started:.0f}s" + " " * 10)
    started = time.monotonic()
    with transaction.atomic(using=alias):
        written = _rebuild_on(alias, rollups_rebuild)
    print(f"  {alias}: {written:,} rollup rows rebuilt in {time.monotonic() - started:.0f}s")


def _rebuild_on(alias: str, rebuild) -> int:
    """The real rebuild, pointed at ``alias`` by making it the default connection for a moment."""
    from django.db import connections

    original = connections["default"]
    connections["default"] = connections[alias]
    try:
        return rebuild()
    finally:
        connections["default"] = original


def count_runs(alias: str) -> int:
    from django.db import connections
    from django.db.utils import OperationalError

    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM runs_agentrun")
            return cursor.fetchone()[0]
    except OperationalError:
        return -1


class Target:
    """One database, with a logged-in page client and an API key, for the measured organization."""

    def __init__(self, alias: str):
        from django.contrib.auth import get_user_model
        from django.db import connections
        from django.test import Client

        from neonhub.core.models import Membership, Organization, Role
        from neonhub.core.pagination import cursor_encode
        from neonhub.core.services import api_key_create
        from runs.models import AgentRun, RunStep

        self.alias, self.connection = alias, connections[alias]
        with self.active():
            org = Organization.objects.get(slug="acme")
            user, _ = get_user_model().objects.get_or_create(username="bench@example.com")
            Membership.objects.get_or_create(
                organization=org, user=user, defaults={"role": Role.OWNER}
            )
            token = api_key_create(
                organization=org,
                name=f"bench {uuid.uuid4()}",
                role=Role.MEMBER,
                rate_limit=BENCH_RATE_LIMIT,
            ).token
            self.pages = Client()
            self.pages.force_login(user)
            staff, _ = get_user_model().objects.get_or_create(
                username="staff@example.com", defaults={"is_staff": True, "is_superuser": True}
            )
            self.staff = Client()
            self.staff.force_login(staff)
            self.api = Client(headers={"Authorization": f"Bearer {token}"})
            runs = AgentRun.objects.filter(organization=org)
            deep = runs.filter(created_at__lt=datetime.now(UTC) - timedelta(days=80)).order_by(
                "-created_at", "-id"
            )
            self.deep_cursor = cursor_encode(deep.first())
            # Deep into the filtered runs, with a full page still behind the cursor at either size.
            matching = runs.filter(agent="support", status="failed").order_by("-created_at", "-id")
            position = max(0, min(int(matching.count() * 0.9), matching.count() - 60))
            self.deep_filtered_cursor = cursor_encode(matching[position])
            self.detail = runs.filter(status="failed").order_by("-created_at").first()
            if not RunStep.objects.filter(run=self.detail).exists():
                for seq in range(1, 6):
                    RunStep.objects.create(
                        run=self.detail,
                        seq=seq,
                        name=f"step {seq}",
                        status="completed",
                        started_at=self.detail.started_at,
                        finished_at=self.detail.finished_at,
                        duration_ms=100,
                    )

    def active(self):
        from contextlib import contextmanager

        from django.db import connections

        @contextmanager
        def swap():
            original = connections["default"]
            connections["default"] = self.connection
            try:
                yield
            finally:
                connections["default"] = original

        return swap()

    def get(self, kind: str, path: str) -> float:
        from django.core.cache import cache

        client = {"api": self.api, "staff": self.staff}.get(kind, self.pages)
        if kind == "cold":
            cache.clear()  # the first request of the hour: the past hours are summed, not cached
        with self.active():
            start = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(
                f"{self.alias} {path} answered {response.status_code}: {response.content[:300]!r}"
            )
        return elapsed


def measurements(target: Target) -> list[tuple[str, str, str]]:
    detail = target.detail.id
    return [
        ("overview (24 hours)", "page", "/overview/"),
        ("overview (7 days)", "page", "/overview/?window=7d"),
        ("overview (30 days)", "page", "/overview/?window=30d"),
        ("overview (24 hours), cold", "cold", "/overview/"),
        ("overview (7 days), cold", "cold", "/overview/?window=7d"),
        ("overview (30 days), cold", "cold", "/overview/?window=30d"),
        ("run list, first page", "page", "/"),
        ("run list, deep page", "page", f"/?cursor={target.deep_cursor}"),
        ("run list, filtered", "page", "/?agent=support&status=failed"),
        ("run detail", "page", f"/runs/{detail}/"),
        ("admin run list (all organizations)", "staff", "/admin/runs/agentrun/"),
        (
            "admin run list, filtered",
            "staff",
            "/admin/runs/agentrun/?status__exact=failed&agent=support",
        ),
        ("API runs, first page", "api", "/api/v1/runs?limit=25"),
        ("API runs, deep cursor", "api", f"/api/v1/runs?limit=25&cursor={target.deep_cursor}"),
        ("API runs, filtered", "api", "/api/v1/runs?limit=25&agent=support&status=failed"),
        (
            "API runs, filtered deep",
            "api",
            f"/api/v1/runs?limit=25&agent=support&status=failed&cursor={target.deep_filtered_cursor}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    configure()
    from django.core.management import call_command
    from django.db import connections

    wanted = [
        (alias, n, seed)
        for alias, n, seed in (("default", args.big, 2), ("small", args.small, 1))
        if args.rebuild or count_runs(alias) < n
    ]
    for alias, _, _ in wanted:  # the default database first: migrating writes its schedules there
        connections[alias].close()
        Path(connections[alias].settings_dict["NAME"]).unlink(missing_ok=True)
        call_command("migrate", database=alias, verbosity=0)
    for alias, n, seed in wanted:
        fill(alias, n, seed)
    sizes = {"small": count_runs("small"), "default": count_runs("default")}
    small, big = Target("small"), Target("default")
    plan = list(zip(measurements(small), measurements(big), strict=True))
    times: dict[str, dict[str, list[float]]] = {
        name: {"small": [], "big": []} for (name, _, _), _ in plan
    }
    for target in (small, big):  # warm both databases' caches once
        for _, kind, path in measurements(target):
            target.get(kind, path)
    # The steady-state requests first, then the cold ones: a cold request clears the cache, and
    # interleaved with the others it made the next 7-day "steady" request cold as well.
    steady = [step for step in plan if step[0][1] != "cold"]
    for phase in (steady, [step for step in plan if step[0][1] == "cold"]):
        for rep in range(args.reps):
            for (name, kind, small_path), (_, _, big_path) in phase:
                pair = [("small", small, small_path), ("big", big, big_path)]
                for label, target, path in pair if rep % 2 == 0 else pair[::-1]:
                    times[name][label].append(target.get(kind, path))
    print(
        f"\nmedians of {args.reps} interleaved requests; {sizes['small']:,} vs {sizes['default']:,} runs"
    )
    print(f"{'':30} {'10k ms':>9} {'1M ms':>9} {'ratio':>7}  goal")
    worst = {"page": 0.0, "api": 0.0, "cold": 0.0, "staff": 0.0}
    for (name, kind, _), _ in plan:
        a, b = (
            statistics.median(times[name]["small"]) * 1000,
            statistics.median(times[name]["big"]) * 1000,
        )
        ratio = b / a
        worst[kind] = max(worst[kind], ratio)
        goal = {"api": 1.2, "page": 1.5}.get(kind)
        verdict = (
            f"{'ok' if ratio <= goal else 'MISSED'} (<= {goal})"
            if goal
            else "(no goal: staff)"
            if kind == "staff"
            else "(no goal: once an hour)"
        )
        print(f"{name:36} {a:9.2f} {b:9.2f} {ratio:7.2f}  {verdict}")
    print(
        f"worst page ratio={worst['page']:.2f} worst api ratio={worst['api']:.2f} "
        f"(cold overview {worst['cold']:.2f})"
    )
    print(json.dumps({k: round(v, 3) for k, v in worst.items()}))


if __name__ == "__main__":
    main()
