from django.urls import path

from stewardship import approval_views, views

app_name = "stewardship"

urlpatterns = [
    path("steward/reviews", views.review_queue, name="queue"),
    path("steward/reviews/bulk", views.bulk_decide, name="bulk"),
    path("steward/reviews/<int:review_id>", views.review_detail, name="review"),
    path("steward/reviews/<int:review_id>/decide", views.decide, name="decide"),
    path("steward/reviews/<int:review_id>/defer", views.defer, name="defer"),
    path("steward/reviews/<int:review_id>/assign", views.assign, name="assign"),
    path("steward/reviews/<int:review_id>/comment", views.comment, name="comment"),
    path("steward/approvals", approval_views.approval_queue, name="approvals"),
    path("steward/approvals/bulk", approval_views.approval_bulk, name="approval_bulk"),
    path("steward/approvals/<int:approval_id>", approval_views.approval_detail, name="approval"),
    path(
        "steward/approvals/<int:approval_id>/decide",
        approval_views.approval_decide,
        name="approval_decide",
    ),
    path(
        "steward/records/<str:domain>/<uuid:golden_id>/edit",
        approval_views.record_edit,
        name="record_edit",
    ),
]
