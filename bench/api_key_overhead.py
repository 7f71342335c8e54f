"""What the per-key rate limit and the scope check add to one API request.

In one process, Django's test client sends ``POST /api/v1/runs`` (a support triage, as
``bench/end_to_end.py`` does; the run is enqueued, not executed) with a bearer key, in rounds
that alternate two set-ups so machine noise hits both alike:

- ``counted``: as shipped (the key, its rate-limit counter, its scope);
- ``bare``: the same with ``rate_limit_hit`` replaced by an "allowed" answer (this bench's
  own monkeypatch: the counter's cost is what is measured).

It also times the counter alone (``rate_limit_hit``, N calls).  Prints ms per request of each
and the difference.  The counter is the database (one upsert) unless REDIS_URL is set.

    python bench/api_key_overhead.py [--n 300] [--rounds 6]

Uses a fresh SQLite database under var/bench-api-keys/, or the database of DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="requests per round and set-up")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    bench_environment("bench-api-keys")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from neonhub.core import auth, ratelimit
    from neonhub.core.models import Organization, Role
    from neonhub.core.services import api_key_create

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    issued = api_key_create(
        organization=org,
        name="bench",
        role=Role.MEMBER,
        scopes=["runs:write"],
        rate_limit="1000000/minute",
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    counted = auth.rate_limit_hit
    allowed = ratelimit.Decision(limit=10**6, remaining=10**6, reset=0, retry_after=0)

    def bare(*, key, now=None):
        return allowed

    def send(n: int, tag: str) -> float:
        start = time.perf_counter()
        for i in range(n):
            body = {
                "agent": "support",
                "intent": "triage",
                "payload": {"content": f"Checkout is down, order {tag}-{i}"},
            }
            answer = client.post("/api/v1/runs", json.dumps(body), content_type="application/json")
            if answer.status_code != 202:
                raise SystemExit(f"POST /runs answered {answer.status_code}: {answer.content!r}")
        return (time.perf_counter() - start) / n * 1000

    send(20, "warm")
    times: dict[str, list[float]] = {"counted": [], "bare": []}
    for r in range(args.rounds):
        order = ("counted", "bare") if r % 2 == 0 else ("bare", "counted")
        for name in order:
            auth.rate_limit_hit = counted if name == "counted" else bare
            times[name].append(send(args.n, f"{name}{r}"))
    auth.rate_limit_hit = counted

    key = issued.api_key
    n = args.n * 5
    start = time.perf_counter()
    for _ in range(n):
        ratelimit.rate_limit_hit(key=key)
    alone = (time.perf_counter() - start) / n * 1000

    backend = "redis" if settings.REDIS_URL else settings.DATABASES["default"]["ENGINE"]
    counted_ms = statistics.median(times["counted"])
    bare_ms = statistics.median(times["bare"])
    print(f"counter backend: {backend}")
    print(f"POST /runs, counted: {counted_ms:.2f} ms/request (median of {args.rounds} rounds)")
    print(f"POST /runs, bare:    {bare_ms:.2f} ms/request")
    print(f"rate_limit_hit alone: {alone:.3f} ms/call")
    print(f"added={counted_ms - bare_ms:.3f} ms/request")


if __name__ == "__main__":
    main()
