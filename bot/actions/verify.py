"""Verify an order (number and e-mail, or the signed-in owner), and the one-time code a guest
gets by e-mail before a change is carried out (send / check)."""

from functools import partial

from django.conf import settings

from catalog import selectors as shop
from catalog.models import Order
from catalog.tasks import send_order_email

from .. import dialogue, verification
from ..conversations import conversation_shopper_email_set
from .base import handles


@handles(dialogue.VerifyOrder)
def verify_order(executor, action: dialogue.VerifyOrder, state):
    order, owner, left = None, False, None
    user = executor.user
    if user is not None and user.is_authenticated:
        # The signed-in owner proves nothing by guessing: no limits, and no code to change it.
        order = shop.orders_for_user(user=user).filter(number=action.number).first()
        owner = order is not None
    if order is None:
        where = dict(email=action.email, number=action.number, address=executor.client_address)
        if verification.verification_locked(**where):
            return dialogue.Verified(number=action.number, ok=False, locked=True)
        if action.email:
            order = shop.order_get_verified(number=action.number, email=action.email)
        if order is None:
            left = verification.verification_failed(**where)
    if order is not None:
        executor.verified[order.number] = order
    if order is not None and not executor.conversation.shopper_email:
        conversation_shopper_email_set(executor.conversation, order.email)
    return dialogue.Verified(number=action.number, ok=order is not None, owner=owner, left=left)


def _code_purpose(executor, action) -> str:
    return f"{executor.conversation.pk}:{action.number}:{action.action}"


@handles(dialogue.SendCode)
def send_code(executor, action: dialogue.SendCode, state):
    order = Order.objects.only("pk", "number", "email").get(number=action.number)
    if not verification.code_send_allowed(number=order.number):
        return dialogue.Outcome(action="send_code", ok=False, refused=True, message="code limit")
    code, kept = verification.code_issue(purpose=_code_purpose(executor, action))
    minutes = max(1, settings.VERIFY_CODE_TTL_SECONDS // 60)
    # "language": the e-mail is written in the conversation's language (catalog.tasks renders it so).
    data = {"code": code, "action": action.action, "minutes": minutes, "language": executor.conversation.language}
    executor.after_turn.append(partial(send_order_email.delay_on_commit, order.pk, "verification_code", data=data))
    return dialogue.Outcome(
        action="send_code",
        ok=True,
        params={**kept, "email": verification.mask_email(order.email), "minutes": minutes, "tries": settings.VERIFY_CODE_TRIES},
    )


@handles(dialogue.CheckCode)
def check_code(executor, action: dialogue.CheckCode, state):
    order = Order.objects.only("pk", "number", "email").get(number=action.number)
    where = dict(email=order.email, number=order.number, address=executor.client_address)
    if verification.verification_locked(**where):
        return dialogue.Outcome(action="check_code", ok=False, params={"reason": "locked"})
    if verification.code_expired(expires_at=action.expires_at):
        return dialogue.Outcome(action="check_code", ok=False, params={"reason": "expired"})
    if verification.code_matches(code=action.code, purpose=_code_purpose(executor, action), digest=action.digest):
        return dialogue.Outcome(action="check_code", ok=True)
    verification.verification_failed(**where, what="wrong code")
    return dialogue.Outcome(action="check_code", ok=False, params={"reason": "wrong"})
