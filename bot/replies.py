"""Fixed texts of the assistant. They carry no shop facts: those come from the executor."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import intents

# Lazy: each is translated when rendered, in the conversation's language (bot.services runs the
# turn under translation.override). Fields in {braces} are filled by render().
TEXTS = {
    "greeting": _("Hi! I'm the {shop} assistant. I can track orders, cancel or return them, check refunds, "
                  "and answer questions about shipping, payment, your account and our products. What can I do for you?"),
    "goodbye": _("Thanks for chatting with us — have a lovely day! If you have a moment, please rate this chat."),
    "thanks": _("You're welcome! Is there anything else I can help you with?"),
    "affirm_nothing_pending": _("Great! What can I help you with?"),
    "deny_nothing_pending": _("No problem. Is there anything else I can help you with?"),
    "unsure": _("Sorry, I'm not sure I understood that. I can help with orders, returns, refunds, shipping, "
                "payments, your account and our products — or I can connect you with a person."),
    "clarify": _("Just to be sure — which of these do you mean?"),
    # {purpose}: the intent's own sentence (bot.intents, e.g. "Sure, I can cancel your order.").
    "ask_order_number": _("{purpose} What's your order number? You'll find it in your order "
                          "confirmation e-mail (for example 10234)."),
    "ask_email": _("Thanks! To protect your details, please tell me the e-mail address you used for order {number}."),
    "ask_email_newsletter": _("Happy to help with the newsletter. Which e-mail address should I use?"),
    "verify_failed": _("Sorry, I couldn't find an order with that order number and e-mail address. Please check "
                       "both and send them again ({tries_left})."),
    "locked": _("For your security I can't look up orders in this chat any more after several unsuccessful "
                "tries. A person from our team will help you."),
    "verify_locked": _("For your security I can't check that order right now: there have been too many "
                       "unsuccessful tries to verify it. Please try again later — or a person from our team can help you now."),
    "code_sent": _("To make sure it's really you, I've e-mailed a 6-digit code to {email}, the address on the "
                   "order. Please type it here (it's valid for {valid_for})."),
    "code_waiting": _("I'm waiting for the 6-digit code I e-mailed to {email}. Please type it here, or say no "
                      "to leave the order as it is."),
    "code_format": _("The code has {digits} digits — please type all of them."),
    "code_wrong": _("That code isn't right. Please check the e-mail and try again ({tries_left})."),
    # The next three are said in the order operation's own words when it has them
    # (bot.actions.operations.OrderOperation.texts); these are the generic ones.
    "code_expired": _("That code has expired, so I haven't changed order {number}. Just ask again and "
                      "I'll send you a new code."),
    "code_too_many": _("That code wasn't right either, so I haven't changed order {number}. For your "
                       "security I've stopped here — a person from our team can help you."),
    "code_send_limited": _("For your security I can't send another code for this order right now. Please try "
                           "again later — or a person from our team can help you now."),
    "declined": _("Okay, I won't change order {number}. Anything else I can do?"),
    "slot_dropped": _("No problem. What else can I help you with?"),
    "offer_return": _("Once it has arrived you can return it within our return window — I can start a return "
                      "for you then."),
    "complaint_sorry": _("I'm really sorry about this. I'm passing your message to a person on our team so they "
                         "can look into it properly."),
    "persistent_issue": _("Sorry this is still not working. I'm passing it to a person on our team."),
    "no_knowledge": _("I don't have a reliable answer to that in our help centre. Would you like me to connect "
                      "you with a person?"),
    "nothing_found": _("Sorry, I couldn't find anything matching that. Could you describe it differently, or shall "
                       "I connect you with a person?"),
    "action_failed": _("Sorry, something went wrong on our side while doing that. Nothing was changed. I'm "
                       "handing this to a person on our team."),
    "review_thanks": _("Thank you for your feedback — we've passed it on to the team. You can also leave a review "
                       "on the product page of anything you bought."),
}


def render(key: str, params: dict, *, shop: str, template=None) -> str:
    """The text `key` (or `template`, an operation's own words for it) in the active language."""
    values = dict(params)
    values.setdefault("shop", shop)
    if key == "ask_order_number":
        values["purpose"] = str(intents.ORDER_PURPOSE.get(values.get("intent", ""), _("Sure, I can help with your order.")))
    # Counts in words, singular or plural (ngettext, so they can be translated).
    if "left" in values:
        values["tries_left"] = ngettext("%(n)s try left", "%(n)s tries left", _count(values["left"])) % {"n": values["left"]}
    if "minutes" in values:
        values["valid_for"] = ngettext("%(n)s minute", "%(n)s minutes", _count(values["minutes"])) % {"n": values["minutes"]}
    return str(template if template is not None else TEXTS[key]).format(**values)


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
