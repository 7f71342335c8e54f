"""Optional TOTP two-factor sign-in (django-otp): enrolment, the code step, and its checks.

A user enrols from /account/: an unconfirmed TOTP device is made, its QR code (SVG) and secret
shown, and a code from the authenticator app confirms it.  From then on signing in asks for a
code after the password.  Wrong codes count as failed logins for django-axes, so guessing codes
locks the account like guessing passwords.
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from neonhub.core.audit import audit_record
from neonhub.core.errors import InvalidInput

DEVICE_NAME = "Authenticator app"


def device_confirmed(*, user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def device_pending(*, user) -> TOTPDevice:
    """The unconfirmed device being enrolled (made once, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def device_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it by hand (base32, no padding)."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def device_qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]  # inline: no XML declaration


def _clean(code: str) -> str:
    code = (code or "").replace(" ", "").strip()
    if not code.isdigit() or not 6 <= len(code) <= 8:
        raise InvalidInput.for_field("code", "Enter the 6-digit code from your authenticator app")
    return code


def code_allowed(request: HttpRequest, user) -> bool:
    """False once django-axes has locked the account or the address."""
    return AxesProxyHandler.is_allowed(request, {"username": user.get_username()})


def code_verify(request: HttpRequest, *, user, device: TOTPDevice, code: str) -> bool:
    """Check a code; a wrong one is a failed login for django-axes (it may lock the account)."""
    try:
        ok = device.verify_token(_clean(code))
    except InvalidInput:
        ok = False
    if not ok:
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
    return ok


@transaction.atomic
def device_confirm(request: HttpRequest, *, user, code: str) -> TOTPDevice:
    """Confirm the pending device with a code; this session counts as verified."""
    device = device_pending(user=user)
    if not code_verify(request, user=user, device=device, code=code):
        raise InvalidInput.for_field("code", "That code did not match; try the newest one")
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    _audit(request, user, "account.two_factor_enable")
    return device


@transaction.atomic
def device_remove(request: HttpRequest, *, user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    _audit(request, user, "account.two_factor_disable")


def _audit(request: HttpRequest, user, action: str) -> None:
    principal = getattr(request, "principal", None)
    for membership in getattr(request, "memberships", []):
        # Recorded in each organization the user belongs to: its owners see who has two-factor.
        audit_record(
            action=action,
            principal=principal,
            organization=membership.organization,
            target=user,
            target_label=user.email or user.get_username(),
            request=request,
        )
