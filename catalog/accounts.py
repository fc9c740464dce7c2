"""Shopper accounts: the signed link that proves an account's e-mail address, and its e-mail.

An account sees orders only through a customer record linked to it (selectors.orders_for_user),
and that link is made only when the account's owner opens this link: anyone can sign up with
someone else's address, but only the address's owner receives the link.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import ShopPolicy

VERIFY_SALT = "catalog.account.verify-email"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def verify_url(*, user) -> str:
    token = signing.dumps({"user": user.pk, "email": user.email}, salt=VERIFY_SALT)
    return settings.SHOP_BASE_URL.rstrip("/") + reverse("catalog:account_verify", kwargs={"token": token})


def verified_claim(token: str) -> tuple[int, str]:
    """(user id, e-mail) a verification link was made for; LinkExpired or LinkInvalid otherwise."""
    try:
        claim = signing.loads(token, salt=VERIFY_SALT, max_age=settings.ACCOUNT_VERIFY_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise LinkExpired() from None
    except signing.BadSignature:
        raise LinkInvalid() from None
    if not isinstance(claim, dict) or not isinstance(claim.get("user"), int) or "@" not in str(claim.get("email", "")):
        raise LinkInvalid()
    return claim["user"], claim["email"]


def verify_email_message(*, user) -> EmailMessage:
    shop = settings.SHOP_NAME
    hours = max(1, settings.ACCOUNT_VERIFY_MAX_AGE_SECONDS // 3600)
    body = "\n".join(
        [
            _("Hello,"),
            "",
            _(
                "Someone created a %(shop)s account with this e-mail address. If it was you, please confirm\n"
                "the address here; then the orders placed with it appear under \"My orders\":"
            ) % {"shop": shop},
            "",
            f"  {verify_url(user=user)}",
            "",
            ngettext(
                "The link works for %(hours)d hour. If you did not sign up, ignore this e-mail:\nnothing of yours is shown to that account.",
                "The link works for %(hours)d hours. If you did not sign up, ignore this e-mail:\nnothing of yours is shown to that account.",
                hours,
            ) % {"hours": hours},
            "",
            _("Questions? Write to %(email)s.") % {"email": ShopPolicy.current().support_email},
            "",
            f"— {shop}",
        ]
    ) + "\n"
    subject = _("%(shop)s: please confirm your e-mail address") % {"shop": shop}
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
