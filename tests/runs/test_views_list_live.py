"""The run list: live new rows, the agent and intent drop-downs, short-id search, pages both
ways, one duration and honest costs."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from neonhub.core.pagination import cursor_encode
from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def ids_on(page: str) -> list[str]:
    return re.findall(r'<tr id="run-([0-9a-f-]{36})"', page)


def poller(page: str) -> str:
    return re.search(r'<div id="runs-newer"[^>]*>', page).group(0)


def poll_url(page: str) -> str:
    return re.search(r'hx-get="([^"]+)"', poller(page)).group(1).replace("&amp;", "&")


def run_at(org, seconds_ago: float, **fields) -> AgentRun:
    return AgentRunFactory(
        organization=org, created_at=timezone.now() - timedelta(seconds=seconds_ago), **fields
    )


# --- live new rows ------------------------------------------------------------------------------


def test_the_newest_page_polls_for_newer_runs_with_its_filters(owner_client, org):
    newest = run_at(org, 10, agent="support")
    page = owner_client.get("/?agent=support&status=").content.decode()
    url = poll_url(page)
    assert url.startswith("/runs/newer/?") and "agent=support" in url
    assert f"after={cursor_encode(newest)}" in url and "every 3s" in poller(page)
    assert 'hx-target="#runs-head"' in poller(page) and 'hx-swap="afterend"' in poller(page)


def test_newer_answers_204_when_nothing_is_new(owner_client, org):
    run_at(org, 10)
    url = poll_url(owner_client.get("/").content.decode())
    resp = owner_client.get(url, headers={"HX-Request": "true"})
    assert resp.status_code == 204 and resp.content == b""


def test_a_new_run_comes_as_a_row_on_top_with_the_next_poller(owner_client, org, other_org):
    run_at(org, 10)
    url = poll_url(owner_client.get("/").content.decode())
    first = run_at(org, 2)
    second = run_at(org, 1, status=RunStatus.RUNNING)
    run_at(other_org, 0)  # another organization's runs never show
    resp = owner_client.get(url, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<tbody class="new-runs">')
    assert ids_on(body) == [str(second.id), str(first.id)]
    assert f'hx-get="/runs/{second.id}/row/"' in body  # a live row keeps polling
    assert 'hx-swap-oob="true"' in poller(body)
    assert '<span id="runs-status" hx-swap-oob="innerHTML">2 new runs at the top' in body
    assert f"after={cursor_encode(second)}" in poll_url(body)
    assert owner_client.get(poll_url(body)).status_code == 204


def test_newer_keeps_to_the_filters(owner_client, org):
    run_at(org, 10, agent="support")
    url = poll_url(owner_client.get("/?agent=support").content.decode())
    run_at(org, 1, agent="seo", intent="seo-audit")
    assert owner_client.get(url).status_code == 204
    match = run_at(org, 0, agent="support")
    assert ids_on(owner_client.get(url).content.decode()) == [str(match.id)]


def test_more_new_runs_than_a_page_replace_the_whole_list(owner_client, org):
    run_at(org, 100)
    url = poll_url(owner_client.get("/").content.decode())
    for i in range(51):
        run_at(org, 50 - i)
    resp = owner_client.get(url)
    assert resp["HX-Retarget"] == "#runs-list" and resp["HX-Reswap"] == "outerHTML"
    body = resp.content.decode()
    assert body.lstrip().startswith('<div id="runs-list">') and len(ids_on(body)) == 50


def test_an_empty_list_polls_and_fills_in_when_the_first_run_arrives(owner_client, org):
    page = owner_client.get("/").content.decode()
    assert "No runs yet" in page and 'hx-target="#runs-list"' in poller(page)
    url = poll_url(page)
    assert owner_client.get(url).status_code == 204
    run = run_at(org, 0)
    resp = owner_client.get(url)
    assert resp["HX-Retarget"] == "#runs-list" and ids_on(resp.content.decode()) == [str(run.id)]


def test_a_mangled_after_or_bad_filter_answers_nothing_instead_of_an_error(owner_client, org):
    run_at(org, 0)
    assert owner_client.get("/runs/newer/?after=not-a-cursor").status_code == 204
    assert owner_client.get("/runs/newer/?status=exploded&after=x").status_code == 204


def test_older_pages_do_not_poll(owner_client, org):
    for i in range(55):
        run_at(org, 100 - i)
    first = owner_client.get("/").content.decode()
    older = re.search(r'href="\?cursor=([^"]+)"[^>]*>Older runs', first).group(1)
    second = owner_client.get(f"/?cursor={older}").content.decode()
    assert 'id="runs-newer"' in first and 'id="runs-newer"' not in second


# --- pages both ways ----------------------------------------------------------------------------


def test_newer_and_older_links_walk_the_pages_both_ways(owner_client, org):
    runs = [run_at(org, 200 - i) for i in range(120)]  # oldest first
    newest_first = [str(r.id) for r in reversed(runs)]
    page1 = owner_client.get("/").content.decode()
    assert ids_on(page1) == newest_first[:50] and "Newer runs" not in page1
    link = re.search(r'href="\?(cursor=[^"]+)"[^>]*>Older runs', page1).group(1)
    page2 = owner_client.get(f"/?{link}").content.decode()
    assert ids_on(page2) == newest_first[50:100]
    link = re.search(r'href="\?(cursor=[^"]+)"[^>]*>Older runs', page2).group(1)
    page3 = owner_client.get(f"/?{link}").content.decode()
    assert ids_on(page3) == newest_first[100:] and "Older runs" not in page3
    back = re.search(r'rel="prev" href="\?(cursor=[^"]+)"', page3).group(1)
    again2 = owner_client.get(f"/?{back}").content.decode()
    assert ids_on(again2) == newest_first[50:100]
    back = re.search(r'rel="prev" href="\?(cursor=[^"]+)"', again2).group(1)
    again1 = owner_client.get(f"/?{back}").content.decode()
    assert ids_on(again1) == newest_first[:50]
    assert 'rel="prev"' not in again1 and 'id="runs-newer"' in again1  # the newest page is live


# --- drop-downs ---------------------------------------------------------------------------------


def test_agent_and_intent_are_drop_downs_of_the_registered_catalog(owner_client, org):
    page = owner_client.get("/").content.decode()
    agent = re.search(r'<select name="agent" id="id_agent"[^>]*>(.*?)</select>', page, re.S)
    intent = re.search(r'<select name="intent" id="id_intent"[^>]*>(.*?)</select>', page, re.S)
    assert agent and intent
    assert '<option value="support">support</option>' in agent.group(1)
    assert '<option value="seo">seo</option>' in agent.group(1)
    assert '<optgroup label="support">' in intent.group(1)
    assert '<option value="triage">triage</option>' in intent.group(1)
    assert '<label for="id_agent">Agent</label>' in page


def test_a_typed_agent_or_intent_in_another_case_is_accepted(owner_client, org):
    mine = AgentRunFactory(organization=org, agent="support", intent="triage")
    AgentRunFactory(organization=org, agent="seo", intent="seo-audit")
    resp = owner_client.get("/?agent=SupportAgent&intent=Triage")
    assert resp.status_code == 200
    page = resp.content.decode()
    assert ids_on(page) == [str(mine.id)]
    assert (
        '<option value="support" selected>' in page and '<option value="triage" selected>' in page
    )


# --- short-id search ----------------------------------------------------------------------------


def make_run_with_id(org, hex_id: str) -> AgentRun:
    return AgentRunFactory(organization=org, id=uuid.UUID(hex_id))


def test_the_short_id_from_the_table_finds_its_run(owner_client, org, other_org):
    run = make_run_with_id(org, "3f2b1c4d" + "0" * 24)
    AgentRunFactory(organization=org)
    make_run_with_id(other_org, "3f2b1c4d" + "1" * 24)  # another organization's: not listed
    page = owner_client.get("/?run_id=3f2b1c4d").content.decode()
    assert ids_on(page) == [str(run.id)]
    assert "<code>3f2b1c4d</code>" in page
    page = owner_client.get(f"/?run_id={str(run.id).upper()}").content.decode()
    assert ids_on(page) == [str(run.id)]


def test_a_prefix_matching_several_runs_lists_them(owner_client, org):
    a = make_run_with_id(org, "abcd1111" + "0" * 24)
    b = make_run_with_id(org, "abcd2222" + "0" * 24)
    make_run_with_id(org, "abce0000" + "0" * 24)
    page = owner_client.get("/?run_id=abcd").content.decode()
    assert set(ids_on(page)) == {str(a.id), str(b.id)}
    assert ids_on(owner_client.get("/?run_id=abcd2222-00").content.decode()) == [str(b.id)]
    assert ids_on(owner_client.get("/?run_id=abcd3").content.decode()) == []
    assert ids_on(owner_client.get("/?run_id=abcd2").content.decode()) == [str(b.id)]


# --- one duration, honest cost ------------------------------------------------------------------


def test_the_list_and_the_run_page_show_the_same_duration_and_the_wait_apart(owner_client, org):
    queued = timezone.now() - timedelta(seconds=30)
    run = AgentRunFactory(
        organization=org,
        status=RunStatus.COMPLETED,
        queued_at=queued,
        started_at=queued + timedelta(seconds=12),
        finished_at=queued + timedelta(seconds=14, milliseconds=500),
        duration_ms=2500,
    )
    row = re.search(rf'<tr id="run-{run.id}".*?</tr>', owner_client.get("/").content.decode(), re.S)
    assert "2.5 s" in row.group(0)
    detail = owner_client.get(f"/runs/{run.id}/").content.decode()
    facts = re.search(r'<dd id="run-duration">(.*?)</dd>', detail, re.S).group(1)
    assert "2.5 s" in facts and "waited 12.0 s" in facts


def test_a_running_run_shows_its_duration_so_far(owner_client, org):
    AgentRunFactory(
        organization=org,
        status=RunStatus.RUNNING,
        started_at=timezone.now() - timedelta(seconds=3),
    )
    page = owner_client.get("/").content.decode()
    assert re.search(r"3\.\d s so far", page)


def test_a_sandbox_run_shows_what_it_would_cost_labelled_as_such(owner_client, org):
    run = AgentRunFactory(
        organization=org, status=RunStatus.COMPLETED, would_cost=Decimal("0.0083")
    )
    spent = AgentRunFactory(organization=org, status=RunStatus.COMPLETED, cost=Decimal("0.0166"))
    page = owner_client.get("/").content.decode()
    row = re.search(rf'<tr id="run-{run.id}".*?</tr>', page, re.S).group(0)
    assert "would cost $0.0083" in row and "Sandbox: nothing was spent" in row
    row = re.search(rf'<tr id="run-{spent.id}".*?</tr>', page, re.S).group(0)
    assert "$0.0166" in row and "would cost" not in row
    detail = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert "would cost $0.0083" in re.search(r'<dd id="run-cost">(.*?)</dd>', detail, re.S).group(1)
