from django.urls import path

from golden_records.api import views

urlpatterns = [
    path(
        "sources/<slug:system>/<str:domain>/batch",
        views.SourceBatchView.as_view(),
        name="source-batch",
    ),
    path(
        "sources/<slug:system>/<str:domain>/<path:source_id>",
        views.SourceRecordView.as_view(),
        name="source-record",
    ),
    path(
        "golden/<str:domain>/<uuid:golden_id>",
        views.GoldenRecordView.as_view(),
        name="golden-record",
    ),
]
