"""Pages for the team and signing in: the Team page, invitations, /account/ (two-factor), the
code step of signing in, and the switch to a required enrolment."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from neonhub.core import team, two_factor
from neonhub.core.auth import page_requires
from neonhub.core.errors import NeonHubError, PermissionDenied
from neonhub.core.middleware import SESSION_ORG_KEY
from neonhub.core.models import Invitation, Membership, Role
from neonhub.core.views_util import forbidden, organization_required

PENDING_USER_KEY = "neonhub_2fa_user"
PENDING_BACKEND_KEY = "neonhub_2fa_backend"
PENDING_NEXT_KEY = "neonhub_2fa_next"


def _field_errors(exc: NeonHubError) -> dict[str, str]:
    details = exc.details if isinstance(exc.details, list) else []
    errors = {d["field"]: d["message"] for d in details if isinstance(d, dict) and "field" in d}
    return errors or {"page": exc.message}


# --- the Team page ----------------------------------------------------------------------------


def _team_page(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    principal = request.principal
    organization = principal.organization
    members = list(team.member_list(organization=organization))
    owners = sum(1 for m in members if m.role == Role.OWNER)
    grantable = [
        (value, label)
        for value, label in Role.choices
        if value != Role.OWNER or principal.role == Role.OWNER
    ]
    rows = []
    for m in members:
        may_change = principal.can_manage and (m.role != Role.OWNER or principal.role == Role.OWNER)
        last_owner = m.role == Role.OWNER and owners <= 1
        rows.append({"m": m, "may_change": may_change and not last_owner, "last_owner": last_owner})
    context = {
        "rows": rows,
        "invitations": list(team.invitation_list_pending(organization=organization)),
        "roles": grantable,
        "require_two_factor": team.two_factor_required(organization=organization),
        "is_owner": principal.role == Role.OWNER,
        "invite": {"email": "", "role": Role.MEMBER},
        "invitation_days": settings.NEONHUB_INVITATION_DAYS,
        "errors": {},
        **extra,
    }
    return render(request, "core/team.html", context, status=status)


@login_required
@organization_required
@require_http_methods(["GET"])
def team_page(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


def _act(request: HttpRequest, action, done: str, **kwargs) -> HttpResponse:
    """Run one team service from a form; its refusal is shown on the Team page."""
    try:
        action(principal=request.principal, request=request, **kwargs)
    except PermissionDenied as exc:
        return forbidden(request, exc.message)
    except NeonHubError as exc:
        return _team_page(request, status=exc.status, errors=_field_errors(exc))
    messages.success(request, done)
    return redirect("team")


@login_required
@organization_required
@require_POST
def team_invite(request: HttpRequest) -> HttpResponse:
    email = request.POST.get("email", "")
    role = request.POST.get("role", Role.MEMBER)
    try:
        team.invitation_create(principal=request.principal, email=email, role=role, request=request)
    except PermissionDenied as exc:
        return forbidden(request, exc.message)
    except NeonHubError as exc:
        return _team_page(
            request,
            status=exc.status,
            errors=_field_errors(exc),
            invite={"email": email, "role": role},
        )
    messages.success(request, f"Invitation sent to {email.strip()}.")
    return redirect("team")


CHANGE_TEAM = "change the team"


@login_required
@organization_required
@page_requires("manage", CHANGE_TEAM, find=team.invitation_get)
def team_invitation_resend(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    return _act(
        request,
        team.invitation_resend,
        f"Invitation sent again to {invitation.email}.",
        invitation=invitation,
    )


@login_required
@organization_required
@page_requires("manage", CHANGE_TEAM, find=team.invitation_get)
def team_invitation_revoke(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    return _act(
        request,
        team.invitation_revoke,
        f"Invitation of {invitation.email} revoked.",
        invitation=invitation,
    )


@login_required
@organization_required
@page_requires("manage", CHANGE_TEAM, find=team.member_get)
def team_member_role(request: HttpRequest, membership: Membership) -> HttpResponse:
    role = request.POST.get("role", "")
    label = dict(Role.choices).get(role, role)
    return _act(
        request,
        team.member_role_change,
        f"{membership.user.email or membership.user.get_username()} is now {label.lower()}.",
        membership=membership,
        role=role,
    )


@login_required
@organization_required
@page_requires("manage", CHANGE_TEAM, find=team.member_get)
def team_member_remove(request: HttpRequest, membership: Membership) -> HttpResponse:
    who = membership.user.email or membership.user.get_username()
    response = _act(
        request,
        team.member_remove,
        f"{who} was removed from {request.principal.organization.name}.",
        membership=membership,
    )
    if membership.user_id == request.user.pk and response.status_code == 302:
        return redirect("/")  # removed oneself: the organization is gone from this session
    return response


@login_required
@organization_required
@require_POST
def team_two_factor(request: HttpRequest) -> HttpResponse:
    required = request.POST.get("required") == "on"
    done = (
        "Members now need two-factor sign-in."
        if required
        else "Two-factor sign-in is optional again."
    )
    return _act(request, team.organization_two_factor_set, done, required=required)


# --- accepting an invitation ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = team.invitation_from_token(token=token)
    refusal = team.invitation_refusal(invitation)
    if refusal:
        # The organization's name only: nothing else about it reaches whoever holds the link.
        return render(
            request,
            "core/invitation_accept.html",
            {"refusal": refusal, "org_name": invitation.organization.name if invitation else ""},
            status=404 if invitation is None else 410,
        )
    context = {
        "invitation": invitation,
        "org_name": invitation.organization.name,
        "has_account": team.account_exists(email=invitation.email),
        "errors": {},
        "name": "",
    }
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = team.invitation_accept(token=token, user=request.user, request=request)
            else:
                name = request.POST.get("name", "")
                context["name"] = name
                user = team.invitation_accept_new_user(
                    token=token,
                    name=name,
                    password=request.POST.get("password", ""),
                    request=request,
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                membership = user.memberships.get(organization=invitation.organization)
        except NeonHubError as exc:
            context["errors"] = _field_errors(exc)
            return render(request, "core/invitation_accept.html", context, status=exc.status)
        request.session[SESSION_ORG_KEY] = str(membership.organization_id)
        messages.success(request, f"Welcome to {membership.organization.name}.")
        return redirect("runs:list")
    return render(request, "core/invitation_accept.html", context)


# --- signing in with a code -------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """The password, then (for a user with a confirmed device) the code on /login/code/."""

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.device_confirmed(user=user) is None:
            return super().form_valid(form)
        self.request.session[PENDING_USER_KEY] = str(user.pk)
        self.request.session[PENDING_BACKEND_KEY] = user.backend
        self.request.session[PENDING_NEXT_KEY] = self.get_success_url()
        return redirect("login-code")


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    pk = request.session.get(PENDING_USER_KEY)
    user = get_user_model().objects.filter(pk=pk).first() if pk else None
    device = two_factor.device_confirmed(user=user) if user else None
    if user is None or device is None:
        return redirect("login")
    error = ""
    if request.method == "POST":
        if not two_factor.code_allowed(request, user):
            return _locked(request)
        if two_factor.code_verify(request, user=user, device=device, code=request.POST.get("code")):
            target = request.session.pop(PENDING_NEXT_KEY, "") or reverse("runs:list")
            backend = request.session.pop(PENDING_BACKEND_KEY, None)
            request.session.pop(PENDING_USER_KEY, None)
            login(request, user, backend=backend)  # a new session key
            otp_login(request, device)
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = reverse("runs:list")
            return redirect(target)
        if getattr(request, "axes_locked_out", False):
            return _locked(request)
        error = "That code did not match. Enter the newest code from your authenticator app."
    return render(
        request, "registration/login_code.html", {"error": error}, status=422 if error else 200
    )


def _locked(request: HttpRequest) -> HttpResponse:
    from axes.helpers import get_lockout_response

    return get_lockout_response(request, None, {"username": ""})


# --- the account page: two-factor enrolment ---------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "remove":
            two_factor.device_remove(request, user=user)
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("account")
        if action == "verify":
            device = two_factor.device_confirmed(user=user)
            if device and two_factor.code_verify(
                request, user=user, device=device, code=request.POST.get("code")
            ):
                otp_login(request, device)
                messages.success(request, "Code accepted.")
                return redirect("runs:list")
            error = "That code did not match; try the newest one."
        else:
            try:
                two_factor.device_confirm(request, user=user, code=request.POST.get("code", ""))
            except NeonHubError as exc:
                error = _field_errors(exc).get("code") or exc.message
            else:
                messages.success(request, "Two-factor sign-in is on.")
                return redirect("account")
        if getattr(request, "axes_locked_out", False):
            return _locked(request)
    confirmed = two_factor.device_confirmed(user=user)
    context = {
        "confirmed": confirmed,
        "verified": user.is_verified(),
        "error": error,
        "required_by": [
            m.organization.name
            for m in request.memberships
            if team.two_factor_required(organization=m.organization)
        ],
    }
    if confirmed is None:
        pending = two_factor.device_pending(user=user)
        context["qr_svg"] = two_factor.device_qr_svg(pending)
        context["secret"] = two_factor.device_secret(pending)
    return render(request, "core/account.html", context, status=422 if error else 200)
