from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
import responses
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import SecretStr, ValidationError
from werkzeug import Response

from connectors.providers.reddit import Reddit
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

UA = "web:com.acme.neonhub:v1.4.2 (by /u/acme_bot)"
CLIENT_ID = "p-jcoLKBynTLew"
SECRET = "gko_LXELoV07ZBNUXrvWZfzE3aI"
PASSWORD = "correct-horse-battery-staple"
TOKEN = "1234567890-AbCdEfGhIjKlMnOpQrStUvWxYz"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
API = "https://oauth.reddit.com"
LIMITS = {"X-Ratelimit-Used": "4", "X-Ratelimit-Remaining": "96.0", "X-Ratelimit-Reset": "412"}


def make(recorder=None, base_url=None, auth_base_url=None, state=None, access_token=None):
    credentials = Reddit.Credentials(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        username="acme_bot",
        password=PASSWORD,
        access_token=access_token,
    )
    return Reddit(
        credentials=credentials,
        config=Reddit.Config(user_agent=UA, base_url=base_url, auth_base_url=auth_base_url),
        recorder=recorder,
        state=state,
    )


def fresh_token_state():
    return {"token_expires_at": (timezone.now() + timedelta(hours=1)).isoformat()}


def run(provider, action, **data):
    return provider.run_action(action, Reddit.actions[action].schema(**data))


def rd(name):
    return fixture("reddit", name)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def add_token(mocked, name="token.json", status=200):
    mocked.add(responses.POST, TOKEN_URL, json=rd(name), status=status)


POST = {
    "subreddit": "r/Coffee",
    "title": "Our new single origin is in: Huila, Colombia",
    "text": "Notes of red apple and panela. Ask us anything about the roast!",
}


# --- the exact requests ----------------------------------------------------------------------


def test_submit_post_gets_a_token_then_posts_the_documented_form(mocked, recorder):
    token_request, submit_request = rd("request_token.json"), rd("request_submit_self.json")
    add_token(mocked)
    mocked.add(responses.POST, f"{API}/api/submit", json=rd("submit_ok.json"), headers=LIMITS)
    provider = make(recorder)

    result = run(provider, "submit_post", **POST)

    for call, expected in zip(mocked.calls, (token_request, submit_request), strict=True):
        assert (call.request.method, call.request.url) == (expected["method"], expected["url"])
        for name, value in expected["headers"].items():
            assert call.request.headers[name] == value
        assert dict(parse_qsl(call.request.body)) == expected["form"]
    assert result.provider_id == "t3_1h2k3l4"
    assert result.output == {
        "id": "1h2k3l4",
        "name": "t3_1h2k3l4",
        "subreddit": "Coffee",
        "url": "https://www.reddit.com/r/Coffee/comments/1h2k3l4/our_new_single_origin_is_in_huila_colombia/",
        "permalink": "/r/Coffee/comments/1h2k3l4/our_new_single_origin_is_in_huila_colombia/",
    }
    assert [s.name for s in recorder.steps] == ["reddit.token", "reddit.submit_post"]


def test_a_new_token_is_handed_back_for_saving_with_its_expiry(mocked):
    add_token(mocked)
    mocked.add(responses.POST, f"{API}/api/submit", json=rd("submit_ok.json"))
    provider = make()

    run(provider, "submit_post", **POST)

    assert provider.updated_credentials == {"access_token": TOKEN}
    expires = parse_datetime(provider.state["token_expires_at"])
    assert timedelta(hours=23, minutes=59) < expires - timezone.now() <= timedelta(hours=24)


def test_link_post_sends_kind_link_and_flair(mocked):
    mocked.add(
        responses.POST,
        f"{API}/api/submit",
        json=rd("submit_ok.json"),
        match=[
            responses.matchers.urlencoded_params_matcher(
                {
                    "api_type": "json",
                    "sr": "Coffee",
                    "kind": "link",
                    "title": "How we roast",
                    "url": "https://acme.example/blog/roasting",
                    "flair_id": "3f1c2a5e-0b7e-11ee-9a42-0e6f1c3b2a11",
                    "nsfw": "false",
                    "spoiler": "true",
                    "sendreplies": "false",
                }
            )
        ],
    )

    run(
        make(state=fresh_token_state(), access_token=TOKEN),
        "submit_post",
        subreddit="Coffee",
        title="How we roast",
        url="https://acme.example/blog/roasting",
        flair_id="3f1c2a5e-0b7e-11ee-9a42-0e6f1c3b2a11",
        spoiler=True,
        send_replies=False,
    )


def test_a_valid_saved_token_is_reused_without_asking_again(mocked):
    mocked.add(
        responses.GET,
        f"{API}/r/Coffee/about",
        json=rd("subreddit_about.json"),
        match=[
            responses.matchers.header_matcher(
                {"Authorization": f"bearer {TOKEN}", "User-Agent": UA}
            )
        ],
    )

    result = run(
        make(state=fresh_token_state(), access_token=TOKEN), "get_subreddit", subreddit="Coffee"
    )

    assert result.output == {
        "id": "2qhze",
        "fullname": "t5_2qhze",
        "name": "Coffee",
        "title": "Coffee: A Community for Coffee Lovers",
        "description": "A place to discuss coffee, brewing and roasting.",
        "subscribers": 2461337,
        "active_users": 1874,
        "over18": False,
        "url": "https://www.reddit.com/r/Coffee/",
        "created_utc": 1201232076.0,
    }


def test_a_token_about_to_expire_is_renewed_first(mocked):
    state = {"token_expires_at": (timezone.now() + timedelta(seconds=30)).isoformat()}
    add_token(mocked)
    mocked.add(responses.GET, f"{API}/r/Coffee/about", json=rd("subreddit_about.json"))

    run(make(state=state, access_token="old-token"), "get_subreddit", subreddit="Coffee")

    assert mocked.calls[1].request.headers["Authorization"] == f"bearer {TOKEN}"


def test_fuzzed_active_counts_are_hidden(mocked):
    mocked.add(responses.GET, f"{API}/r/espresso/about", json=rd("subreddit_about_fuzzed.json"))

    result = run(
        make(state=fresh_token_state(), access_token=TOKEN), "get_subreddit", subreddit="espresso"
    )

    assert result.output["active_users"] is None


@pytest.mark.parametrize(
    ("parent", "thing_id"), [("1h2k3l4", "t3_1h2k3l4"), ("t1_m8q2x1z", "t1_m8q2x1z")]
)
def test_submit_comment_replies_to_a_post_or_comment(mocked, parent, thing_id):
    mocked.add(
        responses.POST,
        f"{API}/api/comment",
        json=rd("comment_ok.json"),
        match=[
            responses.matchers.urlencoded_params_matcher(
                {
                    "api_type": "json",
                    "thing_id": thing_id,
                    "text": "Thanks! The roast is a medium, about 12 minutes.",
                }
            )
        ],
    )

    result = run(
        make(state=fresh_token_state(), access_token=TOKEN),
        "submit_comment",
        parent_id=parent,
        text="Thanks! The roast is a medium, about 12 minutes.",
    )

    assert result.provider_id == "t1_m8q2x1z"
    assert result.output["url"] == (
        "https://www.reddit.com/r/Coffee/comments/1h2k3l4/"
        "our_new_single_origin_is_in_huila_colombia/m8q2x1z/"
    )


# --- tokens and credentials ---------------------------------------------------------------------


def test_a_401_renews_the_token_once_and_repeats_the_call(mocked, recorder):
    mocked.add(responses.GET, f"{API}/r/Coffee/about", json=rd("unauthorized.json"), status=401)
    add_token(mocked)
    mocked.add(responses.GET, f"{API}/r/Coffee/about", json=rd("subreddit_about.json"))
    provider = make(recorder, state=fresh_token_state(), access_token="revoked-token")

    result = run(provider, "get_subreddit", subreddit="Coffee")

    assert result.output["name"] == "Coffee"
    assert [c.request.url for c in mocked.calls] == [
        f"{API}/r/Coffee/about",
        TOKEN_URL,
        f"{API}/r/Coffee/about",
    ]
    assert provider.updated_credentials == {"access_token": TOKEN}


def test_a_second_401_after_renewal_is_an_auth_error(mocked):
    mocked.add(responses.GET, f"{API}/r/Coffee/about", json=rd("unauthorized.json"), status=401)
    add_token(mocked)
    mocked.add(responses.GET, f"{API}/r/Coffee/about", json=rd("unauthorized.json"), status=401)

    with pytest.raises(ConnectorAuth) as caught:
        run(
            make(state=fresh_token_state(), access_token="revoked-token"),
            "get_subreddit",
            subreddit="Coffee",
        )

    assert caught.value.http_status == 401
    assert len(mocked.calls) == 3


def test_a_wrong_password_is_named_and_not_retried(mocked, recorder):
    add_token(mocked, "token_invalid_grant.json")

    with pytest.raises(ConnectorAuth) as caught:
        run(make(recorder), "submit_post", **POST)

    assert len(mocked.calls) == 1
    assert caught.value.provider_code == "invalid_grant"
    assert "username or password of u/acme_bot" in caught.value.message
    assert PASSWORD not in caught.value.message and SECRET not in caught.value.message
    assert recorder.steps[0].provider_error_code == "invalid_grant"


def test_a_wrong_client_secret_is_named(mocked):
    add_token(mocked, "token_unauthorized.json", status=401)

    with pytest.raises(ConnectorAuth, match="client id or client secret"):
        run(make(), "get_subreddit", subreddit="Coffee")


def test_a_token_answer_without_a_token_is_unavailable(mocked):
    mocked.add(responses.POST, TOKEN_URL, json={"token_type": "bearer"})

    with pytest.raises(ConnectorUnavailable, match="no access token"):
        run(make(), "get_subreddit", subreddit="Coffee")


def test_a_token_endpoint_outage_is_unavailable(mocked):
    mocked.add(responses.POST, TOKEN_URL, body="<html>down</html>", status=500)

    with pytest.raises(ConnectorUnavailable):
        run(make(), "get_subreddit", subreddit="Coffee")


def test_an_unknown_token_error_is_an_auth_error(mocked):
    mocked.add(responses.POST, TOKEN_URL, json={"error": "unsupported_grant_type"})

    with pytest.raises(ConnectorAuth, match="unsupported_grant_type"):
        run(make(), "get_subreddit", subreddit="Coffee")


def test_credentials_are_named_and_never_shown():
    with pytest.raises(ValidationError) as caught:
        Reddit.Credentials(client_id=CLIENT_ID, client_secret=SECRET, username="acme_bot")
    assert caught.value.errors()[0]["loc"] == ("password",)
    credentials = Reddit.Credentials(
        client_id=CLIENT_ID, client_secret=SECRET, username="acme_bot", password=PASSWORD
    )
    assert PASSWORD not in repr(credentials) and SECRET not in credentials.model_dump_json()


@pytest.mark.parametrize(
    "agent",
    [
        "python-requests/2.32.3",
        "NeonHub",
        "Mozilla/5.0 (X11; Linux x86_64)",
        "web:neonhub:1.0",
        "neonhub 1.0 (by acme_bot)",
    ],
)
def test_a_generic_user_agent_is_refused(agent):
    with pytest.raises(ValidationError) as caught:
        Reddit.Config(user_agent=agent)
    assert caught.value.errors()[0]["loc"] == ("user_agent",)
    assert "(by /u/yourname)" in caught.value.errors()[0]["msg"]


def test_the_user_agent_is_required():
    with pytest.raises(ValidationError) as caught:
        Reddit.Config()
    assert caught.value.errors()[0]["loc"] == ("user_agent",)


# --- Reddit's rate limit -------------------------------------------------------------------------


def test_an_exhausted_window_stops_the_next_call_until_the_reset(mocked):
    mocked.add(
        responses.GET,
        f"{API}/r/Coffee/about",
        json=rd("subreddit_about.json"),
        headers={
            "X-Ratelimit-Used": "100",
            "X-Ratelimit-Remaining": "0.0",
            "X-Ratelimit-Reset": "37",
        },
    )
    state = fresh_token_state()
    provider = make(state=state, access_token=TOKEN)
    run(provider, "get_subreddit", subreddit="Coffee")
    assert state["ratelimit_remaining"] == 0.0

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(state=state, access_token=TOKEN), "submit_post", **POST)

    assert 35 <= caught.value.retry_after <= 37
    assert caught.value.provider_code == "X-Ratelimit-Remaining"
    assert len(mocked.calls) == 1  # nothing was sent


def test_calls_resume_once_the_window_has_reset(mocked):
    state = {
        **fresh_token_state(),
        "ratelimit_remaining": 0.0,
        "ratelimit_reset_at": (timezone.now() - timedelta(seconds=1)).isoformat(),
    }
    mocked.add(
        responses.GET, f"{API}/r/Coffee/about", json=rd("subreddit_about.json"), headers=LIMITS
    )

    run(make(state=state, access_token=TOKEN), "get_subreddit", subreddit="Coffee")

    assert state["ratelimit_remaining"] == 96.0


def test_unreadable_rate_limit_headers_are_ignored(mocked):
    state = fresh_token_state()
    mocked.add(
        responses.GET,
        f"{API}/r/Coffee/about",
        json=rd("subreddit_about.json"),
        headers={"X-Ratelimit-Remaining": "lots", "X-Ratelimit-Reset": "soon"},
    )

    run(make(state=state, access_token=TOKEN), "get_subreddit", subreddit="Coffee")

    assert "ratelimit_remaining" not in state


@pytest.mark.parametrize(
    ("name", "wait"), [("submit_ratelimit.json", 540.0), ("submit_ratelimit_seconds.json", 45.0)]
)
def test_a_ratelimit_inside_a_200_answer_is_rate_limited_with_reddits_wait(mocked, name, wait):
    mocked.add(responses.POST, f"{API}/api/submit", json=rd(name))

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(state=fresh_token_state(), access_token=TOKEN), "submit_post", **POST)

    assert (caught.value.provider_code, caught.value.retry_after, caught.value.http_status) == (
        "RATELIMIT",
        wait,
        200,
    )


def test_a_429_is_rate_limited_until_the_reset(mocked):
    mocked.add(
        responses.POST,
        f"{API}/api/submit",
        json=rd("too_many_requests.json"),
        status=429,
        headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "120"},
    )

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(state=fresh_token_state(), access_token=TOKEN), "submit_post", **POST)

    assert caught.value.retry_after == 120.0
    assert len(mocked.calls) == 1


# --- permanent failures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error", "code"),
    [
        ("submit_subreddit_noexist.json", ConnectorRejected, "SUBREDDIT_NOEXIST"),
        ("submit_already_sub.json", ConnectorRejected, "ALREADY_SUB"),
        ("submit_user_required.json", ConnectorAuth, "USER_REQUIRED"),
    ],
)
def test_refusals_inside_200_answers_are_classified_after_one_call(mocked, name, error, code):
    mocked.add(responses.POST, f"{API}/api/submit", json=rd(name))

    with pytest.raises(error) as caught:
        run(make(state=fresh_token_state(), access_token=TOKEN), "submit_post", **POST)

    assert caught.value.provider_code == code
    assert not caught.value.transient
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [("subreddit_private.json", 403, "private"), ("not_found.json", 404, "404")],
)
def test_a_private_or_missing_subreddit_is_rejected_not_an_auth_error(mocked, name, status, code):
    mocked.add(responses.GET, f"{API}/r/secretclub/about", json=rd(name), status=status)

    with pytest.raises(ConnectorRejected) as caught:
        run(
            make(state=fresh_token_state(), access_token=TOKEN),
            "get_subreddit",
            subreddit="secretclub",
        )

    assert caught.value.provider_code == code


def test_a_search_listing_instead_of_a_subreddit_is_not_found(mocked):
    mocked.add(responses.GET, f"{API}/r/nosuchsub/about", json=rd("search_listing.json"))

    with pytest.raises(ConnectorRejected, match="not found"):
        run(
            make(state=fresh_token_state(), access_token=TOKEN),
            "get_subreddit",
            subreddit="nosuchsub",
        )


def test_a_forbidden_call_without_a_reason_is_an_auth_error(mocked):
    mocked.add(responses.POST, f"{API}/api/submit", json=rd("forbidden.json"), status=403)

    with pytest.raises(ConnectorAuth):
        run(make(state=fresh_token_state(), access_token=TOKEN), "submit_post", **POST)


def test_an_answer_that_is_not_json_is_unavailable(mocked):
    mocked.add(responses.GET, f"{API}/r/Coffee/about", body="<html>maintenance</html>")

    with pytest.raises(ConnectorUnavailable, match="not JSON"):
        run(
            make(state=fresh_token_state(), access_token=TOKEN), "get_subreddit", subreddit="Coffee"
        )


# --- input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subreddit": "Coffee", "title": "t"}, "give text"),
        (
            {"subreddit": "Coffee", "title": "t", "text": "x", "url": "https://acme.example"},
            "not both",
        ),
        ({"subreddit": "c", "title": "t", "text": "x"}, "not a subreddit name"),
        ({"subreddit": "Coffee", "title": "t" * 301, "text": "x"}, "at most 300"),
    ],
)
def test_submit_post_input_is_validated(data, message):
    with pytest.raises(ValidationError, match=message):
        Reddit.actions["submit_post"].schema(**data)


def test_comment_parent_must_be_a_post_or_comment():
    with pytest.raises(ValidationError) as caught:
        Reddit.actions["submit_comment"].schema(parent_id="t5_2qhze", text="hi")
    assert caught.value.errors()[0]["loc"] == ("parent_id",)


def test_action_flags_and_budget():
    assert (
        Reddit.actions["submit_post"].side_effect
        and not Reddit.actions["submit_post"].safe_to_repeat
    )
    assert (
        Reddit.actions["submit_comment"].side_effect
        and not Reddit.actions["submit_comment"].safe_to_repeat
    )
    assert Reddit.actions["get_subreddit"].safe_to_repeat
    budget, metrics = Reddit.budgets
    assert (budget.limit, budget.per_seconds, budget.actions) == (100, 60, ())
    # Reading post numbers has its own smaller share of the same minute.
    assert (metrics.limit, metrics.per_seconds, metrics.actions) == (30, 60, ("post_metrics",))


# --- transient failures, retries and timeouts (a real socket) ---------------------------------------


@pytest.fixture
def local(httpserver, recorder):
    base = httpserver.url_for("").rstrip("/")
    return make(recorder, base_url=base, auth_base_url=base)


def test_the_token_host_and_api_host_can_be_overridden(httpserver, local):
    httpserver.expect_ordered_request("/api/v1/access_token", method="POST").respond_with_json(
        rd("token.json")
    )
    httpserver.expect_ordered_request("/r/Coffee/about").respond_with_json(
        rd("subreddit_about.json")
    )

    assert run(local, "get_subreddit", subreddit="Coffee").output["name"] == "Coffee"
    assert httpserver.log[1][0].headers["User-Agent"] == UA


def test_a_read_is_retried_after_a_503(httpserver, local, recorder):
    httpserver.expect_ordered_request("/api/v1/access_token", method="POST").respond_with_json(
        rd("token.json")
    )
    httpserver.expect_ordered_request("/r/Coffee/about").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/r/Coffee/about").respond_with_json(
        rd("subreddit_about.json")
    )

    run(local, "get_subreddit", subreddit="Coffee")

    assert len(httpserver.log) == 3
    assert [s.name for s in recorder.steps] == ["reddit.token", "reddit.get_subreddit"]


def test_a_submit_is_not_repeated_after_a_503(httpserver, local):
    httpserver.expect_ordered_request("/api/v1/access_token", method="POST").respond_with_json(
        rd("token.json")
    )
    httpserver.expect_ordered_request("/api/submit", method="POST").respond_with_data(
        "busy", status=503
    )

    with pytest.raises(ConnectorUnavailable):
        run(local, "submit_post", **POST)

    assert len(httpserver.log) == 2


def _slow(seconds, payload):
    def handler(request):
        time.sleep(seconds)
        return Response(json.dumps(payload), content_type="application/json")

    return handler


def test_a_submit_timeout_is_an_unknown_outcome_and_not_repeated(httpserver, monkeypatch):
    short_timeouts(monkeypatch, Reddit)
    httpserver.expect_request("/api/submit", method="POST").respond_with_handler(
        _slow(0.8, rd("submit_ok.json"))
    )
    provider = make(
        base_url=httpserver.url_for("").rstrip("/"), state=fresh_token_state(), access_token=TOKEN
    )

    with pytest.raises(OutcomeUnknown):
        run(provider, "submit_post", **POST)

    assert wait_for_log(httpserver, 1) == 1


def test_a_read_timeout_is_unavailable_after_the_retries(httpserver, monkeypatch):
    short_timeouts(monkeypatch, Reddit, timeout=(1.0, 0.2))
    httpserver.expect_request("/r/Coffee/about").respond_with_handler(
        _slow(0.3, rd("subreddit_about.json"))
    )
    provider = make(
        base_url=httpserver.url_for("").rstrip("/"), state=fresh_token_state(), access_token=TOKEN
    )

    with pytest.raises(ConnectorUnavailable):
        run(provider, "get_subreddit", subreddit="Coffee")

    assert wait_for_log(httpserver, 3) == 3


# --- connection test and sandbox ------------------------------------------------------------------


def test_connection_test_names_the_account(mocked):
    add_token(mocked)
    mocked.add(responses.GET, f"{API}/api/v1/me", json=rd("me.json"))

    result = make().test()

    assert result.ok and result.message == "Signed in as u/acme_bot"


def test_connection_test_reports_a_wrong_password_without_raising(mocked):
    add_token(mocked, "token_invalid_grant.json")

    result = make().test()

    assert not result.ok and "username or password" in result.message


def test_connection_test_reports_an_unexpected_answer_without_raising(mocked):
    mocked.add(responses.GET, f"{API}/api/v1/me", body="[]")

    result = make(state=fresh_token_state(), access_token=TOKEN).test()

    assert not result.ok


def test_sandbox_answers_like_reddit_without_network(mocked):
    provider = make()
    post = provider.sandbox("submit_post", Reddit.actions["submit_post"].schema(**POST))
    comment = provider.sandbox(
        "submit_comment", Reddit.actions["submit_comment"].schema(parent_id="1h2k3l4", text="hi")
    )
    about = provider.sandbox(
        "get_subreddit", Reddit.actions["get_subreddit"].schema(subreddit="Coffee")
    )

    assert post.provider_id.startswith("t3_") and post.output["permalink"].startswith(
        "/r/Coffee/comments/"
    )
    assert post.output["url"] == f"https://www.reddit.com{post.output['permalink']}"
    assert comment.provider_id.startswith("t1_") and comment.output["body"] == "hi"
    assert about.output["name"] == "Coffee"
    assert len(mocked.calls) == 0


def test_a_refreshed_token_is_used_for_the_rest_of_the_action(mocked):
    add_token(mocked)
    mocked.add(responses.GET, f"{API}/r/Coffee/about", json=rd("subreddit_about.json"))
    provider = make()

    run(provider, "get_subreddit", subreddit="Coffee")

    assert provider.credentials.access_token == SecretStr(TOKEN)


def test_outbox_target_names_the_subreddit_or_the_parent():
    provider = make()
    post = Reddit.actions["submit_post"].schema(**POST)
    comment = Reddit.actions["submit_comment"].schema(parent_id="1h2k3l4", text="hi")
    assert provider.outbox_target("submit_post", post) == "r/Coffee"
    assert provider.outbox_target("submit_comment", comment) == "t3_1h2k3l4"
