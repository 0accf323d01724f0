"""Schema post-processing: the answers authentication and authorisation give, on every operation.

Every operation takes a bearer token or a session (``components.securitySchemes``), so every one
can answer 401 (no or a bad credential), 403 (a session without a role, a viewer writing, a
token outside its scope: stewardship/permissions.py ``ApiRole``) and 429 (too many bad tokens
from one address: golden_records/api/authentication.py). The views document their own codes;
this hook adds these where a view did not, in the API's error shape.
"""

from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
AUTH_RESPONSES = {
    "401": "No credentials, or a token that is unknown, revoked or of an inactive system.",
    "403": (
        "`role_required`: a session without the viewer, steward or admin role; "
        "`steward_required`: a viewer's (or a token's) write."
    ),
    "429": (
        "`too_many_failed_authentications`: too many bad tokens from this address lately; "
        "`Retry-After` says when to try again."
    ),
}


def document_auth_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    if "Error" not in result.get("components", {}).get("schemas", {}):
        return result
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in AUTH_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "content": {"application/json": {"schema": ERROR_REF}},
                        "description": description,
                    },
                )
    return result
