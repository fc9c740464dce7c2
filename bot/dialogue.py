"""The dialogue policy: pure code, no ORM, no network.

Given the conversation state and an event (the shopper's understood message, or the result of
a look-up the executor performed), ``step`` returns the new state and the actions to carry out.
The executor (bot.services) performs the actions (database look-ups, the shop's services,
knowledge-base retrieval, hand-off) and feeds their results back as events. Facts are never
produced here: actions name what to look up, the executor renders what it found.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum

from django.utils.translation import gettext_lazy as _

from . import intents
from .language import yes_no

# --- Intents and their needs (all from the registry, bot.intents) ---------------------------

ORDER_INTENTS = intents.ORDER_INTENTS  # need a verified order before anything about it is said
KNOWLEDGE_INTENTS = intents.KNOWLEDGE_INTENTS  # answered from the knowledge base
# Knowledge answers that hand over to a person when the shopper comes back with the same problem.
PERSISTENT_INTENTS = intents.PERSISTENT_INTENTS
PRODUCT_INTENTS = intents.PRODUCT_INTENTS
SHIPPING_INTENTS = intents.SHIPPING_INTENTS

MAX_FAILED_VERIFICATIONS = 5
# Two intents this close (and the top one not sure) get a clarifying question.
CLARIFY_MARGIN = 0.15
CLARIFY_BELOW = 0.75

YES, NO = _("Yes"), _("No")  # the buttons of a yes/no question (lazy: the active language)


def talk_to_person() -> str:
    """The "Talk to a person" button, in the active language."""
    return intents.label("contact_human_agent")


# --- Events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Understood:
    """The shopper's message as the SLM understood it."""

    text: str
    intent: str  # the acted-on intent: out_of_scope when the model is unsure
    confidence: float
    top: tuple = ()  # ((intent, p), ...)
    entities: tuple = ()  # ({"type", "value"}, ...)
    logged_in: bool = False

    def entity(self, kind: str):
        for item in self.entities:
            if item.get("type") == kind:
                return item.get("value")
        return None

    def entities_of(self, kind: str) -> list:
        return [item.get("value") for item in self.entities if item.get("type") == kind]


@dataclass(frozen=True)
class Verified:
    """Result of VerifyOrder."""

    number: str
    ok: bool
    owner: bool = False  # the signed-in shopper owns the order (no code needed to change it)
    locked: bool = False  # too many failed checks on this e-mail, order or address: refused
    left: int | None = None  # failed checks left before that lock, when fewer than this chat's


class Stage(Enum):
    """The step of an order operation an Outcome reports."""

    PREPARE = "prepare"  # checked against the shop's rules; the shopper is asked (Next)
    EXECUTE = "execute"  # carried out


class Next(Enum):
    """What a prepared order operation asks the shopper next."""

    CONFIRM = "confirm"  # yes/no to carry it out (the executor asked, with the order's facts)
    ASK_ADDRESS = "needs_text"  # the new address, typed in one message
    OFFER_HANDOVER = "handover"  # yes/no to hand over to a person (the chat cannot do it)


@dataclass(frozen=True)
class Outcome:
    """Result of an action the executor performed (a change, a check or a look-up)."""

    action: str  # an order operation ("cancel") or a look-up ("knowledge", "send_code", ...)
    ok: bool
    found: bool = True
    # refused: the shop's rules said no (an honest answer, not a failure).
    refused: bool = False
    # failed: something broke (a bug, a dead service): hand over to a person.
    failed: bool = False
    message: str = ""
    # What to carry out on "yes" for a prepared change (e.g. the parsed address).
    params: dict = field(default_factory=dict)
    stage: Stage | None = None  # set for an order operation's outcome
    next: Next | None = None  # set for a prepared operation the shopper is asked about

    @property
    def log_name(self) -> str:
        """The name in the hand-off packet's list of actions ("prepare:cancel", "execute:return")."""
        if self.stage is None:
            return self.action
        suffix = "" if self.next in (None, Next.CONFIRM) else f"_{self.next.value}"
        return f"{self.stage.value}:{self.action}{suffix}"


# --- Actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Say a fixed text (no facts); key selects the text in bot.replies."""

    key: str
    params: dict = field(default_factory=dict)
    quick_replies: tuple = ()


@dataclass(frozen=True)
class VerifyOrder:
    number: str
    email: str | None


@dataclass(frozen=True)
class OrderInfo:
    """Show facts of a verified order: what in track, eta, refund, invoice, invoice_link."""

    number: str
    what: str


@dataclass(frozen=True)
class Prepare:
    """Check a change against the shop's rules and ask for confirmation with the order's facts."""

    action: str  # cancel, return, change_address
    number: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Execute:
    action: str
    number: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SendCode:
    """E-mail a one-time code to the order's address before a guest's change is carried out."""

    action: str
    number: str


@dataclass(frozen=True)
class CheckCode:
    code: str
    action: str
    number: str
    digest: str
    expires_at: float


@dataclass(frozen=True)
class Knowledge:
    intent: str
    query: str


@dataclass(frozen=True)
class Products:
    intent: str
    query: str
    product: str | None = None
    colour: str | None = None
    size: str | None = None
    max_price: str | None = None
    options: tuple = ()  # the catalog's other options named: (("Flavour", "Chocolate"), ...)


@dataclass(frozen=True)
class Shipping:
    intent: str
    country: str | None = None


@dataclass(frozen=True)
class Newsletter:
    email: str | None  # to subscribe: where the confirmation link goes; unsubscribing needs none
    subscribe: bool


@dataclass(frozen=True)
class RecordFeedback:
    text: str


@dataclass(frozen=True)
class CaptureFollowUpEmail:
    email: str


@dataclass(frozen=True)
class Escalate:
    reason: str


@dataclass
class Step:
    state: dict
    actions: list


# --- State ---------------------------------------------------------------------------------


def initial_state() -> dict:
    return {
        "slots": {},  # order_number, email, product, colour, size, country
        "verified": [],  # order numbers verified in this conversation
        "owner_verified": [],  # ... of them, those the signed-in shopper owns
        "active_order": None,
        "pending": None,
        "failed_verifications": 0,
        "locked": False,
        "unsure_streak": 0,
        "misses": 0,
        "last_intent": None,
        "history": [],  # last understood intents [(intent, confidence)]
        "actions": [],  # actions tried, with outcomes (for the hand-off packet)
        "escalated": False,
        "awaiting_followup_email": False,
    }


def _normalise(state: dict | None) -> dict:
    base = initial_state()
    if state:
        base.update(copy.deepcopy(state))
    return base


# Words of each shop language (English, then Japanese, which has no word boundaries).
OTHER_ORDER = re.compile(
    r"\b(other|another|second|different|next)\s+(order|one|purchase)\b|(別|他|ほか|もう一つ|もうひとつ|2つ目|二つ目)の(ご)?注文", re.I
)
CODE_LIKE = re.compile(r"\s*\d[\d \-]*\s*")  # a message of digits only: an answer to "what's the code?"
CODE_DIGITS = 6
# Four or more parts split by commas, semicolons or lines: "name, street 1, 10115 Berlin, Germany".
ADDRESS_LIKE = re.compile(r"[^,;\n]+(?:[,;\n]+[^,;\n]+){3,}")
# Shorter: a street with its number and a postcode with the city, with or without commas or
# lines between them ("Gartenweg 12 10115 Berlin", "Hauptstr. 5, 10115 Berlin").
STREET_AND_NUMBER = re.compile(r"[^\W\d_]{2,}\.?\s*\d{1,4}\s?[a-z]?\b", re.I)
POSTCODE_AND_CITY = re.compile(r"\b\d{4,5}\s+[^\W\d_]{2,}", re.I)


def _address_like(text: str) -> bool:
    text = text.strip()
    return bool(ADDRESS_LIKE.fullmatch(text) or (STREET_AND_NUMBER.search(text) and POSTCODE_AND_CITY.search(text)))
STOCK_QUESTION = re.compile(
    r"\b(in[\s-]stock|stock|available|availability|sold[\s-]out|back in|left)\b|在庫|売り切れ|品切れ|入荷|残って", re.I
)
UNSUBSCRIBE = re.compile(
    r"\b(unsubscribe|opt[\s-]?out|stop (sending|the newsletter|emails?)|remove me)\b"
    r"|配信停止|購読(を)?(解除|停止|やめ)|登録(を)?解除|配信(を)?(止め|とめ|やめ|解除|停止)|(メルマガ|ニュースレター)(を)?(止め|とめ|やめ|解除|停止)",
    re.I,
)


def step(state: dict | None, event) -> Step:
    """The policy: (state, event) -> (new state, actions)."""
    state = _normalise(state)
    if isinstance(event, Understood):
        actions = _on_message(state, event)
    elif isinstance(event, Verified):
        actions = _on_verified(state, event)
    elif isinstance(event, Outcome):
        actions = _on_outcome(state, event)
    else:  # pragma: no cover — a programming error, not shopper input
        raise TypeError(f"unknown event {event!r}")
    return Step(state=state, actions=actions)


# --- Shopper messages ----------------------------------------------------------------------


def _remember_entities(state: dict, msg: Understood) -> None:
    slots = state["slots"]
    for kind in ("order_number", "email", "product", "colour", "size", "country"):
        value = msg.entity(kind)
        if value:
            slots[kind] = value
    if msg.entity("order_number") and msg.entity("order_number") != state.get("active_order"):
        # A new order number: it needs its own verification.
        state["active_order"] = None


def _record_intent(state: dict, intent: str, confidence: float) -> None:
    state["history"] = (state["history"] + [[intent, round(confidence, 3)]])[-10:]


# Intents that add nothing to an e-mail address given for an after-hours ticket (the person
# already has the conversation for a complaint or a request for a person).
NOT_A_REQUEST_WITH_THE_EMAIL = frozenset(
    {"out_of_scope", "affirm", "deny", "greeting", "thanks", "goodbye", "contact_human_agent", "complaint",
     "contact_customer_service", "newsletter_subscription"}
)


# Words that, around an address or a number, make a plain answer rather than a new request:
# "sure, it's jo@example.com", "my e-mail is ...", "order 10514 please".
ANSWER_FILLER = frozenset(
    "a an and at be can e email e-mail mail address here hi i is it it's its me mine my nr no number ok okay "
    "order please reach sure thanks thank thx that the this use yes yeah yep you your".split()
)


def _bare_answer(msg: Understood) -> bool:
    """The message only gives what was asked for (an address, a number, a code), nothing else:
    the answer is taken as such and not also treated as a new question."""
    tokens = re.split(r"[\s,;:!?()\[\]\"<>]+", msg.text.replace("\u2019", "'").lower())
    words = [t.strip(".'-#") for t in tokens if t and not re.search(r"[\d@]", t)]
    return all(w in ANSWER_FILLER for w in words if w)


def _on_message(state: dict, msg: Understood) -> list:
    pending = state.get("pending")
    if pending and pending.get("kind") == "code" and CODE_LIKE.fullmatch(msg.text):
        # A code was asked for: digits are the code, never an order number or a new question.
        _record_intent(state, "verification_code", msg.confidence)
        # Full-width digits (typed with a Japanese keyboard) are the same code: NFKC makes them ASCII.
        code = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", msg.text))
        if len(code) != CODE_DIGITS:
            return [Say("code_format", {"digits": CODE_DIGITS})]
        return [CheckCode(code=code, action=pending["action"], number=pending["number"], digest=pending.get("digest", ""), expires_at=pending.get("expires_at", 0))]
    if (
        pending
        and pending.get("need") == "address"
        and msg.intent not in {"deny", "contact_human_agent", "complaint"}
        and yes_no(msg.text) != "no"
        and msg.text.strip().lower() != talk_to_person().lower()
        and (_address_like(msg.text) or msg.intent not in ORDER_INTENTS)
    ):
        # The new address asked for: its postcode is no order number, whatever the model read,
        # and the verified order stays the one being changed.
        state["pending"] = None
        return [Prepare(action="change_address", number=pending["number"], params={"address_text": msg.text})]
    _remember_entities(state, msg)
    intent = msg.intent

    # After hours the support desk asked for an e-mail address: take it first.
    if state.get("awaiting_followup_email") and msg.entity("email"):
        state["awaiting_followup_email"] = False
        _record_intent(state, "followup_email", msg.confidence)
        actions: list = [CaptureFollowUpEmail(email=msg.entity("email"))]
        if intent not in NOT_A_REQUEST_WITH_THE_EMAIL and not _bare_answer(msg):
            # "where is my order 10514? my email is ...": the ticket gets the address, and what
            # the assistant can answer itself it answers now instead of leaving it for the morning.
            actions += _handle_intent(state, msg, intent)
        return actions

    # The shopper can always ask for a person.
    if intent == "contact_human_agent" or msg.text.strip().lower() == talk_to_person().lower():
        state["pending"] = None
        _record_intent(state, "contact_human_agent", msg.confidence)
        return _escalate(state, "requested")

    # A clarifying question was asked: a quick reply names the intent.
    if pending and pending.get("kind") == "clarify":
        chosen = intents.label_to_intent(msg.text)
        if chosen in pending.get("options", []):
            state["pending"] = None
            return _handle_intent(state, msg, chosen)

    # A plain yes or no in any shop language (a button or typed) decides before the model's intent.
    answer = yes_no(msg.text)
    said_yes = answer == "yes" or (answer is None and intent == "affirm")
    said_no = answer == "no" or (answer is None and intent == "deny")

    # A yes/no question is pending.
    if pending and pending.get("kind") == "confirm":
        if said_yes:
            state["pending"] = None
            _record_intent(state, "affirm", msg.confidence)
            if pending["action"] == "handover":
                return _escalate(state, "requested")
            if pending["number"] in state["owner_verified"]:
                return [Execute(action=pending["action"], number=pending["number"], params=pending.get("params", {}))]
            # A guest proved only that they know the number and the e-mail: the change waits
            # for a code sent to that e-mail.
            state["pending"] = {**pending, "kind": "code"}
            return [SendCode(action=pending["action"], number=pending["number"])]
        if said_no:
            state["pending"] = None
            _record_intent(state, "deny", msg.confidence)
            return [Say("declined", {"action": pending["action"], "number": pending["number"]})]

    # A code is awaited and this message isn't one.
    if pending and pending.get("kind") == "code":
        if said_yes:
            return [Say("code_waiting", {"email": pending.get("email", "")})]
        if said_no:
            state["pending"] = None
            _record_intent(state, "deny", msg.confidence)
            return [Say("declined", {"action": pending["action"], "number": pending["number"]})]

    # A slot is pending (order number, e-mail, address): fill it from this message.
    if pending and pending.get("kind") == "slot":
        need = pending["need"]
        if need in ("order_number", "email") and (msg.entity("order_number") or msg.entity("email")):
            state["pending"] = None
            return _handle_intent(state, msg, pending["intent"])
        if said_no:
            state["pending"] = None
            return [Say("slot_dropped")]

    # Context carries over: "and my other order 10240?", "what about in blue?"
    if intent in ("out_of_scope", "affirm") or msg.confidence < CLARIFY_BELOW:
        carried = _carry_over(state, msg)
        if carried:
            return _handle_intent(state, msg, carried)

    if intent == "out_of_scope":
        return _unsure(state, msg)

    # Two close intents: ask which one.
    if len(msg.top) >= 2:
        (first, p1), (second, p2) = msg.top[0], msg.top[1]
        if (
            p1 < CLARIFY_BELOW
            and p1 - p2 < CLARIFY_MARGIN
            and first in intents.INTENT_LABELS
            and second in intents.INTENT_LABELS
            and first != second
            and not (msg.entity("product") and first in PRODUCT_INTENTS)  # a named product: answer about it
        ):
            state["pending"] = {"kind": "clarify", "options": [first, second]}
            _record_intent(state, "clarify", p1)
            return [Say("clarify", {}, (intents.label(first), intents.label(second)))]

    return _handle_intent(state, msg, intent)


def _carry_over(state: dict, msg: Understood) -> str | None:
    last = state.get("last_intent")
    if not last:
        return None
    if last in ORDER_INTENTS and (msg.entity("order_number") or msg.entity("email") or OTHER_ORDER.search(msg.text)):
        return last
    if last in PRODUCT_INTENTS and (msg.entity("colour") or msg.entity("size") or msg.entity("option") or msg.entity("product")):
        return last
    if last in SHIPPING_INTENTS and msg.entity("country"):
        return last
    return None


def _unsure(state: dict, msg: Understood) -> list:
    state["unsure_streak"] += 1
    _record_intent(state, "out_of_scope", msg.confidence)
    state["pending"] = None
    if state["unsure_streak"] >= 2:
        return _escalate(state, "low_confidence")
    return [Say("unsure", {}, (intents.label("track_order"), intents.label("return_item"), talk_to_person()))]


def _handle_intent(state: dict, msg: Understood, intent: str) -> list:
    # A new request replaces whatever question was pending.
    state["pending"] = None
    state["unsure_streak"] = 0
    previous = state.get("last_intent")
    state["last_intent"] = intent
    _record_intent(state, intent, msg.confidence)
    slots = state["slots"]

    if intent in ORDER_INTENTS:
        if OTHER_ORDER.search(msg.text) and not msg.entity("order_number"):
            # "my other order": forget the current one and ask which.
            slots.pop("order_number", None)
            state["active_order"] = None
        return _order_flow(state, msg, intent)

    if intent == "complaint":
        return [Say("complaint_sorry")] + _escalate(state, "complaint")
    if intent == "delete_account":
        return [Knowledge(intent=intent, query=msg.text)] + _escalate(state, "account_request")
    if intent in PERSISTENT_INTENTS and previous == intent:
        return [Say("persistent_issue")] + _escalate(state, "persistent_issue")
    if intent in KNOWLEDGE_INTENTS:
        return [Knowledge(intent=intent, query=msg.text)]
    if intent in SHIPPING_INTENTS:
        if intent == "delivery_period" and msg.entity("order_number"):
            return _order_flow(state, msg, "track_order")
        return [Shipping(intent=intent, country=msg.entity("country") or slots.get("country"))]
    if intent in PRODUCT_INTENTS:
        if intent == "product_info" and msg.entity("product") and STOCK_QUESTION.search(msg.text):
            intent = state["last_intent"] = "product_availability"  # "is the X in stock in black?"
        return [
            Products(
                intent=intent,
                query=msg.text,
                product=msg.entity("product") or (slots.get("product") if intent != "product_recommendation" else None),
                colour=msg.entity("colour"),
                size=msg.entity("size"),
                max_price=msg.entity("amount"),
                options=tuple((item.get("name") or "", item.get("value")) for item in msg.entities if item.get("type") == "option"),
            )
        ]
    if intent == "newsletter_subscription":
        if UNSUBSCRIBE.search(msg.text):
            # A typed address is never unsubscribed from the chat (it may be anyone's).
            return [Newsletter(email=None, subscribe=False)]
        email = msg.entity("email") or slots.get("email")
        if not email:
            state["pending"] = {"kind": "slot", "intent": intent, "need": "email"}
            return [Say("ask_email_newsletter")]
        return [Newsletter(email=email, subscribe=True)]
    if intent == "review":
        return [RecordFeedback(text=msg.text), Say("review_thanks")]
    if intent == "greeting":
        return [Say("greeting", {}, (intents.label("track_order"), intents.label("return_item"), intents.label("delivery_options")))]
    if intent == "goodbye":
        return [Say("goodbye")]
    if intent == "thanks":
        return [Say("thanks")]
    if intent == "affirm":
        return [Say("affirm_nothing_pending")]
    if intent == "deny":
        return [Say("deny_nothing_pending")]
    if intent == "contact_human_agent":
        return _escalate(state, "requested")
    return _unsure(state, msg)


# --- Orders: slot filling, verification, confirmation ----------------------------------------


def _order_flow(state: dict, msg: Understood, intent: str) -> list:
    if state["locked"]:
        return [Say("locked")]
    slots = state["slots"]
    number = msg.entity("order_number") or slots.get("order_number") or state.get("active_order")
    if not number:
        state["pending"] = {"kind": "slot", "intent": intent, "need": "order_number"}
        return [Say("ask_order_number", {"intent": intent})]
    if number in state["verified"]:
        state["active_order"] = number
        return _order_action(state, intent, number)
    email = msg.entity("email") or slots.get("email")
    if not email and not msg.logged_in:
        state["pending"] = {"kind": "slot", "intent": intent, "need": "email"}
        return [Say("ask_email", {"number": number})]
    state["pending"] = {"kind": "verify", "intent": intent, "number": number}
    return [VerifyOrder(number=number, email=email)]


def _on_verified(state: dict, event: Verified) -> list:
    pending = state.get("pending") or {}
    intent = pending.get("intent") or state.get("last_intent") or "track_order"
    state["pending"] = None
    if event.ok:
        if event.number not in state["verified"]:
            state["verified"].append(event.number)
        if event.owner and event.number not in state["owner_verified"]:
            state["owner_verified"].append(event.number)
        state["active_order"] = event.number
        return _order_action(state, intent, event.number)
    # Never say which part was wrong; forget both so the shopper types them again.
    state["slots"].pop("order_number", None)
    state["slots"].pop("email", None)
    state["active_order"] = None
    if event.locked:
        # Locked across conversations (bot.verification): not checked at all, for a while.
        return [Say("verify_locked")] + _escalate(state, "verification_locked")
    state["failed_verifications"] += 1
    left = MAX_FAILED_VERIFICATIONS - state["failed_verifications"]
    if left <= 0:
        state["locked"] = True
        return [Say("locked")] + _escalate(state, "verification_locked")
    if event.left is not None and event.left <= 0:
        return [Say("verify_locked")] + _escalate(state, "verification_locked")
    state["pending"] = {"kind": "slot", "intent": intent, "need": "order_number"}
    return [Say("verify_failed", {"left": left if event.left is None else min(left, event.left)})]


def _order_action(state: dict, intent: str, number: str) -> list:
    row = intents.BY_NAME[intent]
    if row.operation:
        return [Prepare(action=row.operation, number=number)]
    return [OrderInfo(number=number, what=row.shows or "track")]


# --- Outcomes of the executor's work ---------------------------------------------------------


def _log_action(state: dict, event: Outcome) -> None:
    outcome = "ok" if event.ok else "failed" if event.failed else "refused" if event.refused else "not_found"
    state["actions"] = (state["actions"] + [{"action": event.log_name, "outcome": outcome, "detail": event.message[:200]}])[-10:]


def _on_outcome(state: dict, event: Outcome) -> list:
    _log_action(state, event)
    action = event.action
    if event.failed:
        return [Say("action_failed")] + _escalate(state, "action_failed")

    if event.stage is Stage.PREPARE:
        number = state.get("active_order")
        if event.ok and event.next is Next.ASK_ADDRESS:
            state["pending"] = {"kind": "slot", "intent": "change_shipping_address", "need": "address", "number": number}
            return []
        if event.ok and event.next is Next.OFFER_HANDOVER:
            state["pending"] = {"kind": "confirm", "action": "handover", "number": number}
            return []
        if event.ok:
            # The executor already asked "Cancel order …?" (Yes/No buttons) with the order's facts.
            state["pending"] = {"kind": "confirm", "action": action, "number": number, "params": event.params}
            return []
        if action == "cancel" and event.refused:
            return [Say("offer_return", {}, (intents.label("return_item"), intents.label("track_order")))]
        return []

    if action in ("send_code", "check_code"):
        return _on_code(state, event)

    if action in ("knowledge", "products", "shipping"):
        if event.found:
            state["misses"] = 0
            return []
        # Repeated failure to find an answer counts like repeated low confidence.
        state["misses"] = state.get("misses", 0) + 1
        if state["misses"] >= 2:
            return _escalate(state, "low_confidence")
        return [Say("no_knowledge" if action == "knowledge" else "nothing_found", {}, (talk_to_person(),))]
    return []


def _on_code(state: dict, event: Outcome) -> list:
    pending = state.get("pending") or {}
    if pending.get("kind") != "code":  # pragma: no cover — the executor answers what the policy asked
        return []
    if event.action == "send_code":
        if not event.ok:
            state["pending"] = None
            return [Say("code_send_limited", {}, (talk_to_person(),))]
        pending.update(email=event.params["email"], digest=event.params["digest"], expires_at=event.params["expires_at"])
        pending["left"] = event.params["tries"]
        return [Say("code_sent", {"email": event.params["email"], "minutes": event.params["minutes"]})]
    if event.ok:
        state["pending"] = None
        return [Execute(action=pending["action"], number=pending["number"], params=pending.get("params", {}))]
    reason = event.params.get("reason")
    if reason == "locked":
        return [Say("verify_locked")] + _escalate(state, "verification_locked")
    if reason == "expired":
        state["pending"] = None
        return [Say("code_expired", {"action": pending["action"], "number": pending["number"]})]
    pending["left"] = pending.get("left", 1) - 1
    if pending["left"] <= 0:
        state["pending"] = None
        return [Say("code_too_many", {"action": pending["action"], "number": pending["number"]}, (talk_to_person(),))]
    return [Say("code_wrong", {"left": pending["left"]})]


def _escalate(state: dict, reason: str) -> list:
    state["pending"] = None
    state["escalated"] = True
    return [Escalate(reason=reason)]
