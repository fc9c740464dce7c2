"""bot.intents: the one registry every list of intents derives from."""

from bot import dialogue, intents, knowledge
from support import selectors
from support import handoff as desk_handoff


def test_every_label_the_shipped_model_serves_has_a_registry_row_and_every_model_row_is_served():
    served = set(intents.artifact_labels())
    model_rows = {row.name for row in intents.INTENTS if row.model}
    assert served - set(intents.BY_NAME) == set(), "labels of the model without a registry row"
    assert model_rows - served == set(), "registry rows the shipped model never serves"


def test_registry_names_are_unique():
    assert len(intents.BY_NAME) == len(intents.INTENTS)


def test_an_order_intent_names_exactly_one_thing_to_do_with_a_verified_order():
    from bot.actions import OPERATIONS

    for row in intents.INTENTS:
        if row.kind == intents.ORDER:
            assert bool(row.operation) != bool(row.shows), row.name
            assert row.purpose, row.name
            assert not row.operation or row.operation in OPERATIONS, row.name
        else:
            assert not (row.operation or row.shows), row.name


def test_the_other_lists_are_the_registry_s():
    assert dialogue.ORDER_INTENTS == {r.name for r in intents.INTENTS if r.kind == intents.ORDER}
    assert knowledge.INTENT_TOPICS == {r.name: r.topic for r in intents.INTENTS if r.topic}
    assert set(knowledge.INTENT_TOPICS) == dialogue.KNOWLEDGE_INTENTS  # every knowledge answer has a topic
    assert desk_handoff.SMALL_TALK == {"greeting", "goodbye", "thanks", "affirm", "deny", "out_of_scope", "followup_email"}
    # The desk's intent picker offers what the model serves, without reading ../shared.
    assert list(selectors.intent_labels()) == list(intents.artifact_labels())


def test_a_button_label_names_its_intent_back():
    assert intents.label("track_order") == "Track my order"
    assert intents.label_to_intent("  track MY order ") == "track_order"
    assert intents.label_to_intent("Track my parcel") is None
