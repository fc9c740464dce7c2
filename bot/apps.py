from django.apps import AppConfig


class BotConfig(AppConfig):
    name = "bot"
    verbose_name = "Shopping assistant"

    def ready(self):
        from . import signals  # noqa: F401 — connects the knowledge-base re-indexing
