"""Shared fixtures: source systems, tokens, an API client per system.

Tests marked ``postgres`` or ``redis`` need those servers. They are skipped when DATABASE_URL /
CELERY_BROKER_URL point elsewhere (a laptop's SQLite default), and fail instead when
MDM_REQUIRE_SERVICES is set, as .ci/run sets it: CI never skips them.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from golden_records.models import ApiToken, SourceSystem


def _is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _is_redis() -> bool:
    return settings.CELERY_BROKER_URL.startswith("redis")


def pytest_collection_modifyitems(config, items):
    required = os.environ.get("MDM_REQUIRE_SERVICES") == "1"
    for item in items:
        for marker, available, what in (
            ("postgres", _is_postgres(), "DATABASE_URL=postgres://…"),
            ("redis", _is_redis(), "CELERY_BROKER_URL=redis://…"),
        ):
            if item.get_closest_marker(marker) and not available:
                if required:
                    raise pytest.UsageError(
                        f"{item.nodeid} needs {marker}, but {what} is not set "
                        "(MDM_REQUIRE_SERVICES=1)"
                    )
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}: set {what}"))


def make_system(code: str, kind: str | None = None) -> SourceSystem:
    system, _ = SourceSystem.objects.get_or_create(
        code=code, defaults={"name": code.upper(), "kind": kind or code}
    )
    return system


def make_token(system: SourceSystem | None, scope: str = ApiToken.Scope.WRITE) -> str:
    token, digest = ApiToken.generate()
    ApiToken.objects.create(system=system, scope=scope, digest=digest, hint=token[:12])
    return token


def client_for(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache counts failed token authentications per client address (every test client is
    127.0.0.1): one test's bad tokens must not throttle the next test."""
    cache.clear()
    yield


@pytest.fixture
def systems(db) -> dict[str, SourceSystem]:
    kinds = {"erp": "erp", "crm": "crm", "wms": "wms", "ecom": "ecommerce", "edi": "edi"}
    return {code: make_system(code, kind) for code, kind in kinds.items()}


@pytest.fixture
def api(systems) -> dict[str, APIClient]:
    """An API client holding a write token for each system."""
    return {code: client_for(make_token(system)) for code, system in systems.items()}


@pytest.fixture
def empty_broker():
    """The broker's queue emptied before a test starts a worker on it: messages other tests left
    (wake-ups of delivery workers after a commit) would otherwise be worked off first."""
    from mdm.celery import app

    app.control.purge()
    yield app
    app.control.purge()
