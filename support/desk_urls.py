"""The support desk's pages, mounted at /desk/ by the project URLconf."""

from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("workspace/", views.workspace, name="workspace"),
    path("insights/", views.insights_page, name="insights"),
    path("insights.json", views.insights_json, name="insights-json"),
    path("insights.csv", views.insights_csv, name="insights-csv"),
    path("review/", views.review_queue, name="review"),
    path("review/<int:message_id>/label/", views.review_label, name="review-label"),
    path("conversations/<uuid:public_id>/", views.conversation_transcript, name="transcript"),
]
