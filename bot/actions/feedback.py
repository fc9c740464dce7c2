"""A shopper's feedback, kept in the conversation's state."""

from .. import dialogue
from .base import handles


@handles(dialogue.RecordFeedback)
def record_feedback(executor, action: dialogue.RecordFeedback, state):
    feedback = list(executor.conversation.state.get("feedback", []))[-9:] + [action.text[:1000]]
    executor.state_updates["feedback"] = feedback
    return None
