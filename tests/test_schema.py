"""The OpenAPI schema generates without warnings and the docs are served."""

import pytest
from django.core.management import call_command


def test_schema_generates_and_validates(tmp_path, capsys):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    text = out.read_text()
    assert "/api/v1/sources/{system}/{domain}/batch" in text
    assert "bearerAuth" in text


@pytest.mark.django_db
def test_docs_and_schema_are_public(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_home_page_lists_domains_and_systems(client):
    from golden_records.models import SourceSystem

    SourceSystem.objects.create(code="erp", name="SAP ERP", kind="erp")
    page = client.get("/")
    assert page.status_code == 200
    assert b"SAP ERP" in page.content
    assert b"Customer" in page.content
