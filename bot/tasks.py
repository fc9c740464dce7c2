"""Celery tasks of the assistant: keeping the knowledge-base and product search indexes in step."""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3, soft_time_limit=60, time_limit=90)
def reindex_article(article_id: int) -> int:
    """Re-embed one article's passages (idempotent: replaces them). Returns the passage count;
    0 for a deleted article, whose passages went with it."""
    from catalog.models import Article

    from .knowledge import article_reindex, knowledge_index_refresh

    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        knowledge_index_refresh()  # this process stops quoting it now, not at its next look
        return 0
    return article_reindex(article=article)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3, soft_time_limit=600, time_limit=660)
def reindex_products() -> int:
    """Embed the products whose text changed (idempotent: unchanged ones keep their vectors).
    Returns the number of searchable products."""
    from .models import ProductEmbedding
    from .products import product_index_refresh

    product_index_refresh()
    return ProductEmbedding.objects.count()
