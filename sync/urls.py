from django.urls import path

from sync import metrics, views

app_name = "sync"

urlpatterns = [
    path("ops/deliveries", views.dashboard, name="dashboard"),
    path("ops/deliveries/failed", views.failed, name="failed"),
    path("ops/deliveries/replay", views.replay_many, name="replay"),
    path("ops/deliveries/<int:pk>", views.delivery_detail, name="delivery"),
    path("ops/deliveries/<int:pk>/replay", views.replay_one, name="replay_one"),
    path("ops/subscriptions/<int:pk>", views.subscription_detail, name="subscription"),
    path("ops/subscriptions/<int:pk>/state", views.set_state, name="set_state"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
