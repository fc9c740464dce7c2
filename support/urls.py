from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

admin.site.site_header = format_lazy(_("{shop} — shop and support desk"), shop=settings.SHOP_NAME)
admin.site.site_title = settings.SHOP_NAME

urlpatterns = [
    path("admin/", admin.site.urls),
    path("desk/", include("support.desk_urls")),
    # The language switcher posts here (Django's set_language: a cookie, then back to the page).
    path("i18n/", include("django.conf.urls.i18n")),
    # The browser's strings (static/*.js, domain djangojs) for the page's language: a served
    # script, so the Content-Security-Policy needs no inline code.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("catalog.urls")),
]
