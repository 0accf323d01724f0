from django.urls import path

from golden_records import views

app_name = "golden_records"

urlpatterns = [
    path("", views.home, name="home"),
]
