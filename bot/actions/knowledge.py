"""A help-centre answer (bot.knowledge): the best passage, with its sources."""

from django.utils.translation import gettext

from .. import dialogue
from .base import handles


@handles(dialogue.Knowledge)
def knowledge(executor, action: dialogue.Knowledge, state):
    from ..knowledge import knowledge_index_refresh_if_due, knowledge_search

    knowledge_index_refresh_if_due()
    passages = knowledge_search(query=action.query, intent=action.intent, limit=2)
    if not passages:
        return dialogue.Outcome(action="knowledge", ok=True, found=False)
    best = passages[0]
    executor.reply.say(gettext("From our help centre — %(title)s:\n%(text)s") % {"title": best.title, "text": best.text})
    for p in passages:
        executor.reply.sources.append({"title": p.title, "url": p.url})
    return dialogue.Outcome(action="knowledge", ok=True, found=True)
