"""Audit: API tokens leave history when created and revoked, and saves outside any request or
service (the shell, a command) still say who made them."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from golden_records import history
from golden_records.models import ApiToken, SourceSystem
from golden_records.services.tokens import TokenError, create_token, revoke_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def os_login(monkeypatch):
    """The operating-system user the process runs as."""
    monkeypatch.setattr(history.getpass, "getuser", lambda: "opsuser")
    return "opsuser"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def origin_of(row) -> tuple[str, str, str, str]:
    return (row.history_type, row.actor_type, row.actor, row.channel)


class TestTokens:
    def test_create_and_revoke_by_command_record_the_os_user(self, systems, os_login):
        token = run("create_token", "erp", "--name", "erp-prod")
        row = ApiToken.objects.get(hint=token[:12])
        [created] = row.history.all()
        assert origin_of(created) == ("+", "command", "opsuser", "command")
        assert created.history_change_reason == "create_token"
        assert (created.name, created.scope, created.system_id) == (
            "erp-prod",
            "write",
            systems["erp"].pk,
        )

        assert run("revoke_token", token[:12]).startswith("Revoked token")
        row.refresh_from_db()
        assert row.revoked_at is not None
        revoked = row.history.first()
        assert origin_of(revoked) == ("~", "command", "opsuser", "command")
        assert revoked.revoked_at == row.revoked_at
        assert revoked.history_change_reason == "revoke_token"

    def test_actor_option_is_honoured(self, systems, os_login):
        token = run("create_token", "--read-only", "--actor", "alice")
        row = ApiToken.objects.get(hint=token[:12])
        assert origin_of(row.history.get())[1:] == ("command", "alice", "command")
        run("revoke_token", str(row.pk), "--actor", "bob")
        assert origin_of(row.history.first()) == ("~", "command", "bob", "command")

    def test_revoked_token_is_refused(self, systems, os_login):
        from golden_records.api.authentication import clear_token_cache
        from tests.conftest import client_for

        token = run("create_token", "erp")
        run("revoke_token", token[:12])
        clear_token_cache()
        response = client_for(token).get("/api/v1/golden/customer")
        assert response.json()["error"]["code"] == "token_revoked"

    def test_revoking_twice_writes_one_row_and_an_unknown_token_is_an_error(self, systems):
        origin = history.ChangeOrigin.command("test", actor="carol")
        _, row = create_token(systems["erp"], origin)
        revoke_token(row.pk, origin)
        revoke_token(row.pk, origin)
        assert [h.history_type for h in row.history.all()] == ["~", "+"]
        with pytest.raises(TokenError) as error:
            revoke_token(row.pk + 100, origin)
        assert error.value.code == "token_not_found"

    def test_admin_revoke_records_the_admin_user(self, systems):
        admin_user = get_user_model().objects.create_superuser("root", password="x" * 12)
        _, row = create_token(systems["erp"], history.ChangeOrigin.command("test", actor="t"))
        client = Client()
        client.force_login(admin_user)
        response = client.post(
            "/admin/golden_records/apitoken/",
            {"action": "revoke", "_selected_action": [row.pk]},
        )
        assert response.status_code == 302
        row.refresh_from_db()
        assert row.revoked_at is not None
        revoked = row.history.first()
        assert origin_of(revoked) == ("~", "steward", "root", "admin")
        assert revoked.history_user == admin_user

    def test_admin_cannot_edit_what_makes_a_token(self, systems):
        admin_user = get_user_model().objects.create_superuser("root", password="x" * 12)
        _, row = create_token(systems["erp"], history.ChangeOrigin.command("test", actor="t"))
        client = Client()
        client.force_login(admin_user)
        page = client.get(f"/admin/golden_records/apitoken/{row.pk}/change/")
        form_fields = page.context["adminform"].form.fields
        assert list(form_fields) == ["name"]
        client.post(f"/admin/golden_records/apitoken/{row.pk}/change/", {"name": "renamed"})
        renamed = row.history.first()
        assert origin_of(renamed) == ("~", "steward", "root", "admin")
        assert renamed.name == "renamed"


class TestShellAndCommands:
    def test_a_save_outside_any_request_or_scope_records_the_os_user(self, os_login):
        """What ``manage.py shell`` does: a model saved by hand."""
        system = SourceSystem(code="pim", name="PIM", kind=SourceSystem.Kind.OTHER)
        system.save()
        row = system.history.get()
        assert origin_of(row) == ("+", "command", "opsuser", "command")
        assert row.history_change_reason  # the process: "manage.py shell", "pytest", …

    def test_an_origin_scope_still_wins(self, os_login):
        with history.origin_scope(history.ChangeOrigin.task("t")):
            SourceSystem.objects.create(code="pim", name="PIM", kind=SourceSystem.Kind.OTHER)
        row = SourceSystem.objects.get().history.get()
        assert origin_of(row) == ("+", "task", "t", "task")

    def test_commands_take_an_actor(self, os_login):
        run("create_source_system", "pim", "--name", "PIM", "--kind", "other", "--actor", "dana")
        row = SourceSystem.objects.get().history.get()
        assert origin_of(row) == ("+", "command", "dana", "command")
        assert row.history_change_reason == "create_source_system"

    def test_without_a_login_name_the_uid_is_the_actor(self, monkeypatch):
        def no_login():
            raise KeyError("getpwuid(): uid not found")

        monkeypatch.setattr(history.getpass, "getuser", no_login)
        assert history.os_user().startswith("uid:")
