"""EmailAgent: lifecycle email copy, subject lines, A/B tests, and sending through SMTP.

``send`` renders ``{{placeholders}}`` per recipient before anything leaves, skips and
reports suppressed addresses, gives every message a signed one-click unsubscribe link and
header, and sends each through the outbox keyed by the address, so a re-executed run
sends nothing twice.
"""

from __future__ import annotations

import html as html_lib
import re
import uuid
from typing import Any, Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.urls import reverse
from pydantic import BaseModel, Field, field_validator, model_validator

from agents import llm, writer
from agents.abtests import services as abtests
from agents.audience.models import ContactList
from agents.audience.unsubscribe import unsubscribe_url
from agents.base import Agent, IntentInput, intent
from agents.campaigns.models import Campaign
from agents.checks import Checks, brand_known, connector_ready
from agents.context import RunContext
from agents.mail import services as mail
from agents.mailtemplates import selectors as template_selectors
from agents.mailtemplates import services as templates
from agents.mailtemplates.models import EmailTemplate
from agents.models import ABTest, ABTestStatus
from agents.segments.models import Segment
from agents.selectors import brand_resolve
from agents.sequences import enrolling as sequence_enrolling
from agents.text import clip
from connectors.selectors import suppression_exists
from neonhub.core.errors import (
    ConnectorRejected,
    InvalidInput,
    NotFound,
    OutcomeUnknown,
    PolicyBlocked,
)
from neonhub.core.ids import uuid_from
from neonhub.core.models import Organization
from runs.models import Trigger

Tone = Literal["witty", "professional", "casual", "friendly", "authoritative"]
PLACEHOLDER_RE = writer.PLACEHOLDER_RE


class GenerateSequenceIn(IntentInput):
    topic: str = Field(min_length=1, max_length=300)
    brandId: str = Field(default="default-brand", max_length=100)
    audience: str = Field(default="general", max_length=200)
    tone: Tone = "witty"
    objective: str = Field(default="awareness", max_length=100)
    length: int = Field(default=3, ge=1, le=10, alias="numEmails")
    seed: str | int | None = None
    ctaUrl: str | None = Field(
        default=None,
        max_length=2000,
        description="The link the emails point to (default: the brand's website)",
    )
    campaignId: str | None = Field(
        default=None,
        max_length=64,
        description="The campaign the draft sequence belongs to (default: the run's campaign)",
    )
    createdById: str | None = None

    @field_validator("ctaUrl")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be a web address starting with http:// or https://")
        return value


class OptimizeSubjectIn(IntentInput):
    originalSubject: str = Field(min_length=1, max_length=300)
    context: str | None = Field(default=None, max_length=5000)
    createdById: str | None = None


def _web_address(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be a web address starting with http:// or https://")
    return value


class WriteTemplateIn(IntentInput):
    topic: str = Field(min_length=1, max_length=300)
    audience: str = Field(default="general", max_length=200)
    tone: Tone = "friendly"
    brandId: str = Field(default="default-brand", max_length=100)
    layout: Literal["newsletter", "announcement", "letter", "product"] | None = Field(
        default=None,
        description="The starter layout (default: the template's own, or an announcement)",
    )
    templateId: str | None = Field(
        default=None, max_length=64, description="A template to write into (its text replaced)"
    )
    name: str | None = Field(
        default=None, max_length=200, description="The new template's name (default: the topic)"
    )
    ctaUrl: str | None = Field(
        default=None,
        max_length=2000,
        description="Where the button goes (default: the brand's website)",
    )
    createdById: str | None = None

    @field_validator("ctaUrl")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        return _web_address(value)


class TemplateCopyOut(BaseModel):
    subject: str = Field(min_length=1, max_length=200)
    preheader: str = Field(default="", max_length=200)
    heading: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)
    buttonLabel: str = Field(min_length=1, max_length=60)


class Variant(IntentInput):
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(
        default=None, max_length=50_000, description="Plain text with {{placeholders}}"
    )
    templateId: str | None = Field(
        default=None, max_length=64, description="An email template instead of the body"
    )


class ABTestIn(IntentInput):
    name: str | None = Field(default=None, max_length=200)
    campaignId: str | None = Field(
        default=None,
        max_length=100,
        description="The campaign's id (default: the run's campaign); other text is kept as a label",
    )
    segmentId: str | None = Field(default=None, max_length=64)
    listId: str | None = Field(default=None, max_length=64)
    variants: list[Variant] = Field(min_length=2, max_length=5)
    metric: Literal["opens", "clicks"] = "opens"
    sharePercent: int = Field(default=20, ge=5, le=50)
    windowHours: int = Field(default=4, ge=1, le=168)
    confidence: Literal[90, 95, 99] = 95
    noWinner: Literal["leader", "manual"] = Field(
        default="leader",
        description="No clear winner: send the leading variant, or let a person pick",
    )
    start: bool = Field(
        default=True, description="Start at once (needs segmentId or listId); false: a draft"
    )
    createdById: str | None = None


def _email(value: str) -> str:
    value = value.strip().lower()
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValueError("not a valid email address") from None
    return value


class Recipient(IntentInput):
    email: str = Field(min_length=3, max_length=254)
    variables: dict[str, str | int | float] = Field(default_factory=dict)

    @field_validator("email")
    @classmethod
    def _check(cls, value: str) -> str:
        return _email(value)


class SendIn(IntentInput):
    templateId: str | None = Field(
        default=None,
        max_length=64,
        description="An email template: its subject, HTML and text part are sent "
        "(instead of subject, body and html)",
    )
    subject: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(
        default=None,
        min_length=1,
        max_length=100_000,
        description="Plain text with {{placeholders}}",
    )
    html: str | None = Field(default=None, max_length=300_000)
    recipients: list[Recipient] = Field(
        min_length=1, max_length=1000, description='Addresses, or {"email", "variables"} objects'
    )
    variables: dict[str, str | int | float] = Field(
        default_factory=dict, description="Values for every recipient"
    )
    brandId: str = Field(default="default-brand", max_length=100)
    abTestId: str | None = Field(
        default=None, max_length=64, description="The A/B test these messages are part of"
    )
    variant: str | None = Field(
        default=None, max_length=32, description="The test's variant these messages carry"
    )
    createdById: str | None = None

    @field_validator("recipients", mode="before")
    @classmethod
    def _plain_addresses(cls, value: Any) -> Any:
        return (
            [{"email": r} if isinstance(r, str) else r for r in value]
            if isinstance(value, list)
            else value
        )

    @model_validator(mode="after")
    def _template_or_text(self) -> SendIn:
        if self.templateId is None and not (self.subject and self.body):
            raise ValueError("give templateId, or a subject and a body")
        return self


def _template_filled(data: SendIn, organization: Organization) -> SendIn:
    """With ``templateId``: subject, HTML and text part from the compiled template (its
    ``{{placeholders}}`` filled per recipient like any other text)."""
    if data.templateId is None:
        return data
    field = "payload.templateId"
    try:
        template = template_selectors.template_get(
            organization=organization, template_id=uuid_from(data.templateId, field=field)
        )
    except NotFound:
        raise InvalidInput.for_field(field, "no such email template") from None
    compiled = templates.template_compile(template=template)
    if not compiled.subject.strip():
        raise InvalidInput.for_field(field, f"the template “{template.name}” has no subject yet")
    return data.model_copy(
        update={"subject": compiled.subject, "body": compiled.text, "html": compiled.html}
    )


class EnrollIn(IntentInput):
    sequenceId: str = Field(min_length=1, max_length=64, description="The drip sequence")
    email: str | None = Field(
        default=None,
        max_length=254,
        description="Found among the contacts, or added as a new contact (no consent assumed)",
    )
    contactId: str | None = Field(default=None, max_length=64)
    createdById: str | None = None

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return _email(value) if value else None

    @model_validator(mode="after")
    def _one_contact(self) -> EnrollIn:
        if bool(self.email) == bool(self.contactId):
            raise ValueError("give either email or contactId")
        return self


class SequenceOut(BaseModel):
    class Email(BaseModel):
        day: int | None = None
        subject: str = Field(min_length=1, max_length=200)
        body: str = Field(min_length=1)

    emails: list[Email] = Field(min_length=1)


class SuggestionsOut(BaseModel):
    suggestions: list[str] = Field(min_length=1, max_length=10)


PREVIEW_MESSAGES = 5  # the first recipients' messages shown for approval; the rest are counted


def send_preview(data: SendIn, organization) -> dict:
    """The first few messages exactly as rendered for their recipients, and how many there are.

    A missing placeholder value is bad input here (422), as it would fail the run.
    """
    data = _template_filled(data, organization)
    recipients = list({r.email: r for r in data.recipients}.values())
    first_index = {r.email: i for i, r in reversed(list(enumerate(data.recipients)))}
    items = []
    for r in recipients[:PREVIEW_MESSAGES]:
        message = EmailAgent._message(organization, data, first_index[r.email], r)
        items.append(
            {
                "to": message["to"],
                "action": "send_email",
                "content": {"subject": message["subject"], "text": message["text"]},
            }
        )
    return {
        "summary": f"Email {data.subject!r} to {len(recipients)} recipient"
        + ("s" if len(recipients) != 1 else ""),
        "recipients": len(recipients),
        "items": items,
        "more": max(0, len(recipients) - len(items)),
    }


def render(template: str, values: dict[str, Any], *, escape: bool = False) -> tuple[str, list[str]]:
    """Fill ``{{name}}`` / ``{{name|default}}``; returns the text and the names with no value."""
    missing: list[str] = []

    def fill(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in values:
            value = str(values[name])
        elif default is not None:
            value = default
        else:
            missing.append(name)
            return match.group(0)
        return html_lib.escape(value) if escape else value

    return PLACEHOLDER_RE.sub(fill, template), missing


class EmailAgent(Agent):
    slug = "email"
    name = "EmailAgent"
    version = "3.0.0"
    description = (
        "Writes lifecycle email sequences and subject lines, sets up A/B tests and sends email."
    )

    @intent("generate-sequence", GenerateSequenceIn, "Write a sequence of lifecycle emails")
    def generate_sequence(self, ctx: RunContext, data: GenerateSequenceIn) -> dict:
        voice = writer.Voice.of(brand_resolve(organization=ctx.organization, ref=data.brandId))
        tone = data.tone

        def builtin() -> dict:
            return {
                "emails": writer.email_sequence(
                    topic=data.topic,
                    audience=data.audience,
                    tone=tone,
                    objective=data.objective,
                    length=data.length,
                    voice=voice,
                    seed=data.seed,
                    cta_url=data.ctaUrl or "",
                )
            }

        prompt = (
            f"Write a {data.length}-email sequence about {data.topic!r} for {data.audience}, objective "
            f"{data.objective}, tone {tone}. Each email has day (days after the first), subject "
            "(under 70 characters) and body (plain text; greet with {{first_name|there}}). "
            'Return {"emails": [{"day": 0, "subject": "...", "body": "..."}]}'
        )
        with ctx.step("write sequence"):
            written = llm.write(
                ctx,
                system=_system("an expert lifecycle email copywriter", voice),
                prompt=prompt,
                schema=SequenceOut,
                builtin=builtin,
                temperature=0.7,
                max_tokens=2000,
                max_attempts=self.max_attempts,
            )
        sequence = [
            {
                "day": e.get("day") if e.get("day") is not None else i * 3,
                "subject": e["subject"],
                "body": e["body"],
            }
            for i, e in enumerate(written.data["emails"][: data.length])
        ]
        found = writer.placeholders(*(f"{e['subject']}\n{e['body']}" for e in sequence))
        with ctx.step("create draft sequence"):
            # A draft the marketer finishes on the sequence's page (a Retry finds the same one).
            draft = sequence_enrolling.draft_from_written(
                organization=ctx.organization,
                topic=data.topic,
                emails=sequence,
                campaign_id=data.campaignId or ctx.campaign_id,
                source_run_id=ctx.lineage_id or ctx.run_id,
            )
        ctx.metrics.update(emailsGenerated=len(sequence))
        path = reverse("sequences:detail", args=[draft.pk])
        return {
            "jobId": str(ctx.run_id),
            "sequenceId": str(draft.pk),
            "sequenceUrl": f"{settings.NEONHUB_PUBLIC_URL}{path}",
            "sequence": sequence,
            # Filled per recipient by `send` (intended); and values nobody gave yet, which the
            # text keeps visible and `send` needs in its `variables`.
            "sendTimePlaceholders": found["sendTime"],
            "unfilledPlaceholders": found["unfilled"],
            **written.label(),
        }

    @intent(
        "optimize-subject",
        OptimizeSubjectIn,
        "Suggest five better subject lines (30-60 characters)",
    )
    def optimize_subject(self, ctx: RunContext, data: OptimizeSubjectIn) -> dict:
        voice = writer.Voice.of(brand_resolve(organization=ctx.organization, ref=None))

        def builtin() -> dict:
            return {
                "suggestions": writer.subject_suggestions(
                    original=data.originalSubject, context=data.context, voice=voice
                )
            }

        prompt = (
            f"Original subject line: {data.originalSubject!r}. Context: {data.context or 'none'}. "
            'Suggest 5 improved subject lines, each 30 to 60 characters. Return {"suggestions": [...]}'
        )
        with ctx.step("suggest subjects"):
            written = llm.write(
                ctx,
                system=_system("an email subject line specialist", voice),
                prompt=prompt,
                schema=SuggestionsOut,
                builtin=builtin,
                temperature=0.8,
                max_tokens=500,
                max_attempts=self.max_attempts,
            )
        suggestions = [
            s.strip() for s in written.data["suggestions"] if 30 <= len(s.strip()) <= 60
        ][:5]
        if not suggestions:  # the model ignored the length rule: keep it honest and use our own
            suggestions = builtin()["suggestions"]
            written = llm.template_written(
                ctx, {}, fallback_reason="LLM suggestions outside 30-60 characters"
            )
        ctx.metrics.update(suggestions=len(suggestions))
        return {"jobId": str(ctx.run_id), "suggestions": suggestions, **written.label()}

    @intent(
        "write-template",
        WriteTemplateIn,
        "Write an email template's subject, heading, text and button, and save the template",
    )
    def write_template(self, ctx: RunContext, data: WriteTemplateIn) -> dict:
        voice = writer.Voice.of(brand_resolve(organization=ctx.organization, ref=data.brandId))
        target = _template_target(data, ctx.organization)
        link = data.ctaUrl or voice.website or "https://example.com"

        def builtin() -> dict:
            first = writer.email_sequence(
                topic=data.topic, audience=data.audience, tone=data.tone,
                objective="awareness", length=1, voice=voice, cta_url=link,
            )[0]  # fmt: skip
            lines = [line for line in first["body"].split("\n") if not line.endswith(link)]
            body = "\n".join(lines).strip()
            return {
                "subject": first["subject"],
                "preheader": clip(body.split("\n\n")[1] if "\n\n" in body else body, 90),
                "heading": writer.title_form(data.topic),
                "body": body,
                "buttonLabel": "Find out more",
            }

        prompt = (
            f"Write one marketing email about {data.topic!r} for {data.audience}, tone {data.tone}. "
            "Give subject (under 70 characters), preheader (under 90), heading (under 60), body "
            "(Markdown paragraphs; greet with {{first_name|there}}; no links, the button "
            "carries the link) and buttonLabel (2-4 words). "
            'Return {"subject": "...", "preheader": "...", "heading": "...", "body": "...", '
            '"buttonLabel": "..."}'
        )
        with ctx.step("write template"):
            written = llm.write(
                ctx,
                system=_system("an expert email marketer who writes clear, warm emails", voice),
                prompt=prompt,
                schema=TemplateCopyOut,
                builtin=builtin,
                temperature=0.7,
                max_tokens=1200,
                max_attempts=self.max_attempts,
            )
        copy = written.data
        with ctx.step("save template"):
            saved = templates.template_written_save(
                organization=ctx.organization,
                template=target,
                name=(data.name or writer.title_form(data.topic))[:200],
                layout=data.layout or "",
                lineage_id=ctx.lineage_id,
                subject=copy["subject"],
                preheader=copy.get("preheader") or "",
                content={
                    **({} if target is None else dict(target.content or {})),
                    "heading": copy["heading"],
                    "body": copy["body"],
                    "button_label": copy["buttonLabel"],
                    "button_url": link,
                },
            )
        ctx.metrics.update(templatesWritten=1)
        return {
            "jobId": str(ctx.run_id),
            "templateId": str(saved.id),
            "templateName": saved.name,
            "layout": saved.layout,
            "subject": saved.subject,
            "preheader": saved.preheader,
            "heading": copy["heading"],
            "body": copy["body"],
            "buttonLabel": copy["buttonLabel"],
            **written.label(),
        }

    def preflight_write_template(
        self, data: WriteTemplateIn, *, organization: Organization
    ) -> None:
        checks = Checks()
        brand_known(checks, organization=organization, ref=data.brandId, field="payload.brandId")
        checks.run(lambda: _template_target(data, organization))
        checks.raise_any()

    @intent("ab-test", ABTestIn, "Create an A/B test of two or more email variants and start it")
    def ab_test(self, ctx: RunContext, data: ABTestIn) -> dict:
        with ctx.step("create test"):
            # Keyed by the lineage: a Retry or a re-executed run finds its test.
            test = ABTest.objects.filter(
                organization=ctx.organization, run_id=ctx.lineage_id
            ).first() or abtests.abtest_create(
                organization=ctx.organization, run_id=ctx.lineage_id, **_ab_test_fields(ctx, data)
            )
        if (
            data.start
            and test.status == ABTestStatus.DRAFT
            and (test.segment_id or test.contact_list_id)
        ):
            with ctx.step("start test"):
                test = abtests.abtest_start(test=test, trigger=Trigger.API)
        ctx.metrics.update(variantsTested=len(test.variants))
        return {
            "jobId": str(ctx.run_id),
            "testId": str(test.id),
            "status": test.status,
            "split": test.split,
            "link": f"{settings.NEONHUB_PUBLIC_URL}{reverse('abtests:detail', args=[test.id])}",
        }

    def preflight_ab_test(self, data: ABTestIn, *, organization: Organization) -> None:
        checks = Checks("The A/B test was not created")
        checks.run(lambda: _ab_test_refs(organization, data))
        try:
            abtests.variants_clean(
                organization=organization,
                variants=[{"subject": v.subject, "body": v.body} for v in data.variants],
            )
        except InvalidInput as exc:
            for d in exc.details or []:
                checks.add(f"payload.{d['field']}", d["message"])
        if data.segmentId and data.listId:
            checks.add("payload.listId", "give a segment or a list, not both")
        checks.raise_any()

    def preflight_generate_sequence(
        self, data: GenerateSequenceIn, *, organization: Organization
    ) -> None:
        checks = Checks()
        brand_known(checks, organization=organization, ref=data.brandId, field="payload.brandId")
        if data.campaignId:
            checks.run(
                lambda: sequence_enrolling.campaign_known(
                    organization=organization, campaign_id=data.campaignId
                )
            )
        checks.raise_any()

    def preflight_send(self, data: SendIn, *, organization: Organization) -> None:
        """A usable SMTP connector, a known brand, and a value for every placeholder of every
        recipient (the run would refuse to send any of them otherwise)."""
        checks = Checks("The email was not sent")
        data = checks.run(lambda: _template_filled(data, organization)) or data
        if data.subject is None:  # the template could not be read: its message says why
            checks.raise_any()
        brand_known(checks, organization=organization, ref=data.brandId, field="payload.brandId")
        templates = [data.subject, data.body, data.html or ""]
        for index, recipient in enumerate(data.recipients):
            values = {**data.variables, **recipient.variables, "email": "", "unsubscribe_url": ""}
            names = sorted({n for t in templates for n in render(t, values)[1]})
            if names:
                shown = ", ".join(f"{{{{{n}}}}}" for n in names)
                checks.add(
                    f"payload.recipients.{index}.variables.{names[0]}",
                    f"No value for {shown} for {recipient.email}: give it under Variables, "
                    f"or a default in the text like {{{{{names[0]}|there}}}}.",
                )
            if len(checks.details) >= 5:
                break
        connector_ready(
            checks,
            organization=organization,
            provider="smtp_email",
            field="connector",
            purpose="send email",
        )
        checks.raise_any()

    @intent(
        "send",
        SendIn,
        "Send an email to a list of recipients through the SMTP connector",
        side_effects=True,
        preview=send_preview,
    )
    def send(self, ctx: RunContext, data: SendIn) -> dict:
        if data.templateId is not None:
            with ctx.step("compile template"):
                data = _template_filled(data, ctx.organization)
        with ctx.step("prepare recipients") as rec:
            recipients = list({r.email: r for r in data.recipients}.values())
            skipped = [
                {"email": r.email, "reason": "suppressed"}
                for r in recipients
                if suppression_exists(
                    organization=ctx.organization, channel="email", address=r.email
                )
            ]
            skipped_set = {s["email"] for s in skipped}
            first_index = {r.email: i for i, r in reversed(list(enumerate(data.recipients)))}
            # Every message is rendered before the first one leaves: a missing value fails the run
            # with nothing sent.
            messages = [
                self._message(ctx.organization, data, first_index[r.email], r)
                for r in recipients
                if r.email not in skipped_set
            ]
            rec.detail = {"recipients": len(recipients), "suppressed": len(skipped)}
        handle = ctx.connector("smtp_email")
        # Tracking settings, the campaign's UTM name and the bounce address: once per run.
        sending = mail.sending_for(organization=ctx.organization, campaign_id=ctx.campaign_id)
        results, failed, unknown = [], [], []
        for message in messages:
            # The message's record (opens, clicks and bounces land on it), written before it
            # leaves so its tracking links and return path exist; a Retry finds it again.
            record = mail.message_record(
                organization=ctx.organization,
                to=message["to"],
                subject=message["subject"],
                run_id=ctx.run_id,
                lineage_id=ctx.lineage_id,
                campaign_id=ctx.campaign_id,
                ab_test_id=data.abTestId,
                variant=data.variant or "",
            )
            outgoing = mail.message_prepare(
                organization=ctx.organization, record=record, message=message, sending=sending
            )
            try:
                result = handle.call("send_email", outgoing, key=f"email:{message['to']}")
            except ConnectorRejected as exc:
                mail.message_failed(record=record)
                failed.append(
                    {
                        "email": message["to"],
                        "code": exc.provider_code or exc.code,
                        "message": exc.message,
                    }
                )
                continue
            except OutcomeUnknown as exc:
                unknown.append({"email": message["to"], "message": exc.message})
                continue
            except PolicyBlocked as exc:
                if exc.transient:  # quiet hours: the run is retried when they end
                    raise
                skipped.append(
                    {
                        "email": message["to"],
                        "reason": exc.context.get("policy", "policy"),
                        "message": exc.message,
                    }
                )
                continue
            mail.message_sent(record=record, message_id=result.provider_id or "")
            sent = {
                "email": message["to"],
                "messageId": result.provider_id,
                "status": result.status,
            }
            if result.already_sent_in_run is not None:  # answered from the outbox: not sent again
                sent["alreadySentInRun"] = str(result.already_sent_in_run)
            results.append(sent)
        ctx.metrics.update(
            sent=len(results), skipped=len(skipped), failed=len(failed), unknown=len(unknown)
        )
        return {
            "jobId": str(ctx.run_id),
            "sent": len(results),
            "messages": results,
            "skipped": skipped,
            "failed": failed,
            "unknown": unknown,
            "sandbox": handle.sandbox,
        }

    @staticmethod
    def _message(organization, data: SendIn, index: int, recipient: Recipient) -> dict:
        link = unsubscribe_url(
            organization_id=organization.id, channel="email", address=recipient.email
        )
        values = {
            **data.variables,
            **recipient.variables,
            "email": recipient.email,
            "unsubscribe_url": link,
        }
        subject, missing = render(data.subject, values)
        text, missing_text = render(data.body, values)
        html, missing_html = render(data.html, values, escape=True) if data.html else (None, [])
        names = sorted(set(missing + missing_text + missing_html))
        if names:
            raise InvalidInput(
                f"No value for {', '.join(names)} for recipient {recipient.email}",
                details=[
                    {
                        "field": f"payload.recipients.{index}.variables.{n}",
                        "message": "no value for this placeholder",
                    }
                    for n in names
                ],
            )
        if "unsubscribe_url" not in data.body:
            text += f"\n\n--\nTo stop receiving these emails: {link}"
        if html and "unsubscribe_url" not in data.html:
            html += f'<p style="font-size:12px;color:#666"><a href="{html_lib.escape(link)}">Unsubscribe</a></p>'
        message = {"to": recipient.email, "subject": subject, "text": text, "unsubscribe_url": link}
        if html:
            message["html"] = html
        return message

    def preflight_enroll(self, data: EnrollIn, *, organization: Organization) -> None:
        checks = Checks("The contact was not enrolled")
        checks.run(
            lambda: sequence_enrolling.enroll_check(
                organization=organization, sequence_id=data.sequenceId, contact_id=data.contactId
            )
        )
        checks.raise_any()

    @intent("enroll", EnrollIn, "Enroll a contact in a drip sequence (once per sequence)")
    def enroll(self, ctx: RunContext, data: EnrollIn) -> dict:
        with ctx.step("enroll"):
            done = sequence_enrolling.enroll(
                organization=ctx.organization,
                sequence_id=data.sequenceId,
                email=data.email,
                contact_id=data.contactId,
            )
        ctx.metrics.update(enrolled=1 if done["created"] else 0)
        return {"jobId": str(ctx.run_id), **done}


def _template_target(data: WriteTemplateIn, organization: Organization) -> EmailTemplate | None:
    """The template write-template writes into, or None for a new one."""
    if data.templateId is None:
        return None
    field = "payload.templateId"
    try:
        return template_selectors.template_get(
            organization=organization, template_id=uuid_from(data.templateId, field=field)
        )
    except NotFound:
        raise InvalidInput.for_field(field, "no such email template") from None


def _ab_test_refs(organization: Organization, data: ABTestIn) -> dict:
    """The campaign, audience and templates the input names (422 on the field otherwise).

    A ``campaignId`` that is not an id is the free-text label older inputs gave.
    """
    refs: dict[str, Any] = {"campaign": None, "campaign_label": ""}
    if data.campaignId:
        try:
            uuid.UUID(data.campaignId)
        except ValueError:
            refs["campaign_label"] = data.campaignId
        else:
            refs["campaign"] = abtests.owned_get(
                model=Campaign,
                organization=organization,
                value=data.campaignId,
                field="payload.campaignId",
            )
    refs["segment"] = abtests.owned_get(
        model=Segment, organization=organization, value=data.segmentId, field="payload.segmentId"
    )
    refs["contact_list"] = abtests.owned_get(
        model=ContactList, organization=organization, value=data.listId, field="payload.listId"
    )
    for i, v in enumerate(data.variants):
        abtests.owned_get(
            model=EmailTemplate,
            organization=organization,
            value=v.templateId,
            field=f"payload.variants.{i}.templateId",
        )
    return refs


def _ab_test_fields(ctx: RunContext, data: ABTestIn) -> dict:
    refs = _ab_test_refs(ctx.organization, data)
    if refs["campaign"] is None and not refs["campaign_label"] and ctx.campaign_id:
        refs["campaign"] = Campaign.objects.filter(
            organization=ctx.organization, pk=ctx.campaign_id
        ).first()
    label = refs["campaign"].name if refs["campaign"] else refs["campaign_label"]
    return {
        **refs,
        "name": data.name or (f"Subject test for {label}" if label else "Subject test"),
        "variants": [
            {"subject": v.subject, "body": v.body, "template_id": v.templateId}
            for v in data.variants
        ],
        "metric": data.metric,
        "share_percent": data.sharePercent,
        "window_hours": data.windowHours,
        "confidence": data.confidence,
        "no_winner": data.noWinner,
    }


def _system(role: str, voice: writer.Voice) -> str:
    described = voice.describe()
    return f"You are {role}." + (f"\n{described}" if described else "")
