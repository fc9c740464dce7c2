"""Keep the search indexes in step: an article (or a translation of it) that changes is re-embedded after commit, and
product search after a catalog import (catalog/imports.py)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.imports import catalog_imported
from catalog.models import Article, ArticleTranslation


@receiver(post_save, sender=Article, dispatch_uid="bot.article_saved")
@receiver(post_delete, sender=Article, dispatch_uid="bot.article_deleted")
def article_changed(sender, instance, **kwargs):
    from .tasks import reindex_article

    reindex_article.delay_on_commit(instance.pk)


@receiver(post_save, sender=ArticleTranslation, dispatch_uid="bot.article_translation_saved")
@receiver(post_delete, sender=ArticleTranslation, dispatch_uid="bot.article_translation_deleted")
def article_translation_changed(sender, instance, **kwargs):
    """A translation is passages of its article: the article is re-embedded, every language."""
    from .tasks import reindex_article

    reindex_article.delay_on_commit(instance.article_id)


@receiver(catalog_imported, dispatch_uid="bot.catalog_imported")
def catalog_changed(sender, product_ids, **kwargs):
    from .tasks import reindex_products

    reindex_products.delay_on_commit()
