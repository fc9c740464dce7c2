"""The support desk's pages, mounted at /desk/ by the project URLconf."""

from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("workspace/", views.workspace, name="workspace"),
]
