"""Fixed texts of the assistant. They carry no shop facts: those come from the executor."""

from __future__ import annotations

import re

from django.utils.translation import ngettext

from . import intents

TEXTS = {
    "greeting": "Hi! I'm the {shop} assistant. I can track orders, cancel or return them, check refunds, "
    "and answer questions about shipping, payment, your account and our products. What can I do for you?",
    "goodbye": "Thanks for chatting with us — have a lovely day! If you have a moment, please rate this chat.",
    "thanks": "You're welcome! Is there anything else I can help you with?",
    "affirm_nothing_pending": "Great! What can I help you with?",
    "deny_nothing_pending": "No problem. Is there anything else I can help you with?",
    "unsure": "Sorry, I'm not sure I understood that. I can help with orders, returns, refunds, shipping, "
    "payments, your account and our products — or I can connect you with a person.",
    "clarify": "Just to be sure — which of these do you mean?",
    "ask_order_number": "Sure, I can {purpose}. What's your order number? You'll find it in your order "
    "confirmation e-mail (for example 10234).",
    "ask_email": "Thanks! To protect your details, please tell me the e-mail address you used for order {number}.",
    "ask_email_newsletter": "Happy to help with the newsletter. Which e-mail address should I use?",
    "verify_failed": "Sorry, I couldn't find an order with that order number and e-mail address. Please check "
    "both and send them again ({tries_left}).",
    "locked": "For your security I can't look up orders in this chat any more after several unsuccessful "
    "tries. A person from our team will help you.",
    "verify_locked": "For your security I can't check that order right now: there have been too many "
    "unsuccessful tries to verify it. Please try again later — or a person from our team can help you now.",
    "code_sent": "To make sure it's really you, I've e-mailed a 6-digit code to {email}, the address on the "
    "order. Please type it here (it's valid for {valid_for}).",
    "code_waiting": "I'm waiting for the 6-digit code I e-mailed to {email}. Please type it here, or say no "
    "to leave the order as it is.",
    "code_format": "The code has {digits} digits — please type all of them.",
    "code_wrong": "That code isn't right. Please check the e-mail and try again ({tries_left}).",
    "code_expired": "That code has expired, so I haven't {action_done} order {number}. Just ask again and "
    "I'll send you a new code.",
    "code_too_many": "That code wasn't right either, so I haven't {action_done} order {number}. For your "
    "security I've stopped here — a person from our team can help you.",
    "code_send_limited": "For your security I can't send another code for this order right now. Please try "
    "again later — or a person from our team can help you now.",
    "declined": "Okay, I won't {action_name} order {number}. Anything else I can do?",
    "slot_dropped": "No problem. What else can I help you with?",
    "offer_return": "Once it has arrived you can return it within our return window — I can start a return "
    "for you then.",
    "complaint_sorry": "I'm really sorry about this. I'm passing your message to a person on our team so they "
    "can look into it properly.",
    "persistent_issue": "Sorry this is still not working. I'm passing it to a person on our team.",
    "no_knowledge": "I don't have a reliable answer to that in our help centre. Would you like me to connect "
    "you with a person?",
    "nothing_found": "Sorry, I couldn't find anything matching that. Could you describe it differently, or shall "
    "I connect you with a person?",
    "action_failed": "Sorry, something went wrong on our side while doing that. Nothing was changed. I'm "
    "handing this to a person on our team.",
    "review_thanks": "Thank you for your feedback — we've passed it on to the team. You can also leave a review "
    "on the product page of anything you bought.",
}


def render(key: str, params: dict, *, shop: str) -> str:
    values = dict(params)
    values.setdefault("shop", shop)
    if key == "ask_order_number":
        values["purpose"] = intents.ORDER_PURPOSE.get(values.get("intent", ""), "help with your order")
    # The order operation's own words (bot.actions.say passes them in), else the generic ones.
    if key == "declined":
        values.setdefault("action_name", "change")
    if key in ("code_expired", "code_too_many"):
        values.setdefault("action_done", "changed")
    # Counts in words, singular or plural (ngettext, so they can be translated).
    if "left" in values:
        values["tries_left"] = ngettext("%(n)s try left", "%(n)s tries left", _count(values["left"])) % {"n": values["left"]}
    if "minutes" in values:
        values["valid_for"] = ngettext("%(n)s minute", "%(n)s minutes", _count(values["minutes"])) % {"n": values["minutes"]}
    return TEXTS[key].format(**values)


def _count(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# "… ? yes / no", "(yes/no)", "- yes or no": the options typed out at the end of a text.
_TYPED_OPTIONS = re.compile(r"\s*[-–—:]?\s*\(?\s*(?P<options>[\w' ]+?(?:\s*(?:/|\bor\b)\s*[\w' ]+?)+)\s*\)?\s*[.?!]?\s*$", re.I)


def without_typed_options(text: str, quick_replies=()) -> str:
    """The text without options typed at its end when the same options come as buttons.

    "Shall I start it? yes / no" with [Yes][No] buttons reads "Shall I start it?"; options that
    are not all buttons stay (then they are the only way to see them)."""
    buttons = {str(q).strip().lower() for q in quick_replies}
    match = _TYPED_OPTIONS.search(text) if buttons else None
    if not match:
        return text
    typed = {o.strip().lower() for o in re.split(r"/|\bor\b", match.group("options"), flags=re.I)}
    return text[: match.start()].rstrip() if typed and typed <= buttons else text
