"""The sequences API: build sequences, switch them on and off, enroll and remove contacts.

Members write, viewers read (``requires``); another organization's id answers 404.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from agents.audience.models import Contact
from agents.campaigns.models import Campaign
from agents.segments.models import Segment
from agents.sequences import selectors, services, subject_tests
from agents.sequences.models import Enrollment, EnrollmentSource, EnrollmentStatus, Sequence
from agents.sequences.schemas import (
    EnrollIn,
    EnrollmentOut,
    EnrollmentPageOut,
    SegmentEnrollIn,
    SegmentEnrollOut,
    SequenceDetailOut,
    SequenceIn,
    SequenceOut,
    SequencePatch,
    SequenceStepOut,
    StepIn,
    StepPatch,
    SubjectTestIn,
)
from neonhub.core.auth import requires
from neonhub.core.errors import InvalidInput, NotFound
from neonhub.core.models import Organization

router = Router(tags=["sequences"])


def _owned(model, organization: Organization, pk: UUID | None, what: str):
    if pk is None:
        return None
    found = model.objects.filter(organization=organization, pk=pk).first()
    if found is None:
        raise NotFound(f"{what} not found")
    return found


def _step_fields(organization: Organization, data: dict) -> dict:
    if "template_id" in data:
        template_id = data.pop("template_id")
        data["template"] = (
            services.template_for(organization=organization, template_id=template_id)
            if template_id
            else None
        )
    return data


def _detail(sequence: Sequence) -> dict:
    funnel = selectors.sequence_funnel(sequence=sequence)
    steps = [
        {
            **SequenceStepOut.from_orm(s["step"]).model_dump(),
            **{k: v for k, v in s.items() if k != "step"},
        }
        for s in funnel["steps"]
    ]
    return {
        **SequenceOut.from_orm(sequence).model_dump(),
        **{k: funnel[k] for k in ("enrolled", "active", "completed", "exited", "exits")},
        "steps": steps,
    }


def _enrollment(e: Enrollment, created: bool = False) -> dict:
    fields = set(EnrollmentOut.model_fields) - {"email", "created"}
    return {**{k: getattr(e, k) for k in fields}, "email": e.contact.email, "created": created}


@router.get("", response=list[SequenceOut], summary="Sequences, newest first, with their counts")
def sequence_list(request: HttpRequest):
    return list(selectors.sequence_list(organization=request.auth.organization)[:500])


@router.post(
    "", response={201: SequenceDetailOut}, summary="Create a draft sequence with its steps"
)
@requires("write")
def sequence_create(request: HttpRequest, body: SequenceIn):
    org = request.auth.organization
    sequence = services.sequence_create(
        organization=org,
        name=body.name,
        campaign=_owned(Campaign, org, body.campaign_id, "Campaign"),
        segment=_owned(Segment, org, body.segment_id, "Segment"),
        goal_kind=body.goal_kind,
        goal_value=body.goal_value,
        exit_on_reply=body.exit_on_reply,
        keep_enrolling=body.keep_enrolling,
        created_by=request.auth.user,
        steps=[_step_fields(org, s.model_dump()) for s in body.steps],
    )
    return Status(201, _detail(sequence))


@router.get(
    "/{sequence_id}",
    response=SequenceDetailOut,
    summary="A sequence with its steps: how many wait at each, and what each sent",
)
def sequence_detail(request: HttpRequest, sequence_id: UUID):
    return _detail(
        selectors.sequence_get(organization=request.auth.organization, sequence_id=sequence_id)
    )


@router.patch("/{sequence_id}", response=SequenceDetailOut, summary="Change a sequence's settings")
@requires("write", find=selectors.sequence_get)
def sequence_update(request: HttpRequest, sequence: Sequence, body: SequencePatch):
    org = request.auth.organization
    data = body.model_dump(exclude_unset=True)
    for key, model, what in (
        ("campaign_id", Campaign, "Campaign"),
        ("segment_id", Segment, "Segment"),
    ):
        if key in data:
            data[key.removesuffix("_id")] = _owned(model, org, data.pop(key), what)
    for key in ("name", "goal_kind", "exit_on_reply", "keep_enrolling"):
        if key in data and data[key] is None:
            raise InvalidInput.for_field(key, "may not be null")
    if "goal_value" in data and "goal_kind" not in data:
        data["goal_kind"] = sequence.goal_kind
    return _detail(services.sequence_update(sequence=sequence, **data))


@router.delete("/{sequence_id}", response={204: None}, summary="Delete a sequence and its history")
@requires("write", find=selectors.sequence_get)
def sequence_delete(request: HttpRequest, sequence: Sequence):
    services.sequence_delete(sequence=sequence)
    return Status(204, None)


@router.post("/{sequence_id}/activate", response=SequenceDetailOut, summary="Start sending")
@requires("write", find=selectors.sequence_get)
def sequence_activate(request: HttpRequest, sequence: Sequence):
    return _detail(services.sequence_activate(sequence=sequence))


@router.post(
    "/{sequence_id}/pause",
    response=SequenceDetailOut,
    summary="Stop sending; contacts keep their place",
)
@requires("write", find=selectors.sequence_get)
def sequence_pause(request: HttpRequest, sequence: Sequence):
    return _detail(services.sequence_pause(sequence=sequence))


# --- steps ----------------------------------------------------------------------------------------


def _step_of(sequence: Sequence, step_id: UUID):
    step = selectors.step_get(organization=sequence.organization, step_id=step_id)
    if step.sequence_id != sequence.pk:
        raise NotFound("Step not found")
    return step


@router.post(
    "/{sequence_id}/steps", response={201: SequenceStepOut}, summary="Add a step at the end"
)
@requires("write", find=selectors.sequence_get)
def step_add(request: HttpRequest, sequence: Sequence, body: StepIn):
    data = _step_fields(sequence.organization, body.model_dump())
    return Status(201, services.step_add(sequence=sequence, **data))


@router.patch("/{sequence_id}/steps/{step_id}", response=SequenceStepOut, summary="Change a step")
@requires("write", find=selectors.sequence_get)
def step_update(request: HttpRequest, sequence: Sequence, step_id: UUID, body: StepPatch):
    data = _step_fields(sequence.organization, body.model_dump(exclude_unset=True))
    return services.step_update(step=_step_of(sequence, step_id), **data)


@router.put(
    "/{sequence_id}/steps/{step_id}/subject-test",
    response=SequenceStepOut,
    summary="Test a second subject line on a step (create it, or change it before it starts)",
)
@requires("write", find=selectors.sequence_get)
def subject_test_set(request: HttpRequest, sequence: Sequence, step_id: UUID, body: SubjectTestIn):
    step = _step_of(sequence, step_id)
    subject_tests.step_test_set(step=step, created_by=request.auth.user, **body.model_dump())
    return selectors.step_get(organization=sequence.organization, step_id=step.pk)


@router.delete(
    "/{sequence_id}/steps/{step_id}/subject-test",
    response={204: None},
    summary="Stop testing a subject: a draft test is removed, a running one cancelled",
)
@requires("write", find=selectors.sequence_get)
def subject_test_remove(request: HttpRequest, sequence: Sequence, step_id: UUID):
    subject_tests.step_test_remove(step=_step_of(sequence, step_id))
    return Status(204, None)


@router.delete("/{sequence_id}/steps/{step_id}", response={204: None}, summary="Remove a step")
@requires("write", find=selectors.sequence_get)
def step_remove(request: HttpRequest, sequence: Sequence, step_id: UUID):
    services.step_remove(step=_step_of(sequence, step_id))
    return Status(204, None)


# --- enrollments ----------------------------------------------------------------------------------


@router.get(
    "/{sequence_id}/enrollments",
    response=EnrollmentPageOut,
    summary="The newest enrollments (at most 200), optionally of one status",
)
def enrollment_list(request: HttpRequest, sequence_id: UUID, status: str = "", limit: int = 50):
    sequence = selectors.sequence_get(
        organization=request.auth.organization, sequence_id=sequence_id
    )
    if status and status not in EnrollmentStatus.values:
        raise InvalidInput.for_field("status", "active, completed or exited")
    if not 1 <= limit <= 200:
        raise InvalidInput.for_field("limit", "from 1 to 200")
    rows = selectors.enrollment_list(sequence=sequence, status=status, limit=limit)
    return {"items": [_enrollment(e) for e in rows]}


@router.post(
    "/{sequence_id}/enrollments",
    response={200: EnrollmentOut, 201: EnrollmentOut},
    summary="Enroll one contact (by id, or by email: added as a contact if new). "
    "Already enrolled: the existing enrollment, unchanged (200)",
)
@requires("write", find=selectors.sequence_get)
def enrollment_create(request: HttpRequest, sequence: Sequence, body: EnrollIn):
    contact = _contact(sequence.organization, body)
    done = services.enrollment_create(
        sequence=sequence, contact=contact, source=EnrollmentSource.API
    )
    return Status(201 if done.created else 200, _enrollment(done.enrollment, done.created))


def _contact(organization: Organization, body: EnrollIn) -> Contact:
    if (body.contact_id is None) == (body.email is None):
        raise InvalidInput.for_field("contact_id", "give either contact_id or email")
    if body.contact_id is not None:
        return _owned(Contact, organization, body.contact_id, "Contact")
    return services.contact_for_email(organization=organization, email=body.email or "")


@router.post(
    "/{sequence_id}/enrollments/segment",
    response=SegmentEnrollOut,
    summary="Enroll every contact of a segment not enrolled yet (those without an email are "
    "counted, not enrolled)",
)
@requires("write", find=selectors.sequence_get)
def enrollment_segment(request: HttpRequest, sequence: Sequence, body: SegmentEnrollIn):
    if body.segment_id is None:
        raise InvalidInput.for_field("segment_id", "Field required")
    segment = _owned(Segment, sequence.organization, body.segment_id, "Segment")
    return services.segment_enroll(sequence=sequence, segment=segment)


@router.delete(
    "/{sequence_id}/enrollments/{enrollment_id}",
    response=EnrollmentOut,
    summary="Take a contact out of the sequence (nothing more is sent to them by it)",
)
@requires("write", find=selectors.sequence_get)
def enrollment_remove(request: HttpRequest, sequence: Sequence, enrollment_id: UUID):
    enrollment = selectors.enrollment_get(
        organization=sequence.organization, enrollment_id=enrollment_id
    )
    if enrollment.sequence_id != sequence.pk:
        raise NotFound("Enrollment not found")
    return _enrollment(services.enrollment_remove(enrollment=enrollment))
