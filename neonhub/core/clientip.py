"""The caller's address, read from a proxy's header only when proxies are configured.

``X-Forwarded-For`` is whatever the client sent plus one address per proxy it crossed; only
the entries the operator's own proxies appended can be trusted.  With
``NEONHUB_TRUSTED_PROXY_COUNT`` proxies in front, the client is the entry that many places
from the right; without it, ``REMOTE_ADDR``, and the header is ignored (anyone can send it).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.NEONHUB_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < count:
        # Fewer hops than proxies: the request did not come the configured way.
        return remote
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def address_in(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)
