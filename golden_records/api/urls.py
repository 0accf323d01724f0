from django.urls import path, register_converter

from golden_records.api import views
from golden_records.api import xref as xref_views
from golden_records.api.golden import golden_urlpatterns

register_converter(xref_views.SystemCodeConverter, "system_code")

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
    # One list and one detail route per domain (their schemas differ), then JSON 404s.
    *golden_urlpatterns(),
    path("xref/<str:domain>/lookup", xref_views.XrefLookupView.as_view(), name="xref-lookup"),
    # The target-system route first: it matches only when the last segment is a system code.
    path(
        "xref/<str:domain>/<slug:system>/<path:source_id>/<system_code:target_system>",
        xref_views.XrefTargetView.as_view(),
        name="xref-target",
    ),
    path(
        "xref/<str:domain>/<slug:system>/<path:source_id>",
        xref_views.XrefView.as_view(),
        name="xref",
    ),
]
