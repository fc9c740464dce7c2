"""The newsletter's double opt-in and its signed links (catalog.newsletter, the link pages)."""

import re
import time

import pytest
from django.core import mail, signing
from django.test import Client

from catalog import newsletter, services
from catalog.errors import InvalidEmail
from catalog.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/newsletter/(confirm|unsubscribe)/[^/\s]+/)")


def links(message) -> dict[str, str]:
    return {kind: path for path, kind in LINK.findall(message.body)}


def test_a_confirmation_request_mails_a_signed_link_and_subscribes_nobody(on_commit):
    assert on_commit(services.newsletter_confirmation_request, email=" New@Example.com ") is True
    assert not Customer.objects.filter(newsletter=True).exists() and not Customer.objects.exists()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["new@example.com"] and "confirm" in sent.subject
    paths = links(sent)
    assert newsletter.email_from_token(paths["confirm"].split("/")[3], purpose="subscribe") == "new@example.com"
    # Every newsletter e-mail can be left in one click (RFC 8058).
    assert sent.extra_headers["List-Unsubscribe"] == f"<{newsletter.unsubscribe_url('new@example.com')}>"
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert paths["unsubscribe"] in sent.extra_headers["List-Unsubscribe"]


def test_confirmation_mails_to_one_address_are_limited(on_commit, settings):
    settings.MAIL_LIMIT_PER_ADDRESS = 2
    sent = [on_commit(services.newsletter_confirmation_request, email="a@example.com") for _ in range(3)]
    assert sent == [True, True, False] and len(mail.outbox) == 2


def test_a_confirmation_request_for_a_bad_address_is_refused():
    with pytest.raises(InvalidEmail):
        services.newsletter_confirmation_request(email="not-an-email")
    assert not mail.outbox


def test_opening_the_confirm_link_shows_a_button_and_only_the_post_subscribes(client, on_commit):
    on_commit(services.newsletter_confirmation_request, email="new@example.com")
    path = links(mail.outbox[0])["confirm"]
    page = client.get(path)
    assert page.status_code == 200 and b"Yes, subscribe me" in page.content and b'method="post"' in page.content
    assert not Customer.objects.filter(newsletter=True).exists()  # a mail scanner opening the link subscribes nobody
    done = client.post(path)
    assert done.status_code == 200 and b"You're subscribed" in done.content
    assert Customer.objects.get(email="new@example.com").newsletter is True


def test_a_tampered_or_expired_link_is_refused_with_a_clear_page(client, monkeypatch, settings):
    good = newsletter.confirm_url("new@example.com").split("/")[-2]
    payload, stamp, signature = good.split(":")
    tampered = ":".join([signing.b64_encode(b'"attacker@evil.example"').decode(), stamp, signature])
    forged = signing.dumps("new@example.com", salt="something-else")
    for token in (tampered, forged, "garbage"):
        for method in (client.get, client.post):
            page = method(f"/newsletter/confirm/{token}/")
            assert page.status_code == 400 and b"This link is not valid" in page.content
    # An unsubscribe token is not a subscribe token (different salt), and the other way round.
    unsubscribe = newsletter.unsubscribe_url("new@example.com").split("/")[-2]
    assert client.post(f"/newsletter/confirm/{unsubscribe}/").status_code == 400
    assert client.post(f"/newsletter/unsubscribe/{good}/").status_code == 400

    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - settings.NEWSLETTER_CONFIRM_MAX_AGE_SECONDS - 60)
    old = newsletter.confirm_url("new@example.com").split("/")[-2]
    monkeypatch.undo()
    page = client.post(f"/newsletter/confirm/{old}/")
    assert page.status_code == 400 and b"This link has expired" in page.content
    assert not Customer.objects.filter(newsletter=True).exists()


def test_the_signed_unsubscribe_link_unsubscribes_after_a_button_or_in_one_click():
    CustomerFactory(email="reader@example.com", newsletter=True)
    CustomerFactory(email="other@example.com", newsletter=True)
    path = LINK.search(newsletter.unsubscribe_url("reader@example.com")).group(1)
    client = Client(enforce_csrf_checks=True)  # as a mail provider would POST: no cookie, no CSRF token
    page = client.get(path)
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    assert Customer.objects.get(email="reader@example.com").newsletter is True  # GET changes nothing
    done = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and b"You're unsubscribed" in done.content
    assert Customer.objects.get(email="reader@example.com").newsletter is False
    assert Customer.objects.get(email="other@example.com").newsletter is True
