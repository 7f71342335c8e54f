"""Writes and compilation of email templates.

A template is MJML: built from a starter layout (``layouts/<layout>.mjml``, Django template
syntax, every value escaped) and the content a marketer fills, or written by hand in the
advanced mode.  ``template_compile`` turns it into responsive HTML with mjml-python and
generates the plain-text part from that HTML, keeping every ``{{placeholder}}`` as written;
``template_render`` then fills them for one person.

Placeholders are swapped for plain tokens before anything is escaped, converted or compiled,
and put back in the finished HTML and text, so a default such as ``{{name|Tom & Jerry}}``
reaches the sender exactly as typed (the sender escapes the value it fills in).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mjml
import nh3
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.template import Context, Engine
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from agents.audience.models import Contact
from agents.audience.unsubscribe import unsubscribe_url
from agents.mailtemplates.models import EmailTemplate, Layout
from agents.mailtemplates.plaintext import html_to_text
from agents.mailtemplates.selectors import template_uses
from agents.mailtemplates.starters import STARTER_SUBJECTS, STARTERS
from agents.services import run_start
from agents.writer import PLACEHOLDER_RE
from neonhub.core.errors import Conflict, InvalidInput
from neonhub.core.models import Organization
from runs.models import Trigger

LAYOUTS_DIR = Path(__file__).resolve().parent / "layouts"
# Autoescaping on: every value a marketer typed is text in the MJML, never markup.  The
# cached loader reads each layout file once per process.
_engine = Engine(dirs=[str(LAYOUTS_DIR)], autoescape=True, libraries={})
_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True})
BODY_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "a", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "code", "pre", "hr",
}  # fmt: skip

# The content fields and their longest values.
CONTENT_LIMITS = {
    "heading": 200,
    "body": 20_000,
    "image_url": 2000,
    "image_alt": 300,
    "button_label": 80,
    "button_url": 2000,
    "footer": 1000,
}
URL_FIELDS = ("image_url", "button_url")
CONTACT_FIELDS = ("first_name", "last_name", "name", "email", "phone")
# Filled by the sender for everyone, whatever the contact holds.
ALWAYS_FILLED = ("email", "unsubscribe_url")


@dataclass(frozen=True)
class Compiled:
    """A compiled template: placeholders kept (``template_compile``) or filled
    (``template_render``; ``missing`` names the placeholders with no value and no default)."""

    subject: str
    html: str
    text: str
    missing: tuple[str, ...] = field(default=())


# --- placeholders ------------------------------------------------------------------------------


class _Tokens:
    """Swaps each ``{{placeholder}}`` for a plain word no converter touches, and back."""

    def __init__(self, seed: str) -> None:
        self.prefix = "nhph" + hashlib.sha256(seed.encode()).hexdigest()[:8]
        self.originals: list[str] = []

    def protect(self, text: str) -> str:
        def swap(match: re.Match) -> str:
            self.originals.append(match.group(0))
            return f"{self.prefix}{len(self.originals) - 1}x"

        return PLACEHOLDER_RE.sub(swap, text or "")

    def restore(self, text: str) -> str:
        pattern = re.compile(rf"{self.prefix}(\d+)x")
        return pattern.sub(lambda m: self.originals[int(m.group(1))], text)


def placeholder_names(*texts: str) -> list[tuple[str, str | None]]:
    """Each placeholder once, in order: (name, default or None)."""
    seen: dict[str, str | None] = {}
    for text in texts:
        for match in PLACEHOLDER_RE.finditer(text or ""):
            seen.setdefault(match.group(1), match.group(2))
    return list(seen.items())


def fill(text: str, values: dict[str, Any], *, escape: bool = False) -> tuple[str, list[str]]:
    """``{{name}}`` / ``{{name|default}}`` filled from ``values`` (escaped for HTML when
    ``escape``); a placeholder with neither stays as written and is named in the list."""
    missing: list[str] = []

    def one(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in values:
            value = str(values[name])
        elif default is not None:
            value = default
        else:
            missing.append(name)
            return match.group(0)
        return html_lib.escape(value) if escape else value

    return PLACEHOLDER_RE.sub(one, text or ""), missing


# --- building and compiling --------------------------------------------------------------------


def _body_html(markdown: str) -> str:
    return nh3.clean(
        _markdown.render(markdown or ""),
        tags=BODY_TAGS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
    )


def layout_source(
    *, layout: str, subject: str, preheader: str, content: dict[str, str], tokens: _Tokens
) -> str:
    """The MJML of a starter layout with this content (placeholders as tokens)."""
    values = {key: tokens.protect(str(content.get(key) or "")) for key in CONTENT_LIMITS}
    context = {
        **values,
        "subject": tokens.protect(subject),
        "preheader": tokens.protect(preheader),
        "body_html": mark_safe(_body_html(values["body"])),  # noqa: S308 - cleaned by nh3
        "unsubscribe": tokens.protect("{{unsubscribe_url}}"),
    }
    return _engine.get_template(f"{layout}.mjml").render(Context(context, autoescape=True))


def mjml_source(*, template: EmailTemplate) -> str:
    """The MJML a template compiles from, placeholders as written: the advanced source, or
    its layout filled with its content (what the advanced mode starts from)."""
    if template.advanced:
        return template.mjml
    tokens = _Tokens(template.layout + repr(template.content))
    return tokens.restore(
        layout_source(
            layout=template.layout,
            subject=template.subject,
            preheader=template.preheader,
            content=template.content or {},
            tokens=tokens,
        )
    )


def template_compile(*, template: EmailTemplate) -> Compiled:
    """Subject, responsive HTML and the generated plain text, ``{{placeholders}}`` kept.

    Raises ``InvalidInput`` naming ``mjml`` when the MJML cannot be compiled.
    """
    seed = f"{template.layout}|{template.advanced}|{template.mjml}|{template.content!r}"
    tokens = _Tokens(seed + template.subject + template.preheader)
    if template.advanced:
        source = tokens.protect(template.mjml)
    else:
        source = layout_source(
            layout=template.layout,
            subject=template.subject,
            preheader=template.preheader,
            content=template.content or {},
            tokens=tokens,
        )
    try:
        html = mjml.mjml2html(source)
    except ValueError as exc:
        raise InvalidInput.for_field(
            "mjml",
            f"The MJML could not be read ({exc}). Check that every tag is closed.",
            summary="The template's MJML could not be read",
        ) from None
    text = html_to_text(html)
    return Compiled(subject=template.subject, html=tokens.restore(html), text=tokens.restore(text))


def template_render(*, template: EmailTemplate, values: dict[str, Any]) -> Compiled:
    """The template as one person sees it: ``values`` filled into subject, HTML and text."""
    compiled = template_compile(template=template)
    subject, missing_subject = fill(compiled.subject, values)
    html, missing_html = fill(compiled.html, values, escape=True)
    text, missing_text = fill(compiled.text, values)
    # The sender fills these for everyone: never missing, even where no value was given here.
    missing = tuple(
        n
        for n in dict.fromkeys(missing_subject + missing_html + missing_text)
        if n not in ALWAYS_FILLED
    )
    return Compiled(subject=subject, html=html, text=text, missing=missing)


# --- contacts' values ------------------------------------------------------------------------------


def contact_values(contact: Contact) -> dict[str, str]:
    """The values of one contact's placeholders: first_name and last_name (from the name, unless
    its attributes hold them), name, email, phone, and each attribute.  Empty values are left
    out, so a placeholder's default shows instead."""
    first, _, last = (contact.name or "").strip().partition(" ")
    values: dict[str, str] = {"first_name": first, "last_name": last.strip()}
    for key, value in (contact.attributes or {}).items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            values[str(key)] = str(value)
    values.update(name=contact.name or "", email=contact.email or "", phone=contact.phone or "")
    return {k: v.strip() for k, v in values.items() if v is not None and str(v).strip()}


def preview_values(*, organization: Organization, contact: Contact | None) -> dict[str, str]:
    """What the sender fills for this contact: their values and their unsubscribe link."""
    if contact is None:
        return {}
    values = contact_values(contact)
    if contact.email:
        values["unsubscribe_url"] = unsubscribe_url(
            organization_id=organization.id, channel="email", address=contact.email
        )
    return values


def template_warnings(*, template: EmailTemplate, known: list[str]) -> list[str]:
    """Plain-words warnings about placeholders no contact field or attribute fills."""
    if template.advanced:
        texts = [template.subject, template.mjml]
    else:
        texts = [template.subject, template.preheader, *(template.content or {}).values()]
    found = []
    for name, default in placeholder_names(*texts):
        if name in known:
            continue
        if default is None:
            found.append(
                f"{{{{{name}}}}} is not a field of your contacts: give it a default, like "
                f"{{{{{name}|there}}}}, or sending will stop for anyone without it."
            )
        else:
            found.append(
                f"{{{{{name}|{default}}}}} is not a field of your contacts: everyone will see "
                f"“{default}”."
            )
    return found


# --- checks and writes ------------------------------------------------------------------------------


def _web_address(value: str) -> str | None:
    """A problem with a link field, or None: a web address, or a placeholder that gives one."""
    if not value or PLACEHOLDER_RE.fullmatch(value):
        return None
    parts = urlsplit(PLACEHOLDER_RE.sub("x", value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be a web address starting with https:// (or a {{placeholder}})"
    return None


def content_clean(content: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The content fields as strings, and the problems found, each naming ``content.<field>``."""
    problems: list[dict[str, str]] = []
    if not isinstance(content, dict):
        return {}, [{"field": "content", "message": "must be an object of content fields"}]
    cleaned: dict[str, str] = {}
    for key, value in content.items():
        if key not in CONTENT_LIMITS:
            problems.append({"field": f"content.{key}", "message": "is not a content field"})
            continue
        text = "" if value is None else str(value).strip()
        if len(text) > CONTENT_LIMITS[key]:
            problems.append(
                {"field": f"content.{key}", "message": f"at most {CONTENT_LIMITS[key]} characters"}
            )
        if text:  # an empty field is left out: the layout shows nothing there
            cleaned[key] = text
    for key in URL_FIELDS:
        problem = _web_address(cleaned.get(key, ""))
        if problem:
            problems.append({"field": f"content.{key}", "message": problem})
    if cleaned.get("button_label") and not cleaned.get("button_url"):
        problems.append(
            {"field": "content.button_url", "message": "give the link the button opens"}
        )
    return cleaned, problems


def _check(template: EmailTemplate, problems: list[dict[str, str]]) -> None:
    """Every problem at once, then whether it compiles (``mjml``)."""
    if not template.name.strip():
        problems.append({"field": "name", "message": "give the template a name"})
    if template.layout not in Layout.values:
        problems.append(
            {"field": "layout", "message": f"must be one of {', '.join(Layout.values)}"}
        )
    if template.advanced and not template.mjml.strip():
        problems.append(
            {"field": "mjml", "message": "write the MJML, or turn off the advanced mode"}
        )
    if problems:
        raise InvalidInput(
            "The template was not saved: "
            + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            details=problems,
        )
    template_compile(template=template)


def template_apply(*, template: EmailTemplate, changes: dict[str, Any]) -> EmailTemplate:
    """Put ``changes`` (name, layout, subject, preheader, content, advanced, mjml) on an unsaved
    copy's fields and check them all; raises ``InvalidInput`` naming each bad field."""
    problems: list[dict[str, str]] = []
    for key in ("name", "subject", "preheader", "mjml"):
        if key in changes and changes[key] is not None:
            setattr(
                template, key, str(changes[key]).strip() if key != "mjml" else str(changes[key])
            )
    for key in ("layout", "advanced"):
        if key in changes and changes[key] is not None:
            setattr(template, key, changes[key])
    if "content" in changes and changes["content"] is not None:
        template.content, problems = content_clean(changes["content"])
    _check(template, problems)
    return template


def _save(template: EmailTemplate) -> EmailTemplate:
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise InvalidInput.for_field(
            "name",
            f"a template named “{template.name}” already exists: choose another name",
            summary="A template with this name already exists",
        ) from None
    return template


def template_create(
    *,
    organization: Organization,
    name: str,
    layout: str = Layout.LETTER,
    subject: str = "",
    preheader: str = "",
    content: dict[str, Any] | None = None,
    advanced: bool = False,
    mjml: str = "",
    created_by=None,
    written_by_run=None,
) -> EmailTemplate:
    """A new template; ``content`` None starts from the layout's starter text."""
    template = EmailTemplate(
        organization=organization, created_by=created_by, written_by_run=written_by_run
    )
    template_apply(
        template=template,
        changes={
            "name": name,
            "layout": layout,
            "subject": subject or (STARTER_SUBJECTS.get(layout, "") if content is None else ""),
            "preheader": preheader,
            "content": dict(STARTERS.get(layout, {})) if content is None else content,
            "advanced": advanced,
            "mjml": mjml,
        },
    )
    return _save(template)


def template_update(*, template: EmailTemplate, **changes: Any) -> EmailTemplate:
    """Change some fields; nothing is saved unless all of them are right.  Turning the
    advanced mode on with no MJML starts it from the layout's."""
    given = changes.get("mjml")
    if changes.get("advanced") and not (template.mjml if given is None else given).strip():
        draft = EmailTemplate(
            **{f.attname: getattr(template, f.attname) for f in template._meta.concrete_fields}
        )
        template_apply(template=draft, changes={**changes, "advanced": False})
        changes["mjml"] = mjml_source(template=draft)
    template_apply(template=template, changes=changes)
    return _save(template)


def template_duplicate(*, template: EmailTemplate, created_by=None) -> EmailTemplate:
    """A copy named "<name> (copy)" (or "(copy 2)", ...)."""
    taken = set(
        EmailTemplate.objects.filter(
            organization=template.organization, name__startswith=template.name[:180]
        ).values_list("name", flat=True)
    )
    base = f"{template.name[:180]} (copy"
    name = next(
        n for n in (f"{base})", *(f"{base} {i})" for i in range(2, 1000))) if n not in taken
    )
    copy = EmailTemplate(
        organization=template.organization,
        name=name,
        layout=template.layout,
        subject=template.subject,
        preheader=template.preheader,
        content=dict(template.content or {}),
        advanced=template.advanced,
        mjml=template.mjml,
        created_by=created_by,
    )
    return _save(copy)


def template_delete(*, template: EmailTemplate) -> None:
    """Delete it, unless a sequence or an A/B test uses it (``Conflict`` saying which)."""
    uses = template_uses(template=template)
    if uses:
        raise Conflict(_in_use(uses))
    try:
        template.delete()
    except ProtectedError:
        raise Conflict(
            _in_use(template_uses(template=template)) or "The template is in use."
        ) from None


def _in_use(uses: list[tuple[str, int]]) -> str:
    listed = ", ".join(f"{count} {label}" for label, count in uses)
    return f"This template is used by {listed}: remove it there first, or duplicate it and change the copy."


def template_send_test(*, template: EmailTemplate, user, organization: Organization):
    """Start an Email agent ``send`` of this template to the signed-in person's own address,
    with their own values where a contact has that address; returns the run."""
    address = (getattr(user, "email", "") or "").strip()
    if not address:
        raise InvalidInput("Your account has no email address to send the test to.")
    contact = (
        Contact.objects.filter(
            organization=organization, email=address.lower(), erased_at__isnull=True
        )
        .order_by("-created_at")
        .first()
    )
    variables = contact_values(contact) if contact else {}
    variables.pop("email", None)
    run, _ = run_start(
        organization=organization,
        agent="email",
        intent="send",
        payload={
            "templateId": str(template.id),
            "recipients": [{"email": address, "variables": variables}],
        },
        trigger=Trigger.UI,
        created_by=user,
    )
    return run


def template_written_save(
    *,
    organization: Organization,
    template: EmailTemplate | None,
    name: str,
    layout: str,
    lineage_id,
    subject: str,
    preheader: str,
    content: dict[str, str],
) -> EmailTemplate:
    """What the Email agent's write-template wrote: into ``template`` (its content replaced,
    its layout kept unless the agent was given one), or a new template named ``name`` (a
    number added when taken).  A retried run finds the template its lineage created."""
    if template is None:
        template = EmailTemplate.objects.filter(
            organization=organization, written_by_run=lineage_id
        ).first()
    changes = {"subject": subject, "preheader": preheader, "content": content, "advanced": False}
    if template is not None:
        return template_update(template=template, layout=layout or template.layout, **changes)
    taken = set(
        EmailTemplate.objects.filter(
            organization=organization, name__startswith=name[:190]
        ).values_list("name", flat=True)
    )
    unique = next(
        n for n in (name, *(f"{name[:190]} ({i})" for i in range(2, 1000))) if n not in taken
    )
    return template_create(
        organization=organization,
        name=unique,
        layout=layout or Layout.ANNOUNCEMENT,
        written_by_run=lineage_id,
        **changes,
    )
