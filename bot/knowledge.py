"""Knowledge-base retrieval: article paragraphs embedded with MiniLM (ONNX), cosine search.

Articles are split into passages (paragraphs) and embedded when they change (a Celery task
enqueued on save); before it searches, the chat also indexes any article whose passages are
missing or stale (``knowledge_index_refresh_if_due``), so bulk-loaded articles become searchable
without a separate step. The search itself only reads. The embedding matrix is cached per
process and rebuilt when the index changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, Max, Q

from catalog.models import Article

from . import intents
from .models import ArticlePassage
from .search_index import RefreshingIndex

# Below this score a passage is not relevant enough to quote. When the passage's topic is the
# one the shopper's intent points to, the SLM's understanding is evidence too: a lower bar.
MIN_SCORE = 0.38
MIN_SCORE_ON_TOPIC = 0.30
# Sentence embeddings miss some exact wording ("opening hours"): words of the query found in the
# article's title, tags or passage add up to LEXICAL_WEIGHT.
LEXICAL_WEIGHT = 0.15
STOPWORDS = frozenset(
    "a an and are as at be can could do does for from have how i if in is it me my of on or our "
    "please so that the there this to was we what when where which who why will with you your yours "
    "hi hello hey thanks".split()
)
# Passages of the article topic that matches the shopper's intent get a small boost.
TOPIC_BOOST = 0.06
INTENT_TOPICS = intents.INTENT_TOPICS  # the registry's topic of each knowledge intent


@dataclass(frozen=True)
class Passage:
    article_id: int
    title: str
    url: str
    topic: str
    text: str
    score: float


def _embed(texts: list[str]) -> np.ndarray:
    from .slm.embedder import get_embedder

    return get_embedder().embed(texts)


def split_passages(article: Article) -> list[str]:
    paragraphs = [p.strip() for p in article.body.replace("\r\n", "\n").split("\n\n")]
    return [p for p in paragraphs if len(p) > 20] or [article.body.strip()]


# --- Writes: keeping the index in step with the articles --------------------------------------------


@transaction.atomic
def article_reindex(*, article: Article) -> int:
    """Replace an article's passages with fresh embeddings. Returns the number of passages."""
    ArticlePassage.objects.filter(article=article).delete()
    if not article.is_published:
        _cache.invalidate()
        return 0
    passages = split_passages(article)
    # The title is embedded with each paragraph: it carries the topic a paragraph assumes.
    vectors = _embed([f"{article.title}. {p}" for p in passages])
    ArticlePassage.objects.bulk_create(
        ArticlePassage(article=article, position=i, text=p, embedding=vectors[i].astype(np.float32).tobytes())
        for i, p in enumerate(passages)
    )
    _cache.invalidate()
    return len(passages)


def knowledge_index_refresh() -> int:
    """Index published articles that have no passages or changed since they were indexed, and
    drop the passages of unpublished or deleted ones. Returns how many articles were indexed."""
    stale = (
        Article.objects.filter(is_published=True)
        .annotate(n=Count("passages"), indexed=Max("passages__indexed_at"))
        .only("pk", "updated_at")
    )
    count = 0
    for article in stale:
        if article.n == 0 or (article.indexed and article.indexed < article.updated_at):
            article_reindex(article=Article.objects.get(pk=article.pk))
            count += 1
    # Passages of unpublished or deleted articles must never be quoted.
    ArticlePassage.objects.exclude(article__is_published=True).delete()
    _cache.invalidate()
    return count


# How often a process looks for articles changed elsewhere (the Celery task re-indexes an article
# saved through the ORM; this catches bulk loads and edits that bypassed the signals). Not on
# every message: it is a query.
INDEX_CHECK_SECONDS = 30.0


def _articles_version():
    found = Article.objects.aggregate(n=Count("pk"), published=Count("pk", filter=Q(is_published=True)), last=Max("updated_at"))
    return found["n"], found["published"], found["last"]


_articles_seen = RefreshingIndex(version=_articles_version, build=knowledge_index_refresh, check_seconds=INDEX_CHECK_SECONDS)


def knowledge_index_refresh_if_due() -> None:
    """What the chat calls before it searches: ``knowledge_index_refresh`` when the articles
    changed since this process last looked (it looks every INDEX_CHECK_SECONDS)."""
    _articles_seen.get()


def reset_caches() -> None:
    """Forget what this process knows of the index (tests flush the database under it)."""
    _articles_seen.invalidate()
    _cache.invalidate()


# --- Reads: the search ----------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS and len(w) > 1}


def _passages_version():
    found = ArticlePassage.objects.aggregate(n=Count("pk"), last=Max("indexed_at"))
    return found["n"], found["last"]


def _passages_build():
    """The embedding matrix of every published passage, with what a quote needs of each."""
    passages = list(ArticlePassage.objects.filter(article__is_published=True).select_related("article").order_by("pk"))
    rows = [
        {
            "article_id": r.article_id,
            "title": r.article.title,
            "url": r.article.get_absolute_url(),
            "topic": r.article.topic,
            "text": r.text,
            "words": _words(f"{r.article.title} {r.article.tags} {r.text}"),
        }
        for r in passages
    ]
    matrix = (
        np.vstack([np.frombuffer(bytes(r.embedding), dtype=np.float32) for r in passages])
        if passages
        else np.zeros((0, 384), dtype=np.float32)
    )
    return matrix, rows


_cache = RefreshingIndex(version=_passages_version, build=_passages_build, check_seconds=INDEX_CHECK_SECONDS)


def knowledge_search(*, query: str, intent: str | None = None, limit: int = 3) -> list[Passage]:
    """The most relevant passages above MIN_SCORE, best first (may be empty). Reads only: the
    index is kept by the services above (``knowledge_index_refresh_if_due`` before a search)."""
    matrix, rows = _cache.get()
    if not rows or not query.strip():
        return []
    q = _embed([query])[0]
    query_words = _words(query)
    lexical = np.array(
        [len(query_words & r["words"]) / len(query_words) if query_words else 0.0 for r in rows], dtype=np.float32
    )
    scores = matrix @ q + LEXICAL_WEIGHT * lexical
    topic = INTENT_TOPICS.get(intent or "")
    on_topic = np.array([r["topic"] == topic for r in rows]) if topic else np.zeros(len(rows), dtype=bool)
    # The topic boost orders passages; relevance is judged on the score and the topic's bar.
    ranking = scores + TOPIC_BOOST * on_topic
    order = np.argsort(-ranking)[: limit * 3]
    results, seen = [], set()
    for i in order:
        if scores[i] < (MIN_SCORE_ON_TOPIC if on_topic[i] else MIN_SCORE):
            continue
        row = rows[i]
        if row["article_id"] in seen:
            continue
        seen.add(row["article_id"])
        fields = {k: v for k, v in row.items() if k != "words"}
        results.append(Passage(score=float(scores[i]), **fields))
        if len(results) == limit:
            break
    return results
