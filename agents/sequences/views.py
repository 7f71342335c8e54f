"""Pages: the list of sequences, the builder (steps as cards, changed with htmx), the funnel,
enrolling contacts, and the fragment the campaign page loads.

Every page looks the sequence up in the organization first (another organization's id is the
404 page), then checks the method and the role.  A step form with an error answers the steps
fragment with the error beside its field: htmx swaps it in (it swaps 2xx answers only), and a
page without htmx gets the whole page with status 422.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from agents.campaigns.models import Campaign
from agents.sequences import selectors, services, subject_tests
from agents.sequences.forms import EnrollEmailForm, EnrollSegmentForm, SequenceForm, StepForm
from agents.sequences.models import EnrollmentSource, Sequence, SequenceStep
from neonhub.core.auth import page_requires
from neonhub.core.errors import InvalidInput, NeonHubError, NotFound
from neonhub.core.forms import errors_to_form
from neonhub.core.ids import uuid_from
from neonhub.core.views_util import not_found, organization_required

DENIED = "look at sequences but not change them"


def _step_forms(sequence: Sequence, steps: list[SequenceStep], bad: dict | None = None) -> list:
    bad = bad or {}
    return [
        {
            "step": s,
            "test": subject_tests.step_test_view(s),
            "form": bad.get(s.pk)
            or StepForm(
                initial={
                    **StepForm.initial_for(s),
                    **({"condition": "always"} if s.position == 1 else {}),
                },
                organization=sequence.organization,
                first=s.position == 1,
                prefix=f"step-{s.pk}",
            ),
        }
        for s in steps
    ]


def _builder(sequence: Sequence, *, bad: dict | None = None, new_form=None) -> dict[str, Any]:
    steps = selectors.step_list(sequence=sequence)
    return {
        "sequence": sequence,
        "cards": _step_forms(sequence, steps, bad),
        "new_form": new_form
        or StepForm(
            organization=sequence.organization, first=not steps, prefix="new", with_test=False
        ),
    }


def _detail_context(request: HttpRequest, sequence: Sequence, **builder: Any) -> dict[str, Any]:
    org = request.principal.organization
    return {
        **_builder(sequence, **builder),
        "funnel": selectors.sequence_funnel(sequence=sequence),
        "enrollments": selectors.enrollment_list(sequence=sequence),
        "email_form": EnrollEmailForm(),
        "segment_form": EnrollSegmentForm(
            organization=org, initial={"segment": sequence.segment_id}
        ),
    }


def _steps_answer(request: HttpRequest, sequence: Sequence, *, failed: bool = False, **builder):
    if request.htmx:
        return render(request, "sequences/_steps.html", _builder(sequence, **builder))
    if failed:
        return render(
            request,
            "sequences/detail.html",
            _detail_context(request, sequence, **builder),
            status=422,
        )
    return redirect("sequences:detail", sequence_id=sequence.pk)


# --- the list, a new sequence, its settings -------------------------------------------------------


@login_required
@organization_required
@require_GET
def sequence_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.sequence_list(organization=request.principal.organization)[:500]
    return render(request, "sequences/list.html", {"sequences": rows})


def _form_data(form: SequenceForm) -> dict[str, Any]:
    return {k: form.cleaned_data[k] for k in services.SEQUENCE_FIELDS}


@login_required
@organization_required
@page_requires("write", DENIED, methods=("GET", "POST"), reads=("GET",))
def sequence_new(request: HttpRequest) -> HttpResponse:
    org = request.principal.organization
    form = SequenceForm(request.POST or None, organization=org, initial={"exit_on_reply": True})
    if request.method == "POST" and form.is_valid():
        try:
            sequence = services.sequence_create(
                organization=org, created_by=request.user, **_form_data(form)
            )
        except NeonHubError as exc:
            errors_to_form(form, exc.details, exc.message)
        else:
            messages.success(request, f"Created {sequence.name}. Now add its emails.")
            return redirect("sequences:detail", sequence_id=sequence.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "sequences/form.html", {"form": form}, status=status)


@login_required
@organization_required
@page_requires(
    "write", DENIED, find=selectors.sequence_get, methods=("GET", "POST"), reads=("GET",)
)
def sequence_edit(request: HttpRequest, sequence: Sequence) -> HttpResponse:
    form = SequenceForm(
        request.POST or None,
        organization=sequence.organization,
        initial=SequenceForm.initial_for(sequence),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.sequence_update(sequence=sequence, **_form_data(form))
        except NeonHubError as exc:
            errors_to_form(form, exc.details, exc.message)
        else:
            messages.success(request, f"Saved {sequence.name}.")
            return redirect("sequences:detail", sequence_id=sequence.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "sequences/form.html", {"form": form, "sequence": sequence}, status=status
    )


@login_required
@organization_required
@require_GET
def sequence_detail(request: HttpRequest, sequence_id) -> HttpResponse:
    sequence = selectors.sequence_get(
        organization=request.principal.organization, sequence_id=sequence_id
    )
    return render(request, "sequences/detail.html", _detail_context(request, sequence))


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.sequence_get)
def sequence_status(request: HttpRequest, sequence: Sequence, action: str) -> HttpResponse:
    try:
        if action == "activate":
            services.sequence_activate(sequence=sequence)
            messages.success(
                request, f"{sequence.name} is active: due emails go out within a minute."
            )
        else:
            services.sequence_pause(sequence=sequence)
            messages.success(request, f"{sequence.name} is paused: contacts keep their place.")
    except InvalidInput as exc:
        messages.error(
            request, f"Not activated: {exc.details[0]['message'] if exc.details else exc.message}."
        )
    return redirect("sequences:detail", sequence_id=sequence.pk)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.sequence_get)
def sequence_delete(request: HttpRequest, sequence: Sequence) -> HttpResponse:
    name = sequence.name
    services.sequence_delete(sequence=sequence)
    messages.success(request, f"Deleted {name}.")
    return redirect("sequences:list")


# --- steps (htmx) ---------------------------------------------------------------------------------


def _step_of(sequence: Sequence, step_id) -> SequenceStep:
    step = selectors.step_get(organization=sequence.organization, step_id=step_id)
    if step.sequence_id != sequence.pk:
        raise NotFound("Step not found")
    return step


def _step_data(form: StepForm) -> dict[str, Any]:
    return {k: form.cleaned_data[k] for k in services.STEP_FIELDS}


def _test_save(step: SequenceStep, form: StepForm, user: Any) -> None:
    """Create, change or remove the step's subject test from the form."""
    data = form.test_data()
    step.refresh_from_db()
    if data is None:
        subject_tests.step_test_remove(step=step)
    else:
        subject_tests.step_test_set(step=step, created_by=user, **data)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.sequence_get)
def step_add(request: HttpRequest, sequence: Sequence) -> HttpResponse:
    first = not sequence.steps.exists()
    form = StepForm(
        request.POST, organization=sequence.organization, first=first, prefix="new", with_test=False
    )
    if form.is_valid():
        try:
            with transaction.atomic():
                step = services.step_add(sequence=sequence, **_step_data(form))
                _test_save(step, form, request.user)
        except NeonHubError as exc:
            errors_to_form(form, exc.details, exc.message)
        else:
            return _steps_answer(request, sequence)
    return _steps_answer(request, sequence, failed=True, new_form=form)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.sequence_get)
def step_edit(request: HttpRequest, sequence: Sequence, step_id) -> HttpResponse:
    step = _step_of(sequence, step_id)
    form = StepForm(
        request.POST,
        organization=sequence.organization,
        first=step.position == 1,
        prefix=f"step-{step.pk}",
    )
    if form.is_valid():
        try:
            with transaction.atomic():
                step = services.step_update(step=step, **_step_data(form))
                _test_save(step, form, request.user)
        except NeonHubError as exc:
            errors_to_form(form, exc.details, exc.message)
        else:
            return _steps_answer(request, sequence)
    return _steps_answer(request, sequence, failed=True, bad={step.pk: form})


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.sequence_get)
def step_move(request: HttpRequest, sequence: Sequence, step_id) -> HttpResponse:
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        return render(request, "422.html", {"message": "Move a step up or down."}, status=422)
    services.step_move(step=_step_of(sequence, step_id), direction=direction)
    return _steps_answer(request, sequence)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.sequence_get)
def step_remove(request: HttpRequest, sequence: Sequence, step_id) -> HttpResponse:
    services.step_remove(step=_step_of(sequence, step_id))
    return _steps_answer(request, sequence)


# --- enrolling ------------------------------------------------------------------------------------


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.sequence_get)
def enroll_email(request: HttpRequest, sequence: Sequence) -> HttpResponse:
    form = EnrollEmailForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a valid email address to enroll.")
        return redirect("sequences:detail", sequence_id=sequence.pk)
    try:
        contact = services.contact_for_email(
            organization=sequence.organization, email=form.cleaned_data["email"]
        )
        done = services.enrollment_create(
            sequence=sequence, contact=contact, source=EnrollmentSource.PERSON
        )
    except NeonHubError as exc:
        messages.error(request, exc.message)
    else:
        if done.created:
            messages.success(request, f"Enrolled {contact.email}.")
        else:
            messages.info(
                request,
                f"{contact.email} is already in this sequence ({done.enrollment.get_status_display().lower()}); "
                "a contact is enrolled only once.",
            )
    return redirect("sequences:detail", sequence_id=sequence.pk)


@login_required
@organization_required
@page_requires(
    "write", DENIED, find=selectors.sequence_get, methods=("GET", "POST"), reads=("GET",)
)
def enroll_segment(request: HttpRequest, sequence: Sequence) -> HttpResponse:
    """GET: how many contacts the chosen segment has (the confirm step, also the htmx fragment
    under the segment menu); POST: enroll them."""
    org = sequence.organization
    form = EnrollSegmentForm(request.POST or request.GET or None, organization=org)
    if not form.is_valid():
        if request.method == "POST":
            messages.error(request, "Choose a segment to enroll.")
            return redirect("sequences:detail", sequence_id=sequence.pk)
        return render(request, "sequences/_segment_confirm.html", {"sequence": sequence})
    segment = form.cleaned_data["segment"]
    if request.method == "POST":
        done = services.segment_enroll(sequence=sequence, segment=segment)
        parts = [f"Enrolled {done['enrolled']} contacts of {segment.name}."]
        if done["already_enrolled"]:
            parts.append(f"{done['already_enrolled']} were already in this sequence.")
        if done["no_email"]:
            parts.append(f"{done['no_email']} have no email address and were left out.")
        messages.success(request, " ".join(parts))
        return redirect("sequences:detail", sequence_id=sequence.pk)
    context = {
        "sequence": sequence,
        "segment": segment,
        "count": services.segment_preview(sequence=sequence, segment=segment),
    }
    template = (
        "sequences/_segment_confirm.html" if request.htmx else "sequences/segment_confirm.html"
    )
    return render(request, template, context)


@login_required
@organization_required
@page_requires("write", DENIED, find=selectors.sequence_get)
def enrollment_remove(request: HttpRequest, sequence: Sequence, enrollment_id) -> HttpResponse:
    enrollment = selectors.enrollment_get(
        organization=sequence.organization, enrollment_id=enrollment_id
    )
    if enrollment.sequence_id != sequence.pk:
        return not_found(request, "Enrollment not found")
    services.enrollment_remove(enrollment=enrollment)
    messages.success(request, f"Took {enrollment.contact} out of {sequence.name}.")
    return redirect("sequences:detail", sequence_id=sequence.pk)


@login_required
@organization_required
@require_GET
def enrollment_detail(request: HttpRequest, sequence_id, enrollment_id) -> HttpResponse:
    org = request.principal.organization
    sequence = selectors.sequence_get(organization=org, sequence_id=sequence_id)
    enrollment = selectors.enrollment_get(organization=org, enrollment_id=enrollment_id)
    if enrollment.sequence_id != sequence.pk:
        return not_found(request, "Enrollment not found")
    return render(
        request,
        "sequences/enrollment.html",
        {
            "sequence": sequence,
            "enrollment": enrollment,
            "history": selectors.enrollment_history(enrollment=enrollment),
        },
    )


# --- the campaign page's fragment -----------------------------------------------------------------


@login_required
@organization_required
@require_GET
def for_campaign(request: HttpRequest, campaign_id) -> HttpResponse:
    org = request.principal.organization
    campaign_id = uuid_from(campaign_id, field="campaign_id")
    if not Campaign.objects.filter(organization=org, pk=campaign_id).exists():
        return not_found(request, "Campaign not found")
    rows = []
    for sequence in selectors.sequences_for_campaign(organization=org, campaign_id=campaign_id):
        rows.append({"sequence": sequence, "funnel": selectors.sequence_funnel(sequence=sequence)})
    return render(
        request, "sequences/_for_campaign.html", {"rows": rows, "campaign_id": campaign_id}
    )
