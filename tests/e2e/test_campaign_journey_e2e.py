"""The issue's "done when", end to end: a marketer builds a three-step sequence from a template
for a segment, A/B-tests the first subject, and watches opens, clicks, bounces and the winner
arrive on the campaign's page.

Real pieces: a qcluster worker sends every email to an aiosmtpd server on 127.0.0.1; the open
pixel and a click link are fetched over HTTP from the live server; a real-world bounce is posted
to the inbound endpoint.  Time is moved, not waited for: the engine runs at a given ``now`` and
the test's window end is set to now.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from agents.abtests.models import ABTestRecipient, RecipientGroup
from agents.campaigns.models import Campaign
from agents.mail.bounces import mailbox_get, token_reveal
from agents.mail.models import EmailMessage
from agents.mailtemplates.models import Layout
from agents.mailtemplates.services import template_create
from agents.models import ABTest, ABTestStatus
from agents.segments.services import segment_create
from agents.sequences import services, subject_tests
from agents.sequences.engine import engine_tick
from agents.sequences.models import Enrollment, ExitReason
from connectors.services import connector_create
from runs.models import AgentRun, RunStatus
from tests.agents.mail.conftest import BOUNCE_ADDRESS, addressed_to, sample, verp
from tests.connectors.providers.smtp_server import Mailbox, smtp_server
from tests.e2e.conftest import wait_for
from tests.factories import ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SUBJECT_A = "Spring is here"
SUBJECT_B = "Your spring offer is inside"


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # straight to the loopback server
    return session


def _sends_done() -> bool:
    runs = AgentRun.objects.filter(agent="email", intent="send")
    return runs.exists() and all(r.status == RunStatus.COMPLETED for r in runs)


def _links(received) -> tuple[str, str]:
    """The path of a received email's open pixel and of its button's tracked link."""
    html = BeautifulSoup(received["message"].get_body(("html",)).get_content(), "html.parser")
    pixel = urlsplit(html.find_all("img")[-1]["src"]).path
    click = next(a["href"] for a in html.find_all("a") if "/m/c/" in a["href"])
    return pixel, urlsplit(click).path + ("?" + urlsplit(click).query if "?" in click else "")


def test_from_template_to_winner_on_the_campaign_page(
    broker, worker, org, api, owner_client, live_server, http, settings
):
    settings.NEONHUB_BOUNCE_ADDRESS = BOUNCE_ADDRESS
    campaign = Campaign.objects.create(organization=org, name="Spring Sale")
    template = template_create(
        organization=org,
        name="Spring announcement",
        layout=Layout.ANNOUNCEMENT,
        subject=SUBJECT_A,
        content={
            "heading": "Spring is here",
            "body": "Hi {{first_name|there}},\n\nOur spring collection is out.",
            "button_label": "See the collection",
            "button_url": "https://shop.example.com/spring",
        },
    )
    spring = segment_create(
        organization=org,
        name="Spring fans",
        rules={"conditions": [{"kind": "tag", "op": "has", "value": "spring"}]},
    )
    for i in range(40):
        ContactFactory(
            organization=org,
            name=f"Person{i} Example",
            email=f"p{i}@example.org",
            tags=["spring"],
            consent={"email": {"status": "granted"}},
        )
    ContactFactory(organization=org, name="Not tagged", email="other@example.org")

    sequence = services.sequence_create(
        organization=org,
        name="Spring drip",
        campaign=campaign,
        segment=spring,
        steps=[
            {"template": template},
            {"wait_days": 1, "condition": "opened", "subject": "Picked for you", "body": "More."},
            {"wait_days": 1, "condition": "not_clicked", "subject": "Last call", "body": "Bye."},
        ],
    )
    first = sequence.steps.get(position=1)
    # Half of the first 40 in the test (10 per subject); a winner needs 8 delivered per subject
    # (the test's own minimum, lowered from 30 for this small audience).
    test = subject_tests.step_test_set(
        step=first, subject_b=SUBJECT_B, share_percent=50, min_sample=8
    )
    assert services.segment_enroll(sequence=sequence, segment=spring)["enrolled"] == 40
    services.sequence_activate(sequence=sequence)

    mailbox = Mailbox()
    with smtp_server(mailbox, mode="none", auth=False) as server:
        connector_create(
            organization=org,
            provider="smtp_email",
            name="Mail",
            mode="live",
            credentials={},
            config={
                "host": "127.0.0.1",
                "port": server.port,
                "tls_mode": "none",
                "from_address": "news@acme.example",
            },
        )
        worker()
        now = timezone.now()

        # 1. The test share gets A or B; the other 20 are held.
        assert engine_tick(now=now)["held"] == 20
        wait_for(lambda: len(mailbox.messages) >= 20, timeout=40, interval=0.3)
        wait_for(_sends_done, timeout=20)
        subjects = Counter(m["message"]["Subject"] for m in mailbox.messages)
        assert subjects == {SUBJECT_A: 10, SUBJECT_B: 10}
        assert engine_tick(now=now + timedelta(minutes=1))["sent"] == 0  # still held

        # 2. People open and click; one B address bounces.
        EmailMessage.objects.update(sent_at=now - timedelta(minutes=5))  # not a gateway's scan
        by_subject: dict[str, list] = {SUBJECT_A: [], SUBJECT_B: []}
        for received in mailbox.messages:
            by_subject[received["message"]["Subject"]].append(received)
        opened_b, bounced = by_subject[SUBJECT_B][:7], by_subject[SUBJECT_B][9]
        for received in [*opened_b, by_subject[SUBJECT_A][0]]:
            pixel, _ = _links(received)
            answer = http.get(live_server.url + pixel, headers={"User-Agent": BROWSER}, timeout=10)
            assert answer.status_code == 200
        _, click = _links(opened_b[0])
        answer = http.get(
            live_server.url + click,
            headers={"User-Agent": BROWSER},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("https://shop.example.com/spring")
        bounced_record = EmailMessage.objects.get(to=bounced["rcpt_tos"][0])
        inbound = reverse(
            "mail-public:inbound", args=[token_reveal(mailbox=mailbox_get(organization=org))]
        )
        answer = http.post(
            live_server.url + inbound,
            data=addressed_to(sample("qmail_01.eml"), verp(bounced_record)),
            headers={"Content-Type": "message/rfc822"},
            timeout=10,
        )
        assert answer.status_code == 202 and answer.json()["matched"] is True

        # 3. The window ends; the A/B tests' minute task runs on the worker and picks B.
        ABTest.objects.filter(pk=test.pk).update(window_ends_at=timezone.now())
        async_task("agents.abtests.tasks.abtests_decide_due")
        test = wait_for(
            lambda: ABTest.objects.filter(pk=test.pk, status=ABTestStatus.DONE).first(),
            timeout=30,
            interval=0.3,
        )
        assert (test.winner, test.result["outcome"]) == ("B", "winner")

        # 4. The held 20 get subject B from the sequence, once each.
        later = now + timedelta(minutes=10)
        assert engine_tick(now=later)["sent"] == 20
        assert engine_tick(now=later + timedelta(minutes=1))["sent"] == 0
        wait_for(lambda: len(mailbox.messages) >= 40, timeout=40, interval=0.3)
        wait_for(_sends_done, timeout=20)
        per_address = Counter(a for m in mailbox.messages for a in m["rcpt_tos"])
        assert len(per_address) == 40 and set(per_address.values()) == {1}
        subjects = Counter(m["message"]["Subject"] for m in mailbox.messages)
        assert subjects == {SUBJECT_A: 10, SUBJECT_B: 30}
        held = set(
            ABTestRecipient.objects.filter(test=test, group=RecipientGroup.REST).values_list(
                "contact__email", flat=True
            )
        )
        assert {m["rcpt_tos"][0] for m in mailbox.messages[20:]} == held

        # 5. A day later the second email reaches only those who opened the first (7 B, 1 A);
        # the bounced address has left the sequence.
        openers = {m["rcpt_tos"][0] for m in [*opened_b, by_subject[SUBJECT_A][0]]}
        done = engine_tick(now=later + timedelta(days=1, minutes=1))
        assert done["sent"] == len(openers) == 8
        wait_for(lambda: len(mailbox.messages) >= 48, timeout=40, interval=0.3)
        wait_for(_sends_done, timeout=20)
        second = [m for m in mailbox.messages if m["message"]["Subject"] == "Picked for you"]
        assert {m["rcpt_tos"][0] for m in second} == openers and len(second) == 8
        gone = Enrollment.objects.get(contact__email=bounced["rcpt_tos"][0])
        assert gone.exit_reason == ExitReason.BOUNCED

    # 6. The campaign's page and its numbers.
    page = owner_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Spring Sale" in page
    fragment = owner_client.get(reverse("abtests:for-campaign", args=[campaign.pk]))
    assert "Variant B won" in fragment.content.decode()
    totals = api.get(f"/campaigns/{campaign.pk}/stats").json()["totals"]
    assert totals["opened"] >= 8 and totals["clicked"] == 1 and totals["hard_bounced"] == 1
    assert totals["sent"] >= 48
