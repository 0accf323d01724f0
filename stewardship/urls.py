from django.urls import path

from stewardship import record_views, views

app_name = "stewardship"

urlpatterns = [
    path("steward/reviews", views.review_queue, name="queue"),
    path("steward/reviews/bulk", views.bulk_decide, name="bulk"),
    path("steward/reviews/<int:review_id>", views.review_detail, name="review"),
    path("steward/reviews/<int:review_id>/decide", views.decide, name="decide"),
    path("steward/reviews/<int:review_id>/defer", views.defer, name="defer"),
    path("steward/reviews/<int:review_id>/assign", views.assign, name="assign"),
    path("steward/reviews/<int:review_id>/comment", views.comment, name="comment"),
    path("steward/records", record_views.record_search, name="records"),
    path(
        "steward/records/<str:domain>/<uuid:golden_id>",
        record_views.record_detail,
        name="record",
    ),
    path(
        "steward/records/<str:domain>/<uuid:golden_id>/unmerge",
        record_views.record_unmerge,
        name="unmerge",
    ),
]
