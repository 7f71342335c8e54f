"""The team: an organization's members and invitations (writes and the reads they need).

Who may do what (the same rule for pages and the API):

- owners and admins invite, resend and revoke invitations, change roles and remove members;
  members and viewers read the team only;
- only an owner may make someone an owner (by invitation or role change) or change or remove
  an owner; an admin manages admins, members and viewers;
- the last owner can be neither demoted nor removed (409): an organization always has one;
- only owners set "Require two-factor for members".

Every change is recorded with ``audit_record`` in the same transaction.  An invitation is a
random token mailed as a link; only its SHA-256 hash is stored, it expires after
``NEONHUB_INVITATION_DAYS`` and works once.  The email goes out through Django's email backend
(``EMAIL_BACKEND``): the kernel imports no app, so it cannot reach a connector.
"""

from __future__ import annotations

import hashlib
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from neonhub.core.audit import audit_record, changes_between
from neonhub.core.auth import Principal
from neonhub.core.errors import Conflict, ConnectorUnavailable, InvalidInput, NotFound
from neonhub.core.errors import PermissionDenied as Forbidden
from neonhub.core.models import Invitation, Membership, Organization, Role

REQUIRE_TWO_FACTOR = "require_two_factor"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return f"{settings.NEONHUB_PUBLIC_URL}/invitations/{token}/"


# --- reads ------------------------------------------------------------------------------------


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email", "user__username")
    )


def member_get(*, organization: Organization, member_id) -> Membership:
    try:
        return Membership.objects.select_related("user").get(
            organization=organization, pk=member_id
        )
    except (Membership.DoesNotExist, ValidationError, ValueError):
        raise NotFound("Member not found") from None


def invitation_list_pending(*, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")


def invitation_get(*, organization: Organization, invitation_id) -> Invitation:
    try:
        return Invitation.objects.get(organization=organization, pk=invitation_id)
    except (Invitation.DoesNotExist, ValidationError, ValueError):
        raise NotFound("Invitation not found") from None


def invitation_from_token(*, token: str) -> Invitation | None:
    """The invitation a link names, whatever its state; None for a token never issued."""
    if not token or len(token) > 200:
        return None
    return Invitation.objects.select_related("organization").filter(token_hash=_hash(token)).first()


def two_factor_required(*, organization: Organization) -> bool:
    return bool((organization.settings or {}).get(REQUIRE_TWO_FACTOR))


# --- rules ------------------------------------------------------------------------------------


def _may_grant(principal: Principal, role: str) -> None:
    principal.require("manage")
    if role not in Role.values:
        raise InvalidInput.for_field("role", f"Choose one of {', '.join(Role.values)}")
    if role == Role.OWNER and principal.role != Role.OWNER:
        raise Forbidden("Only an owner can make someone an owner")


def _may_change(principal: Principal, membership: Membership) -> None:
    principal.require("manage")
    if membership.role == Role.OWNER and principal.role != Role.OWNER:
        raise Forbidden("Only an owner can change or remove an owner")


def _not_last_owner(membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = Membership.objects.select_for_update().filter(
        organization_id=membership.organization_id, role=Role.OWNER
    )
    if owners.count() <= 1:
        raise Conflict("An organization needs an owner: make someone else an owner first")


# --- invitations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    url: str  # carries the token: mailed, never stored or logged


def _normal_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput.for_field("email", "Enter a valid email address") from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _issue(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _hash(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.NEONHUB_INVITATION_DAYS)
    invitation.last_sent_at = timezone.now()
    return token


def _send(invitation: Invitation, token: str, inviter: str) -> None:
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "url": invitation_url(token),
        "inviter": inviter,
        "days": settings.NEONHUB_INVITATION_DAYS,
    }
    subject = f"You are invited to {invitation.organization.name} on NeonHub"
    body = render_to_string("core/email/invitation.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email], fail_silently=False)
    except (OSError, smtplib.SMTPException) as exc:
        # The transaction rolls back: no invitation is listed that nobody received.
        raise ConnectorUnavailable(
            f"The invitation email could not be sent ({type(exc).__name__}); try again later"
        ) from None


@transaction.atomic
def invitation_create(
    *, principal: Principal, email: str, role: str, request: HttpRequest | None = None
) -> IssuedInvitation:
    _may_grant(principal, role)
    email = _normal_email(email)
    organization = principal.organization
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict.for_field("email", f"{email} is already a member of this organization")
    if invitation_list_pending(organization=organization).filter(email__iexact=email).exists():
        raise Conflict.for_field(
            "email", f"{email} already has a pending invitation: resend it instead"
        )
    invitation = Invitation(
        organization=organization, email=email, role=role, invited_by=_user(principal)
    )
    token = _issue(invitation)
    invitation.save()
    audit_record(
        action="invitation.create",
        principal=principal,
        target=invitation,
        changes={"email": [None, email], "role": [None, role]},
        request=request,
    )
    _send(invitation, token, _who(principal))
    return IssuedInvitation(invitation=invitation, url=invitation_url(token))


@transaction.atomic
def invitation_resend(
    *, principal: Principal, invitation: Invitation, request: HttpRequest | None = None
) -> IssuedInvitation:
    """A new link (the old one stops working) and a new expiry, mailed again."""
    _may_grant(principal, invitation.role)
    if invitation.state in ("accepted", "revoked"):
        raise Conflict(f"This invitation was {invitation.state}; invite again instead")
    token = _issue(invitation)
    invitation.save(update_fields=["token_hash", "expires_at", "last_sent_at", "updated_at"])
    audit_record(
        action="invitation.resend", principal=principal, target=invitation, request=request
    )
    _send(invitation, token, _who(principal))
    return IssuedInvitation(invitation=invitation, url=invitation_url(token))


@transaction.atomic
def invitation_revoke(
    *, principal: Principal, invitation: Invitation, request: HttpRequest | None = None
) -> Invitation:
    _may_grant(principal, invitation.role)
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted: remove the member instead")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            action="invitation.revoke", principal=principal, target=invitation, request=request
        )
    return invitation


def invitation_refusal(invitation: Invitation | None) -> str:
    """Why a link cannot be used, in words for whoever opened it ("" when it can)."""
    if invitation is None:
        return "This invitation link is not valid. Ask for a new invitation."
    return {
        "accepted": "This invitation was already used. Log in to reach the organization.",
        "revoked": "This invitation was withdrawn. Ask for a new invitation.",
        "expired": "This invitation has expired. Ask for a new invitation.",
    }.get(invitation.state, "")


def _usable(token: str) -> Invitation:
    invitation = invitation_from_token(token=token)
    refusal = invitation_refusal(invitation)
    if refusal:
        raise Conflict(refusal)
    # Lock the row: two clicks on one link make one membership.
    return (
        Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    )


def _join(invitation: Invitation, user, request: HttpRequest | None) -> Membership:
    if invitation.accepted_at is not None:
        raise Conflict(invitation_refusal(invitation))
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    principal = Principal(organization=invitation.organization, role=membership.role, user=user)
    audit_record(
        action="member.join",
        principal=principal,
        target=membership,
        target_label=user.email or user.get_username(),
        changes={"role": [None, membership.role]}
        if created
        else {"invitation": "already a member"},
        request=request,
    )
    return membership


@transaction.atomic
def invitation_accept(*, token: str, user, request: HttpRequest | None = None) -> Membership:
    """A signed-in user joins with a link sent to their email address."""
    invitation = _usable(token)
    if (user.email or user.get_username()).lower() != invitation.email.lower():
        raise Forbidden(
            f"This invitation is for {invitation.email}: log in with that address to accept it"
        )
    return _join(invitation, user, request)


def account_exists(*, email: str) -> bool:
    User = get_user_model()
    return (
        User.objects.filter(username__iexact=email).exists()
        or User.objects.filter(email__iexact=email).exists()
    )


@transaction.atomic
def invitation_accept_new_user(
    *, token: str, name: str, password: str, request: HttpRequest | None = None
):
    """Someone without an account sets a name and password and joins; returns the user."""
    invitation = _usable(token)
    if account_exists(email=invitation.email):
        raise Conflict("An account with this email exists: log in to accept the invitation")
    name = (name or "").strip()
    if not name:
        raise InvalidInput.for_field("name", "Enter your name")
    if len(name) > 150:
        raise InvalidInput.for_field("name", "Use at most 150 characters")
    User = get_user_model()
    user = User(username=invitation.email, email=invitation.email)
    first, _, last = name.partition(" ")
    user.first_name, user.last_name = first[:150], last[:150]
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput.for_field("password", " ".join(exc.messages)) from None
    user.set_password(password)
    user.save()
    _join(invitation, user, request)
    return user


# --- members ----------------------------------------------------------------------------------


@transaction.atomic
def member_role_change(
    *,
    principal: Principal,
    membership: Membership,
    role: str,
    request: HttpRequest | None = None,
) -> Membership:
    _may_change(principal, membership)
    _may_grant(principal, role)
    if role == membership.role:
        return membership
    if membership.role == Role.OWNER:
        _not_last_owner(membership)
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        action="member.role_change",
        principal=principal,
        target=membership,
        target_label=_label(membership),
        changes=changes_between(before, {"role": role}),
        request=request,
    )
    return membership


@transaction.atomic
def member_remove(
    *, principal: Principal, membership: Membership, request: HttpRequest | None = None
) -> None:
    _may_change(principal, membership)
    _not_last_owner(membership)
    audit_record(
        action="member.remove",
        principal=principal,
        target=membership,
        target_label=_label(membership),
        changes={"role": [membership.role, None]},
        request=request,
    )
    membership.delete()


@transaction.atomic
def organization_two_factor_set(
    *, principal: Principal, required: bool, request: HttpRequest | None = None
) -> Organization:
    if principal.role != Role.OWNER:
        raise Forbidden("Only owners can require two-factor sign-in")
    organization = Organization.objects.select_for_update().get(pk=principal.organization.pk)
    before = two_factor_required(organization=organization)
    if before != required:
        organization.settings = {**(organization.settings or {}), REQUIRE_TWO_FACTOR: required}
        organization.save(update_fields=["settings", "updated_at"])
        audit_record(
            action="settings.two_factor",
            principal=principal,
            target=organization,
            changes={REQUIRE_TWO_FACTOR: [before, required]},
            request=request,
        )
    return organization


def _user(principal: Principal):
    user = principal.user if principal.api_key is None else None
    return user if getattr(user, "pk", None) else None


def _who(principal: Principal) -> str:
    user = _user(principal)
    if user is None:
        return principal.organization.name
    return user.get_full_name() or user.email or user.get_username()


def _label(membership: Membership) -> str:
    return membership.user.email or membership.user.get_username()
