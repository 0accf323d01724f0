from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def healthz(request):
    return JsonResponse({"status": "ok"})


handler404 = "mdm.handlers.page_not_found"
handler500 = "mdm.handlers.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("golden_records.api.urls")),
    path("api/v1/", include("matching.api.urls")),
    path("api/v1/", include("stewardship.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("stewardship.urls")),
    path("", include("sync.urls")),
    path("", include("golden_records.urls")),
]
