from django.urls import path

from matching.api import views

urlpatterns = [
    path("match-reviews", views.MatchReviewList.as_view(), name="match-reviews"),
    path("match-reviews/<int:review_id>", views.MatchReviewDetail.as_view(), name="match-review"),
    # POST match-reviews/<id>/decision is a steward action: stewardship/api/urls.py.
    path("match-decisions", views.MatchDecisionList.as_view(), name="match-decisions"),
]
