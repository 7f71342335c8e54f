"""The email templates API: list, create, read, change, delete, a preview as one contact,
and a compile without saving.

Members write, viewers read (``requires``).  Another organization's id answers 404 (looked up
before the role is checked).  MJML that cannot be compiled answers 422 naming ``mjml``.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from agents.mailtemplates import selectors, services
from agents.mailtemplates.forms import LAYOUT_HELP
from agents.mailtemplates.models import EmailTemplate, Layout
from agents.mailtemplates.schemas import (
    CompiledOut,
    LayoutOut,
    RenderIn,
    TemplateIn,
    TemplateOut,
    TemplatePageOut,
    TemplatePatch,
)
from neonhub.core.auth import requires, scoped

router = Router(tags=["email templates"])


class TemplatePageQuery(Schema):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)


def _compiled(compiled, template: EmailTemplate) -> dict:
    known = selectors.template_variables(organization=template.organization)
    return {
        "subject": compiled.subject,
        "html": compiled.html,
        "text": compiled.text,
        "missing": list(compiled.missing),
        "warnings": services.template_warnings(template=template, known=known),
    }


@router.get("/layouts", response=list[LayoutOut], summary="The starter layouts")
def layout_list(request: HttpRequest):
    return [
        {"name": value, "label": label, "description": LAYOUT_HELP[value]}
        for value, label in Layout.choices
    ]


@router.get("", response=TemplatePageOut, summary="Email templates, newest first, with a cursor")
def template_list(request: HttpRequest, query: Query[TemplatePageQuery]):
    page = selectors.template_page(
        organization=request.auth.organization, cursor=query.cursor, limit=query.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("", response={201: TemplateOut}, summary="Create a template")
@requires("write")
def template_create(request: HttpRequest, body: TemplateIn):
    data = body.model_dump(exclude={"content"})
    content = body.content.model_dump() if body.content is not None else None
    template = services.template_create(
        organization=request.auth.organization,
        created_by=request.auth.user if request.auth.user_id else None,
        content=content,
        **data,
    )
    return Status(201, template)


@router.post(
    "/render",
    response=CompiledOut,
    summary="Compile a template without saving it (optionally filling placeholders)",
)
@scoped("campaigns:read")
def template_render(request: HttpRequest, body: RenderIn):
    draft = EmailTemplate(organization=request.auth.organization, name="draft")
    changes = body.model_dump(exclude={"values", "content"})
    changes["content"] = body.content.model_dump() if body.content is not None else {}
    services.template_apply(template=draft, changes=changes)
    compiled = (
        services.template_render(template=draft, values=body.values)
        if body.values
        else services.template_compile(template=draft)
    )
    return _compiled(compiled, draft)


@router.get("/{template_id}", response=TemplateOut, summary="A template")
def template_detail(request: HttpRequest, template_id: UUID):
    return selectors.template_get(organization=request.auth.organization, template_id=template_id)


@router.patch("/{template_id}", response=TemplateOut, summary="Change a template")
@requires("write", find=selectors.template_get)
def template_update(request: HttpRequest, template: EmailTemplate, body: TemplatePatch):
    changes = body.model_dump(exclude_unset=True, exclude={"content"})
    if body.content is not None:
        changes["content"] = body.content.model_dump()
    return services.template_update(template=template, **changes)


@router.delete(
    "/{template_id}",
    response={204: None},
    summary="Delete a template (409 while a sequence or an A/B test uses it)",
)
@requires("write", find=selectors.template_get)
def template_delete(request: HttpRequest, template: EmailTemplate):
    services.template_delete(template=template)
    return Status(204, None)


@router.get(
    "/{template_id}/preview",
    response=CompiledOut,
    summary="The template as one contact would see it (without contact_id: the defaults)",
)
def template_preview(request: HttpRequest, template_id: UUID, contact_id: UUID | None = None):
    org = request.auth.organization
    template = selectors.template_get(organization=org, template_id=template_id)
    contact = (
        selectors.contact_for_preview(organization=org, contact_id=contact_id)
        if contact_id
        else None
    )
    values = services.preview_values(organization=org, contact=contact)
    return _compiled(services.template_render(template=template, values=values), template)
