from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support desk"

    def ready(self):
        from support import checks  # noqa: F401 -- registers the system checks
        from . import signals  # noqa: F401 — agent sockets close when access is taken away
