"""The desk writes to a shopper in the conversation's language (system messages, e-mails) and
shows agents that language; the agent's own words follow the agent's language."""

import pytest
from django.core import mail

from bot.models import Message
from support import emails, selectors
from support.consumers import scope_language
from support.desk import system_message_store
from support.models import Escalation, FollowUpTicket
from tests.support.conftest import make_conversation

pytestmark = pytest.mark.django_db


def _japanese_conversation():
    conversation = make_conversation("こんにちは")
    conversation.language = "ja"
    conversation.save(update_fields=["language"])
    return conversation


def test_a_system_message_is_written_in_the_conversations_language():
    from django.utils.translation import gettext_lazy

    conversation = _japanese_conversation()
    message = system_message_store(conversation, gettext_lazy("%(agent)s has marked your request as resolved. The assistant is here if you need anything else."), agent="Anna")
    assert message.sender == Message.Sender.SYSTEM
    assert message.text == "Anna がお問い合わせを解決済みにしました。ほかにご用件があれば、アシスタントがお手伝いします。"
    english = make_conversation("hello")
    assert system_message_store(english, gettext_lazy("Our agent got disconnected — you're back in the queue and the next person will take over.")).text.startswith("Our agent got disconnected")


def test_the_follow_up_confirmation_goes_out_in_the_conversations_language():
    ticket = FollowUpTicket.objects.create(conversation=_japanese_conversation(), email="shopper@example.com")
    assert emails.followup_confirmation_send(ticket_id=ticket.pk) is True
    sent = mail.outbox[-1]
    assert "お問い合わせを承りました" in sent.subject and f"チケット #{ticket.pk}" in sent.body


def test_the_escalation_frame_carries_the_conversations_language():
    conversation = _japanese_conversation()
    escalation = Escalation.objects.create(conversation=conversation, reason=Escalation.Reason.REQUESTED, summary="…")
    frame = selectors.escalation_frame(escalation)
    assert frame["language"] == "ja"


@pytest.mark.parametrize(
    "headers, expected",
    [
        ([(b"cookie", b"sessionid=x; django_language=ja")], "ja"),
        ([(b"accept-language", b"ja-JP,ja;q=0.9,en;q=0.8")], "ja"),
        ([(b"accept-language", b"fr-FR,fr;q=0.9")], "en"),
        ([], "en"),
    ],
)
def test_the_agent_socket_speaks_the_agents_language(headers, expected):
    assert scope_language({"headers": headers}) == expected
