from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support desk"

    def ready(self):
        from . import signals  # noqa: F401 — agent sockets close when access is taken away
