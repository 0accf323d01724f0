"""Every page of the web UI checks who is asking, on the server: a meta-test over the URL
configuration, so a view added without its permission check fails here.

For each route of the UI namespaces: anonymous users get the login page, logged-in users
without a role get 403, viewers never act (every POST is refused with 403, or 405 where the
route does not take POST), and viewers may read the steward pages.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

UI_NAMESPACES = ("stewardship", "sync")
VIEWER_READS = ("stewardship", "sync")
# Routes with their own authentication, tested with it.
NOT_SESSION_PAGES = {"sync:metrics"}  # bearer token: tests/sync/test_metrics.py
# Edit forms only an admin opens (the rules they change are shown to everyone on /steward/rules).
ADMIN_FORMS = {"stewardship:ownership-rule"}

SAMPLES = {"int": 999_999, "uuid": uuid.UUID(int=7), "string": "customer", "slug": "customer"}


def _routes() -> list[tuple[str, dict]]:
    routes = []
    for entry in get_resolver().url_patterns:
        if not isinstance(entry, URLResolver) or entry.namespace not in UI_NAMESPACES:
            continue
        for pattern in entry.url_patterns:
            assert isinstance(pattern, URLPattern), "nested includes are not expected here"
            name = f"{entry.namespace}:{pattern.name}"
            if name in NOT_SESSION_PAGES:
                continue
            kwargs = {
                key: SAMPLES[type(converter).__name__.removesuffix("Converter").lower()]
                for key, converter in pattern.pattern.converters.items()
            }
            routes.append((name, kwargs))
    return routes


ROUTES = _routes()


def _client(username: str | None, group: str | None = None) -> Client:
    client = Client()
    if username is not None:
        user = User.objects.create_user(username, password="x")
        if group:
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        client.force_login(user)
    return client


def _method(client: Client, url: str) -> str:
    """GET where the route takes it, else POST."""
    return "get" if client.get(url).status_code != 405 else "post"


def test_the_ui_has_routes_to_check():
    assert len(ROUTES) >= 10


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), ROUTES, ids=[name for name, _ in ROUTES])
def test_anonymous_users_get_the_login_page(name, kwargs):
    url = reverse(name, kwargs=kwargs)
    client = _client(None)
    response = getattr(client, _method(client, url))(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), ROUTES, ids=[name for name, _ in ROUTES])
def test_users_without_a_role_are_refused(name, kwargs):
    url = reverse(name, kwargs=kwargs)
    client = _client("nobody")
    assert getattr(client, _method(client, url))(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), ROUTES, ids=[name for name, _ in ROUTES])
def test_viewers_never_act(name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = _client("vic", "viewer").post(url, {"action": "merge", "confirm": "1"})
    assert response.status_code in (403, 405)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [(n, k) for n, k in ROUTES if n.split(":")[0] in VIEWER_READS],
    ids=[n for n, _ in ROUTES if n.split(":")[0] in VIEWER_READS],
)
def test_viewers_read_the_steward_pages(name, kwargs):
    url = reverse(name, kwargs=kwargs)
    status = _client("vic", "viewer").get(url).status_code
    if name in ADMIN_FORMS:
        assert status == 403
    else:
        # Sample ids name nothing: 404 after the permission check is a read allowed; 405 is an
        # action's route (POST only), which test_viewers_never_act covers.
        assert status in (200, 404, 405)
