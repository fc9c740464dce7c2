"""The database down: storefront and desk pages answer 503 with a plain page, not a bare 500."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin

from bot.outages import DATABASE_DOWN

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.error("database unavailable for %s %s", request.method, request.path, exc_info=exception)
        # Rendered without the request: the context processors would query the database.
        body = render_to_string("503.html", {"SHOP_NAME": settings.SHOP_NAME})
        return HttpResponse(body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
