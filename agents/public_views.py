"""Public pages reached from outside without logging in: the one-click unsubscribe link.

GET shows a confirmation page (link scanners and previews follow GETs, so a GET never
unsubscribes); POST unsubscribes.  Mail clients send the RFC 8058 one-click POST
(``List-Unsubscribe=One-Click``) without a CSRF token or a session, so this view alone is
exempt from CSRF: the signed token in the URL is the proof of intent.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from agents.unsubscribe import unsubscribe_target
from connectors.services import suppression_add
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Organization

logger = logging.getLogger(__name__)
TEMPLATE = "agents/unsubscribe.html"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    target = unsubscribe_target(token)
    organization = (
        Organization.objects.filter(pk=target.organization_id).first() if target else None
    )
    if target is None or organization is None:
        return render(request, TEMPLATE, {"state": "invalid"}, status=404)
    context = {"organization": organization, "address": _masked(target.address), "token": token}
    if request.method == "GET":
        return render(request, TEMPLATE, {**context, "state": "confirm"})
    try:
        suppression_add(
            organization=organization,
            channel=target.channel,
            address=target.address,
            reason="Unsubscribed with the link in an email",
            source="unsubscribe_link",
        )
    except InvalidInput:
        return render(request, TEMPLATE, {"state": "invalid"}, status=404)
    logger.info("unsubscribe link used for organization %s (%s)", organization.pk, target.channel)
    return render(request, TEMPLATE, {**context, "state": "done"})


def _masked(address: str) -> str:
    """Enough to recognise one's own address on a page anyone holding the link can open."""
    name, _, domain = address.partition("@")
    return f"{name[:2]}…@{domain}" if domain else f"…{address[-4:]}"
