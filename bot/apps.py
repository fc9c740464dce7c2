from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BotConfig(AppConfig):
    name = "bot"
    verbose_name = _("Shopping assistant")

    def ready(self):
        from . import signals  # noqa: F401 — connects the knowledge-base re-indexing
