from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = f"{settings.SHOP_NAME} — shop and support desk"
admin.site.site_title = settings.SHOP_NAME

urlpatterns = [
    path("admin/", admin.site.urls),
    path("desk/", include("support.desk_urls")),
    path("", include("catalog.urls")),
]
