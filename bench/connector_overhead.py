"""Connector overhead: ``send_sms`` through the connector against a raw ``requests`` loop.

Both talk to the same local HTTP server (pytest-httpserver on 127.0.0.1) answering like
Twilio's Messages resource.  The connector side goes through everything a run's call does:
input validation, decrypted credentials, the outbox row (one per message, keyed), the HTTP
seam, classification, cost, and the connector's bookkeeping; the raw side is a bare
``requests.Session`` POST of the same form.  The two are interleaved in rounds (alternating
which goes first) so machine noise hits both alike.  Prints calls/s of each and their
ratio; the last line is ``ratio=<connector calls/s ÷ raw calls/s>``.

    python bench/connector_overhead.py [--n 2000] [--rounds 10]

Uses a fresh SQLite database under var/bench-connectors/, or the database of DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_environment  # noqa: E402

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "bench-auth-token-0123456789abcdef"
FROM = "+15005550006"


def setup_environment() -> None:
    bench_environment("bench-connectors")
    os.environ["NEONHUB_ALLOW_PRIVATE_URLS"] = "true"  # the provider is on loopback


def twilio_server():
    import logging

    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    counter = iter(range(10**9))

    def messages(request):
        n = next(counter)
        body = json.dumps(
            {
                "sid": f"SM{n:032x}",
                "status": "queued",
                "to": request.form["To"],
                "from": request.form["From"],
                "body": request.form["Body"],
                "num_segments": "1",
                "num_media": "0",
                "price": None,
                "price_unit": "USD",
                "error_code": None,
                "error_message": None,
                "messaging_service_sid": None,
                "date_created": "Mon, 24 Nov 2026 02:00:00 +0000",
                "date_sent": None,
                "date_updated": "Mon, 24 Nov 2026 02:00:00 +0000",
            }
        )
        return Response(body, 201, content_type="application/json")

    logging.getLogger("werkzeug").setLevel(
        logging.WARNING
    )  # a log line per request is not the point
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(
        f"/2010-04-01/Accounts/{SID}/Messages.json", method="POST"
    ).respond_with_handler(messages)
    server.start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="calls on each side")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--profile", action="store_true", help="print where the connector side spends its time"
    )
    args = parser.parse_args()
    setup_environment()

    import django

    django.setup()
    import requests
    from django.core.management import call_command

    from connectors.services import connector_create, connector_session
    from neonhub.core.models import Organization
    from neonhub.core.recording import NullRecorder

    call_command("migrate", verbosity=0)
    server = twilio_server()
    base = server.url_for("").rstrip("/")
    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    org.connectors.all().delete()
    connector = connector_create(
        organization=org,
        provider="twilio_sms",
        name=f"bench-{uuid.uuid4().hex[:6]}",
        credentials={"account_sid": SID, "auth_token": TOKEN},
        config={"from_number": FROM, "base_url": base},
    )
    url = f"{base}/2010-04-01/Accounts/{SID}/Messages.json"
    raw = requests.Session()
    batch = uuid.uuid4().hex

    with connector_session(connector=connector, recorder=NullRecorder()) as session:

        def through_connector(i: int) -> None:
            session.execute(
                action="send_sms",
                input={"to": "+14155550100", "body": f"Hello {i}"},
                idempotency_key=f"bench:{batch}:{i}",
            )

        def bare(i: int) -> None:
            response = raw.post(
                url,
                data={"To": "+14155550100", "From": FROM, "Body": f"Hello {i}"},
                auth=(SID, TOKEN),
                timeout=(5, 30),
            )
            response.raise_for_status()
            response.json()

        for i in range(50):  # warm both paths: connections, imports, caches
            through_connector(-1 - i)
            bare(i)
        per_round = max(1, args.n // args.rounds)
        spent = {"connector": 0.0, "raw": 0.0}
        done = 0
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(lambda: [through_connector(10**6 + i) for i in range(300)])
            pstats.Stats(profiler).sort_stats(
                os.environ.get("BENCH_SORT", "cumulative")
            ).print_stats(45)
        for r in range(args.rounds):
            order = [("connector", through_connector), ("raw", bare)]
            for name, call in order if r % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                for i in range(done, done + per_round):
                    call(i)
                spent[name] += time.perf_counter() - started
            done += per_round
    server.stop()

    connector_rate, raw_rate = done / spent["connector"], done / spent["raw"]
    ratio = connector_rate / raw_rate
    print(
        f"send_sms calls: {done} through the connector, {done} raw, in {args.rounds} interleaved rounds"
    )
    print(f"connector: {connector_rate:.0f} calls/s ({1000 / connector_rate:.2f} ms per call)")
    print(f"raw requests: {raw_rate:.0f} calls/s ({1000 / raw_rate:.2f} ms per call)")
    print(f"overhead per call: {1000 / connector_rate - 1000 / raw_rate:.2f} ms")
    print(f"ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
