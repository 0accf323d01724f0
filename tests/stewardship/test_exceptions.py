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
from django.test.utils import CaptureQueriesContext

from golden_records.api import views as api_views
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


def steward_resubmit(rejected, values, user):
    return actions.resubmit_exception(rejected.pk, values, user)
