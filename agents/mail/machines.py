"""Telling a machine's open or click from a person's.

A mail client's privacy proxy or a company's link scanner fetches the pixel and follows the
links of a message nobody has read yet.  Counting those as people makes every open rate look
perfect and every "opened in the last 30 days" segment useless, so they are recorded as
events with ``machine=True`` and ``detail.reason``, and shown apart, never counted as opens or
clicks.  Each rule below says where it comes from:

- ``apple_privacy``: Apple Mail Privacy Protection (iOS 15, macOS 12 and later) downloads every
  remote image of a message through Apple's proxies as soon as the message arrives, read or
  not.  Those fetches come from Apple's own network (17.0.0.0/8, allocated to Apple) and carry
  the bare user agent ``Mozilla/5.0`` with nothing after it (documented by the sending
  services that studied it, e.g. SocketLabs' "Identifying Apple MPP opens" and Word to the
  Wise's "Apple MPP", 2021).  A real browser never sends that bare string.
- ``head_request``: browsers and mail clients fetch with GET; a HEAD is a link checker or a
  scanner asking what is behind the link without looking.
- ``security_scanner``: mail security gateways (Microsoft Defender for Office 365 Safe Links,
  Proofpoint URL Defense, Mimecast, Barracuda, Cisco, ...) follow every link of an incoming
  message to check it.  Their user agents, as their vendors and sending services list them,
  are kept as data in ``SCANNER_AGENTS`` (a case-insensitive part of the user agent).
- ``too_soon``: nobody reads a message and clicks within seconds of it being sent; a gateway
  scanning it on arrival does.  ``TOO_SOON_SECONDS`` after the send, common practice among
  sending services (Postmark, SendGrid and Mailgun describe the same pattern).
- ``burst``: a scanner follows all the links of a message at once; a person clicks one.  Two or
  more different links of one message clicked within ``BURST_SECONDS`` are all machine
  clicks (the earlier ones are corrected when the later one arrives).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

APPLE_NETWORKS = (ipaddress.ip_network("17.0.0.0/8"),)
APPLE_PROXY_AGENT = "Mozilla/5.0"  # exactly this, nothing after it

TOO_SOON_SECONDS = 10
BURST_SECONDS = 1

# Parts of the user agents of link scanners and mail security gateways (case-insensitive).
SCANNER_AGENTS: tuple[str, ...] = (
    "safelinks",  # Microsoft Defender for Office 365 Safe Links
    "microsoft office protection",
    "ms-office-protection",
    "microsoft office existence discovery",
    "bingpreview",  # Microsoft's link preview, used by Outlook.com scanning
    "proofpoint",
    "urldefense",
    "mimecast",
    "barracuda",
    "cisco",  # Cisco Secure Email (IronPort)
    "ironport",
    "forcepoint",
    "trendmicro",
    "trend micro",
    "sophos",
    "symantec",
    "messagelabs",
    "fortinet",
    "fortiguard",
    "zscaler",
    "checkpoint",
    "paloalto",
    "virustotal",
    "google-safety",
    "googleimageproxy-scan",
    "yahoomailproxy",
    "python-requests",
    "go-http-client",
    "curl/",
    "wget/",
    "libwww-perl",
    "headlesschrome",
    "phantomjs",
    "googlebot",
    "bingbot",
    "spider",
    "crawler",
    "scanner",
    "linkpreview",
)


@dataclass(frozen=True)
class Hit:
    """One fetch of the pixel or one followed link, as the server saw it."""

    method: str
    address: str
    user_agent: str
    at: datetime
    sent_at: datetime | None = None  # when the message was sent (filled in from its record)


def machine_reason(hit: Hit, *, kind: str) -> str:
    """Why ``hit`` is a machine's (a rule name above), or "" for a person's."""
    if hit.method == "HEAD":
        return "head_request"
    agent = hit.user_agent.strip()
    if kind == "open" and (agent == APPLE_PROXY_AGENT or _in(hit.address, APPLE_NETWORKS)):
        return "apple_privacy"
    lowered = agent.lower()
    if any(part in lowered for part in SCANNER_AGENTS):
        return "security_scanner"
    if hit.sent_at is not None and (hit.at - hit.sent_at).total_seconds() < TOO_SOON_SECONDS:
        return "too_soon"
    return ""


def _in(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


REASON_LABELS = {
    "apple_privacy": "Apple Mail Privacy Protection loaded the images",
    "head_request": "a link checker (HEAD request)",
    "security_scanner": "a security scanner or link preview",
    "too_soon": "within seconds of sending (a scanner on arrival)",
    "burst": "several links clicked in the same second (a scanner)",
}
