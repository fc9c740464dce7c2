"""Knowledge-base retrieval: article paragraphs embedded with MiniLM (ONNX), cosine search.

Articles are split into passages (paragraphs) and embedded when they change (a Celery task
enqueued on save); the search also indexes any article whose passages are missing or stale,
so bulk-loaded articles become searchable without a separate step. The embedding matrix is
cached per process and rebuilt when the index changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, Max

from catalog.models import Article

from .models import ArticlePassage

# Below this cosine similarity a passage is not relevant enough to quote.
MIN_SCORE = 0.38
# Passages of the article topic that matches the shopper's intent get a small boost.
TOPIC_BOOST = 0.06
INTENT_TOPICS = {
    "check_refund_policy": "returns",
    "set_up_shipping_address": "account",
    "check_payment_methods": "payments",
    "payment_issue": "payments",
    "check_cancellation_fee": "orders",
    "create_account": "account",
    "delete_account": "account",
    "edit_account": "account",
    "recover_password": "account",
    "registration_problems": "account",
    "switch_account": "account",
    "contact_customer_service": "contact",
    "discount_code": "promotions",
}


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


@transaction.atomic
def article_reindex(*, article: Article) -> int:
    """Replace an article's passages with fresh embeddings. Returns the number of passages."""
    ArticlePassage.objects.filter(article=article).delete()
    if not article.is_published:
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


def index_missing() -> int:
    """Index published articles that have no passages or changed since they were indexed."""
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
    removed, _ = ArticlePassage.objects.exclude(article__is_published=True).delete()
    if removed:
        _cache.invalidate()
    return count


class _Index:
    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._matrix = None
        self._rows: list[dict] = []

    def invalidate(self):
        with self._lock:
            self._key = None

    def get(self):
        key = ArticlePassage.objects.aggregate(n=Count("pk"), last=Max("indexed_at"))
        key = (key["n"], key["last"])
        with self._lock:
            if key != self._key:
                rows = list(
                    ArticlePassage.objects.filter(article__is_published=True)
                    .select_related("article")
                    .order_by("pk")
                )
                self._rows = [
                    {
                        "article_id": r.article_id,
                        "title": r.article.title,
                        "url": r.article.get_absolute_url(),
                        "topic": r.article.topic,
                        "text": r.text,
                    }
                    for r in rows
                ]
                self._matrix = (
                    np.vstack([np.frombuffer(bytes(r.embedding), dtype=np.float32) for r in rows])
                    if rows
                    else np.zeros((0, 384), dtype=np.float32)
                )
                self._key = key
            return self._matrix, self._rows


_cache = _Index()


def knowledge_search(*, query: str, intent: str | None = None, limit: int = 3) -> list[Passage]:
    """The most relevant passages above MIN_SCORE, best first (may be empty)."""
    index_missing()
    matrix, rows = _cache.get()
    if not rows or not query.strip():
        return []
    q = _embed([query])[0]
    scores = matrix @ q
    ranking = scores
    topic = INTENT_TOPICS.get(intent or "")
    if topic:
        # The boost orders passages; relevance is still judged on the raw similarity.
        ranking = scores + np.array([TOPIC_BOOST if r["topic"] == topic else 0.0 for r in rows], dtype=np.float32)
    order = np.argsort(-ranking)[: limit * 3]
    results, seen = [], set()
    for i in order:
        if scores[i] < MIN_SCORE:
            continue
        row = rows[i]
        if row["article_id"] in seen:
            continue
        seen.add(row["article_id"])
        results.append(Passage(score=float(scores[i]), **row))
        if len(results) == limit:
            break
    return results
