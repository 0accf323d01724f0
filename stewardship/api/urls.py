from django.urls import path

from stewardship.api import views

urlpatterns = [
    path(
        "match-reviews/<int:review_id>/decision",
        views.MatchReviewDecision.as_view(),
        name="match-review-decision",
    ),
]
