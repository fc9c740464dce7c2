from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support desk")

    def ready(self):
        from support import checks  # noqa: F401 -- registers the system checks
        from bot.handoff import handoff_port

        from . import signals  # noqa: F401 — agent sockets close when access is taken away
        from . import tasks  # noqa: F401 — registers the tasks the services start by name (support/jobs.py)
        from .handoff import DeskHandoff

        handoff_port.register(DeskHandoff())  # the bot hands conversations to this desk
