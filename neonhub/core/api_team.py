"""``/members`` and ``/invitations``: the team through the API (owners and admins change it).

Reads are open to every role; writes need ``manage`` and follow the rules of
``neonhub.core.team`` (only an owner grants or changes an owner; the last owner stays: 409).
An invitation's link is mailed to the invitee and never returned: it is their credential.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema, Status

from neonhub.core import team
from neonhub.core.auth import requires
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Invitation, Membership, Role

members_router = Router(tags=["members"])
invitations_router = Router(tags=["invitations"])

RoleName = Literal[tuple(Role.values)]  # type: ignore[valid-type]


class MemberOut(Schema):
    id: UUID
    email: str
    name: str
    role: RoleName
    last_login: datetime | None
    joined_at: datetime


class RoleIn(Schema):
    # Optional in the schema so another organization's id answers 404 before the body is
    # judged; a missing role is then 422 naming it.
    role: RoleName | None = None


class InvitationIn(Schema):
    email: str
    role: RoleName = Role.MEMBER


class InvitationOut(Schema):
    id: UUID
    email: str
    role: RoleName
    state: Literal["pending", "accepted", "revoked", "expired"]
    expires_at: datetime
    created_at: datetime
    last_sent_at: datetime | None


def _member(m: Membership) -> dict:
    return {
        "id": m.id,
        "email": m.user.email or m.user.get_username(),
        "name": m.user.get_full_name(),
        "role": m.role,
        "last_login": m.user.last_login,
        "joined_at": m.created_at,
    }


@members_router.get("", response=list[MemberOut], summary="The organization's members")
def member_list(request: HttpRequest):
    return [_member(m) for m in team.member_list(organization=request.auth.organization)]


@members_router.get("/{member_id}", response=MemberOut, summary="One member")
def member_detail(request: HttpRequest, member_id: UUID):
    return _member(team.member_get(organization=request.auth.organization, member_id=member_id))


@members_router.patch("/{member_id}", response=MemberOut, summary="Change a member's role")
@requires("manage", find=team.member_get)
def member_update(request: HttpRequest, membership: Membership, payload: RoleIn):
    if payload.role is None:
        raise InvalidInput.for_field("role", "Field required")
    changed = team.member_role_change(
        principal=request.auth, membership=membership, role=payload.role, request=request
    )
    return _member(changed)


@members_router.delete("/{member_id}", response={204: None}, summary="Remove a member")
@requires("manage", find=team.member_get)
def member_delete(request: HttpRequest, membership: Membership):
    team.member_remove(principal=request.auth, membership=membership, request=request)
    return Status(204, None)


@invitations_router.get(
    "",
    response=list[InvitationOut],
    summary="Pending invitations (not accepted, revoked or expired)",
)
def invitation_list(request: HttpRequest):
    return list(team.invitation_list_pending(organization=request.auth.organization))


@invitations_router.post(
    "", response={201: InvitationOut}, summary="Invite someone by email (the link is mailed)"
)
@requires("manage")
def invitation_create(request: HttpRequest, payload: InvitationIn):
    issued = team.invitation_create(
        principal=request.auth, email=payload.email, role=payload.role, request=request
    )
    return Status(201, issued.invitation)


@invitations_router.post(
    "/{invitation_id}/resend",
    response=InvitationOut,
    summary="Mail a new link (the old one stops working) with a new expiry",
)
@requires("manage", find=team.invitation_get)
def invitation_resend(request: HttpRequest, invitation: Invitation):
    issued = team.invitation_resend(principal=request.auth, invitation=invitation, request=request)
    return issued.invitation


@invitations_router.delete("/{invitation_id}", response={204: None}, summary="Revoke an invitation")
@requires("manage", find=team.invitation_get)
def invitation_delete(request: HttpRequest, invitation: Invitation):
    team.invitation_revoke(principal=request.auth, invitation=invitation, request=request)
    return Status(204, None)
