"""The reference receiver: signatures, stale timestamps and versions, rotation, its own ids,
fault injection, and the hub delivering to it."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from sync import signing
from sync.delivery import deliver_due
from sync.models import DeliveryAttempt, SigningSecret
from sync.receiver import Faults, ReceiverServer, make_server, read_records, read_requests
from tests.helpers import golden_of, put

OLD = signing.new_secret()
NEW = signing.new_secret()


@pytest.fixture
def receiver(tmp_path) -> Iterator[ReceiverServer]:
    server = make_server([OLD, NEW], tmp_path / "receiver.sqlite3", seed=1)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    server.store.close()
    thread.join()


def event(golden_id: str, version: int, **extra) -> bytes:
    body = {"type": "updated", "golden_id": golden_id, "version": version, "record": {}, **extra}
    return json.dumps(body).encode()


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 5) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def send(
    receiver: ReceiverServer,
    body: bytes,
    secrets=(NEW,),
    webhook_id: str | None = None,
    timestamp: int | None = None,
    path: str = "/erp",
) -> tuple[int, dict]:
    headers = signing.headers(list(secrets), webhook_id or str(uuid.uuid4()), body, timestamp)
    return post(receiver.url + path, body, headers)


def test_accepts_signed_events_and_answers_its_own_stable_id(receiver):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    assert send(receiver, event(a, 1)) == (200, {"id": "R-000001"})
    assert send(receiver, event(b, 1)) == (200, {"id": "R-000002"})
    assert send(receiver, event(a, 2)) == (200, {"id": "R-000001"})
    records = read_records(receiver.store.path)
    assert records["/erp", a]["version"] == 2 and records["/erp", a]["receiver_id"] == "R-000001"
    assert json.loads(records["/erp", b]["body"])["golden_id"] == b
    outcomes = [r["outcome"] for r in read_requests(receiver.store.path)]
    assert outcomes == ["accepted", "accepted", "accepted"]


def test_each_path_is_its_own_inbox(receiver):
    a = str(uuid.uuid4())
    assert send(receiver, event(a, 1), path="/erp")[1] == {"id": "R-000001"}
    assert send(receiver, event(a, 1), path="/ecom")[1] == {"id": "R-000002"}
    assert set(read_records(receiver.store.path)) == {("/erp", a), ("/ecom", a)}


def test_stale_and_repeated_versions_are_acknowledged_but_not_applied(receiver):
    a = str(uuid.uuid4())
    send(receiver, event(a, 3, name="three"), webhook_id="w3")
    assert send(receiver, event(a, 2), webhook_id="w2") == (
        200,
        {"id": "R-000001", "dropped": "stale"},
    )
    assert send(receiver, event(a, 3), webhook_id="w3")[1]["dropped"] == "stale"  # a duplicate
    record = read_records(receiver.store.path)["/erp", a]
    assert (record["version"], record["webhook_id"]) == (3, "w3")
    assert json.loads(record["body"])["name"] == "three"
    rows = read_requests(receiver.store.path)
    assert [(r["version"], r["outcome"]) for r in rows] == [
        (3, "accepted"),
        (2, "stale"),
        (3, "stale"),
    ]


def test_a_tampered_body_is_refused(receiver):
    a = str(uuid.uuid4())
    body = event(a, 1)
    headers = signing.headers([NEW], "w1", body)
    status, answer = post(
        receiver.url + "/erp", body.replace(b'"version": 1', b'"version": 9'), headers
    )
    assert (status, answer["error"]) == (401, "bad_signature")
    assert read_records(receiver.store.path) == {}
    [row] = read_requests(receiver.store.path)
    assert (row["outcome"], row["status"], row["error"], row["webhook_id"]) == (
        "rejected",
        401,
        "bad_signature",
        "w1",
    )


def test_stale_timestamps_are_refused_within_five_minutes_accepted(receiver):
    a = str(uuid.uuid4())
    old = int(time.time()) - 301
    assert send(receiver, event(a, 1), timestamp=old)[1]["error"] == "stale_timestamp"
    future = int(time.time()) + 301
    assert send(receiver, event(a, 1), timestamp=future)[1]["error"] == "stale_timestamp"
    assert send(receiver, event(a, 1), timestamp=int(time.time()) - 240)[0] == 200


def test_missing_headers_are_refused(receiver):
    status, answer = post(receiver.url + "/erp", event(str(uuid.uuid4()), 1), {})
    assert (status, answer["error"]) == (401, "missing_headers")


def test_secret_rotation(receiver, tmp_path):
    """The receiver knows OLD and NEW: either alone, or both at once (the hub during the
    overlap), is accepted; a third secret is not. A receiver that dropped OLD refuses it."""
    a = str(uuid.uuid4())
    assert send(receiver, event(a, 1), secrets=[OLD])[0] == 200
    assert send(receiver, event(a, 2), secrets=[NEW])[0] == 200
    assert send(receiver, event(a, 3), secrets=[OLD, NEW])[0] == 200
    other = signing.new_secret()
    assert send(receiver, event(a, 4), secrets=[other])[1]["error"] == "bad_signature"
    rotated = make_server([NEW], tmp_path / "rotated.sqlite3")
    thread = threading.Thread(target=rotated.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        assert send(rotated, event(a, 1), secrets=[OLD])[0] == 401
        assert send(rotated, event(a, 1), secrets=[OLD, NEW])[0] == 200
    finally:
        rotated.shutdown()
        rotated.server_close()
        thread.join()


def test_a_message_signed_by_the_standard_webhooks_library_is_accepted(receiver):
    from standardwebhooks.webhooks import Webhook

    body = event(str(uuid.uuid4()), 1)
    now = dt.datetime.now(dt.UTC)
    signature = Webhook(NEW).sign("msg_1", now, body.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert post(receiver.url + "/erp", body, headers)[0] == 200


def test_not_an_event_is_a_400(receiver):
    status, answer = send(receiver, b'{"hello": 1}')
    assert (status, answer["error"]) == (400, "not_an_event")


def test_injected_failures_and_the_control_endpoint(receiver):
    a = str(uuid.uuid4())
    status, state = post(
        receiver.url + "/_control", json.dumps({"fail_rate": 1, "fail_status": 503}).encode(), {}
    )
    assert status == 200 and state["faults"]["fail_status"] == 503
    assert send(receiver, event(a, 1)) == (503, {"error": "injected_failure"})
    assert read_records(receiver.store.path) == {}
    post(receiver.url + "/_control", b'{"enabled": false}', {})
    assert send(receiver, event(a, 1))[0] == 200
    with urllib.request.urlopen(receiver.url + "/_control") as response:
        counts = json.loads(response.read())["requests"]
    assert counts == {"failed": 1, "accepted": 1}
    assert post(receiver.url + "/_control", b'{"fail_rate": 2}', {})[0] == 400
    assert post(receiver.url + "/_control", b'{"nonsense": 1}', {})[0] == 400


def test_a_hanging_receiver_applies_after_the_hang(receiver):
    receiver.faults.update({"hang_seconds": 0.5})
    a = str(uuid.uuid4())
    body = event(a, 1)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        post(receiver.url + "/erp", body, signing.headers([NEW], "w1", body), timeout=0.1)
    deadline = time.monotonic() + 5
    while ("/erp", a) not in read_records(receiver.store.path):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_faults_validate():
    faults = Faults()
    with pytest.raises(ValueError):
        faults.update({"fail_status": 42})
    with pytest.raises(ValueError):
        faults.update({"enabled": "yes"})


def test_the_command_refuses_a_malformed_secret(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command(
            "webhook_receiver",
            "--port",
            "0",
            "--secret",
            "whsec_not base64!",
            "--store",
            str(tmp_path / "r.sqlite3"),
            stdout=io.StringIO(),
        )


# -- the hub delivering to it -------------------------------------------------------------------


ACME = {"name": "Acme Corp", "duns": "150483782", "country": "US", "credit_limit": "5000"}


def test_the_hub_delivers_to_the_receiver_during_a_rotation(api, systems, receiver, monkeypatch):
    """The hub signs with OLD and NEW during the overlap; the receiver accepts; the receiver's
    id comes back as the subscriber's cross-reference; the standardwebhooks library verifies
    the hub's two-signature headers with either secret."""
    from standardwebhooks.webhooks import Webhook

    from sync import transport
    from sync.services import create_subscription, rotate_secret

    sent = []
    real_post = transport.post

    def recording_post(url, body, headers, timeout):
        sent.append((body, headers))
        return real_post(url, body, headers, timeout)

    monkeypatch.setattr(transport, "post", recording_post)
    sub = create_subscription(
        systems["ecom"], "ecom", receiver.url + "/ecom", ["customer"], secret=OLD
    )
    new = rotate_secret(sub.pk)
    SigningSecret.objects.filter(pk=new.pk).update(secret=NEW)
    put(api["erp"], "erp", "customer", "C1", ACME)
    while deliver_due(sub.pk):
        pass
    assert DeliveryAttempt.objects.get().outcome == "delivered"
    golden = golden_of("erp", "customer", "C1")
    receiver_id = read_records(receiver.store.path)["/ecom", str(golden.pk)]["receiver_id"]
    assert golden_of("ecom", "customer", receiver_id).pk == golden.pk
    [(body, headers)] = sent
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (OLD, NEW):
        assert Webhook(secret).verify(body, headers)["golden_id"] == str(golden.pk)
