"""The settings pages: compliance, brands, the knowledge base and its preview, the organization.
Owners and admins change them, everyone else reads; foreign ids are 404; every change audited."""

from __future__ import annotations

import uuid

import pytest

from agents import knowledge
from agents.library.support import ReplyIn, reply_preview
from agents.models import Brand, KnowledgeArticle
from agents.selectors import knowledge_articles_active
from neonhub.core.models import AuditEvent, Role
from tests.factories import (
    BrandFactory,
    KnowledgeArticleFactory,
    MembershipFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client, org):
    client.force_login(MembershipFactory(organization=org, role=Role.MEMBER).user)
    return client


def _compliance_post(**over):
    data = {
        "cap_sms_day": "3",
        "cap_sms_week": "10",
        "cap_whatsapp_day": "",
        "cap_whatsapp_week": "",
        "cap_email_day": "",
        "cap_email_week": "",
        "quiet_enabled": "on",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "quiet_channels": ["sms", "whatsapp"],
        "quiet_days": ["mon", "tue", "wed", "thu", "fri"],
        "consent_sms": "express",
        "consent_whatsapp": "soft",
        "consent_email": "soft",
        "templates-TOTAL_FORMS": "1",
        "templates-INITIAL_FORMS": "0",
        "templates-MIN_NUM_FORMS": "0",
        "templates-MAX_NUM_FORMS": "100",
        "templates-0-name": "order_update",
        "templates-0-language": "en",
        "templates-0-category": "utility",
        "templates-0-body": "Hi {{1}}, your order shipped",
        "templates-0-content_sid": "",
    }
    data.update(over)
    return data


# --- compliance ---------------------------------------------------------------------------------


def test_the_hub_links_every_settings_page(owner_client):
    page = owner_client.get("/settings/").content.decode()
    for url in (
        "/settings/compliance/",
        "/settings/brands/",
        "/settings/knowledge/",
        "/settings/organization/",
    ):
        assert f'href="{url}"' in page


def test_admins_save_compliance_with_fields_stored_where_the_gate_reads(owner_client, org):
    page = owner_client.get("/settings/compliance/").content.decode()
    assert 'type="radio" name="consent_sms" value="express"' in page
    resp = owner_client.post("/settings/compliance/", _compliance_post())
    assert resp.status_code == 302, resp.content.decode()[:2000]
    org.refresh_from_db()
    assert org.settings["frequency_caps"] == {"sms": {"day": 3, "week": 10}}
    assert org.settings["quiet_hours"] == {
        "start": "21:00",
        "end": "08:00",
        "channels": ["sms", "whatsapp"],
        "days": ["mon", "tue", "wed", "thu", "fri"],
    }
    assert org.settings["require_consent"] == ["sms"]
    assert org.settings["whatsapp_templates"] == [
        {
            "name": "order_update",
            "language": "en",
            "category": "utility",
            "body": "Hi {{1}}, your order shipped",
            "content_sid": "",
        }
    ]
    assert AuditEvent.objects.filter(organization=org, action="settings.compliance").count() == 1
    again = owner_client.get("/settings/compliance/").content.decode()
    assert 'value="order_update"' in again and 'name="cap_sms_day" value="3"' in again


def test_turning_quiet_hours_off_removes_them(owner_client, org):
    owner_client.post("/settings/compliance/", _compliance_post())
    owner_client.post("/settings/compliance/", _compliance_post(quiet_enabled=""))
    org.refresh_from_db()
    assert "quiet_hours" not in org.settings


def test_bad_compliance_values_come_back_next_to_their_fields_with_422(owner_client, org):
    resp = owner_client.post(
        "/settings/compliance/",
        _compliance_post(
            cap_sms_day="5",
            cap_sms_week="2",
            quiet_start="8pm",
            **{"templates-0-body": "Hi {{2}}"},
        ),
    )
    assert resp.status_code == 422
    page = resp.content.decode()
    assert 'id="id_cap_sms_week_error"' in page and "lower than the daily cap" in page
    assert 'id="id_quiet_start_error"' in page and "HH:MM" in page
    assert 'id="id_templates-0-body_error"' in page and "without gaps" in page
    org.refresh_from_db()
    assert "frequency_caps" not in org.settings


def test_members_read_compliance_but_cannot_change_it(member_client, org):
    page = member_client.get("/settings/compliance/").content.decode()
    assert 'id="read-only-note"' in page and "disabled" in page and "compliance-save" not in page
    assert member_client.post("/settings/compliance/", _compliance_post()).status_code == 403
    org.refresh_from_db()
    assert "frequency_caps" not in org.settings


# --- brands -------------------------------------------------------------------------------------


BRAND = {
    "name": "Acme Coffee",
    "slug": "",
    "description": "Beans for night owls",
    "tone": "warm",
    "slogan": "",
    "website": "https://acme.example",
    "vocabulary": "roast\nsingle origin\n",
    "do_examples": "Your morning, upgraded.",
    "dont_examples": "",
}


def test_create_edit_and_delete_a_brand_audited(owner_client, org):
    resp = owner_client.post("/settings/brands/new/", BRAND)
    assert resp.status_code == 302
    brand = Brand.objects.get(organization=org)
    assert brand.slug == "acme-coffee" and brand.vocabulary == ["roast", "single origin"]
    listing = owner_client.get("/settings/brands/").content.decode()
    assert "Acme Coffee" in listing and "Default" in listing
    resp = owner_client.post(
        f"/settings/brands/{brand.id}/", {**BRAND, "tone": "bold", "slug": "acme"}
    )
    assert resp.status_code == 302
    brand.refresh_from_db()
    assert brand.tone == "bold" and brand.slug == "acme"
    assert owner_client.post(f"/settings/brands/{brand.id}/delete/").status_code == 302
    assert not Brand.objects.filter(pk=brand.pk).exists()
    actions = list(
        AuditEvent.objects.filter(organization=org)
        .order_by("created_at")
        .values_list("action", "changes")
    )
    assert [a for a, _ in actions] == ["brand.create", "brand.update", "brand.delete"]
    assert actions[1][1]["tone"] == ["warm", "bold"]


def test_brand_errors_next_to_the_field_and_a_taken_slug(owner_client, org):
    BrandFactory(organization=org, slug="taken")
    resp = owner_client.post("/settings/brands/new/", {**BRAND, "name": "", "website": "not a url"})
    assert resp.status_code == 422
    page = resp.content.decode()
    assert 'id="id_name_error"' in page and 'id="id_website_error"' in page
    resp = owner_client.post("/settings/brands/new/", {**BRAND, "slug": "taken"})
    assert resp.status_code == 422 and 'id="id_slug_error"' in resp.content.decode()
    assert Brand.objects.filter(organization=org).count() == 1


def test_members_read_brands_but_cannot_change_them(member_client, org):
    brand = BrandFactory(organization=org)
    assert member_client.get("/settings/brands/").status_code == 200
    page = member_client.get(f"/settings/brands/{brand.id}/").content.decode()
    assert 'id="read-only-note"' in page and "brand-delete" not in page
    assert member_client.get("/settings/brands/new/").status_code == 403
    assert member_client.post(f"/settings/brands/{brand.id}/", BRAND).status_code == 403
    assert member_client.post(f"/settings/brands/{brand.id}/delete/").status_code == 403
    assert Brand.objects.filter(pk=brand.pk).exists()


def test_another_organizations_brand_and_article_are_404(owner_client):
    other = OrganizationFactory()
    brand = BrandFactory(organization=other)
    article = KnowledgeArticleFactory(organization=other)
    assert owner_client.get(f"/settings/brands/{brand.id}/").status_code == 404
    assert owner_client.post(f"/settings/brands/{brand.id}/delete/").status_code == 404
    assert owner_client.get(f"/settings/knowledge/{article.id}/").status_code == 404
    assert owner_client.post(f"/settings/knowledge/{article.id}/delete/").status_code == 404
    assert owner_client.get(f"/settings/knowledge/{uuid.uuid4()}/").status_code == 404
    assert Brand.objects.filter(pk=brand.pk).exists()
    assert "Spam" not in owner_client.get("/settings/brands/").content.decode()


# --- knowledge ----------------------------------------------------------------------------------


def test_create_edit_and_delete_an_article_audited(owner_client, org):
    resp = owner_client.post(
        "/settings/knowledge/new/",
        {
            "title": "Delivery times",
            "body": "Orders arrive in 3 to 5 days.",
            "tags": "shipping, delivery",
            "active": "on",
        },
    )
    assert resp.status_code == 302
    article = KnowledgeArticle.objects.get(organization=org)
    assert article.tags == ["shipping", "delivery"] and article.active
    resp = owner_client.post(
        f"/settings/knowledge/{article.id}/",
        {"title": "Delivery times", "body": "Orders arrive in 2 days.", "tags": "shipping"},
    )
    assert resp.status_code == 302
    article.refresh_from_db()
    assert not article.active and article.body == "Orders arrive in 2 days."
    assert owner_client.post(f"/settings/knowledge/{article.id}/delete/").status_code == 302
    assert list(
        AuditEvent.objects.filter(organization=org)
        .order_by("created_at")
        .values_list("action", flat=True)
    ) == ["knowledge.create", "knowledge.update", "knowledge.delete"]


def test_article_errors_next_to_the_field(owner_client, org):
    resp = owner_client.post("/settings/knowledge/new/", {"title": "", "body": ""})
    assert resp.status_code == 422
    page = resp.content.decode()
    assert 'id="id_title_error"' in page and 'id="id_body_error"' in page


def test_members_read_the_knowledge_base_and_preview_but_change_nothing(member_client, org):
    article = KnowledgeArticleFactory(organization=org)
    assert member_client.get("/settings/knowledge/").status_code == 200
    assert member_client.get("/settings/knowledge/preview/", {"q": "refund"}).status_code == 200
    assert member_client.get("/settings/knowledge/new/").status_code == 403
    assert member_client.post(f"/settings/knowledge/{article.id}/delete/").status_code == 403


def test_the_preview_shows_what_the_support_agent_retrieves_with_scores(owner_client, org):
    KnowledgeArticleFactory(
        organization=org,
        title="Delivery times",
        body="Orders arrive in 3 to 5 working days.",
        tags=["shipping"],
    )
    KnowledgeArticleFactory(
        organization=org,
        title="Refunds",
        body="Refunds take 10 days to reach your card.",
        tags=["money"],
    )
    KnowledgeArticleFactory(
        organization=org,
        title="Delivery to islands",
        body="Island delivery takes longer.",
        tags=[],
        active=False,
    )
    KnowledgeArticleFactory(
        organization=OrganizationFactory(), title="Delivery elsewhere", body="delivery delivery"
    )
    question = "delivery times?"
    expected = knowledge.rank(question, knowledge_articles_active(organization=org))
    page = owner_client.get(
        "/settings/knowledge/preview/", {"q": question}, HTTP_HX_REQUEST="true"
    ).content.decode()
    shown = [m.article.title for m in expected]
    assert shown == ["Delivery times"]
    assert knowledge.confidence(expected) >= 0.5
    for match in expected:
        assert match.article.title in page and str(match.score) in page
    assert "Delivery to islands" not in page and "Delivery elsewhere" not in page
    assert "would answer from <strong>Delivery times</strong>" in page
    # The support agent's own reply preview starts from the same article.
    agent_view = reply_preview(
        ReplyIn.model_validate({"from": "+14155550100", "body": question}), org
    )
    assert "from the article 'Delivery times'" in agent_view["items"][0]["content"]["reply"]
    assert f"confidence {knowledge.confidence(expected)}" in page


def test_the_preview_says_when_nothing_matches_and_refuses_an_empty_question(owner_client, org):
    KnowledgeArticleFactory(organization=org, title="Refunds", body="Refunds take 10 days.")
    page = owner_client.get("/settings/knowledge/preview/", {"q": "parrots"}).content.decode()
    assert "No active article matches" in page
    assert "<h1>Knowledge base" in page and 'value="parrots"' in page  # no JavaScript: the page
    fragment = owner_client.get(
        "/settings/knowledge/preview/", {"q": "parrots"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "No active article matches" in fragment and "<h1>" not in fragment
    resp = owner_client.get("/settings/knowledge/preview/", {"q": ""})
    assert resp.status_code == 422 and "field-error" in resp.content.decode()


# --- the organization ---------------------------------------------------------------------------


def test_change_the_timezone_from_grouped_zones_audited(owner_client, org):
    page = owner_client.get("/settings/organization/").content.decode()
    assert '<optgroup label="Europe">' in page and '<option value="Europe/Paris">' in page
    assert 'id="local-time"' in page and "Now in UTC" in page
    resp = owner_client.post(
        "/settings/organization/", {"name": "Acme Ltd", "timezone": "Asia/Tokyo"}
    )
    assert resp.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.timezone) == ("Acme Ltd", "Asia/Tokyo")
    event = AuditEvent.objects.get(organization=org, action="organization.update")
    assert event.changes == {"name": ["Acme", "Acme Ltd"], "timezone": ["UTC", "Asia/Tokyo"]}
    assert "Now in Asia/Tokyo" in owner_client.get("/settings/organization/").content.decode()


def test_an_unknown_timezone_is_422_next_to_the_field(owner_client, org):
    resp = owner_client.post(
        "/settings/organization/", {"name": "Acme", "timezone": "Mars/Olympus"}
    )
    assert resp.status_code == 422 and 'id="id_timezone_error"' in resp.content.decode()
    org.refresh_from_db()
    assert org.timezone == "UTC"


def test_members_read_the_organization_but_cannot_change_it(member_client, org):
    page = member_client.get("/settings/organization/").content.decode()
    assert 'id="read-only-note"' in page
    resp = member_client.post("/settings/organization/", {"name": "Mine", "timezone": "UTC"})
    assert resp.status_code == 403


def test_the_empty_template_row_is_ignored_and_a_template_can_be_removed(owner_client, org):
    blank = {
        f"templates-0-{k}": "" for k in ("name", "language", "category", "body", "content_sid")
    }
    resp = owner_client.post("/settings/compliance/", _compliance_post(**blank))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    org.refresh_from_db()
    assert "whatsapp_templates" not in org.settings
    owner_client.post("/settings/compliance/", _compliance_post())
    removed = owner_client.post(
        "/settings/compliance/",
        _compliance_post(**{"templates-INITIAL_FORMS": "1", "templates-0-DELETE": "on"}),
    )
    assert removed.status_code == 302
    org.refresh_from_db()
    assert "whatsapp_templates" not in org.settings


@pytest.mark.parametrize("kind", ["brand", "article"])
def test_a_field_the_page_does_not_offer_is_refused_by_name_and_nothing_changes(org, owner, kind):
    from agents import services
    from neonhub.core.auth import Principal
    from neonhub.core.errors import InvalidInput
    from tests.factories import BrandFactory, KnowledgeArticleFactory

    principal = Principal(organization=org, role=Role.OWNER, user=owner)
    if kind == "brand":
        row = BrandFactory(organization=org, name="Acme")
        save = lambda: services.brand_update(  # noqa: E731
            principal=principal, brand=row, fields={"name": "New", "organization_id": 1}
        )
    else:
        row = KnowledgeArticleFactory(organization=org, title="FAQ")
        save = lambda: services.knowledge_article_update(  # noqa: E731
            principal=principal, article=row, fields={"title": "New", "organization_id": 1}
        )
    with pytest.raises(InvalidInput) as refused:
        save()
    assert refused.value.details[0]["field"] == "organization_id"
    row.refresh_from_db()
    assert "New" not in (getattr(row, "name", "") or getattr(row, "title", ""))
    assert not AuditEvent.objects.exists()
