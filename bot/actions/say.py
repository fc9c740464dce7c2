"""Say a fixed text (bot.replies); no facts, except a signed-in shopper's own recent orders."""

from django.utils.translation import gettext

from catalog import selectors as shop

from .. import dialogue, replies
from .base import handles
from .operations import OPERATIONS

RECENT_ORDER_CHOICES = 3  # a signed-in shopper's recent orders offered when the number is asked for


@handles(dialogue.Say)
def say(executor, action: dialogue.Say, state):
    quick_replies = action.quick_replies
    user = executor.user
    if action.key == "ask_order_number" and user is not None and user.is_authenticated:
        # A signed-in shopper picks one of their own recent orders instead of looking it up.
        recent = shop.orders_for_user(user=user).values_list("number", flat=True)[:RECENT_ORDER_CHOICES]
        quick_replies = tuple(gettext("Order %(number)s") % {"number": number} for number in recent) or quick_replies
    params = dict(action.params)
    operation = OPERATIONS.get(params.get("action", ""))
    # "Okay, I won't cancel order 10234." in the operation's own words, else the generic ones.
    template = operation.texts().get(action.key) if operation is not None else None
    executor.reply.say(replies.render(action.key, params, shop=executor.shop_name, template=template), quick_replies)
