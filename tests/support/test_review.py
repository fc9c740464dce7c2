"""The review queue (/desk/review/) and labelling from a transcript: which messages are in it,
and how an agent's one-click label becomes a training example (once per message)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from bot.models import Conversation, Message, TrainingExample
from support import agent_actions, review
from support.desk import DeskError
from support.models import Escalation
from tests.support.conftest import make_agent

pytestmark = pytest.mark.django_db


def shopper(conversation, text, intent, confidence, *, minutes_ago, top=None):
    return Message.objects.create(
        conversation=conversation, sender="shopper", text=text, intent=intent, confidence=confidence,
        data={"top": top or [[intent, confidence]]}, created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def messages():
    chat = Conversation.objects.create()
    confused = Conversation.objects.create()
    rows = {
        "sure": shopper(chat, "where is my parcel", "track_order", 0.95, minutes_ago=50),
        "unsure": shopper(chat, "parcel thing??", "track_order", 0.55, minutes_ago=40, top=[["track_order", 0.55], ["delivery_period", 0.3]]),
        "lost": shopper(chat, "flibber the gizmo", "out_of_scope", 0.21, minutes_ago=30, top=[["product_info", 0.21], ["complaint", 0.2]]),
        # Confident, but it led to a hand-off for confusion in its conversation.
        "escalated": shopper(confused, "I said the other one", "change_order", 0.9, minutes_ago=20),
        "after": shopper(confused, "ok thanks", "thanks", 0.99, minutes_ago=5),
    }
    Message.objects.create(conversation=chat, sender="bot", text="Sorry?", intent="out_of_scope", confidence=0.2)
    Escalation.objects.create(conversation=confused, reason="low_confidence", created_at=timezone.now() - timedelta(minutes=19))
    return rows


def queue(**kwargs):
    return [m.text for m in review.review_queue(**kwargs)]


def test_the_queue_holds_unsure_not_understood_and_confusing_messages_newest_first(messages):
    assert queue() == ["I said the other one", "flibber the gizmo", "parcel thing??"]
    assert queue(why="out_of_scope") == ["flibber the gizmo"]
    assert queue(why="low_confidence") == ["parcel thing??"]
    assert queue(why="escalated") == ["I said the other one"]
    with pytest.raises(ValueError):
        queue(why="everything")


def test_each_row_shows_the_models_guess_even_when_the_assistant_acted_on_out_of_scope(messages):
    items = {item.message.text: item for item in map(review.review_item, review.review_queue())}
    assert (items["flibber the gizmo"].guess, items["flibber the gizmo"].confidence) == ("product_info", 0.21)
    assert items["flibber the gizmo"].whys == ("out_of_scope", "low_confidence")
    assert items["parcel thing??"].guess == "track_order"
    assert items["I said the other one"].whys == ("escalated",)


def test_a_label_is_a_training_example_with_who_when_and_where_and_a_second_label_updates_it(messages):
    ada, bob = make_agent("ada"), make_agent("bob")
    lost = messages["lost"]
    example = agent_actions.message_label(message_id=lost.pk, intent="product_info", agent=ada)
    assert (example.text, example.intent, example.source, example.created_by, example.message, example.conversation) == (
        "flibber the gizmo", "product_info", "confirmation", ada, lost, lost.conversation,
    )
    first_at = example.labelled_at
    assert "flibber the gizmo" not in queue()
    again = agent_actions.message_label(message_id=lost.pk, intent="out_of_scope", agent=bob)
    assert TrainingExample.objects.filter(message=lost).count() == 1
    assert (again.pk, again.intent, again.source, again.created_by) == (example.pk, "out_of_scope", "correction", bob)
    assert again.labelled_at >= first_at and again.created_at == example.created_at


def test_labels_are_checked_and_nothing_is_stored_on_a_bad_one(messages):
    ada = make_agent("ada")
    bot_message = Message.objects.filter(sender="bot").first()
    for kwargs, code in [
        (dict(message_id=messages["lost"].pk, intent="not_an_intent"), "bad_intent"),
        (dict(message_id=messages["lost"].pk, intent="clarify"), "bad_intent"),  # a dialogue name, not a model label
        (dict(message_id=bot_message.pk, intent="track_order"), "bad_message"),
        (dict(message_id=999_999, intent="track_order"), "bad_message"),
    ]:
        with pytest.raises(DeskError) as error:
            agent_actions.message_label(agent=ada, **kwargs)
        assert error.value.code == code
    assert not TrainingExample.objects.exists()


def test_the_page_lists_the_queue_and_one_post_labels_a_row(client, messages):
    ada = make_agent("ada")
    client.force_login(ada)
    page = client.get("/desk/review/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="review-row"') == 3
    assert "flibber the gizmo" in html and "where is my parcel" not in html
    assert 'name="csrfmiddlewaretoken"' in html and "Confirm product_info" in html
    lost = messages["lost"]
    response = client.post(f"/desk/review/{lost.pk}/label/", {"intent": "product_info", "next": "/desk/review/?why=out_of_scope"})
    assert response.status_code == 302 and response["Location"] == "/desk/review/?why=out_of_scope"
    assert TrainingExample.objects.get(message=lost).created_by == ada
    assert client.get("/desk/review/").content.decode().count('data-testid="review-row"') == 2
    # Filtered pages.
    assert client.get("/desk/review/?why=escalated").content.decode().count('data-testid="review-row"') == 1


def test_a_bad_post_saves_nothing_and_says_why(client, messages):
    client.force_login(make_agent("ada"))
    response = client.post(f"/desk/review/{messages['lost'].pk}/label/", {"intent": "bogus"}, follow=True)
    assert "not one of the model" in response.content.decode()
    response = client.post(f"/desk/review/{messages['lost'].pk}/label/", {"intent": "track_order", "next": "https://evil.example/"})
    assert response["Location"] == "/desk/review/"  # never off-site
    assert client.get(f"/desk/review/{messages['lost'].pk}/label/").status_code == 405
    assert TrainingExample.objects.count() == 1


def test_the_label_needs_the_csrf_token(messages):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_agent("ada"))
    assert strict.post(f"/desk/review/{messages['lost'].pk}/label/", {"intent": "track_order"}).status_code == 403
    assert not TrainingExample.objects.exists()


def test_an_agent_labels_a_message_from_the_transcript(client, messages):
    ada = make_agent("ada")
    client.force_login(ada)
    chat = messages["sure"].conversation
    page = client.get(f"/desk/conversations/{chat.public_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    # Every shopper message can be labelled there, even a confident one the queue leaves out.
    assert html.count('data-testid="label-forms"') == 3
    url = f"/desk/conversations/{chat.public_id}/"
    response = client.post(f"/desk/review/{messages['sure'].pk}/label/", {"intent": "delivery_period", "next": url})
    assert response["Location"] == url
    example = TrainingExample.objects.get(message=messages["sure"])
    assert (example.intent, example.source, example.conversation) == ("delivery_period", "correction", chat)
    assert "Labelled delivery_period by ada" in client.get(url).content.decode()


def test_a_resolution_label_updates_a_review_label_of_the_same_message(on_commit, messages):
    ada = make_agent("ada")
    confused = messages["escalated"].conversation
    agent_actions.message_label(message_id=messages["escalated"].pk, intent="change_order", agent=ada)
    escalation = Escalation.objects.get(conversation=confused)
    on_commit(agent_actions.escalation_resolve, escalation_id=escalation.pk, agent=ada, intent="cancel_order",
              message_ids=[messages["escalated"].pk])
    example = TrainingExample.objects.get(message=messages["escalated"])
    assert (example.intent, example.source, example.conversation) == ("cancel_order", "agent_label", confused)


def test_only_agents_reach_the_queue_and_the_labels(client, messages):
    url = f"/desk/review/{messages['lost'].pk}/label/"
    assert client.get("/desk/review/").status_code == 302
    assert client.post(url, {"intent": "track_order"}).status_code == 302
    clerk = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)
    assert client.get("/desk/review/").status_code == 403
    assert client.post(url, {"intent": "track_order"}).status_code == 403
    assert client.get(f"/desk/conversations/{messages['lost'].conversation.public_id}/").status_code == 403
    assert not TrainingExample.objects.exists()
