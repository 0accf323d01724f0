"""ensure_demo_steward: the demo's steward login, created or reset on every run.

For now the user is a superuser so that the Django admin works; the stewardship UI will give the
"steward", "viewer" and "admin" groups their permissions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

USERNAME = "steward"
PASSWORD = "steward-demo"
GROUPS = ("steward", "viewer", "admin")
ADMIN_URL = "http://127.0.0.1:8000/admin/"


class Command(BaseCommand):
    help = (
        f"Create (or reset) the demo user {USERNAME!r} with password {PASSWORD!r}, and the "
        f"groups {', '.join(GROUPS)}. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        with transaction.atomic():
            groups = {name: Group.objects.get_or_create(name=name)[0] for name in GROUPS}
            user, created = user_model._default_manager.get_or_create(
                **{user_model.USERNAME_FIELD: USERNAME}
            )
            changed = created or not (user.is_active and user.is_staff and user.is_superuser)
            if created or not user.check_password(PASSWORD):
                user.set_password(PASSWORD)
                changed = True
            if changed:
                user.is_active = True
                user.is_staff = True
                user.is_superuser = True
                user.save()
            user.groups.add(groups["steward"])
        self.stdout.write(f"Demo steward login: {USERNAME} / {PASSWORD} at {ADMIN_URL}")
