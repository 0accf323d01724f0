"""One golden record per entity under concurrent senders, with real processes: the production
web server (gunicorn, 2 workers x 4 threads), a Celery worker and beat on a private Redis, and
pytest-django's PostgreSQL test database, which they all reach through one DATABASE_URL.

The scenario of the issue at a size that fits CI: ERP, CRM and eCommerce send the same new
companies at the same time, in batches, through the batch API; the records differ only in name
style and street spelling, with no identifier. Sent one system after the other they make one
golden record per company (tests/test_concurrent_senders.py checks the generator). Sent at
once, each batch cannot see the others' uncommitted records; the catch-up after commit must
repair every split, also when a worker is killed in the middle of it.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections import defaultdict

import pytest

from golden_records.models import GOLDEN_MODELS, ApiToken, GoldenStatus, SourceRecord
from matching.models import CatchUpRequest, MatchReview, ReviewStatus
from tests.concurrent_senders import SYSTEMS, entities, send_concurrently
from tests.conftest import make_system
from tests.sync.reliability import Cluster, database_url, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ENV = {"MDM_CATCH_UP_SWEEP_SECONDS": "1", "MDM_CATCH_UP_GRACE_SECONDS": "2"}
Customer = GOLDEN_MODELS["customer"]


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    cluster = Cluster(url, tmp_path_factory.mktemp("senders"), "unused", env_overrides=ENV)
    try:
        cluster.start_redis()
        cluster.base_url = cluster.start_web(workers=2, threads=4)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def hub(cluster):
    """A worker and beat running; killed before pytest-django empties the tables."""
    worker = cluster.start_worker(0)
    beat = cluster.start_beat()
    yield cluster
    for process in (beat, worker):
        process.kill()


def tokens() -> dict[str, str]:
    found = {}
    for system in SYSTEMS:
        token, digest = ApiToken.generate()
        ApiToken.objects.create(
            system=make_system(system), scope=ApiToken.Scope.WRITE, digest=digest, hint=token[:8]
        )
        found[system] = token
    return found


def active_goldens() -> int:
    return Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count()


def repaired() -> bool:
    return not CatchUpRequest.objects.filter(done_at=None).exists()


def goldens_per_entity(truth: dict[tuple[str, str], int]) -> dict[int, set]:
    found: dict[int, set] = defaultdict(set)
    for system, source_id, golden_id in SourceRecord.objects.filter(domain="customer").values_list(
        "system__code", "source_id", "golden_id"
    ):
        if (system, source_id) in truth:
            found[truth[(system, source_id)]].add(golden_id)
    return found


def strong_open_reviews_within_one_entity(truth: dict[tuple[str, str], int]) -> int:
    rows = MatchReview.objects.filter(status=ReviewStatus.OPEN, probability__gte=0.95).values_list(
        "source_record__system__code",
        "source_record__source_id",
        "candidate_record__system__code",
        "candidate_record__source_id",
    )
    return sum(1 for a, b, c, d in rows if truth[(a, b)] == truth[(c, d)])


def warm_up(hub: Cluster, token: dict[str, str]) -> None:
    """A record per system first, so that no batch of the race waits for a cold server."""
    for system in SYSTEMS:
        request = urllib.request.Request(
            f"{hub.base_url}/api/v1/sources/{system}/customer/WARM-UP",
            data=b'{"name": "Zenith Plumbing Supply Inc.", "city": "Springfield", "country": "US"}',
            method="PUT",
            headers={
                "Authorization": f"Bearer {token[system]}",
                "Content-Type": "application/json",
            },
        )
        urllib.request.urlopen(request, timeout=60).close()


def test_three_systems_at_once_end_with_one_golden_record_per_company(hub):
    scenario = entities(150)
    token = tokens()
    warm_up(hub, token)
    before = active_goldens()
    sent = send_concurrently(hub.base_url, token, scenario, batches=3)
    assert sent.actions["rejected"] == 0
    raced = sent.actions["created"]  # more than 150: batches could not see each other

    wait_until(repaired, 120, "the catch-up requests to be done")

    per_entity = goldens_per_entity(scenario.truth)
    assert all(len(goldens) == 1 for goldens in per_entity.values()), {
        e: g for e, g in per_entity.items() if len(g) > 1
    }
    assert active_goldens() - before == 150  # as many as sent one system after the other
    assert strong_open_reviews_within_one_entity(scenario.truth) == 0
    # The batches did race, and every merge names the pairs that made it.
    merged = Customer.objects.filter(record_status=GoldenStatus.MERGED)
    assert raced > 150 and merged.exists(), (sent.actions, sent.batch_seconds)
    for golden in merged[:20]:
        assert "golden records of one entity" in golden.history.latest().history_change_reason


def test_a_hundred_records_with_one_tax_id_from_three_systems_at_once_end_in_one(hub):
    """Popular identifiers under concurrency: the identifier's lock and its unlimited block."""
    token = tokens()
    errors: list[BaseException] = []

    def put(system: str, numbers: range) -> None:
        try:
            for i in numbers:
                request = urllib.request.Request(
                    f"{hub.base_url}/api/v1/sources/{system}/customer/NW-{i:03d}",
                    data=(
                        b'{"name": "Nordwind Handel AG", "tax_id": "DE136695976", '
                        b'"country": "DE", "city": "Hamburg"}'
                    ),
                    method="PUT",
                    headers={
                        "Authorization": f"Bearer {token[system]}",
                        "Content-Type": "application/json",
                    },
                )
                urllib.request.urlopen(request, timeout=60).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=put, args=(system, range(start, 100, 3)))
        for start, system in enumerate(SYSTEMS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    wait_until(repaired, 60, "the catch-up requests to be done")

    assert SourceRecord.objects.filter(domain="customer").count() == 100
    assert active_goldens() == 1


def test_a_worker_killed_in_the_middle_of_the_repair_ends_in_the_same_state(hub):
    """The worker is killed whenever a catch-up request is being run (claimed: its attempt is
    counted, not done yet), while the systems send and after; beat's sweep runs it again."""
    scenario = entities(150)
    token = tokens()
    warm_up(hub, token)
    before = active_goldens()
    sent: list = []
    sender = threading.Thread(
        target=lambda: sent.append(send_concurrently(hub.base_url, token, scenario, batches=1))
    )
    sender.start()
    kills = 0
    deadline = time.monotonic() + 120
    while (sender.is_alive() or not repaired()) and time.monotonic() < deadline and kills < 6:
        if CatchUpRequest.objects.filter(done_at=None, attempts__gt=0).exists():
            hub.processes["worker0"].kill()
            kills += 1
            hub.processes["worker0"].start()
            time.sleep(1.0)  # let it boot before the next kill
        time.sleep(0.01)
    sender.join()
    assert sent and sent[0].actions["rejected"] == 0

    wait_until(repaired, 120, "the catch-up requests to be done")

    assert kills > 0
    # A run was interrupted half-way (its attempt counted, its work rolled back) and run again.
    assert CatchUpRequest.objects.filter(attempts__gt=1).exists()
    per_entity = goldens_per_entity(scenario.truth)
    assert all(len(goldens) == 1 for goldens in per_entity.values())
    assert active_goldens() - before == 150
    assert strong_open_reviews_within_one_entity(scenario.truth) == 0
