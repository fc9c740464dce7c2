"""The desk's services on the embedded stack (SQLite, eager Celery, locmem e-mail)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from bot.handoff import handoff_packet
from bot.models import Conversation, Message, TrainingExample
from support import agent_actions, assignment, emails, handoff, presence, selectors
from support.models import AgentProfile, Escalation, FollowUpTicket
from support.desk import DeskError
from tests.factories import CustomerFactory, OrderFactory
from tests.support.conftest import make_agent, make_conversation, minutes_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalate(django_capture_on_commit_callbacks, packet):
    """Hand a conversation over and run what happens on commit (routing, e-mail) like production."""

    def run(conversation, reason="requested", priority=None, context=None):
        with django_capture_on_commit_callbacks(execute=True):
            return handoff.conversation_escalate(
                conversation=conversation, reason=reason, context=context or packet, priority=priority
            )

    return run


def test_handoff_puts_the_conversation_in_the_queue_with_the_packet(escalate):
    make_agent("ada", online=True)
    conversation = make_conversation("where is my parcel")
    escalation = escalate(conversation)
    conversation.refresh_from_db()
    escalation.refresh_from_db()
    assert conversation.status == Conversation.Status.WAITING
    assert escalation.context["last_message"] == "my parcel never came and nobody answers"
    assert escalation.context["intents"][0] == {"intent": "track_order", "confidence": 0.41}
    assert "Shopper asked for a person" in escalation.summary and "track_order" in escalation.summary
    assert not escalation.after_hours
    # Routed at once to the only online agent.
    assert escalation.status == Escalation.Status.ASSIGNED and escalation.assigned_to.username == "ada"
    assert escalation.notified_at is not None
    # Online, the shopper learns their place from the `escalated` frame, not from a stored message.
    assert not conversation.messages.filter(sender="system").exists()


def test_the_dialogue_states_intent_pairs_become_labelled_items(escalate):
    conversation = make_conversation("x")
    state = {"history": [["greeting", 0.97], ["track_order", 0.52]], "actions": []}
    escalation = escalate(conversation, context=handoff_packet(conversation=conversation, state=state))
    assert escalation.context["intents"] == [
        {"intent": "greeting", "confidence": 0.97}, {"intent": "track_order", "confidence": 0.52}
    ]
    assert "bot understood track_order (0.52)" in escalation.summary
    # The dialogue state does not hold the last message: the packet reads it from the transcript.
    assert escalation.context["last_message"] == "x" and "“x”" in escalation.summary


def test_the_desk_refuses_a_packet_the_bot_did_not_build(escalate):
    with pytest.raises(ValueError, match="intent, confidence"):
        escalate(make_conversation("x"), context={"intents": [["greeting", 0.97]]})
    with pytest.raises(ValueError, match="too large"):
        escalate(make_conversation("y"), context={"actions": [{"detail": "z" * 30000}]})
    assert not Escalation.objects.exists()


def test_handoff_is_idempotent_and_only_raises_priority(escalate):
    conversation = make_conversation("hello?")
    first = escalate(conversation, reason="requested")
    again = escalate(conversation, reason="complaint", priority="urgent")
    lower = escalate(conversation, reason="requested", priority="low")
    assert first.pk == again.pk == lower.pk
    assert Escalation.objects.count() == 1
    first.refresh_from_db()
    assert first.priority == "urgent"


def test_handoff_refuses_unknown_reason_and_priority(escalate):
    conversation = make_conversation("x")
    with pytest.raises(ValueError):
        escalate(conversation, reason="boredom")
    with pytest.raises(ValueError):
        escalate(conversation, priority="whenever")
    with pytest.raises(ValueError):
        handoff.conversation_escalate(conversation=conversation, reason="requested", context=["not", "a", "dict"])
    assert not Escalation.objects.exists()


def test_complaints_start_with_high_priority(escalate):
    assert escalate(make_conversation("this is outrageous"), reason="complaint").priority == "high"


def test_routing_picks_the_least_loaded_online_agent(escalate):
    busy = make_agent("busy", online=True, capacity=5)
    make_agent("idle", online=True, capacity=5)
    make_agent("offline", online=False, capacity=5)
    for i in range(2):
        Escalation.objects.create(conversation=make_conversation(f"c{i}"), reason="requested", status="active", assigned_to=busy)
    escalation = escalate(make_conversation("help"))
    escalation.refresh_from_db()
    assert escalation.assigned_to.username == "idle"


def test_routing_ties_go_round_robin(escalate):
    make_agent("ann", online=True)
    make_agent("bob", online=True)
    first = escalate(make_conversation("one"))
    second = escalate(make_conversation("two"))
    first.refresh_from_db()
    second.refresh_from_db()
    assert {first.assigned_to.username, second.assigned_to.username} == {"ann", "bob"}
    # Both carry one now: the next goes to whoever was assigned longest ago.
    third = escalate(make_conversation("three"))
    third.refresh_from_db()
    assert third.assigned_to == first.assigned_to


def test_routing_respects_capacity_and_stale_workspaces(escalate):
    full = make_agent("full", online=True, capacity=1)
    Escalation.objects.create(conversation=make_conversation("c"), reason="requested", status="active", assigned_to=full)
    stale = make_agent("stale", online=True)
    AgentProfile.objects.filter(user=stale).update(last_seen_at=timezone.now() - timedelta(minutes=10))
    escalation = escalate(make_conversation("help"))
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.QUEUED and escalation.assigned_to is None


def test_agents_without_the_permission_are_never_routed_to(escalate):
    make_agent("noperm", online=True, perm=False)
    escalation = escalate(make_conversation("help"))
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.QUEUED
    assert escalation.after_hours  # nobody who may take it is online


def test_queue_position_follows_priority_then_age(escalate):
    normal_old = escalate(make_conversation("a"), reason="requested")
    normal_new = escalate(make_conversation("b"), reason="requested")
    urgent = escalate(make_conversation("c"), reason="requested", priority="urgent")
    assert selectors.queue_position(escalation=urgent) == 1
    assert selectors.queue_position(escalation=normal_old) == 2
    assert selectors.queue_position(escalation=normal_new) == 3
    urgent.status = "active"
    urgent.save()
    assert selectors.queue_position(escalation=urgent) is None
    assert selectors.queue_position(escalation=normal_old) == 1


def test_after_hours_tells_the_truth_and_asks_for_an_email(escalate):
    conversation = make_conversation("can someone call me")
    escalation = escalate(conversation)
    conversation.refresh_from_db()
    assert escalation.after_hours
    assert conversation.state["awaiting_followup_email"] is True
    text = conversation.messages.filter(sender="system").last().text
    assert "No one from our support team is online right now" in text and "e-mail address" in text


def test_followup_email_opens_a_ticket_and_confirms_once(escalate, on_commit):
    conversation = make_conversation("can someone call me")
    escalation = escalate(conversation)
    ticket = on_commit(handoff.followup_email_capture, conversation=conversation, email=" shopper@example.com ")
    conversation.refresh_from_db()
    assert ticket.email == "shopper@example.com" and ticket.escalation == escalation
    assert conversation.shopper_email == "shopper@example.com"
    assert "awaiting_followup_email" not in conversation.state
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["shopper@example.com"]
    assert f"ticket #{ticket.pk}" in mail.outbox[0].subject
    assert f"ticket #{ticket.pk}" in mail.outbox[0].body and "A person from our team will reply" in mail.outbox[0].body
    # The task running again (a redelivery) sends nothing more.
    assert emails.followup_confirmation_send(ticket_id=ticket.pk) is False
    assert len(mail.outbox) == 1


def test_followup_confirmation_contains_none_of_the_shoppers_words(escalate, on_commit):
    bait = "Zq7-WIN-A-PRIZE-at-evil.example"
    conversation = make_conversation(f"{bait} I want to talk to a person")
    escalate(conversation)
    on_commit(handoff.followup_email_capture, conversation=conversation, email="stranger@example.com")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    for word in ("Zq7", "PRIZE", "evil.example", "talk to a person"):
        assert word not in sent.subject and word not in sent.body
    assert "Mon–Fri 09:00–18:00 CET" in sent.body  # the shop's own support hours


def test_the_ticket_email_has_no_double_full_stop_after_a_shop_name_ending_in_one(escalate, on_commit, settings):
    settings.SHOP_NAME = "Northwind & Co."
    conversation = make_conversation("can someone call me")
    escalate(conversation)
    on_commit(handoff.followup_email_capture, conversation=conversation, email="shopper@example.com")
    (sent,) = mail.outbox
    assert "Northwind & Co." in sent.body and "Northwind & Co." in sent.subject
    assert ".." not in sent.body and ".." not in sent.subject


def test_a_fourth_followup_to_one_address_in_a_day_sends_no_mail_but_opens_the_ticket(escalate, on_commit):
    tickets = []
    for n in range(4):
        conversation = make_conversation(f"question {n}")
        escalate(conversation)
        tickets.append(on_commit(handoff.followup_email_capture, conversation=conversation, email="Target@Example.com"))
    assert [t.confirmation_queued for t in tickets] == [True, True, True, False]
    assert len(mail.outbox) == 3
    fourth = FollowUpTicket.objects.get(pk=tickets[3].pk)
    assert fourth.status == "open" and fourth.confirmation_sent_at is None and fourth.escalation.is_open


def test_one_conversation_cannot_send_followups_to_many_addresses(escalate, on_commit, settings):
    settings.MAIL_LIMIT_PER_CONVERSATION = 2
    conversation = make_conversation("x")
    escalate(conversation)
    queued = [
        on_commit(handoff.followup_email_capture, conversation=conversation, email=f"victim{n}@example.com").confirmation_queued
        for n in range(3)
    ]
    assert queued == [True, True, False]
    assert [m.to for m in mail.outbox] == [["victim0@example.com"], ["victim1@example.com"]]
    assert FollowUpTicket.objects.get().email == "victim2@example.com"  # the ticket keeps the latest address


def test_one_client_address_cannot_send_followups_from_many_conversations(escalate, on_commit, settings):
    settings.MAIL_LIMIT_PER_CLIENT = 2
    for n in range(3):
        conversation = make_conversation(f"x{n}")
        escalate(conversation)
        on_commit(
            handoff.followup_email_capture, conversation=conversation, email=f"v{n}@example.com", client_address="203.0.113.9"
        )
    assert len(mail.outbox) == 2 and FollowUpTicket.objects.count() == 3


def test_the_same_address_again_neither_mails_nor_counts_twice(escalate, on_commit, settings):
    settings.MAIL_LIMIT_PER_ADDRESS = 1
    conversation = make_conversation("x")
    escalate(conversation)
    first = on_commit(handoff.followup_email_capture, conversation=conversation, email="a@example.com")
    again = on_commit(handoff.followup_email_capture, conversation=conversation, email="a@example.com")
    assert first.confirmation_queued and not again.confirmation_queued and again.confirmation_sent_at is not None
    assert len(mail.outbox) == 1


def test_transcript_goes_only_to_a_proved_address(escalate):
    from django.contrib.auth import get_user_model

    OrderFactory(number="20001", email="owner@example.com")
    signed_in = get_user_model().objects.create_user(username="kim", email="kim-account@example.com")
    CustomerFactory(email="kim@example.com", user=signed_in)
    unlinked = get_user_model().objects.create_user(username="lee", email="lee@example.com")

    def recipient(*, typed="", verified=(), user=None):
        conversation = make_conversation("hi", user=user)
        conversation.shopper_email = typed
        conversation.state = {"verified": list(verified)}
        conversation.save()
        return emails.transcript_recipient(escalation=escalate(conversation))

    assert recipient(typed="typed@example.com") is None  # typed after hours: not proof
    assert recipient(typed="typed@example.com", verified=["20001"]) == "owner@example.com"
    assert recipient(user=signed_in) == "kim@example.com"  # the account's customer record
    assert recipient(user=unlinked) is None  # an account's own e-mail field is not verified


def test_followup_email_rejects_what_is_not_an_email(escalate):
    conversation = make_conversation("x")
    escalate(conversation)
    with pytest.raises(ValidationError):
        handoff.followup_email_capture(conversation=conversation, email="not-an-email")
    assert not FollowUpTicket.objects.exists()


def test_a_second_email_updates_the_open_ticket(escalate, on_commit):
    conversation = make_conversation("x")
    escalate(conversation)
    first = on_commit(handoff.followup_email_capture, conversation=conversation, email="a@example.com")
    second = on_commit(handoff.followup_email_capture, conversation=conversation, email="b@example.com")
    assert first.pk == second.pk and FollowUpTicket.objects.get().email == "b@example.com"
    assert [m.to for m in mail.outbox] == [["a@example.com"], ["b@example.com"]]


def test_claim_stops_the_bot_and_nobody_else_can_take_it(escalate, on_commit):
    ada = make_agent("ada", online=True)
    bob = make_agent("bob", online=True)
    conversation = make_conversation("help")
    escalation = escalate(conversation)
    claimed = on_commit(agent_actions.escalation_claim, escalation_id=escalation.pk, agent=bob)
    conversation.refresh_from_db()
    assert claimed.status == "active" and claimed.assigned_to == bob and claimed.claimed_at
    assert conversation.status == Conversation.Status.AGENT
    with pytest.raises(DeskError) as exc:
        agent_actions.escalation_claim(escalation_id=escalation.pk, agent=ada)
    assert exc.value.code == "already_claimed"
    # The holder clicking again changes nothing.
    assert agent_actions.escalation_claim(escalation_id=escalation.pk, agent=bob).pk == escalation.pk
    with pytest.raises(DeskError) as exc:
        agent_actions.escalation_claim(escalation_id=999999, agent=ada)
    assert exc.value.code == "not_found"


def test_reply_needs_the_claim_and_is_stored_once(escalate, on_commit):
    ada = make_agent("ada", online=True)
    conversation = make_conversation("help")
    escalation = escalate(conversation)
    hexid = conversation.public_id.hex
    with pytest.raises(DeskError) as exc:
        agent_actions.agent_reply(agent=ada, conversation_hex=hexid, text="hi", client_id="c1")
    assert exc.value.code == "not_yours"
    on_commit(agent_actions.escalation_claim, escalation_id=escalation.pk, agent=ada)
    message = agent_actions.agent_reply(agent=ada, conversation_hex=hexid, text="  Hi, Ada here.  ", client_id="c1")
    again = agent_actions.agent_reply(agent=ada, conversation_hex=hexid, text="Hi, Ada here.", client_id="c1")
    assert message.pk == again.pk
    assert (message.sender, message.text, message.agent, message.data["agent_name"]) == ("agent", "Hi, Ada here.", ada, "Ada")
    for text, code in (("", "empty"), ("x" * 4001, "too_long")):
        with pytest.raises(DeskError) as exc:
            agent_actions.agent_reply(agent=ada, conversation_hex=hexid, text=text, client_id=None)
        assert exc.value.code == code
    with pytest.raises(DeskError) as exc:
        agent_actions.agent_reply(agent=ada, conversation_hex="not-a-uuid", text="x", client_id=None)
    assert exc.value.code == "bad_conversation"


def test_release_hands_back_to_the_bot(escalate, on_commit):
    ada = make_agent("ada", online=True)
    conversation = make_conversation("help")
    escalation = escalate(conversation)
    on_commit(agent_actions.escalation_claim, escalation_id=escalation.pk, agent=ada)
    on_commit(agent_actions.escalation_release, agent=ada, conversation_hex=conversation.public_id.hex)
    conversation.refresh_from_db()
    escalation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT
    assert (escalation.status, escalation.outcome) == ("resolved", "released") and escalation.resolved_at


def test_resolve_stores_the_label_as_training_examples_and_mails_the_transcript(escalate, on_commit):
    ada = make_agent("ada", online=True)
    conversation = make_conversation("my parcel never came", "where is it??")
    OrderFactory(number="10234", email="shopper@example.com")
    conversation.state = {"verified": ["10234"]}  # the shopper proved the order's e-mail in the chat
    conversation.save()
    escalation = escalate(conversation)
    on_commit(agent_actions.escalation_claim, escalation_id=escalation.pk, agent=ada)
    agent_actions.agent_reply(agent=ada, conversation_hex=conversation.public_id.hex, text="Let me check.", client_id="r1")
    Message.objects.create(conversation=conversation, sender="shopper", text="thanks, after the hand-off")
    mail.outbox.clear()
    on_commit(
        agent_actions.escalation_resolve, escalation_id=escalation.pk, agent=ada, intent="track_order",
        note="Parcel was at the depot", better_answer="Your parcel is at the DHL depot.",
    )
    escalation.refresh_from_db()
    conversation.refresh_from_db()
    assert (escalation.status, escalation.outcome, escalation.resolution_intent) == ("resolved", "resolved", "track_order")
    assert conversation.status == Conversation.Status.BOT
    examples = TrainingExample.objects.order_by("pk")
    # The shopper's messages that led to the hand-off, not what they said to the agent afterwards.
    assert [e.text for e in examples] == ["my parcel never came", "where is it??"]
    assert {(e.intent, e.source, e.created_by_id, e.better_answer) for e in examples} == {
        ("track_order", "agent_label", ada.pk, "Your parcel is at the DHL depot.")
    }
    assert all(e.message.sender == "shopper" for e in examples)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["shopper@example.com"]
    body = mail.outbox[0].body
    assert "You: my parcel never came" in body and "Ada: Let me check." in body
    escalation.refresh_from_db()
    assert escalation.transcript_sent_at is not None
    assert emails.transcript_send(escalation_id=escalation.pk) is False  # once


def test_resolve_checks_labels_messages_and_holder(escalate, on_commit):
    ada = make_agent("ada", online=True)
    bob = make_agent("bob", online=True)
    conversation = make_conversation("help")
    other = make_conversation("someone else's words")
    escalation = escalate(conversation)
    on_commit(agent_actions.escalation_claim, escalation_id=escalation.pk, agent=ada)
    cases = [
        (dict(agent=ada, intent="not_an_intent"), "bad_intent"),
        (dict(agent=bob, intent="track_order"), "already_claimed"),
        (dict(agent=ada, intent="track_order", message_ids=[other.messages.first().pk]), "bad_messages"),
        (dict(agent=ada, intent="track_order", message_ids=[conversation.messages.filter(sender="bot").first().pk]), "bad_messages"),
        (dict(agent=ada, intent="track_order", message_ids="1,2"), "bad_frame"),
    ]
    for kwargs, code in cases:
        with pytest.raises(DeskError) as exc:
            agent_actions.escalation_resolve(escalation_id=escalation.pk, **kwargs)
        assert exc.value.code == code
    escalation.refresh_from_db()
    assert escalation.status == "active" and not TrainingExample.objects.exists()
    on_commit(agent_actions.escalation_resolve, escalation_id=escalation.pk, agent=ada, intent=None)
    assert not TrainingExample.objects.exists()
    assert not mail.outbox  # no address the shopper gave or proved: no transcript e-mail
    with pytest.raises(DeskError) as exc:
        agent_actions.escalation_resolve(escalation_id=escalation.pk, agent=ada, intent=None)
    assert exc.value.code == "resolved"


def test_resolving_an_after_hours_ticket_closes_it_without_mailing_the_transcript_to_the_typed_address(escalate, on_commit):
    conversation = make_conversation("call me")
    escalation = escalate(conversation)
    on_commit(handoff.followup_email_capture, conversation=conversation, email="s@example.com")
    ada = make_agent("ada")
    mail.outbox.clear()
    on_commit(agent_actions.escalation_resolve, escalation_id=escalation.pk, agent=ada, intent="contact_human_agent", note="Called back")
    assert FollowUpTicket.objects.get().status == "done"
    # The agent answers the ticket by e-mail themselves; the transcript needs a proved address.
    assert not mail.outbox
    assert "on its way to your e-mail" not in conversation.messages.filter(sender="system").last().text


def test_watchdog_reminds_then_reroutes_then_raises(escalate, settings):
    settings.SUPPORT_CLAIM_REMINDER_SECONDS = 180
    settings.SUPPORT_REROUTE_SECONDS = 300
    settings.SUPPORT_QUEUE_SLA_SECONDS = 300
    ada = make_agent("ada", online=True)
    escalation = escalate(make_conversation("help"))
    escalation.refresh_from_db()
    assert escalation.assigned_to == ada
    mail.outbox.clear()

    Escalation.objects.filter(pk=escalation.pk).update(assigned_at=minutes_ago(4))
    report = assignment.escalation_sla_check()
    assert report["reminded"] == 1
    assert [m.to for m in mail.outbox] == [["ada@desk.example"]]
    assert "Escalation #%d" % escalation.pk in mail.outbox[0].subject
    assert assignment.escalation_sla_check()["reminded"] == 0 and len(mail.outbox) == 1  # once

    bob = make_agent("bob", online=True)
    Escalation.objects.filter(pk=escalation.pk).update(assigned_at=minutes_ago(6))
    report = assignment.escalation_sla_check()
    escalation.refresh_from_db()
    assert report["rerouted"] == 1 and escalation.assigned_to == bob
    assert escalation.priority == "high" and escalation.route_count == 2

    # Nobody else is free now: it stays with bob, more urgent, and he is reminded again later.
    AgentProfile.objects.filter(user=ada).update(availability="offline")
    Escalation.objects.filter(pk=escalation.pk).update(assigned_at=minutes_ago(6))
    assignment.escalation_sla_check()
    escalation.refresh_from_db()
    assert escalation.assigned_to == bob and escalation.priority == "urgent" and escalation.status == "assigned"


def test_watchdog_raises_priority_of_unrouted_ones_once_per_sla(escalate, settings):
    settings.SUPPORT_QUEUE_SLA_SECONDS = 300
    escalation = escalate(make_conversation("help"))
    Escalation.objects.filter(pk=escalation.pk).update(created_at=minutes_ago(6))
    assert assignment.escalation_sla_check()["raised"] == 1
    assert assignment.escalation_sla_check()["raised"] == 0
    escalation.refresh_from_db()
    assert escalation.priority == "high"
    # An agent comes online: the watchdog routes what waits.
    make_agent("ada", online=True)
    assert assignment.escalation_sla_check()["routed"] == 1


def test_watchdog_requeues_a_conversation_whose_agent_vanished(escalate, on_commit, settings):
    settings.SUPPORT_ABANDONED_SECONDS = 300
    ada = make_agent("ada", online=True)
    conversation = make_conversation("help")
    escalation = escalate(conversation)
    on_commit(agent_actions.escalation_claim, escalation_id=escalation.pk, agent=ada)
    AgentProfile.objects.filter(user=ada).update(open_sockets=0, availability="offline", last_seen_at=minutes_ago(6))
    assert assignment.escalation_sla_check()["requeued"] == 1
    escalation.refresh_from_db()
    conversation.refresh_from_db()
    assert escalation.status == "queued" and escalation.assigned_to is None
    assert conversation.status == "waiting"


def test_presence_follows_the_workspace_sockets():
    ada = make_agent("ada")
    assert presence.agent_connect(agent=ada).availability == "online"
    presence.agent_connect(agent=ada)
    assert presence.agent_disconnect(agent=ada).availability == "online"  # one tab still open
    assert presence.agent_disconnect(agent=ada).availability == "offline"
    presence.agent_availability_set(agent=ada, availability="away")
    assert presence.agent_connect(agent=ada).availability == "away"  # a chosen "away" stays
    # A server died without counting its sockets down: after a silence the count starts again.
    AgentProfile.objects.filter(user=ada).update(open_sockets=5, last_seen_at=minutes_ago(10))
    assert presence.agent_connect(agent=ada).open_sockets == 1
    with pytest.raises(DeskError):
        presence.agent_availability_set(agent=ada, availability="sleeping")


def test_the_desk_starts_with_canned_replies_the_workspace_offers():
    from importlib import import_module

    from django.apps import apps

    # Transactional tests elsewhere flush the rows a data migration made: run it again (it is
    # idempotent) rather than depend on test order.
    seed = import_module("support.migrations.0002_default_canned_replies")
    seed.create(apps, None)
    seed.create(apps, None)
    replies = selectors.canned_reply_list()
    assert len(replies) == len(seed.DEFAULTS)
    assert {"hello", "order", "bye"} <= {r["shortcut"] for r in replies}
    assert all(r["text"] and r["title"] for r in replies)
