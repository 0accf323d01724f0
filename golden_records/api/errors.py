"""One error shape for the whole API, with stable codes.

``{"error": {"code": "...", "message": "...", "fields": [{"field", "code", "message"}]}}``
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

STATUS_CODES = {
    status.HTTP_400_BAD_REQUEST: "bad_request",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


class ApiError(exceptions.APIException):
    """An error with a stable code, an HTTP status and optional per-field details."""

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int = 400,
        fields: list[dict[str, str]] | None = None,
    ):
        super().__init__(message, code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.fields = fields or []


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            out.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        out = []
        for i, value in enumerate(detail):
            out.extend(
                _flatten(value, prefix if not isinstance(value, dict | list) else f"{prefix}[{i}]")
            )
        return out
    return [
        {
            "field": prefix or "non_field",
            "code": getattr(detail, "code", "invalid"),
            "message": str(detail),
        }
    ]


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApiError):
        return Response(error_body(exc.error_code, exc.message, exc.fields), status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("validation_error", "The request is not valid.", _flatten(exc.detail))
    else:
        detail = getattr(exc, "detail", "")
        code = (
            detail.code if hasattr(detail, "code") and detail.code not in (None, "error") else None
        )
        if isinstance(exc, exceptions.NotAuthenticated):
            code = "not_authenticated"
        code = code or STATUS_CODES.get(response.status_code, "error")
        body = error_body(code, str(detail))
    response.data = body
    return response
