"""The newsletter's signed links and the e-mails that carry them.

Sign-up is double opt-in: the chat only mails a confirmation link (signed, expiring after
NEWSLETTER_CONFIRM_MAX_AGE_SECONDS), and the address is subscribed when its owner opens the
link and presses the button. Every newsletter e-mail carries a signed unsubscribe link, also
as ``List-Unsubscribe`` with ``List-Unsubscribe-Post`` for one-click unsubscribing (RFC 8058).
The texts here are the shop's own: nothing a shopper typed goes into them.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import ShopPolicy

SUBSCRIBE_SALT = "catalog.newsletter.subscribe"
UNSUBSCRIBE_SALT = "catalog.newsletter.unsubscribe"
EMAIL_KINDS = ("confirm", "unsubscribe_link")


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def _absolute(path: str) -> str:
    return settings.SHOP_BASE_URL.rstrip("/") + path


def confirm_url(email: str) -> str:
    token = signing.dumps(email, salt=SUBSCRIBE_SALT)
    return _absolute(reverse("catalog:newsletter_confirm", kwargs={"token": token}))


def unsubscribe_url(email: str) -> str:
    # No expiry: an unsubscribe link in an old newsletter must still work, and all it can do
    # is take that one address off the list.
    token = signing.dumps(email, salt=UNSUBSCRIBE_SALT)
    return _absolute(reverse("catalog:newsletter_unsubscribe", kwargs={"token": token}))


def email_from_token(token: str, *, purpose: str) -> str:
    """The address a link was made for; LinkExpired or LinkInvalid when it can't be trusted."""
    if purpose == "subscribe":
        salt, max_age = SUBSCRIBE_SALT, settings.NEWSLETTER_CONFIRM_MAX_AGE_SECONDS
    elif purpose == "unsubscribe":
        salt, max_age = UNSUBSCRIBE_SALT, None
    else:
        raise ValueError(f"unknown newsletter link purpose {purpose!r}")
    try:
        email = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired() from None
    except signing.BadSignature:
        raise LinkInvalid() from None
    if not isinstance(email, str) or "@" not in email:
        raise LinkInvalid()
    return email


def newsletter_email_message(*, email: str, kind: str) -> EmailMessage:
    """Compose a newsletter e-mail of ``kind`` to ``email``, with its unsubscribe link and headers."""
    if kind not in EMAIL_KINDS:
        raise ValueError(f"unknown newsletter e-mail kind {kind!r}; expected one of {', '.join(EMAIL_KINDS)}")
    shop = settings.SHOP_NAME
    leave = unsubscribe_url(email)
    if kind == "confirm":
        days = max(1, settings.NEWSLETTER_CONFIRM_MAX_AGE_SECONDS // 86400)
        subject = _("%(shop)s: please confirm your newsletter subscription") % {"shop": shop}
        text = [
            _("Someone asked to subscribe this address to the %(shop)s newsletter.\nIf it was you, please confirm here:") % {"shop": shop},
            "",
            f"  {confirm_url(email)}",
            "",
            ngettext(
                "The link works for %(days)d day. If you did not ask for this, ignore this e-mail: you will not be subscribed.",
                "The link works for %(days)d days. If you did not ask for this, ignore this e-mail: you will not be subscribed.",
                days,
            ) % {"days": days},
        ]
    else:  # unsubscribe_link
        subject = _("%(shop)s: unsubscribe from our newsletter") % {"shop": shop}
        text = [
            _("You asked in our chat how to stop our newsletter. Open the link below and press\n\"Unsubscribe\" — it takes effect at once."),
        ]
    policy = ShopPolicy.current()
    body = "\n".join(
        [
            _("Hello,"),
            "",
            *text,
            "",
            _("Unsubscribe: %(link)s") % {"link": leave},
            "",
            _("Questions? Write to %(email)s.") % {"email": policy.support_email},
            "",
            f"— {shop}",
        ]
    ) + "\n"
    return EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [email],
        headers={"List-Unsubscribe": f"<{leave}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
