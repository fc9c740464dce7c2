"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "support.settings")
# Django must be set up before the routing imports consumers (and through them, models).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from support.checks import refuse_unsafe_start  # noqa: E402
from support.routing import websocket_urlpatterns  # noqa: E402
from support.security import SameOriginValidator  # noqa: E402

# Daphne runs no system checks: without this, DEBUG=0 with the repository's key would serve.
refuse_unsafe_start()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything imported so far lives as long as the process. Moving it out of the cyclic
# collector's reach keeps full collections short: without this, each one walked every Django,
# Channels and numpy object and stalled all chats on the process for 60-80 ms (measured with
# bench/bench_chat.py, twice per run per process).
gc.collect()
gc.freeze()
