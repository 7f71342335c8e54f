"""Password reset: Django's views with NeonHub's pages, mailed through the email backend."""

from __future__ import annotations

import re

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_the_login_page_links_the_reset(client):
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()


def test_a_reset_link_sets_a_new_password_once(client, owner):
    resp = client.post("/password-reset/", {"email": owner.email})
    assert resp.status_code == 302 and resp["Location"] == "/password-reset/sent/"
    (message,) = mail.outbox
    assert message.to == [owner.email] and "Reset your NeonHub password" in message.subject
    link = re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    url = form.redirect_chain[-1][0]
    weak = client.post(url, {"new_password1": "password", "new_password2": "password"})
    assert weak.status_code == 200 and 'id="id_new_password2_error"' in weak.content.decode()
    new = "a-long-unusual-passphrase"
    done = client.post(url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(new)
    # The link works once.
    again = client.get(link, follow=True)
    assert "This link is not valid" in again.content.decode()


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client):
    resp = client.post("/password-reset/", {"email": "nobody@example.com"})
    assert resp["Location"] == "/password-reset/sent/" and mail.outbox == []
