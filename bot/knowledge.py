"""Knowledge-base retrieval: article paragraphs in every language the article has, embedded with
multilingual-e5 (ONNX), cosine search.

Articles are split into passages (paragraphs), one set per language (the article's own text and
each translation, catalog.models.ArticleTranslation), and embedded when they change (a Celery
task enqueued on save); before it searches, the chat also indexes any article whose passages are
missing or stale (``knowledge_index_refresh_if_due``), so bulk-loaded articles become searchable
without a separate step. The search itself only reads. The embedding matrix is cached per
process and rebuilt when the index changes.

One index serves every language: a question is compared with the passages of all languages
(e5 places a Japanese question near the English paragraph that answers it, and nearer still to
its Japanese translation), the best passage picks the article, and the answer quotes the
article's best passage in the language asked for, when the article has that language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, Max, Q

from catalog.models import Article, ArticleTranslation
from catalog.translations import SOURCE_LANGUAGE, language_code

from . import intents
from .models import ArticlePassage
from .search_index import RefreshingIndex

# Below this score a passage is not relevant enough to quote. When the passage's topic is the
# one the shopper's intent points to, the SLM's understanding is evidence too: a lower bar.
# e5's cosines sit high and close (an unrelated question scores up to ~0.85 against some
# paragraph, an answer ~0.86-0.97): the bars and the lexical weight were chosen on
# bot/data/search_eval.yaml (bench/bench_search.py), where 0.91 keeps every unrelated question
# of either language silent and passes 35/42 English and 39/43 Japanese first answers.
MIN_SCORE = 0.91
MIN_SCORE_ON_TOPIC = 0.88
# A passage in another language than the one asked in scores lower for the same relevance (a
# Japanese question against an English-only article: the right article first for 26 of 43
# questions, at 0.82-0.86), and so does an unrelated question (at most 0.83): its own bars.
MIN_SCORE_ACROSS = 0.84
MIN_SCORE_ACROSS_ON_TOPIC = 0.81
# Sentence embeddings miss some exact wording ("opening hours"): words of the query found in the
# article's title, tags or passage add up to LEXICAL_WEIGHT. Japanese has no spaces: its words
# are the kanji and katakana pairs (bigrams) of the text; hiragana is mostly grammar.
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
    language: str = SOURCE_LANGUAGE  # of title and text


def _embed_passages(texts: list[str]) -> np.ndarray:
    from .slm.embedder import get_embedder

    return get_embedder().passages(texts)


def _embed_query(text: str) -> np.ndarray:
    from .slm.embedder import get_embedder

    return get_embedder().queries([text])[0]


# A paragraph shorter than this is folded away (a heading, "You can pay with:"); Japanese says
# as much in fewer characters.
MIN_PARAGRAPH_CHARS = {"ja": 8}


def split_passages(article: Article, *, body: str | None = None, language: str = SOURCE_LANGUAGE) -> list[str]:
    body = article.body if body is None else body
    paragraphs = [p.strip() for p in body.replace("\r\n", "\n").split("\n\n")]
    shortest = MIN_PARAGRAPH_CHARS.get(language, 20)
    return [p for p in paragraphs if len(p) > shortest] or [body.strip()]


def article_texts(article: Article) -> dict[str, tuple[str, str]]:
    """language -> (title, body): the article's own, then each translation with a body."""
    texts = {SOURCE_LANGUAGE: (article.title, article.body)}
    for row in ArticleTranslation.objects.filter(article=article).exclude(body=""):
        texts.setdefault(language_code(row.language), (row.title or article.title, row.body))
    return texts


# --- Writes: keeping the index in step with the articles --------------------------------------------


@transaction.atomic
def article_reindex(*, article: Article) -> int:
    """Replace an article's passages (every language) with fresh embeddings. Returns the number
    of passages."""
    ArticlePassage.objects.filter(article=article).delete()
    if not article.is_published:
        _cache.invalidate()
        return 0
    rows = []
    for language, (title, body) in article_texts(article).items():
        rows += [(language, i, title, p) for i, p in enumerate(split_passages(article, body=body, language=language))]
    # The title is embedded with each paragraph: it carries the topic a paragraph assumes.
    vectors = _embed_passages([f"{title}. {p}" for _, _, title, p in rows])
    ArticlePassage.objects.bulk_create(
        ArticlePassage(article=article, language=language, position=i, text=p, embedding=vectors[k].astype(np.float32).tobytes())
        for k, (language, i, _, p) in enumerate(rows)
    )
    _cache.invalidate()
    return len(rows)


def knowledge_index_refresh() -> int:
    """Index published articles that have no passages or changed since they were indexed, and
    drop the passages of unpublished or deleted ones. Returns how many articles were indexed."""
    stale = (
        Article.objects.filter(is_published=True)
        .annotate(n=Count("passages", distinct=True), indexed=Max("passages__indexed_at"), translated=Max("translations__updated_at"))
        .only("pk", "updated_at")
    )
    count = 0
    for article in stale:
        changed = max(article.updated_at, article.translated or article.updated_at)
        if article.n == 0 or (article.indexed and article.indexed < changed):
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
    translated = ArticleTranslation.objects.aggregate(n=Count("pk"), last=Max("updated_at"))
    return found["n"], found["published"], found["last"], translated["n"], translated["last"]


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


_CONTENT_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\u30a0-\u30ff\uff66-\uff9f々ー]{2,}")


def _words(text: str) -> set[str]:
    """Lower-case Latin words and digits (stop words dropped), and the kanji/katakana pairs of
    Japanese text (NFKC first: full-width letters and half-width katakana count as the usual ones)."""
    text = unicodedata.normalize("NFKC", text).lower()
    words = {w for w in re.findall(r"[a-z0-9]+", text) if w not in STOPWORDS and len(w) > 1}
    for run in _CONTENT_RUN.findall(text):
        words.update(run[i : i + 2] for i in range(len(run) - 1))
    return words


def _passages_version():
    found = ArticlePassage.objects.aggregate(n=Count("pk"), last=Max("indexed_at"))
    return found["n"], found["last"]


def _passages_build():
    """The embedding matrix of every published passage, with what a quote needs of each."""
    passages = list(ArticlePassage.objects.filter(article__is_published=True).select_related("article").order_by("pk"))
    translated = {
        (t.article_id, language_code(t.language)): t
        for t in ArticleTranslation.objects.filter(article__is_published=True).only("article_id", "language", "title", "tags")
    }

    def title_and_tags(r) -> tuple[str, str]:
        t = translated.get((r.article_id, r.language))
        return (t.title or r.article.title, t.tags or r.article.tags) if t else (r.article.title, r.article.tags)

    rows = []
    for r in passages:
        title, tags = title_and_tags(r)
        rows.append({
            "article_id": r.article_id,
            "title": title,
            "url": r.article.get_absolute_url(),
            "topic": r.article.topic,
            "text": r.text,
            "language": r.language,
            "words": _words(f"{title} {tags} {r.text}"),
        })
    matrix = (
        np.vstack([np.frombuffer(bytes(r.embedding), dtype=np.float32) for r in passages])
        if passages
        else np.zeros((0, 384), dtype=np.float32)
    )
    return matrix, rows


_cache = RefreshingIndex(version=_passages_version, build=_passages_build, check_seconds=INDEX_CHECK_SECONDS)


def knowledge_search(*, query: str, intent: str | None = None, limit: int = 3, language: str | None = None) -> list[Passage]:
    """The most relevant articles' passages above MIN_SCORE, best first (may be empty), each in
    ``language`` (default: the active translation language) when the article has it, else in the
    article's own language. Reads only: the index is kept by the services above
    (``knowledge_index_refresh_if_due`` before a search)."""
    matrix, rows = _cache.get()
    if not rows or not query.strip():
        return []
    language = language_code(language)
    q = _embed_query(query)
    query_words = _words(query)
    lexical = np.array(
        [len(query_words & r["words"]) / len(query_words) if query_words else 0.0 for r in rows], dtype=np.float32
    )
    scores = matrix @ q + LEXICAL_WEIGHT * lexical
    topic = INTENT_TOPICS.get(intent or "")
    on_topic = np.array([r["topic"] == topic for r in rows]) if topic else np.zeros(len(rows), dtype=bool)
    # The topic boost orders passages; relevance is judged on the score and the topic's bar.
    ranking = scores + TOPIC_BOOST * on_topic
    same_language = np.array([r["language"] == language for r in rows])
    bar = np.where(
        same_language, np.where(on_topic, MIN_SCORE_ON_TOPIC, MIN_SCORE), np.where(on_topic, MIN_SCORE_ACROSS_ON_TOPIC, MIN_SCORE_ACROSS)
    )
    relevant = scores >= bar
    results, seen = [], set()
    for i in np.argsort(-ranking):
        if not relevant[i] or rows[i]["article_id"] in seen:
            continue
        article_id = rows[i]["article_id"]
        seen.add(article_id)
        # Quote the article in the language asked for: its best passage in that language (any
        # of them: the article is relevant), else the passage that matched.
        same_article = [j for j in range(len(rows)) if rows[j]["article_id"] == article_id and rows[j]["language"] == language]
        best = max(same_article, key=lambda j: ranking[j]) if same_article else i
        fields = {k: v for k, v in rows[best].items() if k != "words"}
        results.append(Passage(score=float(scores[i]), **fields))
        if len(results) == limit:
            break
    return results
