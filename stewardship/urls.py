from django.urls import path

from stewardship import views

app_name = "stewardship"

urlpatterns = [
    path("steward/reviews", views.review_queue, name="queue"),
    path("steward/reviews/bulk", views.bulk_decide, name="bulk"),
    path("steward/reviews/<int:review_id>", views.review_detail, name="review"),
    path("steward/reviews/<int:review_id>/decide", views.decide, name="decide"),
    path("steward/reviews/<int:review_id>/defer", views.defer, name="defer"),
    path("steward/reviews/<int:review_id>/assign", views.assign, name="assign"),
    path("steward/reviews/<int:review_id>/comment", views.comment, name="comment"),
]
