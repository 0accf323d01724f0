"""Source systems: create_source_system and the admin, the default country in particular."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from golden_records.history import os_user
from golden_records.models import SourceSystem

pytestmark = pytest.mark.django_db


def create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_source_system", *args, stdout=out)
    return out.getvalue()


class TestCreateSourceSystem:
    def test_default_country(self):
        out = create("erp", "--name", "SAP ERP", "--kind", "erp", "--default-country", "de")
        assert out.strip() == "Created source system erp (SAP ERP, erp, default country DE)."
        system = SourceSystem.objects.get(code="erp")
        assert system.default_country == "DE"
        history = system.history.get()
        assert (history.actor_type, history.actor, history.channel) == (
            "command",
            os_user(),
            "command",
        )
        assert history.history_change_reason == "create_source_system"

    def test_without_it_the_system_has_none(self):
        create("crm", "--name", "Salesforce", "--kind", "crm")
        assert SourceSystem.objects.get(code="crm").default_country == ""

    def test_an_update_without_it_keeps_it_and_an_empty_one_removes_it(self):
        create("erp", "--name", "SAP ERP", "--kind", "erp", "--default-country", "AT")
        out = create("erp", "--name", "SAP S/4", "--kind", "erp")
        assert out.strip() == "Updated source system erp (SAP S/4, erp, default country AT)."
        assert SourceSystem.objects.get(code="erp").default_country == "AT"
        create("erp", "--name", "SAP S/4", "--kind", "erp", "--default-country", "")
        assert SourceSystem.objects.get(code="erp").default_country == ""

    @pytest.mark.parametrize("code", ["XX", "DEU", "Germany", "D", "276"])
    def test_a_bad_code_is_refused(self, code):
        with pytest.raises(CommandError, match="ISO 3166-1 alpha-2"):
            create("erp", "--name", "SAP ERP", "--kind", "erp", "--default-country", code)
        assert not SourceSystem.objects.exists()

    def test_a_bad_code_leaves_an_existing_system_as_it_was(self):
        create("erp", "--name", "SAP ERP", "--kind", "erp", "--default-country", "DE")
        with pytest.raises(CommandError, match="default_country"):
            create("erp", "--name", "Other", "--kind", "erp", "--default-country", "XX")
        system = SourceSystem.objects.get(code="erp")
        assert (system.name, system.default_country) == ("SAP ERP", "DE")


class TestDefaultCountryField:
    @pytest.mark.parametrize("value", ["", "DE", "GB"])
    def test_valid(self, value):
        SourceSystem(code="erp", name="ERP", kind="erp", default_country=value).full_clean()

    @pytest.mark.parametrize("value", ["de", "XX", "UK"])
    def test_invalid(self, value):
        system = SourceSystem(code="erp", name="ERP", kind="erp", default_country=value)
        with pytest.raises(ValidationError) as info:
            system.full_clean()
        assert info.value.error_dict["default_country"][0].code == "invalid_country"

    def test_the_admin_shows_and_validates_it(self, admin_client):
        system = SourceSystem.objects.create(code="erp", name="ERP", kind="erp")
        listing = admin_client.get("/admin/golden_records/sourcesystem/")
        assert b"column-default_country" in listing.content
        url = f"/admin/golden_records/sourcesystem/{system.pk}/change/"
        form = {"code": "erp", "name": "ERP", "kind": "erp", "active": "on"}
        refused = admin_client.post(url, {**form, "default_country": "XX"})
        assert refused.status_code == 200  # the form again, with the error
        assert b"not an ISO 3166-1 alpha-2 country code" in refused.content
        saved = admin_client.post(url, {**form, "default_country": "DE"})
        assert saved.status_code == 302
        system.refresh_from_db()
        assert system.default_country == "DE"
