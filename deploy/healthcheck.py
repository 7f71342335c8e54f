"""Probe the web server on this host: ``python deploy/healthcheck.py [check]``; exit 0 when
``/healthz?check=<check>`` (``ready`` by default) answers 200, 1 otherwise. The container's
HEALTHCHECK runs it; the image has no curl, and Django is not loaded (it takes a second).

The request names a host Django accepts (the first of ``NEONHUB_ALLOWED_HOSTS``; ``localhost``
when unset or a wildcard), since a request for 127.0.0.1 is refused when that is not one of them.
"""

from __future__ import annotations

import http.client
import os
import sys


def main(argv: list[str]) -> int:
    check = argv[1] if len(argv) > 1 else "ready"
    port = int(os.environ.get("PORT") or 8000)
    allowed = [h.strip() for h in os.environ.get("NEONHUB_ALLOWED_HOSTS", "").split(",")]
    host = next((h.lstrip(".") for h in allowed if h and h != "*"), "localhost")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=4)
    try:
        conn.request("GET", f"/healthz?check={check}", headers={"Host": host})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
    except OSError as exc:
        print(f"healthcheck: no answer on port {port}: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    print(body)
    return 0 if resp.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
