"""bot.actions: the executor's dispatch (action type -> handler) and the order operations."""

import pytest

from bot import conversations, dialogue
from bot.actions import HANDLERS, OPERATIONS, Executor, handles
from catalog.models import Order

pytestmark = pytest.mark.django_db


def _executor():
    return Executor(conversation=conversations.conversation_start(), user=None)


def test_every_action_the_policy_can_emit_has_exactly_one_handler():
    emitted = {
        dialogue.Say, dialogue.VerifyOrder, dialogue.OrderInfo, dialogue.Prepare, dialogue.Execute, dialogue.SendCode,
        dialogue.CheckCode, dialogue.Knowledge, dialogue.Products, dialogue.Shipping, dialogue.Newsletter,
        dialogue.RecordFeedback, dialogue.CaptureFollowUpEmail, dialogue.Escalate,
    }
    assert set(HANDLERS) == emitted


def test_a_second_handler_for_the_same_action_is_refused():
    with pytest.raises(ValueError, match="already has a handler"):
        handles(dialogue.Say)(lambda executor, action, state: None)


def test_an_action_without_a_handler_is_a_programming_error_not_a_silent_no_op():
    class Unknown:
        pass

    with pytest.raises(TypeError, match="no handler for Unknown"):
        _executor().perform(Unknown(), {})


def test_a_handler_that_breaks_becomes_a_failed_outcome(monkeypatch):
    def broken(executor, action, state):
        raise RuntimeError("database went away")

    monkeypatch.setitem(HANDLERS, dialogue.Knowledge, broken)
    outcome = _executor().perform(dialogue.Knowledge(intent="discount_code", query="codes?"), {})
    assert outcome == dialogue.Outcome(action="knowledge", ok=False, failed=True, message="database went away")


def test_the_dispatch_runs_the_registered_handler_with_the_action_and_state():
    executor = _executor()
    executor.perform(dialogue.Say("thanks"), {})
    assert executor.reply.texts == ["You're welcome! Is there anything else I can help you with?"]


def _prepare(executor, operation, number, **params):
    return executor.perform(dialogue.Prepare(action=operation, number=number, params=params), {})


def test_cancel_asks_with_the_order_s_facts_then_cancels(shop_with_kb):
    order = shop_with_kb["orders"]["unshipped"]
    executor = _executor()
    outcome = _prepare(executor, "cancel", order.number)
    assert outcome == dialogue.Outcome(action="cancel", ok=True, stage=dialogue.Stage.PREPARE, next=dialogue.Next.CONFIRM)
    assert executor.reply.texts[0].startswith(f"Cancel order {order.number} (2 items,")
    assert executor.reply.quick_replies == ["Yes", "No"] and executor.reply.cards[0]["number"] == order.number
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # asking changes nothing

    executor = _executor()
    outcome = executor.perform(dialogue.Execute(action="cancel", number=order.number), {})
    assert outcome == dialogue.Outcome(action="cancel", ok=True, stage=dialogue.Stage.EXECUTE)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert executor.reply.texts[0].startswith(f"Done — order {order.number} is cancelled.")


def test_cancel_of_a_shipped_order_is_refused_with_the_shop_s_reason(shop_with_kb):
    order = shop_with_kb["orders"]["shipped"]
    executor = _executor()
    outcome = _prepare(executor, "cancel", order.number)
    assert outcome.refused and not outcome.ok and outcome.stage is dialogue.Stage.PREPARE
    assert executor.reply.texts == [outcome.message] and outcome.message
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_change_address_asks_for_the_address_then_confirms_the_parsed_one_then_changes_it(shop_with_kb):
    order = shop_with_kb["orders"]["unshipped"]
    before = order.shipping_address
    executor = _executor()
    assert _prepare(executor, "change_address", order.number).next is dialogue.Next.ASK_ADDRESS
    assert "send the new address" in executor.reply.texts[0]

    executor = _executor()
    unreadable = _prepare(executor, "change_address", order.number, address_text="somewhere nice")
    assert unreadable.next is dialogue.Next.ASK_ADDRESS and "couldn't read that" in executor.reply.texts[0]

    executor = _executor()
    outcome = _prepare(executor, "change_address", order.number, address_text="Gartenweg 12, 10115 Berlin")
    assert outcome.ok and outcome.next is dialogue.Next.CONFIRM
    address = outcome.params["address"]
    assert (address["line1"], address["postcode"], address["city"]) == ("Gartenweg 12", "10115", "Berlin")
    order.refresh_from_db()
    assert order.shipping_address == before  # the dry run wrote nothing

    executor = _executor()
    executor.perform(dialogue.Execute(action="change_address", number=order.number, params={"address": address}), {})
    order.refresh_from_db()
    assert "Gartenweg 12" in order.shipping_address and "Berlin" in order.shipping_address
    assert executor.reply.texts == [f"Done — order {order.number} will now go to: {order.shipping_address}."]


def test_change_address_of_a_shipped_order_is_refused(shop_with_kb):
    executor = _executor()
    outcome = _prepare(executor, "change_address", shop_with_kb["orders"]["shipped"].number, address_text="Gartenweg 12, 10115 Berlin")
    assert outcome.refused and outcome.next is None


def test_the_log_names_in_the_hand_off_packet_are_the_operation_and_its_step():
    prepared = dialogue.Outcome(action="change_address", ok=True, stage=dialogue.Stage.PREPARE, next=dialogue.Next.ASK_ADDRESS)
    assert prepared.log_name == "prepare:change_address_needs_text"
    assert dialogue.Outcome(action="cancel", ok=True, stage=dialogue.Stage.EXECUTE).log_name == "execute:cancel"
    assert dialogue.Outcome(action="knowledge", ok=True).log_name == "knowledge"


def test_every_order_operation_a_registry_intent_names_is_registered():
    from bot import intents

    assert {r.operation for r in intents.INTENTS if r.operation} <= set(OPERATIONS)
