"""The help centre: reads of the shop's help articles for its pages.

The chat quotes the same articles through its own index (bot/knowledge.py); the admin edits them.
"""

from __future__ import annotations

from django.db.models import Q

from .models import Article

# The help articles linked from the home page and the footer, when they exist.
FEATURED_ARTICLES = [
    "shipping-countries-and-costs",
    "delivery-times",
    "returns-and-refunds",
    "how-to-start-a-return",
    "size-guide",
    "payment-methods",
]


def articles_featured() -> list[Article]:
    """The featured articles in their order; the first six published when none of them exists."""
    articles = {a.slug: a for a in Article.objects.filter(is_published=True, slug__in=FEATURED_ARTICLES)}
    featured = [articles[s] for s in FEATURED_ARTICLES if s in articles]
    return featured or list(Article.objects.filter(is_published=True)[:6])


def articles_by_topic(*, query: str = "") -> list[dict]:
    """Published articles with every word of ``query`` (title, tags or body, in any language), by title, grouped
    by topic in the topics' order: ``[{"value", "label", "articles"}]``."""
    articles = Article.objects.filter(is_published=True)
    for word in query.split():
        articles = articles.filter(
            Q(title__icontains=word) | Q(tags__icontains=word) | Q(body__icontains=word)
            # the translations too: a Japanese query finds the article by its Japanese text
            | Q(translations__title__icontains=word) | Q(translations__tags__icontains=word) | Q(translations__body__icontains=word)
        )
    by_topic: dict[str, list[Article]] = {}
    for article in articles.distinct().order_by("title"):
        by_topic.setdefault(article.topic, []).append(article)
    return [
        {"value": value, "label": label, "articles": by_topic[value]}
        for value, label in Article.Topic.choices
        if value in by_topic
    ]


def articles_related(*, article: Article, limit: int = 5):
    """Other published articles of the same topic, by title."""
    return Article.objects.filter(is_published=True, topic=article.topic).exclude(pk=article.pk).order_by("title")[:limit]
