"""Who may do what in the steward UI and, for logged-in users, in the REST API.

Groups: ``steward`` decides, ``admin`` decides (and administers), ``viewer`` reads. Superusers
decide. Anyone else logged in gets 403, anonymous users the login page. Every view checks on the
server; templates only hide what the user may not do.

The REST API (``ApiRole``, the default DRF permission) applies the same roles to a session: a
viewer reads, a steward or admin also writes, a user without a role gets 403 ``role_required``.
Bearer tokens keep their own rules (a write token writes as its system, a read-only token reads),
checked by the views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions, permissions

from golden_records.api.authentication import TokenPrincipal

DECIDE_GROUPS = ("steward", "admin")
READ_GROUPS = ("viewer", *DECIDE_GROUPS)


def steward_roles(user: Any) -> tuple[bool, bool]:
    """(may read, may decide) for a user: one query for the group names at most, cached on the
    user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return False, False
    if user.is_superuser:
        return True, True
    cached = getattr(user, "_steward_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=READ_GROUPS).values_list("name", flat=True))
        cached = (bool(names), bool(names & set(DECIDE_GROUPS)))
        user._steward_roles = cached
    return cached


def steward_view(
    decide: bool = False, roles: Callable[[Any], tuple[bool, bool]] = steward_roles
) -> Callable:
    """Login required; 403 without a reading role, and for actions without a deciding one.

    ``roles`` gives (may read, may decide) for a user: the steward pages use ``steward_roles``,
    the operations pages (sync/views.py) the same roles plus staff users as readers. The view
    finds ``request.may_decide`` set, for templates to show or hide the actions.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            may_read, may_decide = roles(request.user)
            if not may_read:
                raise PermissionDenied("These pages need the viewer, steward or admin role.")
            if decide and not may_decide:
                raise PermissionDenied("Only a data steward (steward or admin role) does this.")
            request.may_decide = may_decide  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


ADMIN_GROUP = "admin"


def may_administer(user: Any) -> bool:
    """Admins (superusers, the admin group) change ownership and match rules; one query at most."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_steward_admin", None)
    if cached is None:
        cached = user.groups.filter(name=ADMIN_GROUP).exists()
        user._steward_admin = cached
    return cached


class ApiRole(permissions.BasePermission):
    """The REST API's authorisation (``REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]``).

    * No credentials: 401 ``not_authenticated``.
    * A bearer token: let through; what it may do is the view's check (ingest writes only as the
      token's system, ``system_forbidden``; steward actions refuse tokens, ``steward_required``).
    * A session (a steward UI user): the UI's roles (``steward_roles``). Without a role 403
      ``role_required``; a viewer reads (GET, HEAD, OPTIONS, and a POST the view declares a
      read with ``post_reads = True``: the batch cross-reference lookup); other methods need
      the steward or admin role, else 403 ``steward_required``.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if isinstance(user, TokenPrincipal):
            return True
        may_read, may_decide = steward_roles(user)
        if not may_read:
            raise exceptions.PermissionDenied(
                "The API needs a bearer token, or a user with the viewer, steward or admin role.",
                code="role_required",
            )
        if request.method in permissions.SAFE_METHODS or getattr(view, "post_reads", False):
            return True
        if not may_decide:
            raise exceptions.PermissionDenied(
                "Only a data steward (steward or admin role) does this.", code="steward_required"
            )
        return True


class StewardAction(permissions.BasePermission):
    """A steward action over the API (deciding a match review): a session with the steward or
    admin role, the same rule as the UI's ``steward_view(decide=True)``. Tokens are refused
    with 403 ``steward_required`` (a source system or a reader is not a steward). Used after
    ``ApiRole``, which answers anonymous, role-less and viewer sessions first."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if isinstance(user, TokenPrincipal) or not steward_roles(user)[1]:
            raise exceptions.PermissionDenied(
                "Only a data steward (a user with the steward or admin role) decides.",
                code="steward_required",
            )
        return True
