from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field, HttpUrl

from agents.base import IntentInput
from agents.forms import IntentForm, field_label
from agents.library.social import PublishIn
from agents.registry import all_agents


class Address(BaseModel):
    city: str


class EverythingIn(IntentInput):
    title: str = Field(min_length=1, max_length=80, description="Shown on top")
    body: str = Field(max_length=5000)
    tone: Literal["formal", "casual"] = "casual"
    level: Literal[1, 2, 3] | None = None
    urgent: bool = False
    notify: bool | None = None
    count: int = Field(default=3, ge=1, le=10)
    ratio: float | None = Field(default=None, gt=0)
    tags: list[str] = Field(default_factory=list)
    keywords: list[str] | None = None
    address: Address | None = None
    extra: dict | None = None
    link: HttpUrl | None = None
    createdById: str | None = None


def make(data=None):
    return IntentForm(data, schema=EverythingIn.model_json_schema(), prefix="input")


def test_fields_follow_the_schema_types():
    form = make()
    kinds = {name: type(field).__name__ for name, field in form.fields.items()}
    assert kinds == {
        "title": "CharField",
        "body": "CharField",
        "tone": "TypedChoiceField",
        "level": "TypedChoiceField",
        "urgent": "BooleanField",
        "notify": "BooleanField",
        "count": "IntegerField",
        "ratio": "FloatField",
        "tags": "CharField",
        "keywords": "CharField",
        "address__city": "CharField",
        "extra": "CharField",
        "link": "CharField",
    }
    html = form.as_div()
    assert 'maxlength="80"' in html and "<textarea" in html
    assert (
        form.fields["title"].required
        and form.fields["body"].required
        and not form.fields["tone"].required
    )
    assert form.fields["title"].help_text == "Shown on top."
    assert form.fields["count"].initial == 3 and form.fields["count"].min_value == 1
    assert form.fields["ratio"].min_value == 0
    assert "One value per line" in form.fields["tags"].help_text
    assert form.fields["extra"].help_text.startswith("A JSON object")
    assert form.fields["address__city"].label == "City"
    assert form.groups == {"address": "Address options"}
    assert form.fields["link"].widget.input_type == "url"
    assert "createdById" not in form.fields  # the run records who started it


def test_payload_leaves_out_empty_optional_answers_and_converts_types():
    form = make(
        {
            "input-title": " Hello ",
            "input-body": "text",
            "input-tone": "formal",
            "input-level": "2",
            "input-urgent": "on",
            "input-count": "4",
            "input-ratio": "0.5",
            "input-tags": "a, b ,,c",
            "input-keywords": "one\ntwo, three\n",
            "input-address__city": "Oslo",
            "input-extra": "",
        }
    )
    assert form.is_valid(), form.errors
    assert form.payload() == {
        "title": "Hello",
        "body": "text",
        "tone": "formal",
        "level": 2,
        "urgent": True,
        "count": 4,
        "ratio": 0.5,
        "tags": ["a", "b", "c"],
        "keywords": ["one", "two, three"],
        "address": {"city": "Oslo"},
    }
    EverythingIn.model_validate(form.payload())


def test_an_unchecked_plain_boolean_is_sent_as_false():
    form = make({"input-title": "x", "input-body": "y"})
    assert form.is_valid()
    assert form.payload() == {"title": "x", "body": "y", "urgent": False}


def test_bad_json_is_a_field_error():
    form = make({"input-title": "x", "input-body": "y", "input-extra": "{nope"})
    assert not form.is_valid()
    assert "Not valid JSON" in form.errors["extra"][0]


def test_schema_errors_land_next_to_their_fields():
    form = make({"input-title": "x", "input-body": "y"})
    assert form.is_valid()
    form.add_payload_errors(
        [
            {"field": "payload.title", "message": "Title is too short."},
            {"field": "payload.address.city", "message": "City is required."},
            {"field": "payload.tags.0", "message": "Tags, item 1: bad."},
            {"field": "payload", "message": "Notes or subject is required."},
            {"field": "payload.unknown", "message": "Unknown is not an input of this intent."},
            {"field": "connector", "message": "There is no SMTP connector."},
        ]
    )
    assert form.errors["title"] == ["Title is too short."]
    assert form.errors["address__city"] == ["City is required."]
    assert form.errors["tags"] == ["Tags, item 1: bad."]
    assert form.non_field_errors() == [
        "Notes or subject is required.",
        "Unknown is not an input of this intent.",
        "There is no SMTP connector.",
    ]


@pytest.mark.parametrize(
    "name, label",
    [
        ("content", "Content"),
        ("createdById", "Created by"),
        ("imageUrl", "Image URL"),
        ("url", "URL"),
        ("wordCount", "Length in words"),
        ("succeed_on_attempt", "Succeed on attempt"),
        ("macro-suggest", "Macro suggest"),
    ],
)
def test_field_labels_are_readable(name, label):
    assert field_label(name) == label


def test_every_registered_intent_renders_a_form():
    for agent in all_agents():
        for intent in agent.intents.values():
            form = IntentForm(
                schema=intent.json_schema(), agent=agent.slug, intent=intent.name, prefix="input"
            )
            assert form.as_div() is not None, (agent.slug, intent.name)
            for name, field in form.fields.items():
                assert field.label, (agent.slug, intent.name, name)


# --- forms made for people ----------------------------------------------------------------


def _publish_form(org, data=None):
    from agents.registry import get_agent

    schema = get_agent("social").get_intent("publish").json_schema()
    return IntentForm(
        data, schema=schema, agent="social", intent="publish", organization=org, prefix="input"
    )


@pytest.mark.django_db
def test_publish_form_has_platform_checkboxes_and_a_picker_in_the_organizations_zone(org):
    org.timezone = "Europe/Berlin"
    org.save()
    form = _publish_form(org)
    html = form.as_div()
    platforms = form.fields["platforms"]
    assert type(platforms.widget).__name__ == "CheckboxSelectMultiple"
    assert list(platforms.choices) == [
        ("facebook_page", "Facebook Page"),
        ("instagram", "Instagram"),
        ("reddit", "Reddit"),
        ("youtube", "YouTube"),
        ("linkedin", "LinkedIn"),
        ("tiktok", "TikTok"),
    ]
    assert 'type="datetime-local"' in html and 'type="url"' in html
    assert (
        form.fields["publishAt"].help_text
        == "Leave empty to publish now. Times are in Europe/Berlin."
    )
    assert form.fields["text"].label == "Post text" and form.fields["imageUrl"].label == "Image URL"
    assert [f.name for f in form.advanced_fields()] == [
        "connectors__facebook_page",
        "connectors__instagram",
        "connectors__reddit",
        "connectors__youtube",
        "connectors__linkedin",
        "connectors__tiktok",
    ]
    assert [g["name"] for g in form.group_sections()] == [
        "reddit",
        "youtube",
        "instagram",
        "linkedin",
        "tiktok",
    ]


@pytest.mark.django_db
def test_publish_form_turns_answers_into_the_run_input(org):
    org.timezone = "Europe/Berlin"
    org.save()
    form = _publish_form(
        org,
        {
            "input-text": "Hello",
            "input-platforms": ["instagram", "reddit"],
            "input-imageUrl": "https://cdn.example.com/a.jpg",
            "input-publishAt": "2026-12-24T09:30",
            "input-reddit__subreddit": "acme",
            "input-youtube__privacyStatus": "",
        },
    )
    assert form.is_valid(), form.errors
    payload = form.payload()
    assert payload == {
        "text": "Hello",
        "platforms": ["instagram", "reddit"],
        "imageUrl": "https://cdn.example.com/a.jpg",
        "publishAt": "2026-12-24T09:30:00+01:00",  # 09:30 in Berlin, winter time
        "reddit": {"subreddit": "acme"},
    }
    PublishIn.model_validate(payload)


@pytest.mark.django_db
def test_a_connector_per_platform_is_chosen_by_name(org, other_org):
    from tests.factories import ConnectorFactory

    ConnectorFactory(organization=org, provider="twilio_sms", name="Not a post")
    for name in ("Shop", "Brand"):
        ConnectorFactory(
            organization=org,
            provider="instagram",
            name=name,
            credentials={"access_token": "EAAG-test-token"},
            config={"ig_user_id": "17841400000000000"},
        )
    form = _publish_form(org)
    assert list(form.fields["connectors__instagram"].choices) == [
        ("", "The default one"),
        ("Brand", "Brand"),
        ("Shop", "Shop"),
    ]
    assert form.fields["connectors__instagram"].label == "Instagram connector"
    form = _publish_form(
        org,
        {
            "input-text": "Hi",
            "input-platforms": ["instagram"],
            "input-imageUrl": "https://cdn.example.com/a.jpg",
            "input-connectors__instagram": "Shop",
        },
    )
    assert form.is_valid(), form.errors
    assert form.payload()["connectors"] == {"instagram": "Shop"}
    form.initial_from({"connectors": {"instagram": "Brand"}})
    assert form.initial["connectors__instagram"] == "Brand"


@pytest.mark.django_db
def test_prefill_shows_a_stored_time_in_the_organizations_zone(org):
    org.timezone = "America/New_York"
    org.save()
    form = _publish_form(org)
    form.initial_from(
        {
            "text": "x",
            "platforms": ["reddit"],
            "publishAt": "2026-07-01T16:00:00Z",
            "reddit": {"subreddit": "a"},
        }
    )
    assert form.initial["publishAt"] == "2026-07-01T12:00"
    assert form.initial["platforms"] == ["reddit"] and form.initial["reddit__subreddit"] == "a"


@pytest.mark.django_db
def test_brand_and_connector_are_chosen_by_name(org, other_org):
    from agents.registry import get_agent
    from tests.factories import BrandFactory, ConnectorFactory

    BrandFactory(organization=org, name="Acme", slug="acme")
    BrandFactory(organization=other_org, name="Globex", slug="globex")
    ConnectorFactory(organization=org, provider="twilio_sms", name="US number")
    ConnectorFactory(organization=other_org, provider="twilio_sms", name="Not ours")
    post = IntentForm(
        schema=get_agent("social").get_intent("generate-post").json_schema(),
        agent="social",
        intent="generate-post",
        organization=org,
    )
    assert list(post.fields["brandId"].choices) == [
        ("default-brand", "Your default brand (Acme)"),
        ("acme", "Acme"),
    ]
    sms = IntentForm(
        schema=get_agent("messaging").get_intent("send-sms").json_schema(),
        agent="messaging",
        intent="send-sms",
        organization=org,
    )
    assert list(sms.fields["connector"].choices) == [
        ("", "The default one"),
        ("US number", "US number"),
    ]


@pytest.mark.django_db
def test_email_recipients_are_one_address_a_line(org):
    from agents.library.email import SendIn
    from agents.registry import get_agent

    form = IntentForm(
        {
            "input-subject": "Hi",
            "input-body": "Text",
            "input-recipients": "a@example.com\nb@example.com",
        },
        schema=get_agent("email").get_intent("send").json_schema(),
        agent="email",
        intent="send",
        organization=org,
        prefix="input",
    )
    assert form.is_valid(), form.errors
    assert form.payload()["recipients"] == ["a@example.com", "b@example.com"]
    SendIn.model_validate(form.payload())
    form.initial_from({"recipients": [{"email": "a@example.com"}]})
    assert form.initial["recipients"] == "a@example.com"


def test_help_texts_are_separate_sentences():
    form = make()
    assert form.fields["tags"].help_text == "One value per line."
    from agents.forms import sentences

    assert sentences("Publish at this time instead of now", "In UTC") == (
        "Publish at this time instead of now. In UTC."
    )


def _email_form(org, intent, data=None):
    from agents.registry import get_agent

    schema = get_agent("email").get_intent(intent).json_schema()
    return IntentForm(
        data, schema=schema, agent="email", intent=intent, organization=org, prefix="input"
    )


@pytest.mark.django_db
def test_email_forms_choose_templates_sequences_and_segments_by_name(org, other_org):
    from agents.mailtemplates.models import EmailTemplate
    from agents.segments.models import Segment
    from agents.sequences.services import sequence_create

    template = EmailTemplate.objects.create(organization=org, name="Spring letter")
    EmailTemplate.objects.create(organization=other_org, name="Theirs")
    sequence = sequence_create(
        organization=org, name="Welcome", steps=[{"subject": "Hi", "body": "Hello"}]
    )
    segment = Segment.objects.create(organization=org, name="VIPs", rules={})

    send = _email_form(org, "send")
    assert send.fields["templateId"].label == "Email template"
    assert list(send.fields["templateId"].choices) == [
        ("", "None"),
        (str(template.pk), "Spring letter"),
    ]
    assert "abTestId" not in send.fields and "variant" not in send.fields

    enroll = _email_form(
        org, "enroll", {"input-sequenceId": str(sequence.pk), "input-email": "a@example.com"}
    )
    assert enroll.fields["sequenceId"].required
    assert list(enroll.fields["sequenceId"].choices) == [
        ("", "Choose…"),
        (str(sequence.pk), "Welcome"),
    ]
    assert enroll.is_valid(), enroll.errors
    assert enroll.payload()["sequenceId"] == str(sequence.pk)

    ab = _email_form(org, "ab-test")
    assert (str(segment.pk), "VIPs") in list(ab.fields["segmentId"].choices)
    refused = _email_form(org, "enroll", {"input-sequenceId": "not-one-of-ours"})
    assert not refused.is_valid() and "sequenceId" in refused.errors
