"""Bearer-token authentication for source systems and read-only clients.

Tokens are looked up by the SHA-256 of their value. A token that authenticated is kept in a
per-process cache for ``TOKEN_CACHE_SECONDS`` (5 s; ``MDM_TOKEN_CACHE_SECONDS`` in the
environment, 0 turns the cache off), so a busy client costs one token query per process every few
seconds instead of one per request. The price: a token revoked, or a source system deactivated,
is refused by every process within ``TOKEN_CACHE_SECONDS`` of the change, not at once. Unknown,
revoked and inactive tokens are never cached: a new token works at once, a refused one is checked
again on its next request.

Failed authentications are counted per client address in the cache (``CACHES["default"]``), in
windows of ``MDM_TOKEN_FAILURE_WINDOW_SECONDS``: past ``MDM_TOKEN_FAILURE_LIMIT`` failures a bad
token is answered 429 ``too_many_failed_authentications`` with ``Retry-After`` (the end of the
window) instead of 401. A valid token is looked up first and never counted nor refused: one
client guessing from behind a shared proxy does not lock out the integrations behind it, and a
random 256-bit token is not guessed by trying faster anyway. What the limit stops is a client
hammering the hub with dead tokens.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling

from golden_records.models import ApiToken, hash_token

TOKEN_CACHE_SECONDS = float(os.environ.get("MDM_TOKEN_CACHE_SECONDS", "5"))
TOKEN_CACHE_SIZE = 10_000
LAST_USED_RESOLUTION = 60
"""``last_used_at`` is written at most once a minute per token (and per process)."""


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


_cache: dict[str, tuple[float, TokenPrincipal]] = {}
_cache_lock = threading.Lock()


def clear_token_cache() -> None:
    """Forget every cached token (tests; a process that must see a revocation at once)."""
    with _cache_lock:
        _cache.clear()


def principal_for(token: str) -> TokenPrincipal:
    """The caller of a bearer token; ``AuthenticationFailed`` with a stable code otherwise."""
    digest = hash_token(token)
    now = time.monotonic()
    cached = _cache.get(digest)
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        api_token = ApiToken.objects.select_related("system").get(digest=digest)
    except ApiToken.DoesNotExist:
        raise exceptions.AuthenticationFailed("Unknown token.", code="invalid_token") from None
    if api_token.revoked_at is not None:
        raise exceptions.AuthenticationFailed("Token revoked.", code="token_revoked")
    if api_token.system is not None and not api_token.system.active:
        raise exceptions.AuthenticationFailed("Source system inactive.", code="system_inactive")
    used = timezone.now()
    if (
        api_token.last_used_at is None
        or (used - api_token.last_used_at).total_seconds() > LAST_USED_RESOLUTION
    ):
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=used)
        api_token.last_used_at = used
    principal = TokenPrincipal(api_token)
    if TOKEN_CACHE_SECONDS > 0:
        with _cache_lock:
            if len(_cache) >= TOKEN_CACHE_SIZE:
                _cache.clear()
            _cache[digest] = (now + TOKEN_CACHE_SECONDS, principal)
    return principal


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer …`` header; None for another scheme or none."""
    keyword, _, token = header.partition(" ")
    if not header or keyword.lower() != BearerTokenAuthentication.keyword.lower():
        return None
    token = token.strip()
    if not token:
        raise exceptions.AuthenticationFailed("Empty bearer token.", code="invalid_token")
    return token


class TooManyFailedAuthentications(exceptions.Throttled):
    default_code = "too_many_failed_authentications"


def count_failure(request: Any) -> None:
    """Count a failed authentication of the request's client address; raise 429 once past the
    limit of its window."""
    window = max(1, settings.MDM_TOKEN_FAILURE_WINDOW_SECONDS)
    now = time.time()
    client = throttling.BaseThrottle().get_ident(request)
    key = f"mdm:auth-failures:{client}:{int(now // window)}"
    cache.add(key, 0, timeout=window)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        failures = 1
    if failures > settings.MDM_TOKEN_FAILURE_LIMIT:
        raise TooManyFailedAuthentications(
            wait=window - now % window,
            detail=f"Too many failed authentications from {client}.",
            code="too_many_failed_authentications",
        )


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[TokenPrincipal, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        try:
            token = bearer_token(header)
            if token is None:
                return None
            principal = principal_for(token)
        except exceptions.AuthenticationFailed:
            count_failure(request)
            raise
        return principal, principal.token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="mdm"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "golden_records.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API token (`Authorization: Bearer …`). A write token sends records as its "
                "source system only (403 `system_forbidden` for another); a read-only token "
                "reads. Tokens never take steward actions (403 `steward_required`)."
            ),
        }


class SessionScheme(OpenApiAuthenticationExtension):
    """The steward UI's session cookie, described with the roles it needs (drf-spectacular's own
    extension for ``SessionAuthentication`` has priority -1: this one wins)."""

    target_class = "rest_framework.authentication.SessionAuthentication"
    name = "cookieAuth"
    priority = 0

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": (
                "The session of a user logged in to the steward UI, with the UI's roles: "
                "`viewer` reads, `steward` and `admin` (and superusers) also take steward "
                "actions such as deciding a match review; a user without a role gets 403 "
                "`role_required`, a viewer writing 403 `steward_required`. Writes need the "
                "CSRF token (`X-CSRFToken`). Sending source records stays token-only."
            ),
        }
