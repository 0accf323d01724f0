"""Creating and revoking API tokens, each with a history row that says who did it and how.

A token is shown once, when it is created (only its SHA-256 is stored). Revoking keeps the row,
so the history and ``last_used_at`` stay readable; the token is refused from then on, by every
process within ``MDM_TOKEN_CACHE_SECONDS`` (golden_records/api/authentication.py).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from golden_records.history import ChangeOrigin, origin_scope
from golden_records.models import ApiToken, SourceSystem


class TokenError(Exception):
    """A token operation that cannot be done; ``code`` is stable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def create_token(
    system: SourceSystem | None, origin: ChangeOrigin, name: str = "", read_only: bool = False
) -> tuple[str, ApiToken]:
    """A new token (the value, to show once, and its row): a write token of ``system``, or a
    read-only one for every domain."""
    if read_only == (system is not None):
        raise TokenError("invalid_token_scope", "A write token needs a system; a read one none.")
    token, digest = ApiToken.generate()
    with transaction.atomic(), origin_scope(origin):
        row = ApiToken.objects.create(
            name=name,
            system=system,
            scope=ApiToken.Scope.READ if read_only else ApiToken.Scope.WRITE,
            digest=digest,
            hint=token[:12],
        )
    return token, row


def revoke_token(token_id: int, origin: ChangeOrigin) -> ApiToken:
    """Revoke the token ``token_id``; revoking a revoked token changes nothing (no history)."""
    with transaction.atomic(), origin_scope(origin):
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise TokenError("token_not_found", f"No API token {token_id}.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token
