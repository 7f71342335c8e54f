"""The alert pages under Settings: list with states, people-friendly rule form, destinations
(a webhook's secret once), the test button, the deliveries log, roles and other orgs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from neonhub.alerts import services
from neonhub.alerts.models import AlertDestination, AlertRule

pytestmark = pytest.mark.django_db


def test_settings_links_to_alerts(owner_client):
    page = owner_client.get(reverse("settings")).content.decode()
    assert reverse("alerts:list") in page


def test_add_destinations_and_see_a_webhook_secret_once(owner_client):
    response = owner_client.post(
        reverse("alerts:list"),
        {"name": "On call", "kind": "email", "target": "oncall@example.com"},
        follow=True,
    )
    assert "Added the destination “On call”" in response.content.decode()
    response = owner_client.post(
        reverse("alerts:list"),
        {"name": "Pager", "kind": "webhook", "target": "https://example.com/hook"},
    )
    page = response.content.decode()
    assert "Copy the signing secret of “Pager” now" in page
    secret = page.split('id="secret-value" value="')[1].split('"')[0]
    assert secret.startswith("whsec_")
    assert secret not in owner_client.get(reverse("alerts:list")).content.decode()


def test_bad_destination_is_marked_on_its_field(owner_client):
    response = owner_client.post(
        reverse("alerts:list"), {"name": "x", "kind": "email", "target": "nope"}
    )
    assert response.status_code == 422
    assert "not an email address" in response.content.decode()
    assert not AlertDestination.objects.exists()


def test_create_a_rule_in_peoples_units(owner_client, org):
    destination, _ = services.destination_create(
        organization=org, name="On call", kind="email", target="a@example.com"
    )
    response = owner_client.post(
        reverse("alerts:rule-new"),
        {
            "name": "Too many failures",
            "kind": "error_rate",
            "agent": "support",
            "warning_level": "10",
            "alert_level": "25",
            "window_hours": "2",
            "min_runs": "5",
            "renotify_minutes": "60",
            "destinations": [str(destination.pk)],
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    rule = AlertRule.objects.get()
    assert (rule.warning_level, rule.alert_level, rule.window_minutes) == (
        pytest.approx(0.1),
        pytest.approx(0.25),
        120,
    )
    assert list(rule.destinations.all()) == [destination]
    page = owner_client.get(reverse("alerts:list")).content.decode()
    assert "Too many failures" in page and "OK" in page
    edit = owner_client.get(reverse("alerts:rule", args=[rule.pk])).content.decode()
    assert 'value="25.0"' in edit or 'value="25"' in edit


def test_rule_form_names_the_wrong_field(owner_client):
    response = owner_client.post(
        reverse("alerts:rule-new"),
        {
            "name": "x",
            "kind": "error_rate",
            "alert_level": "20",
            "warning_level": "50",
            "window_hours": "1",
            "min_runs": "1",
            "renotify_minutes": "0",
        },
    )
    assert response.status_code == 422
    assert "must be at or below the alert level" in response.content.decode()


def test_state_and_deliveries_are_shown(owner_client, org, mailoutbox):
    destination, _ = services.destination_create(
        organization=org, name="On call", kind="email", target="a@example.com"
    )
    response = owner_client.post(
        reverse("alerts:destination-test", args=[destination.pk]), follow=True
    )
    page = response.content.decode()
    assert "Sent a test notification to “On call”" in page
    assert len(mailoutbox) == 1
    log = owner_client.get(reverse("alerts:deliveries")).content.decode()
    assert "Test" in log and "Sent" in log


def test_viewers_read_but_do_not_change(viewer_client, org):
    destination, _ = services.destination_create(
        organization=org, name="On call", kind="email", target="a@example.com"
    )
    assert viewer_client.get(reverse("alerts:list")).status_code == 200
    assert (
        viewer_client.post(
            reverse("alerts:list"), {"name": "y", "kind": "email", "target": "b@example.com"}
        ).status_code
        == 403
    )
    assert (
        viewer_client.post(reverse("alerts:destination-test", args=[destination.pk])).status_code
        == 403
    )


def test_other_organizations_rules_are_404(owner_client, other_org):
    rule = services.rule_create(
        organization=other_org, name="Theirs", kind="batch_paused", alert_level=1
    )
    assert owner_client.get(reverse("alerts:rule", args=[rule.pk])).status_code == 404
    assert owner_client.post(reverse("alerts:rule-delete", args=[rule.pk])).status_code == 404


def test_viewers_see_a_rules_state_without_its_form(viewer_client, org):
    rule = services.rule_create(
        organization=org, name="Batches", kind="batch_paused", alert_level=1
    )
    services.rule_evaluate(rule=rule)
    page = viewer_client.get(reverse("alerts:rule", args=[rule.pk])).content.decode()
    assert "No batch paused itself" in page and 'id="rule-form"' not in page
    assert (
        viewer_client.post(reverse("alerts:rule", args=[rule.pk]), {"name": "x"}).status_code == 403
    )
    assert viewer_client.get(reverse("alerts:deliveries")).status_code == 200


def test_a_destination_is_renamed_switched_off_and_given_a_new_secret(owner_client, org):
    destination, first = services.destination_create(
        organization=org, name="Pager", kind="webhook", target="https://example.com/hook"
    )
    url = reverse("alerts:destination-edit", args=[destination.pk])
    assert url in owner_client.get(reverse("alerts:list")).content.decode()

    response = owner_client.post(url, {"name": "Pager (night)", "target": "nope"})
    assert response.status_code == 422  # a webhook needs an https address
    assert AlertDestination.objects.get().name == "Pager"

    response = owner_client.post(
        url, {"name": "Pager (night)", "target": "https://example.com/night"}, follow=True
    )
    assert "Saved the destination “Pager (night)”" in response.content.decode()
    stored = AlertDestination.objects.get()
    assert (stored.name, stored.target, stored.enabled) == (
        "Pager (night)",
        "https://example.com/night",
        False,  # the box was left unticked: switched off
    )

    page = owner_client.post(url, {"new_secret": "1"}).content.decode()
    second = page.split('id="secret-value" value="')[1].split('"')[0]
    assert second.startswith("whsec_") and second != first
    assert second not in owner_client.get(url).content.decode()


def test_viewers_read_a_destination_but_cannot_change_it(viewer_client, org):
    destination, _ = services.destination_create(
        organization=org, name="On call", kind="email", target="oncall@example.com"
    )
    url = reverse("alerts:destination-edit", args=[destination.pk])
    assert viewer_client.get(url).status_code == 200
    assert viewer_client.post(url, {"name": "x", "target": "a@example.com"}).status_code == 403
    assert AlertDestination.objects.get(pk=destination.pk).name == "On call"


def test_another_organizations_destination_is_404(owner_client, other_org):
    theirs, _ = services.destination_create(
        organization=other_org, name="Theirs", kind="email", target="them@example.com"
    )
    url = reverse("alerts:destination-edit", args=[theirs.pk])
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url, {"name": "x", "target": "a@example.com"}).status_code == 404
    assert AlertDestination.objects.get(pk=theirs.pk).name == "Theirs"
