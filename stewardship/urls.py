from django.urls import path

from stewardship import approval_views, exception_views, record_views, rules_views, views

app_name = "stewardship"

urlpatterns = [
    path("steward/reviews", views.review_queue, name="queue"),
    path("steward/reviews/bulk", views.bulk_decide, name="bulk"),
    path("steward/reviews/<int:review_id>", views.review_detail, name="review"),
    path("steward/reviews/<int:review_id>/decide", views.decide, name="decide"),
    path("steward/reviews/<int:review_id>/defer", views.defer, name="defer"),
    path("steward/reviews/<int:review_id>/assign", views.assign, name="assign"),
    path("steward/reviews/<int:review_id>/comment", views.comment, name="comment"),
    path(
        "steward/reviews/<int:review_id>/clear-overrides",
        views.clear_overrides,
        name="clear-overrides",
    ),
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
    # Data-quality exceptions (stewardship/exception_views.py)
    path("steward/exceptions", exception_views.exceptions_queue, name="exceptions"),
    path("steward/exceptions/bulk", exception_views.exception_bulk, name="exception-bulk"),
    path(
        "steward/exceptions/<int:rejected_id>",
        exception_views.exception_detail,
        name="exception",
    ),
    path(
        "steward/exceptions/<int:rejected_id>/resubmit",
        exception_views.resubmit,
        name="exception-resubmit",
    ),
    path(
        "steward/exceptions/<int:rejected_id>/dismiss",
        exception_views.dismiss,
        name="exception-dismiss",
    ),
    # Ownership and match rules (stewardship/rules_views.py)
    path("steward/rules", rules_views.rules, name="rules"),
    path(
        "steward/rules/ownership/<int:rule_id>",
        rules_views.edit_ownership_rule,
        name="ownership-rule",
    ),
    path(
        "steward/rules/<str:domain>/thresholds",
        rules_views.edit_thresholds,
        name="match-thresholds",
    ),
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
