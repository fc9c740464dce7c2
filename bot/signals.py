"""Keep the knowledge-base index in step: an article that changes is re-embedded after commit."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Article


@receiver(post_save, sender=Article, dispatch_uid="bot.article_saved")
@receiver(post_delete, sender=Article, dispatch_uid="bot.article_deleted")
def article_changed(sender, instance, **kwargs):
    from .tasks import reindex_article

    reindex_article.delay_on_commit(instance.pk)
