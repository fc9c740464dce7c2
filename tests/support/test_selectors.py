"""What the workspace shows an agent about the shopper: only what the shopper proved is theirs."""

import pytest

from bot.models import Conversation
from support import selectors
from support.models import Escalation
from tests.factories import CustomerFactory, OrderFactory, ReturnRequestFactory

pytestmark = pytest.mark.django_db


def test_a_verified_order_shows_that_shoppers_orders_and_returns():
    jo = CustomerFactory(email="jo@example.com")
    first = OrderFactory(customer=jo)
    second = OrderFactory(customer=jo)
    ReturnRequestFactory(order=second, rma_number="RMA-1")
    OrderFactory(customer=CustomerFactory(email="someone@example.com"))
    conversation = Conversation.objects.create(state={"verified": [first.number]})
    escalation = Escalation.objects.create(conversation=conversation, reason="requested", context={"verified_order": None})
    view = selectors.conversation_view(escalation=escalation)
    orders = {o["number"]: o for o in view["customer"]["orders"]}
    assert set(orders) == {first.number, second.number}
    assert [r["rma_number"] for r in orders[second.number]["returns"]] == ["RMA-1"]
    assert view["customer"]["customer"]["email"] == "jo@example.com"


def test_an_email_typed_into_the_chat_shows_nothing():
    OrderFactory(customer=CustomerFactory(email="jo@example.com"))
    conversation = Conversation.objects.create(shopper_email="jo@example.com")
    escalation = Escalation.objects.create(conversation=conversation, reason="requested")
    assert selectors.conversation_view(escalation=escalation)["customer"] == {"customer": None, "orders": []}
