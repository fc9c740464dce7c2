"""The dialogue policy, branch by branch, without a database."""

import json
from pathlib import Path

import pytest

from bot import dialogue as d

LABELS = Path(d.__file__).resolve().parent / "slm_artifact" / "labels.json"


def msg(text, intent, confidence=0.95, top=None, entities=(), logged_in=False):
    return d.Understood(
        text=text,
        intent=intent,
        confidence=confidence,
        top=tuple(top or [(intent, confidence), ("out_of_scope", 1 - confidence)]),
        entities=tuple(entities),
        logged_in=logged_in,
    )


def ent(kind, value):
    return {"type": kind, "value": value}


def run(state, event):
    result = d.step(state, event)
    return result.state, result.actions


def kinds(actions):
    return [type(a).__name__ for a in actions]


def all_intents():
    """The intents the shipped model serves."""
    return list(json.loads(LABELS.read_text()))


# Written out by hand (not taken from the code under test): what each intent gets first.
FIRST_ACTION = {
    **dict.fromkeys(
        ["track_order", "cancel_order", "change_order", "change_shipping_address", "get_refund", "track_refund",
         "return_item", "check_invoice", "get_invoice"],
        "Say",  # asks for the order number first
    ),
    **dict.fromkeys(
        ["check_refund_policy", "set_up_shipping_address", "check_payment_methods", "payment_issue",
         "check_cancellation_fee", "create_account", "delete_account", "edit_account", "recover_password",
         "registration_problems", "switch_account", "contact_customer_service", "discount_code"],
        "Knowledge",
    ),
    "delivery_options": "Shipping",
    "delivery_period": "Shipping",
    "product_availability": "Products",
    "product_info": "Products",
    "product_recommendation": "Products",
    "place_order": "Products",
    "contact_human_agent": "Escalate",
    "complaint": "Say",
    "newsletter_subscription": "Say",
    "review": "RecordFeedback",
    "greeting": "Say",
    "goodbye": "Say",
    "thanks": "Say",
    "affirm": "Say",
    "deny": "Say",
    "out_of_scope": "Say",
}


def test_the_expected_first_actions_cover_every_served_intent():
    assert set(FIRST_ACTION) == set(all_intents())


@pytest.mark.parametrize("intent", sorted(set(all_intents())))
def test_every_intent_gets_an_answer_or_a_next_step(intent):
    """No intent falls through: each produces at least one action, none of them a raw fact."""
    state, actions = run(None, msg("some shopper words", intent))
    assert actions, intent
    assert kinds(actions)[0] == FIRST_ACTION[intent]


def test_order_intents_ask_number_then_email_then_verify():
    state, actions = run(None, msg("where is my order", "track_order"))
    assert actions == [d.Say("ask_order_number", {"intent": "track_order"})]
    assert state["pending"] == {"kind": "slot", "intent": "track_order", "need": "order_number"}
    # The number alone reads as out_of_scope to the model: the pending slot takes it anyway.
    state, actions = run(state, msg("10234", "out_of_scope", 0.3, entities=[ent("order_number", "10234")]))
    assert actions == [d.Say("ask_email", {"number": "10234"})]
    state, actions = run(state, msg("me@example.com", "out_of_scope", 0.2, entities=[ent("email", "me@example.com")]))
    assert actions == [d.VerifyOrder(number="10234", email="me@example.com")]
    state, actions = run(state, d.Verified(number="10234", ok=True))
    assert actions == [d.OrderInfo(number="10234", what="track")]
    assert state["verified"] == ["10234"] and state["active_order"] == "10234"


def test_entities_from_one_turn_skip_the_questions():
    state, actions = run(
        None,
        msg("cancel 10234 my email is a@b.co", "cancel_order", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]),
    )
    assert actions == [d.VerifyOrder(number="10234", email="a@b.co")]
    state, actions = run(state, d.Verified(number="10234", ok=True))
    assert actions == [d.Prepare(action="cancel", number="10234")]


def test_logged_in_owner_is_verified_without_email():
    state, actions = run(None, msg("track 10234", "track_order", entities=[ent("order_number", "10234")], logged_in=True))
    assert actions == [d.VerifyOrder(number="10234", email=None)]


def test_no_order_detail_before_verification():
    state, actions = run(None, msg("track 10234", "track_order", entities=[ent("order_number", "10234")]))
    assert not any(isinstance(a, (d.OrderInfo, d.Prepare, d.Execute)) for a in actions)


def test_failed_verification_never_says_which_part_and_forgets_both():
    state, _ = run(None, msg("x", "track_order", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, actions = run(state, d.Verified(number="10234", ok=False))
    assert actions == [d.Say("verify_failed", {"left": 4})]
    assert "order_number" not in state["slots"] and "email" not in state["slots"]
    assert state["verified"] == []


def test_five_failed_verifications_lock_and_hand_over():
    state = None
    for attempt in range(5):
        state, actions = run(state, msg("x", "track_order", entities=[ent("order_number", "10234"), ent("email", f"{attempt}@b.co")]))
        assert isinstance(actions[0], d.VerifyOrder)
        state, actions = run(state, d.Verified(number="10234", ok=False))
    assert state["locked"] is True
    assert actions == [d.Say("locked"), d.Escalate(reason="verification_locked")]
    # Locked: no more look-ups in this conversation, even with the right pair.
    state, actions = run(state, msg("x", "track_order", entities=[ent("order_number", "10234"), ent("email", "right@b.co")]))
    assert actions == [d.Say("locked")]


def test_verified_order_needs_no_second_verification():
    state, _ = run(None, msg("x", "track_order", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, _ = run(state, d.Verified(number="10234", ok=True))
    state, actions = run(state, msg("and cancel it", "cancel_order"))
    assert actions == [d.Prepare(action="cancel", number="10234")]


def test_other_order_needs_its_own_verification():
    state, _ = run(None, msg("x", "track_order", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, _ = run(state, d.Verified(number="10234", ok=True))
    state, actions = run(state, msg("and my other order?", "out_of_scope", 0.4))
    assert actions == [d.Say("ask_order_number", {"intent": "track_order"})]
    state, actions = run(state, msg("10240", "out_of_scope", 0.3, entities=[ent("order_number", "10240")]))
    # The e-mail is forgotten only after a failure; a known e-mail is used for the new number.
    assert actions == [d.VerifyOrder(number="10240", email="a@b.co")]


def _prepared(action="cancel", number="10234"):
    state, _ = run(None, msg("x", "cancel_order", entities=[ent("order_number", number), ent("email", "a@b.co")]))
    state, _ = run(state, d.Verified(number=number, ok=True))
    state, actions = run(state, d.Outcome(action=action, ok=True, stage=d.Stage.PREPARE, next=d.Next.CONFIRM))
    assert actions == []
    assert state["pending"]["kind"] == "confirm"
    return state


SENT = {"digest": "d1", "expires_at": 2e9, "email": "a***@b.co", "minutes": 10, "tries": 3}


def _code_asked(state):
    """After "yes" a guest's change waits for the e-mailed code."""
    state, actions = run(state, msg("yes please", "affirm"))
    pending = state["pending"]
    assert actions == [d.SendCode(action=pending["action"], number=pending["number"])]
    assert pending["kind"] == "code"
    state, actions = run(state, d.Outcome(action="send_code", ok=True, params=SENT))
    assert actions == [d.Say("code_sent", {"email": "a***@b.co", "minutes": 10})]
    return state


def test_change_is_carried_out_only_after_yes_and_the_emailed_code():
    state = _code_asked(_prepared())
    state, actions = run(state, msg("123456", "out_of_scope", 0.3))
    assert actions == [d.CheckCode(code="123456", action="cancel", number="10234", digest="d1", expires_at=2e9)]
    state, actions = run(state, d.Outcome(action="check_code", ok=True))
    assert actions == [d.Execute(action="cancel", number="10234", params={})]
    assert state["pending"] is None


def test_the_signed_in_owner_changes_the_order_without_a_code():
    state, _ = run(None, msg("cancel 10234", "cancel_order", entities=[ent("order_number", "10234")], logged_in=True))
    state, _ = run(state, d.Verified(number="10234", ok=True, owner=True))
    state, _ = run(state, d.Outcome(action="cancel", ok=True, stage=d.Stage.PREPARE, next=d.Next.CONFIRM))
    state, actions = run(state, msg("yes", "affirm"))
    assert actions == [d.Execute(action="cancel", number="10234", params={})]


def test_a_code_is_taken_as_the_code_never_as_an_order_number_or_a_question():
    state = _code_asked(_prepared())
    # The model may read six digits as an order number to track: while a code is awaited it isn't one.
    state, actions = run(state, msg("654 321", "track_order", 0.9, entities=[ent("order_number", "654321")]))
    assert kinds(actions) == ["CheckCode"] and actions[0].code == "654321"
    assert state["slots"]["order_number"] == "10234" and state["active_order"] == "10234"
    state, actions = run(state, msg("12345", "out_of_scope", 0.3, entities=[ent("order_number", "12345")]))
    assert actions == [d.Say("code_format", {"digits": 6})]
    assert state["pending"]["kind"] == "code"


def test_wrong_codes_count_down_and_too_many_drop_the_change_and_offer_a_person():
    state = _code_asked(_prepared())
    for left in (2, 1):
        state, _ = run(state, msg("000000", "out_of_scope", 0.3))
        state, actions = run(state, d.Outcome(action="check_code", ok=False, params={"reason": "wrong"}))
        assert actions == [d.Say("code_wrong", {"left": left})]
    state, _ = run(state, msg("000000", "out_of_scope", 0.3))
    state, actions = run(state, d.Outcome(action="check_code", ok=False, params={"reason": "wrong"}))
    assert actions == [d.Say("code_too_many", {"action": "cancel", "number": "10234"}, (d.talk_to_person(),))]
    assert state["pending"] is None
    # The right code now changes nothing: there is no change waiting any more.
    state, actions = run(state, msg("123456", "out_of_scope", 0.3))
    assert not any(isinstance(a, (d.CheckCode, d.Execute)) for a in actions)


def test_an_expired_code_drops_the_change():
    state = _code_asked(_prepared())
    state, _ = run(state, msg("123456", "out_of_scope", 0.3))
    state, actions = run(state, d.Outcome(action="check_code", ok=False, params={"reason": "expired"}))
    assert actions == [d.Say("code_expired", {"action": "cancel", "number": "10234"})]
    assert state["pending"] is None


def test_a_locked_order_refuses_even_the_right_code_and_hands_over():
    state = _code_asked(_prepared())
    state, _ = run(state, msg("123456", "out_of_scope", 0.3))
    state, actions = run(state, d.Outcome(action="check_code", ok=False, params={"reason": "locked"}))
    assert actions == [d.Say("verify_locked"), d.Escalate(reason="verification_locked")]


def test_no_code_can_be_sent_drops_the_change_and_offers_a_person():
    state = _prepared()
    state, _ = run(state, msg("yes", "affirm"))
    state, actions = run(state, d.Outcome(action="send_code", ok=False, refused=True))
    assert actions == [d.Say("code_send_limited", {}, (d.talk_to_person(),))]
    assert state["pending"] is None


def test_while_a_code_is_awaited_yes_reminds_and_no_declines():
    state = _code_asked(_prepared())
    state, actions = run(state, msg("yes", "affirm"))
    assert actions == [d.Say("code_waiting", {"email": "a***@b.co"})]
    state, actions = run(state, msg("no", "deny"))
    assert actions == [d.Say("declined", {"action": "cancel", "number": "10234"})]
    assert state["pending"] is None


def test_a_lock_shared_across_conversations_refuses_and_hands_over():
    state, _ = run(None, msg("x", "track_order", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, actions = run(state, d.Verified(number="10234", ok=False, locked=True))
    assert actions == [d.Say("verify_locked"), d.Escalate(reason="verification_locked")]
    assert state["verified"] == [] and "email" not in state["slots"]


def test_fewer_tries_left_across_conversations_are_the_ones_told():
    state, _ = run(None, msg("x", "track_order", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, actions = run(state, d.Verified(number="10234", ok=False, left=2))
    assert actions == [d.Say("verify_failed", {"left": 2})]
    state, _ = run(state, msg("x", "track_order", entities=[ent("order_number", "10234"), ent("email", "b@b.co")]))
    state, actions = run(state, d.Verified(number="10234", ok=False, left=0))
    assert actions == [d.Say("verify_locked"), d.Escalate(reason="verification_locked")]


def test_no_declines_the_change():
    state = _prepared()
    state, actions = run(state, msg("no", "deny"))
    assert actions == [d.Say("declined", {"action": "cancel", "number": "10234"})]


def test_another_question_drops_the_pending_confirmation():
    state = _prepared()
    state, actions = run(state, msg("what are your shipping costs", "delivery_options"))
    assert kinds(actions) == ["Shipping"]
    state, actions = run(state, msg("yes", "affirm"))
    assert actions == [d.Say("affirm_nothing_pending")]


def test_refused_cancel_offers_a_return():
    state, _ = run(None, msg("x", "cancel_order", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, _ = run(state, d.Verified(number="10234", ok=True))
    state, actions = run(state, d.Outcome(action="cancel", ok=False, refused=True, message="shipped", stage=d.Stage.PREPARE))
    assert actions[0].key == "offer_return"
    assert state["pending"] is None
    assert state["actions"][-1]["outcome"] == "refused"


def test_failed_action_hands_over():
    state = _prepared()
    state, actions = run(state, d.Outcome(action="cancel", ok=False, failed=True, message="boom", stage=d.Stage.EXECUTE))
    assert actions == [d.Say("action_failed"), d.Escalate(reason="action_failed")]


def test_address_change_collects_the_address_then_confirms():
    state, _ = run(None, msg("x", "change_shipping_address", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, actions = run(state, d.Verified(number="10234", ok=True))
    assert actions == [d.Prepare(action="change_address", number="10234")]
    state, actions = run(state, d.Outcome(action="change_address", ok=True, stage=d.Stage.PREPARE, next=d.Next.ASK_ADDRESS))
    assert state["pending"]["need"] == "address"
    state, actions = run(state, msg("Sam Lee, Hauptstr. 5, 10115 Berlin, Germany", "out_of_scope", 0.2))
    assert actions == [d.Prepare(action="change_address", number="10234", params={"address_text": "Sam Lee, Hauptstr. 5, 10115 Berlin, Germany"})]
    address = {"name": "Sam Lee"}
    state, actions = run(state, d.Outcome(action="change_address", ok=True, stage=d.Stage.PREPARE, next=d.Next.CONFIRM, params={"address": address}))
    state = _code_asked(state)
    state, _ = run(state, msg("123456", "out_of_scope", 0.3))
    state, actions = run(state, d.Outcome(action="check_code", ok=True))
    assert actions == [d.Execute(action="change_address", number="10234", params={"address": address})]


def test_an_address_with_a_postcode_is_taken_as_the_address_not_as_an_order_number():
    state, _ = run(None, msg("x", "change_shipping_address", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, _ = run(state, d.Verified(number="10234", ok=True))
    state, _ = run(state, d.Outcome(action="change_address", ok=True, stage=d.Stage.PREPARE, next=d.Next.ASK_ADDRESS))
    text = "Sam Lee, Gartenweg 12, 10115 Berlin, Germany"
    # The model reads the postcode as an order number to track.
    state, actions = run(state, msg(text, "track_order", 0.8, entities=[ent("order_number", "10115")]))
    assert actions == [d.Prepare(action="change_address", number="10234", params={"address_text": text})]
    assert state["active_order"] == "10234" and state["slots"]["order_number"] == "10234"


@pytest.mark.parametrize("text", ["Gartenweg 12 10115 Berlin", "Hauptstr. 5, 10115 Berlin", "Gartenweg 12\n10115 Berlin"])
def test_a_short_address_read_as_an_order_to_track_is_still_the_new_address(text):
    state, _ = run(None, msg("x", "change_shipping_address", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, _ = run(state, d.Verified(number="10234", ok=True))
    state, _ = run(state, d.Outcome(action="change_address", ok=True, stage=d.Stage.PREPARE, next=d.Next.ASK_ADDRESS))
    state, actions = run(state, msg(text, "track_order", 0.9, entities=[ent("order_number", "10115")]))
    assert actions == [d.Prepare(action="change_address", number="10234", params={"address_text": text})]
    state, _ = run(state, d.Outcome(action="change_address", ok=True, stage=d.Stage.PREPARE, next=d.Next.CONFIRM, params={"address": {}}))
    assert state["active_order"] == "10234" and state["pending"]["number"] == "10234"


def test_a_tracking_question_while_an_address_is_awaited_is_answered_not_taken_as_the_address():
    state, _ = run(None, msg("x", "change_shipping_address", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, _ = run(state, d.Verified(number="10234", ok=True))
    state, _ = run(state, d.Outcome(action="change_address", ok=True, stage=d.Stage.PREPARE, next=d.Next.ASK_ADDRESS))
    state, actions = run(state, msg("where is my order 10240?", "track_order", 0.95, entities=[ent("order_number", "10240")]))
    assert not any(isinstance(a, d.Prepare) for a in actions)


def test_change_order_before_shipment_offers_a_person_and_yes_hands_over():
    state, _ = run(None, msg("x", "change_order", entities=[ent("order_number", "10234"), ent("email", "a@b.co")]))
    state, _ = run(state, d.Verified(number="10234", ok=True))
    state, _ = run(state, d.Outcome(action="change_order", ok=True, stage=d.Stage.PREPARE, next=d.Next.OFFER_HANDOVER))
    state, actions = run(state, msg("yes", "affirm"))
    assert actions == [d.Escalate(reason="requested")]


def test_two_unsure_turns_in_a_row_hand_over():
    state, actions = run(None, msg("blorp", "out_of_scope", 0.2))
    assert actions[0].key == "unsure"
    state, actions = run(state, msg("zzz", "out_of_scope", 0.2))
    assert actions == [d.Escalate(reason="low_confidence")]


def test_a_good_turn_resets_the_unsure_streak():
    state, _ = run(None, msg("blorp", "out_of_scope", 0.2))
    state, _ = run(state, msg("hi", "greeting"))
    state, actions = run(state, msg("zzz", "out_of_scope", 0.2))
    assert actions[0].key == "unsure"


def test_shopper_can_always_ask_for_a_person_even_mid_flow():
    state, _ = run(None, msg("where is my order", "track_order"))
    state, actions = run(state, msg("Talk to a person", "out_of_scope", 0.3))
    assert actions == [d.Escalate(reason="requested")]


def test_complaint_apologises_and_hands_over():
    _, actions = run(None, msg("this is outrageous", "complaint"))
    assert actions == [d.Say("complaint_sorry"), d.Escalate(reason="complaint")]


def test_payment_problem_twice_hands_over():
    state, actions = run(None, msg("payment failed", "payment_issue"))
    assert kinds(actions) == ["Knowledge"]
    state, actions = run(state, msg("still failing", "payment_issue"))
    assert actions == [d.Say("persistent_issue"), d.Escalate(reason="persistent_issue")]


def test_close_intents_get_a_clarifying_question_and_the_quick_reply_picks():
    top = [("cancel_order", 0.48), ("change_order", 0.42), ("out_of_scope", 0.1)]
    state, actions = run(None, msg("I want to do something with my order", "cancel_order", 0.48, top=top))
    assert actions[0].key == "clarify"
    assert actions[0].quick_replies == ("Cancel my order", "Change my order")
    state, actions = run(state, msg("Change my order", "change_order", 0.9))
    assert actions == [d.Say("ask_order_number", {"intent": "change_order"})]


def test_a_stock_question_naming_a_product_is_answered_without_a_clarifying_question():
    text = "is the Wide-Leg Linen Trousers in stock in Black, size M?"
    top = [("product_info", 0.5), ("product_availability", 0.45), ("out_of_scope", 0.05)]
    entities = [ent("product", "wide-leg-linen-trousers"), ent("colour", "Black"), ent("size", "M")]
    state, actions = run(None, msg(text, "product_info", 0.5, top=top, entities=entities))
    assert actions == [
        d.Products(intent="product_availability", query=text, product="wide-leg-linen-trousers", colour="Black", size="M")
    ]
    # without a product named, the same two close intents still get the question
    state, actions = run(None, msg("is it in stock in black?", "product_info", 0.5, top=top, entities=entities[1:]))
    assert actions[0].key == "clarify"


def test_context_carries_over_to_a_colour():
    state, actions = run(None, msg("is the linen shirt in stock", "product_availability", entities=[ent("product", "linen-shirt")]))
    assert actions[0] == d.Products(intent="product_availability", query="is the linen shirt in stock", product="linen-shirt")
    state, actions = run(state, msg("what about in blue?", "out_of_scope", 0.4, entities=[ent("colour", "Blue")]))
    assert actions == [d.Products(intent="product_availability", query="what about in blue?", product="linen-shirt", colour="Blue")]


def test_knowledge_miss_offers_a_person_and_two_misses_hand_over():
    state, _ = run(None, msg("q", "check_payment_methods"))
    state, actions = run(state, d.Outcome(action="knowledge", ok=True, found=False))
    assert actions[0].key == "no_knowledge"
    state, _ = run(state, msg("q2", "discount_code"))
    state, actions = run(state, d.Outcome(action="knowledge", ok=True, found=False))
    assert actions == [d.Escalate(reason="low_confidence")]


def test_newsletter_asks_for_email_to_subscribe_but_never_takes_an_address_to_unsubscribe():
    state, actions = run(None, msg("sign me up for the newsletter", "newsletter_subscription"))
    assert actions == [d.Say("ask_email_newsletter")]
    state, actions = run(state, msg("me@x.org", "out_of_scope", 0.3, entities=[ent("email", "me@x.org")]))
    assert actions == [d.Newsletter(email="me@x.org", subscribe=True)]
    # A typed address may be anyone's: unsubscribing is the signed link's job, not the chat's.
    _, actions = run(None, msg("unsubscribe me@x.org", "newsletter_subscription", entities=[ent("email", "me@x.org")]))
    assert actions == [d.Newsletter(email=None, subscribe=False)]
    _, actions = run(None, msg("unsubscribe me from the newsletter", "newsletter_subscription"))
    assert actions == [d.Newsletter(email=None, subscribe=False)]


def test_after_hours_email_is_captured():
    state = {**d.initial_state(), "awaiting_followup_email": True}
    state, actions = run(state, msg("sam@example.org", "out_of_scope", 0.3, entities=[ent("email", "sam@example.org")]))
    assert actions == [d.CaptureFollowUpEmail(email="sam@example.org")]
    assert state["awaiting_followup_email"] is False


def test_after_hours_email_with_a_question_the_bot_can_answer_captures_it_and_answers():
    state = {**d.initial_state(), "awaiting_followup_email": True}
    text = "where is my order 10514? my email is sam@example.org"
    state, actions = run(state, msg(text, "track_order", entities=[ent("order_number", "10514"), ent("email", "sam@example.org")]))
    assert actions[0] == d.CaptureFollowUpEmail(email="sam@example.org")
    assert kinds(actions[1:]) == ["VerifyOrder"]
    # Small talk or a request for a person adds nothing: only the ticket gets the address.
    for intent in ("thanks", "contact_human_agent", "out_of_scope"):
        state = {**d.initial_state(), "awaiting_followup_email": True}
        _, actions = run(state, msg("thanks, it's sam@example.org", intent, entities=[ent("email", "sam@example.org")]))
        assert actions == [d.CaptureFollowUpEmail(email="sam@example.org")]


@pytest.mark.parametrize("text", ["sam@example.org", "my e-mail is sam@example.org.", "Sure, it’s sam@example.org please"])
def test_a_bare_email_for_the_follow_up_is_the_answer_not_a_new_question(text):
    # The model reads a lone address as an account question; answering that would add a help-centre
    # reply nobody asked for (and it would land in the transcript mailed to the shopper).
    state = {**d.initial_state(), "awaiting_followup_email": True}
    _, actions = run(state, msg(text, "edit_account", 0.99, entities=[ent("email", "sam@example.org")]))
    assert actions == [d.CaptureFollowUpEmail(email="sam@example.org")]


def test_a_bare_order_number_answers_the_order_question_whatever_the_model_read_into_it():
    state, _ = run(None, msg("cancel my order", "cancel_order"))
    assert state["pending"]["need"] == "order_number"
    state, actions = run(state, msg("#10514", "create_account", 0.9, entities=[ent("order_number", "10514")]))
    assert actions == [d.Say("ask_email", {"number": "10514"})]
    assert state["pending"] == {"kind": "slot", "intent": "cancel_order", "need": "email"}


def test_shipping_uses_the_country_entity_and_carries_it_over():
    state, actions = run(None, msg("do you ship to austria", "delivery_options", entities=[ent("country", "AT")]))
    assert actions == [d.Shipping(intent="delivery_options", country="AT")]
    state, actions = run(state, msg("and to switzerland?", "out_of_scope", 0.4, entities=[ent("country", "CH")]))
    assert actions == [d.Shipping(intent="delivery_options", country="CH")]


def test_state_is_not_mutated_in_place():
    state = d.initial_state()
    before = dict(state)
    run(state, msg("where is my order", "track_order"))
    assert state == before


def test_an_email_alone_while_a_change_waits_for_yes_asks_again_instead_of_changing_topic():
    state = _prepared()
    # The model reads a bare address as some unrelated intent, without much confidence.
    state, actions = run(state, msg("alex@example.com", "discount_code", 0.59, entities=[ent("email", "alex@example.com")]))
    assert actions == [d.Prepare(action="cancel", number="10234")]
