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


# Not acks_late: a retraining is not idempotent (a second run trains a second candidate). A worker
# killed mid-run loses the message; the job row goes stale and the next start says so.
@shared_task(acks_late=False, soft_time_limit=3600, time_limit=3700)
def retrain(job_id: int) -> int | None:
    """Train, judge and (if it passes the gate) promote a candidate. Returns its version's id."""
    from .retraining import retrain_run

    candidate = retrain_run(job_id=job_id)
    return candidate.pk if candidate else None


@shared_task(acks_late=False, soft_time_limit=60, time_limit=90)
def scheduled_retrain() -> int | None:
    """Celery beat, on settings.RETRAIN_SCHEDULE: start a retraining if labels came in since the last."""
    from .retraining import retrain_scheduled

    job = retrain_scheduled()
    return job.pk if job else None


@shared_task(acks_late=True, soft_time_limit=20, time_limit=30)
def shadow_classify(message_id: int) -> bool | None:
    """The shadow candidate reads a shopper message the serving model already answered (idempotent
    enough: a redelivered message counts twice at worst). Returns whether the two agreed."""
    from .shadow import shadow_compare

    return shadow_compare(message_id=message_id)
