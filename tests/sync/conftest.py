"""A test endpoint: an HTTP server in a thread that records requests and answers as told."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import make_system


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Endpoint:
    url: str
    received: list[Received] = field(default_factory=list)
    # (status, headers, body) per request; the default answers 200 with an empty JSON object.
    answer: Callable[[Received], tuple[int, dict[str, str], bytes]] = lambda r: (200, {}, b"{}")
    delay: float = 0.0


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            item = Received(dict(self.headers), self.rfile.read(length))
            state.received.append(item)
            if state.delay:
                time.sleep(state.delay)
            status, headers, body = state.answer(item)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscribed(db, systems, endpoint):
    """ERP subscribed to customers (two renamed fields), ecom to customers and items."""
    from sync.services import create_subscription

    erp = create_subscription(
        systems["erp"],
        "erp-customers",
        endpoint.url,
        ["customer"],
        fields={"customer": {"name": "AccountName", "credit_limit": "CreditLimit"}},
    )
    ecom = create_subscription(make_system("ecom"), "ecom-all", endpoint.url, ["customer", "item"])
    return {"erp": erp, "ecom": ecom}
