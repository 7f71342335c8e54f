from __future__ import annotations

from datetime import date

import pytest

from agents import services
from connectors.models import OutboundMessage
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun, RunStatus, RunStep

pytestmark = pytest.mark.django_db


def budget_updates(org) -> int:
    return OutboundMessage.objects.filter(organization=org, action="campaign_budget_update").count()


def test_digest_reads_one_report_and_compares_with_the_previous_period(run_intent, google_ads):
    run = run_intent("ads", "digest", {"start": "2026-11-30", "end": "2026-12-06"})
    assert run.status == RunStatus.COMPLETED, run.error
    out = run.output
    assert out["period"] == {"start": "2026-11-30", "end": "2026-12-06", "days": 7}
    assert out["previous_period"]["start"] == "2026-11-23" and out["currency"] == "EUR"
    brand = next(c for c in out["campaigns"] if c["name"] == "Brand search")
    assert (brand["spend"], brand["clicks"], brand["ctr"], brand["cpc"]) == (210.0, 420, 0.05, 0.5)
    assert brand["change"]["spend"] == 1.0  # the previous week reported half
    assert brand["pacing"] == {"planned": 350.0, "share": 0.6}
    display = next(c for c in out["campaigns"] if c["name"] == "Display")
    assert display["ctr"] is None and display["cpc"] is None
    assert out["totals"]["spend"] == 280.0
    assert "Brand search: 210.00 EUR (+100%)" in out["summary"]
    calls = RunStep.objects.filter(run=run, provider="google_ads")
    assert list(calls.values_list("action", flat=True)) == ["campaign_report"]


def test_digest_defaults_to_the_last_seven_whole_days(run_intent, google_ads):
    run = run_intent("ads", "digest", {})
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output["period"]["days"] == 7
    assert date.fromisoformat(run.output["period"]["end"]) < date.today()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"start": "2026-12-01"}, "payload"),
        ({"start": "2026-12-05", "end": "2026-12-01"}, "payload"),
        ({"days": 0}, "payload.days"),
        ({"start": "2026-01-01", "end": "2026-12-01"}, "payload"),
    ],
)
def test_digest_bad_dates_name_the_problem(org, google_ads, payload, field):
    with pytest.raises(InvalidInput) as caught:
        services.run_start(organization=org, agent="ads", intent="digest", payload=payload)
    assert caught.value.details[0]["field"] == field


def test_digest_without_a_connector_is_refused_before_a_run_exists(org):
    with pytest.raises(InvalidInput) as caught:
        services.run_start(organization=org, agent="ads", intent="digest", payload={})
    assert "no Google Ads connector" in caught.value.details[0]["message"]
    assert not AgentRun.objects.exists()


def held_run(run_now, org):
    assert not (org.settings or {}).get("approvals")  # nothing is held by the settings
    run, _ = run_now(
        services.run_start,
        organization=org,
        agent="ads",
        intent="budget-change",
        payload={"budgetId": "900", "amountPerDay": "65.00"},
    )
    run.refresh_from_db()
    assert run.status == RunStatus.AWAITING_APPROVAL
    approval = run.approval
    assert approval.reasons == ["Changing a Google Ads budget always needs approval"]
    preview = approval.preview
    assert preview["summary"] == (
        "Change the Google Ads budget “Shared search” from 50.00 to 65.00 a day"
    )
    content = preview["items"][0]["content"]
    assert content["Campaigns sharing this budget"] == "Brand search, Spring sale"
    assert content["Change"] == "+30%"
    assert budget_updates(org) == 0 and not RunStep.objects.filter(run=run).exists()
    return run


def test_budget_change_always_waits_whatever_the_settings_say(run_now, org, google_ads):
    held_run(run_now, org)


def test_approved_budget_change_updates_once(run_now, org, google_ads, owner):
    run = held_run(run_now, org)
    run_now(services.run_approve, run=run, user=owner)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.output["old_amount"] == 50.0 and run.output["new_amount"] == 65.0
    assert run.output["updated"]["amount_micros"] == 65_000_000
    assert budget_updates(org) == 1


def test_rejected_budget_change_sends_nothing(run_now, org, google_ads, owner):
    run = held_run(run_now, org)
    services.run_reject(run=run, note="Not this month", user=owner)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert budget_updates(org) == 0 and not RunStep.objects.filter(run=run).exists()


def test_budget_change_of_an_unknown_budget_is_refused_naming_the_field(org, google_ads):
    with pytest.raises(InvalidInput) as caught:
        services.run_start(
            organization=org,
            agent="ads",
            intent="budget-change",
            payload={"budgetId": "12345", "amountPerDay": "10"},
        )
    assert caught.value.details[0]["field"] == "payload.budgetId"
    assert not AgentRun.objects.exists()


def test_digest_page_reads_as_words_a_table_and_a_chart(run_intent, google_ads, owner_client):
    run = run_intent("ads", "digest", {"start": "2026-11-30", "end": "2026-12-06"})
    page = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert "Google Ads from 2026-11-30 to 2026-12-06 (7 days)" in page
    assert "Spent <strong>280.00 EUR</strong> (+100% against 2026-11-23 to 2026-11-29)" in page
    assert 'id="ads-spend-chart-title"' in page and "<svg" in page
    assert "Brand search" in page and "60%" in page and "of 350.00 EUR" in page
    text = owner_client.get(f"/runs/{run.pk}/result.md").content.decode()
    assert text.startswith("Google Ads, 2026-11-30 to 2026-12-06 (7 days)")


def test_budget_change_page_shows_old_and_new(run_now, org, google_ads, owner, owner_client):
    run = held_run(run_now, org)
    held = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert "Awaiting approval" in held and "from 50.00 to 65.00 a day" in held
    run_now(services.run_approve, run=run, user=owner)
    page = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert "Shared search" in page and "65.00 a day" in page and "+30%" in page
    assert "Brand search, Spring sale" in page


def test_digest_emails_its_summary_through_the_gate(run_intent, org, google_ads, owner_client):
    from connectors.services import connector_create
    from connectors.suppressions import suppression_add

    connector_create(
        organization=org,
        provider="smtp_email",
        name="Mail",
        mode="sandbox",
        config={"host": "smtp.example.com", "from_address": "reports@example.com"},
    )
    suppression_add(organization=org, channel="email", address="gone@example.com", source="staff")
    run = run_intent(
        "ads",
        "digest",
        {"days": 7, "emailTo": ["Boss@example.com", "gone@example.com"]},
    )
    assert run.status == RunStatus.COMPLETED, run.error
    emailed = {e["email"]: e for e in run.output["emailed"]}
    assert emailed["boss@example.com"]["status"] != "skipped"
    assert emailed["gone@example.com"]["status"] == "skipped"
    sent = OutboundMessage.objects.get(organization=org, action="send_email", status="sent")
    assert sent.target == "boss@example.com"
    page = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert "Summary emailed to: boss@example.com" in page


def test_digest_email_needs_an_email_connector(org, google_ads):
    with pytest.raises(InvalidInput) as caught:
        services.run_start(
            organization=org, agent="ads", intent="digest", payload={"emailTo": ["a@example.com"]}
        )
    assert caught.value.details[0]["field"] == "payload.emailTo"


def test_approval_settings_page_says_budget_changes_always_wait(owner_client):
    page = owner_client.get("/settings/approvals/").content.decode()
    assert "Whatever is chosen here: Changing a Google Ads budget always needs approval." in page


def test_budget_preview_that_cannot_read_google_ads_is_a_422_not_a_500(
    org, owner_client, httpserver, settings
):
    from connectors.services import connector_create

    settings.NEONHUB_ALLOW_PRIVATE_URLS = True
    connector_create(
        organization=org,
        provider="google_ads",
        name="Live account",
        mode="live",
        credentials={
            "client_id": "client-123.apps.googleusercontent.com",
            "client_secret": "secret-abc",
            "refresh_token": "1//refresh-token",
            "developer_token": "dev-token-xyz",
        },
        config={"customer_id": "1234567890", "base_url": httpserver.url_for("")},
    )
    httpserver.expect_request("/campaign_budgets", method="POST").respond_with_json(
        {"error": "bad"}, status=400
    )
    resp = owner_client.post(
        "/runs/new/",
        {"task": "ads/budget-change", "input-budgetId": "900", "input-amountPerDay": "60"},
    )
    assert resp.status_code == 422
    assert "the budgets could not be read for the preview" in resp.content.decode()
    assert not AgentRun.objects.exists()


def test_an_approver_who_edits_the_amount_sends_the_edited_amount(run_now, org, google_ads, owner):
    run = held_run(run_now, org)
    run_now(
        services.run_approve,
        run=run,
        user=owner,
        payload={"budgetId": "900", "amountPerDay": 55},
    )
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.approval.preview["summary"].endswith("from 50.00 to 55.00 a day")
    assert run.output["updated"]["amount_micros"] == 55_000_000
    assert budget_updates(org) == 1


def test_a_retry_of_an_approved_change_does_not_change_the_budget_twice(
    run_now, org, google_ads, owner
):
    run = held_run(run_now, org)
    run_now(services.run_approve, run=run, user=owner)
    run.refresh_from_db()
    run.status = RunStatus.FAILED  # as if the run had failed after the change went out
    run.save(update_fields=["status"])
    retry = run_now(services.run_retry, run=run)
    retry.refresh_from_db()
    assert retry.status == RunStatus.COMPLETED, retry.error
    assert retry.output["already_sent_in_run"] == str(run.pk)
    assert budget_updates(org) == 1


def test_the_api_holds_a_budget_change_and_names_bad_fields(api, google_ads):
    response = api.post(
        "/runs",
        {
            "agent": "ads",
            "intent": "budget-change",
            "payload": {"budgetId": "900", "amountPerDay": 70},
        },
    )
    assert response.status_code in (200, 201, 202), response.content
    assert response.json()["status"] == "awaiting_approval"
    bad = api.post(
        "/runs",
        {
            "agent": "ads",
            "intent": "budget-change",
            "payload": {"budgetId": "x", "amountPerDay": -1},
        },
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert {"payload.budgetId", "payload.amountPerDay"} <= fields
