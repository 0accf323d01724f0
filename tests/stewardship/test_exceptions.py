"""Data-quality exceptions: what ingest's callers keep of rejected records (API PUT, batch under
both failure policies, import_records), what they do not keep, deduplication, superseding, the
hot path's queries, and the steward's resubmit and dismiss."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from golden_records.api import views as api_views
from golden_records.api.authentication import clear_token_cache
from golden_records.models import (
    GOLDEN_MODELS,
    ActorType,
    Channel,
    RejectedRecord,
    SourceRecord,
)
from golden_records.services.exceptions import supersede_resolved
from stewardship import exceptions as actions
from stewardship.models import StewardDecision
from stewardship.services import StewardshipError
from tests.helpers import batch, golden_of, put
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]
State = RejectedRecord.State
TABLE = RejectedRecord._meta.db_table

GOOD = {"name": "Northwind Traders GmbH", "city": "Berlin", "country": "DE"}
BAD_COUNTRY = {"name": "Northwind Traders GmbH", "city": "Berlin", "country": "Germanyy"}


@pytest.fixture
def steward():
    return factories.user("stella", "steward")


def codes(rejected: RejectedRecord) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in rejected.errors}


class TestKept:
    def test_put_keeps_the_rejected_record_and_still_answers_400(self, api, systems):
        response = put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        assert not SourceRecord.objects.exists() and not Customer.objects.exists()
        rejected = RejectedRecord.objects.get()
        assert (rejected.system, rejected.domain, rejected.source_id) == (
            systems["erp"],
            "customer",
            "C-1",
        )
        assert rejected.payload == BAD_COUNTRY
        assert codes(rejected) == {("country", "invalid_country")}
        assert rejected.error_codes == ",invalid_country,"
        assert (rejected.state, rejected.channel, rejected.times_seen) == (State.OPEN, "api", 1)

    def test_batch_reject_failed_keeps_only_the_invalid_records(self, api):
        body = {
            "on_error": "reject_failed",
            "records": [
                {"source_id": "C-1", **GOOD},
                {"source_id": "C-2", **BAD_COUNTRY},
                {"source_id": "C-3", "city": "Paris"},
            ],
        }
        response = batch(api["erp"], "erp", "customer", body)
        assert response.status_code == 200
        assert [r["action"] for r in response.json()["results"]] == [
            "created",
            "rejected",
            "rejected",
        ]
        assert SourceRecord.objects.get().source_id == "C-1"
        kept = {r.source_id: codes(r) for r in RejectedRecord.objects.all()}
        assert kept == {"C-2": {("country", "invalid_country")}, "C-3": {("name", "required")}}
        assert RejectedRecord.objects.get(source_id="C-3").payload == {
            "source_id": "C-3",
            "city": "Paris",
        }

    def test_batch_reject_all_keeps_the_invalid_records_after_the_rollback(self, api):
        body = {
            "on_error": "reject_all",
            "records": [{"source_id": "C-1", **GOOD}, {"source_id": "C-2", **BAD_COUNTRY}],
        }
        response = batch(api["erp"], "erp", "customer", body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "batch_rejected"
        assert not SourceRecord.objects.exists() and not Customer.objects.exists()
        # C-1 was refused only because C-2 failed: nothing to correct, not kept.
        rejected = RejectedRecord.objects.get()
        assert rejected.source_id == "C-2"
        assert codes(rejected) == {("country", "invalid_country")}

    def test_batch_with_an_idempotency_key_keeps_it_once(self, api):
        body = {"on_error": "reject_failed", "records": [{"source_id": "C-2", **BAD_COUNTRY}]}
        for _ in range(2):
            batch(api["erp"], "erp", "customer", body, HTTP_IDEMPOTENCY_KEY="k-1")
        assert RejectedRecord.objects.get().times_seen == 1

    @pytest.mark.parametrize("on_error", ["reject_failed", "reject_all"])
    def test_import_records_keeps_rejected_rows(self, systems, tmp_path: Path, on_error):
        path = tmp_path / "customers.jsonl"
        lines = [
            json.dumps({"source_id": "C-1", **GOOD}),
            json.dumps({"source_id": "C-2", **BAD_COUNTRY}),
            "{not json",
            json.dumps(["an", "array"]),
        ]
        path.write_text("\n".join(lines) + "\n")
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError):
            call_command(
                "import_records",
                str(path),
                "--system=erp",
                "--domain=customer",
                f"--on-error={on_error}",
                stdout=out,
                stderr=err,
            )
        assert SourceRecord.objects.filter(source_id="C-1").exists() == (
            on_error == "reject_failed"
        )
        # Only the row that parsed as an object and failed validation is kept.
        rejected = RejectedRecord.objects.get()
        assert (rejected.source_id, rejected.channel) == ("C-2", Channel.COMMAND)
        assert rejected.payload == {"source_id": "C-2", **BAD_COUNTRY}

    @pytest.mark.parametrize(
        "body",
        [
            "{not json",
            json.dumps([{"name": "a list, not an object"}]),
            json.dumps("a string"),
        ],
    )
    def test_malformed_bodies_are_not_kept(self, api, body):
        assert put(api["erp"], "erp", "customer", "C-1", body).status_code == 400
        assert batch(api["erp"], "erp", "customer", body).status_code == 400
        assert not RejectedRecord.objects.exists()

    def test_a_record_the_database_cannot_store_is_refused_but_not_kept(self, api):
        body = '{"name": "Northwind \\ud800", "country": "XX"}'  # a lone surrogate
        assert put(api["erp"], "erp", "customer", "C-1", body).status_code == 400
        assert not RejectedRecord.objects.exists()

    def test_unknown_domain_and_bad_batch_bodies_are_not_kept(self, api):
        assert put(api["erp"], "erp", "planet", "P-1", GOOD).status_code == 400
        response = batch(api["erp"], "erp", "customer", {"records": "nope"})
        assert response.status_code == 400
        assert not RejectedRecord.objects.exists()


class TestDeduplicated:
    def test_the_same_payload_again_counts_instead_of_a_second_row(self, api):
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        first = RejectedRecord.objects.get()
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        body = {"on_error": "reject_failed", "records": [{"source_id": "C-1", **BAD_COUNTRY}]}
        batch(api["erp"], "erp", "customer", body)  # another payload: source_id in the body
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        rows = list(RejectedRecord.objects.order_by("pk"))
        assert [r.pk for r in rows] == [first.pk, rows[1].pk]
        assert [r.times_seen for r in rows] == [3, 1]
        assert rows[1].payload == {"source_id": "C-1", **BAD_COUNTRY}
        assert rows[0].last_seen > first.last_seen and rows[0].first_seen == first.first_seen

    def test_twice_in_one_batch_is_seen_twice(self, api):
        record = {"source_id": "C-1", **BAD_COUNTRY}
        batch(api["erp"], "erp", "customer", {"records": [record, record]})
        rejected = RejectedRecord.objects.get()
        assert rejected.times_seen == 2

    def test_a_dismissed_payload_sent_again_stays_dismissed(self, api, steward):
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        rejected = RejectedRecord.objects.get()
        actions.dismiss_exception(rejected.pk, steward, "ERP fixes it in the next release")
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        rejected.refresh_from_db()
        assert (rejected.state, rejected.times_seen) == (State.DISMISSED, 2)
        assert rejected.note == "ERP fixes it in the next release"


class TestSuperseded:
    def test_a_later_valid_record_supersedes_it(self, api):
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        put(api["erp"], "erp", "customer", "C-2", BAD_COUNTRY)
        put(api["erp"], "erp", "customer", "C-1", GOOD)
        # A valid send runs no query for exceptions; the queue catches up in one update.
        assert RejectedRecord.objects.get(source_id="C-1").state == State.OPEN
        assert supersede_resolved() == 1
        states = dict(RejectedRecord.objects.values_list("source_id", "state"))
        assert states == {"C-1": State.SUPERSEDED, "C-2": State.OPEN}

    def test_a_batch_with_rejections_supersedes_at_once(self, api):
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        put(api["erp"], "erp", "customer", "C-2", BAD_COUNTRY)
        body = {
            "on_error": "reject_failed",
            "records": [
                {"source_id": "C-1", **GOOD},  # now valid
                {"source_id": "C-2", **BAD_COUNTRY, "city": "Köln"},  # another bad payload
                {"source_id": "C-3", "city": "Paris"},
            ],
        }
        batch(api["erp"], "erp", "customer", body)
        states = sorted(RejectedRecord.objects.values_list("source_id", "payload__city", "state"))
        assert states == [
            ("C-1", "Berlin", State.SUPERSEDED),
            ("C-2", "Berlin", State.SUPERSEDED),
            ("C-2", "Köln", State.OPEN),
            ("C-3", "Paris", State.OPEN),
        ]

    def test_sent_again_after_a_valid_version_it_is_open_again(self, api):
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        put(api["erp"], "erp", "customer", "C-1", GOOD)
        supersede_resolved()
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        rejected = RejectedRecord.objects.get()
        assert (rejected.state, rejected.times_seen) == (State.OPEN, 2)
        assert supersede_resolved() == 0  # the valid record is older than this rejection


class TestHotPath:
    """A send whose records are all valid runs no query for exceptions."""

    def _queries(self, send) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = send()
        assert response.status_code in (200, 201), response.content
        return [q["sql"] for q in captured.captured_queries]

    def test_put(self, api):
        sql = self._queries(lambda: put(api["erp"], "erp", "customer", "C-1", GOOD))
        assert sql and not [q for q in sql if TABLE in q]

    def test_batch(self, api):
        records = [{"source_id": f"C-{n}", **GOOD, "name": f"Firm {n}"} for n in range(20)]
        sql = self._queries(lambda: batch(api["erp"], "erp", "customer", {"records": records}))
        assert sql and not [q for q in sql if TABLE in q]

    def test_same_query_count_as_without_the_hook(self, api, monkeypatch):
        """The same valid batch, from the same database state (rolled back each time), runs as
        many queries with exceptions kept as with the hook removed; open exceptions of the
        same records do not change that either."""
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        records = [{"source_id": f"C-{n}", **GOOD, "name": f"Firm {n}"} for n in range(5)]

        def count() -> int:
            with transaction.atomic():
                sql = self._queries(
                    lambda: batch(api["erp"], "erp", "customer", {"records": records})
                )
                transaction.set_rollback(True)
            return len(sql)

        count()  # warm caches
        with_hook = count()
        monkeypatch.setattr(api_views, "keep_rejections", lambda *args: 0)
        assert count() == with_hook

    def test_import_records(self, systems, tmp_path: Path):
        path = tmp_path / "ok.jsonl"
        path.write_text(json.dumps({"source_id": "C-1", **GOOD}) + "\n")
        with CaptureQueriesContext(connection) as captured:
            call_command(
                "import_records", str(path), "--system=erp", "--domain=customer",
                stdout=io.StringIO(), stderr=io.StringIO(),
            )  # fmt: skip
        assert not [q for q in captured.captured_queries if TABLE in q["sql"]]


class TestResubmit:
    @pytest.fixture
    def rejected(self, api):
        put(api["erp"], "erp", "customer", "C-1", {**BAD_COUNTRY, "credit_limit": 25000})
        return RejectedRecord.objects.get()

    def values(self, rejected: RejectedRecord, **changes: str) -> dict[str, str]:
        sent = {k: str(v) for k, v in rejected.payload.items()}
        return {**sent, **changes}

    def test_valid_correction_creates_the_golden_record_as_the_steward(self, rejected, steward):
        outcome = steward_resubmit(rejected, self.values(rejected, country="DE"), steward)
        assert outcome.ok and outcome.record.action == "created"
        golden = golden_of("erp", "customer", "C-1")
        assert (golden.country, golden.name) == ("DE", "Northwind Traders GmbH")
        source = SourceRecord.objects.get(source_id="C-1")
        # The untouched number keeps the type the system sent.
        assert source.payload["credit_limit"] == 25000 and source.payload["country"] == "DE"
        for history in (golden.history.get(), source.history.get()):
            assert (history.actor_type, history.actor, history.channel) == (
                ActorType.STEWARD,
                "stella",
                Channel.UI,
            )
            assert history.history_change_reason == f"corrected rejected record #{rejected.pk}"
        rejected.refresh_from_db()
        assert (rejected.state, rejected.resolved_by, rejected.golden_id) == (
            State.RESUBMITTED,
            steward,
            golden.pk,
        )
        decision = StewardDecision.objects.get()
        assert (decision.action, decision.rejected_record, decision.review) == (
            "resubmit",
            rejected,
            None,
        )
        assert decision.before["errors"] == rejected.errors
        assert decision.after["golden_id"] == str(golden.pk)
        assert decision.after["payload"]["country"] == "DE"

    def test_still_invalid_writes_nothing(self, rejected, steward):
        values = self.values(rejected, country="Neverland", name="")
        outcome = steward_resubmit(rejected, values, steward)
        assert not outcome.ok
        assert {(e["field"], e["code"]) for e in outcome.errors} == {
            ("country", "invalid_country"),
            ("name", "required"),
        }
        assert not SourceRecord.objects.exists() and not Customer.objects.exists()
        assert not StewardDecision.objects.exists()
        rejected.refresh_from_db()
        assert rejected.state == State.OPEN

    def test_the_second_steward_sees_who_handled_it(self, rejected, steward):
        other = factories.user("otto", "steward")
        steward_resubmit(rejected, self.values(rejected, country="DE"), steward)
        with pytest.raises(actions.AlreadyHandled, match="already resubmitted by stella"):
            steward_resubmit(rejected, self.values(rejected, country="FR"), other)
        with pytest.raises(actions.AlreadyHandled):
            actions.dismiss_exception(rejected.pk, other, "duplicate")
        assert Customer.objects.get().country == "DE"
        assert StewardDecision.objects.count() == 1

    def test_a_record_without_source_id_gets_one_from_the_steward(self, api, steward):
        body = {"records": [{**GOOD}]}
        batch(api["erp"], "erp", "customer", body)
        rejected = RejectedRecord.objects.get()
        assert rejected.source_id == "" and codes(rejected) == {("source_id", "required")}
        outcome = steward_resubmit(rejected, {**self.values(rejected), "source_id": "C-7"}, steward)
        assert outcome.ok
        assert SourceRecord.objects.get().source_id == "C-7"

    def test_the_correction_is_normalised_in_the_systems_default_country(
        self, api, systems, steward
    ):
        """As the system's own sends are: a bare tax id checked and prefixed with its default."""
        systems["erp"].default_country = "DE"
        systems["erp"].save()
        clear_token_cache()
        nordwind = {"name": "Nordwind", "tax_id": "DE811907980"}
        put(api["crm"], "crm", "customer", "K-1", nordwind)
        response = put(api["erp"], "erp", "customer", "C-1", {**nordwind, "tax_id": "811907981"})
        assert response.json()["error"]["fields"][0]["message"].endswith("for DE.")
        rejected = RejectedRecord.objects.get()
        outcome = steward_resubmit(rejected, self.values(rejected, tax_id="811907980"), steward)
        assert outcome.ok and outcome.record.action == "linked"
        source = SourceRecord.objects.get(source_id="C-1")
        assert source.canonical["tax_id"] == "DE811907980" and "country" not in source.canonical


class TestDismiss:
    def test_dismiss_needs_a_note_and_is_audited(self, api, steward):
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        rejected = RejectedRecord.objects.get()
        with pytest.raises(StewardshipError, match="Say why"):
            actions.dismiss_exception(rejected.pk, steward, "  ")
        actions.dismiss_exception(rejected.pk, steward, "test record from ERP QA")
        rejected.refresh_from_db()
        assert (rejected.state, rejected.resolved_by_name, rejected.note) == (
            State.DISMISSED,
            "stella",
            "test record from ERP QA",
        )
        decision = StewardDecision.objects.get()
        assert (decision.action, decision.note, decision.rejected_record_id) == (
            "dismiss",
            "test record from ERP QA",
            rejected.pk,
        )
        assert not SourceRecord.objects.exists()


class TestBulkDismiss:
    @pytest.fixture
    def three(self, api):
        for sid in ("C-1", "C-2", "C-3"):
            put(api["erp"], "erp", "customer", sid, BAD_COUNTRY)
        return list(RejectedRecord.objects.order_by("source_id"))

    def test_each_is_dismissed_with_the_note_and_audited_as_bulk(self, three, steward):
        other = factories.user("otto", "steward")
        actions.dismiss_exception(three[1].pk, other, "ERP QA data")
        outcomes = actions.dismiss_many([r.pk for r in three], steward, "retired product line")
        assert [(o.review_id, o.ok) for o in outcomes] == [
            (three[0].pk, True),
            (three[1].pk, False),
            (three[2].pk, True),
        ]
        assert "already dismissed by otto" in outcomes[1].message
        for rejected in three:
            rejected.refresh_from_db()
        assert [r.resolved_by_name for r in three] == ["stella", "otto", "stella"]
        assert [r.note for r in three] == [
            "retired product line",
            "ERP QA data",
            "retired product line",
        ]
        bulk = StewardDecision.objects.filter(actor=steward)
        assert bulk.count() == 2 and all(d.bulk and d.action == "dismiss" for d in bulk)

    def test_a_note_is_required(self, three, steward):
        with pytest.raises(StewardshipError, match="Say why"):
            actions.dismiss_many([three[0].pk], steward, " ")
        assert not StewardDecision.objects.exists()

    def test_the_page_confirms_first_then_dismisses(self, three, steward):
        client = client_for(steward)
        url = reverse("stewardship:exception-bulk")
        ids = [three[0].pk, three[2].pk]
        confirm = client.post(url, {"ids": ids, "action": "dismiss", "back": "system=erp"})
        assert confirm.status_code == 200
        assert [r.pk for r in confirm.context["rows"]] == [three[2].pk, three[0].pk]
        assert b"Dismiss 2 exceptions" in confirm.content
        assert RejectedRecord.objects.filter(state=State.OPEN).count() == 3

        no_note = client.post(url, {"ids": ids, "action": "dismiss", "confirm": "1"})
        assert no_note.status_code == 200  # asked again, nothing dismissed
        assert RejectedRecord.objects.filter(state=State.OPEN).count() == 3

        done = client.post(
            url,
            {
                "ids": ids,
                "action": "dismiss",
                "confirm": "1",
                "note": "dupes",
                "back": "system=erp",
            },
        )
        assert done.status_code == 302
        assert done["Location"] == reverse("stewardship:exceptions") + "?system=erp"
        assert set(RejectedRecord.objects.filter(state=State.OPEN)) == {three[1]}

    def test_nothing_selected_goes_back_with_a_warning(self, three, steward):
        response = client_for(steward).post(reverse("stewardship:exception-bulk"), {})
        assert response.status_code == 302
        assert not StewardDecision.objects.exists()

    def test_the_queue_offers_selection_to_stewards_on_open_exceptions_only(self, three, steward):
        queue = reverse("stewardship:exceptions")
        page = client_for(steward).get(queue).content.decode()
        assert 'name="ids"' in page and "Dismiss selected" in page
        viewer = client_for(factories.user("vic", "viewer")).get(queue).content.decode()
        assert 'name="ids"' not in viewer and "Dismiss selected" not in viewer
        dismissed = client_for(steward).get(queue, {"state": "dismissed"}).content.decode()
        assert 'name="ids"' not in dismissed


def steward_resubmit(rejected, values, user):
    return actions.resubmit_exception(rejected.pk, values, user)


# -- the pages ----------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def open_exception(api):
    put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
    return RejectedRecord.objects.get()


def page_urls(pk: int) -> dict[str, tuple[str, str, dict]]:
    """Every exceptions view: name -> (method, url, data)."""
    return {
        "queue": ("get", reverse("stewardship:exceptions"), {}),
        "detail": ("get", reverse("stewardship:exception", args=[pk]), {}),
        "resubmit": (
            "post",
            reverse("stewardship:exception-resubmit", args=[pk]),
            {**{f"attr_{k}": v for k, v in GOOD.items()}},
        ),
        "dismiss": (
            "post",
            reverse("stewardship:exception-dismiss", args=[pk]),
            {"note": "not ours"},
        ),
        "bulk": (
            "post",
            reverse("stewardship:exception-bulk"),
            {"ids": [pk], "action": "dismiss", "note": "not ours", "confirm": "1"},
        ),
    }


PAGE_READS = {"queue", "detail"}


class TestPermissions:
    @pytest.mark.parametrize("view", list(page_urls(1)))
    def test_anonymous_goes_to_the_login_page(self, open_exception, view):
        method, url, data = page_urls(open_exception.pk)[view]
        response = getattr(Client(), method)(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")

    @pytest.mark.parametrize("view", list(page_urls(1)))
    def test_a_user_without_a_role_gets_403(self, open_exception, view):
        method, url, data = page_urls(open_exception.pk)[view]
        assert getattr(client_for(factories.user("nobody")), method)(url, data).status_code == 403

    @pytest.mark.parametrize("view", list(page_urls(1)))
    def test_viewer_reads_but_does_not_act(self, open_exception, view):
        method, url, data = page_urls(open_exception.pk)[view]
        response = getattr(client_for(factories.user("vic", "viewer")), method)(url, data)
        assert response.status_code == (200 if view in PAGE_READS else 403)
        open_exception.refresh_from_db()
        assert open_exception.state == State.OPEN
        assert not StewardDecision.objects.exists() and not SourceRecord.objects.exists()

    @pytest.mark.parametrize(
        "groups,superuser", [(("steward",), False), (("admin",), False), ((), True)]
    )
    @pytest.mark.parametrize("view", list(page_urls(1)))
    def test_steward_admin_and_superuser_act(self, open_exception, view, groups, superuser):
        method, url, data = page_urls(open_exception.pk)[view]
        actor = factories.user("actor", *groups, superuser=superuser)
        response = getattr(client_for(actor), method)(url, data)
        assert response.status_code in (200, 302)
        if view not in PAGE_READS:
            assert StewardDecision.objects.get().actor == actor

    def test_viewer_sees_no_form_and_no_buttons(self, open_exception):
        viewer = client_for(factories.user("vic", "viewer"))
        page = viewer.get(reverse("stewardship:exception", args=[open_exception.pk])).content
        assert b'id="resubmit-btn"' not in page and b'name="attr_country"' not in page
        assert b'id="dismiss-btn"' not in page
        assert b"correcting it needs the steward role" in page

    def test_actions_need_post_and_csrf(self, open_exception, steward):
        url = reverse("stewardship:exception-resubmit", args=[open_exception.pk])
        assert client_for(steward).get(url).status_code == 405
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(steward)
        assert strict.post(url, {"attr_country": "DE"}).status_code == 403
        assert not SourceRecord.objects.exists()


class TestQueuePage:
    @pytest.fixture
    def several(self, api):
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        put(api["crm"], "crm", "customer", "A-1", {"city": "Paris"})
        put(api["erp"], "erp", "item", "I-1", {"name": "Bolt", "weight_kg": "heavy"})
        put(api["erp"], "erp", "customer", "C-1", BAD_COUNTRY)
        return {r.source_id: r for r in RejectedRecord.objects.all()}

    def rows(self, client, **params) -> list[str]:
        response = client.get(reverse("stewardship:exceptions"), params)
        assert response.status_code == 200
        return [r.source_id for r in response.context["rows"]]

    def test_filters_and_sorts(self, several, steward):
        client = client_for(steward)
        assert self.rows(client) == ["C-1", "I-1", "A-1"]  # last seen, newest first
        assert self.rows(client, sort="first_seen") == ["C-1", "A-1", "I-1"]
        assert self.rows(client, sort="-times_seen")[0] == "C-1"
        assert self.rows(client, domain="item") == ["I-1"]
        assert self.rows(client, system="crm") == ["A-1"]
        assert self.rows(client, code="invalid_country") == ["C-1"]
        assert self.rows(client, code="required") == ["A-1"]
        assert self.rows(client, age="older7d") == []
        assert self.rows(client, age="1d", system="erp", domain="customer") == ["C-1"]
        assert self.rows(client, domain="nonsense") == ["C-1", "I-1", "A-1"]  # ignored

    def test_paginated(self, api, steward):
        records = [{"source_id": f"C-{n}", "city": "Paris"} for n in range(55)]
        batch(api["erp"], "erp", "customer", {"records": records})
        client = client_for(steward)
        assert len(self.rows(client)) == 50
        assert len(self.rows(client, page=2)) == 5

    def test_counts_in_the_tabs_and_the_navigation(self, several, steward, api):
        client = client_for(steward)
        actions.dismiss_exception(several["A-1"].pk, steward, "CRM test data")
        page = client.get(reverse("stewardship:exceptions")).content.decode()
        assert 'data-tab="open"' in page
        assert client.get(reverse("stewardship:exceptions")).context["exception_counts"] == {
            "open": 2,
            "resubmitted": 0,
            "dismissed": 1,
            "superseded": 0,
        }
        # The count in the navigation, also on other steward pages, without a sweep first.
        put(api["erp"], "erp", "customer", "C-1", GOOD)
        reviews = client.get(reverse("stewardship:queue")).content.decode()
        nav = reviews[reviews.index('data-nav="exceptions"') :][:400]
        assert ">1</span>" in nav
        assert self.rows(client, state="dismissed") == ["A-1"]
        assert self.rows(client, state="superseded") == ["C-1"]

    def test_htmx_gets_the_table_only(self, several, steward):
        response = client_for(steward).get(
            reverse("stewardship:exceptions"), {"domain": "item"}, HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="queue">') and "<html" not in body

    def test_queue_queries_are_bounded(self, api, steward):
        client = client_for(steward)
        client.get(reverse("stewardship:exceptions"))
        records = [{"source_id": f"C-{n}", "city": "Paris"} for n in range(30)]
        batch(api["erp"], "erp", "customer", {"records": records})
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("stewardship:exceptions"))
        records = [{"source_id": f"D-{n}", "country": "XX"} for n in range(30)]
        batch(api["crm"], "crm", "customer", {"records": records})
        with CaptureQueriesContext(connection) as more:
            client.get(reverse("stewardship:exceptions"))
        assert len(more.captured_queries) == len(few.captured_queries) <= 15


class TestDetailPage:
    def test_one_field_per_attribute_with_its_error(self, open_exception, steward):
        response = client_for(steward).get(
            reverse("stewardship:exception", args=[open_exception.pk])
        )
        fields = {f.name: f for f in response.context["fields"]}
        assert list(fields) == list(GOLDEN_MODELS["customer"].domain.attribute_names)
        assert fields["country"].value == "Germanyy"
        assert fields["country"].errors == (
            "'Germanyy' is not an ISO 3166-1 country code or name.",
        )
        assert fields["name"].value == "Northwind Traders GmbH" and not fields["name"].errors
        body = response.content.decode()
        assert 'name="attr_country" value="Germanyy"' in body
        assert "&quot;country&quot;: &quot;Germanyy&quot;" in body  # the raw JSON

    def test_resubmit_valid_links_the_golden_record(self, open_exception, steward):
        client = client_for(steward)
        url = reverse("stewardship:exception-resubmit", args=[open_exception.pk])
        data = {"attr_name": "Northwind Traders GmbH", "attr_city": "Berlin", "attr_country": "DE"}
        response = client.post(url, data, follow=True)
        golden = golden_of("erp", "customer", "C-1")
        assert response.context["golden"]["record"] == golden
        body = response.content.decode()
        assert str(golden.pk) in body and "Resubmitted exception" in body
        assert "data-handled-by>stella<" in body

    def test_resubmit_invalid_shows_the_new_errors(self, open_exception, steward):
        url = reverse("stewardship:exception-resubmit", args=[open_exception.pk])
        data = {"attr_name": "", "attr_city": "Berlin", "attr_country": "DX"}
        response = client_for(steward).post(url, data)
        assert response.status_code == 422
        fields = {f.name: f for f in response.context["fields"]}
        assert fields["country"].value == "DX" and fields["country"].errors
        assert fields["name"].errors == ("name is required.",)
        assert "Still not valid: nothing was written" in response.content.decode()
        assert not SourceRecord.objects.exists()

    def test_the_second_steward_sees_who_resubmitted(self, open_exception, steward):
        url = reverse("stewardship:exception-resubmit", args=[open_exception.pk])
        data = {"attr_name": "Northwind", "attr_country": "DE"}
        client_for(steward).post(url, data)
        other = client_for(factories.user("otto", "steward"))
        response = other.post(url, {**data, "attr_country": "FR"}, follow=True)
        body = response.content.decode()
        assert "already resubmitted by stella" in body
        assert Customer.objects.get().country == "DE"

    def test_dismiss_needs_a_note(self, open_exception, steward):
        url = reverse("stewardship:exception-dismiss", args=[open_exception.pk])
        response = client_for(steward).post(url, {"note": ""}, follow=True)
        assert "Say why you dismiss" in response.content.decode()
        open_exception.refresh_from_db()
        assert open_exception.state == State.OPEN
