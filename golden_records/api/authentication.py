"""Bearer-token authentication for source systems and read-only clients."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from golden_records.models import ApiToken, hash_token


class TokenPrincipal:
    """The authenticated caller of a token: which system it writes as, or read-only."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, token: ApiToken):
        self.token = token
        self.system = token.system
        self.scope = token.scope

    def can_write_as(self, system_code: str) -> bool:
        return (
            self.scope == ApiToken.Scope.WRITE
            and self.system is not None
            and self.system.code == system_code
        )

    def __str__(self) -> str:
        return f"token {self.token.hint}"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[TokenPrincipal, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token:
            raise exceptions.AuthenticationFailed("Empty bearer token.", code="invalid_token")
        try:
            api_token = ApiToken.objects.select_related("system").get(digest=hash_token(token))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Unknown token.", code="invalid_token") from None
        if api_token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Token revoked.", code="token_revoked")
        if api_token.system is not None and not api_token.system.active:
            raise exceptions.AuthenticationFailed("Source system inactive.", code="system_inactive")
        now = timezone.now()
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        return TokenPrincipal(api_token), api_token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="mdm"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "golden_records.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
