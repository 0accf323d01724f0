"""Project-wide error pages: under /api/ every error is the API's JSON error shape, never HTML.

DRF answers errors raised inside API views itself; these cover what Django answers before a view
runs (a path no route matches, such as a negative id) and errors outside DRF's handling.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from golden_records.api.errors import error_body


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("not_found", f"No API resource at {request.path}."), status=404
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        body = error_body("server_error", "The hub failed to answer; the error was logged.")
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
