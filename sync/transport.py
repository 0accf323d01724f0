"""Transports, and HTTP for webhooks: one POST, no redirects, a hard timeout, and no requests
to places a webhook must never reach (link-local and cloud metadata addresses) unless settings
allow them.

The host is resolved once and the connection goes to the address that was checked, so a DNS
answer that changes between the check and the request (rebinding) cannot slip past the guard.
Connections are pooled per process (keep-alive), which matters at hundreds of deliveries a second.

A transport is a function ``(subscription, webhook_id, body, secrets) -> HttpResult``, chosen by
``Subscription.transport`` (``TRANSPORTS``). The delivery engine only reads the result: a 2xx
status is delivered, 410 disables, 429/503 honour Retry-After, anything else (or an error) is
retried. A message-broker transport answers 200 once the broker confirmed the publish and an
error otherwise, and plugs in beside ``webhook`` without changing the engine.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from sync import signing

if TYPE_CHECKING:
    from sync.models import Subscription

# Cloud metadata services that are not link-local (AWS IPv6, Alibaba, Oracle's second address).
METADATA_ADDRESSES = {
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("192.0.0.192"),
}
EXCERPT_CHARS = 1000
MAX_BODY_BYTES = 64 * 1024  # what is read of a response (its id, an excerpt); the rest is dropped


class RefusedAddress(Exception):
    """The endpoint resolves to an address webhooks may not reach."""


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None
    body: bytes
    headers: dict[str, str]
    duration_ms: int
    error: str = ""
    timed_out: bool = False

    @property
    def excerpt(self) -> str:
        return self.body[:EXCERPT_CHARS].decode("utf-8", errors="replace")


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n) for n in getattr(settings, "MDM_WEBHOOK_ALLOWED_NETWORKS", [])]


def check_address(address: str) -> None:
    ip = ipaddress.ip_address(address)
    if any(ip in network for network in _allowed_networks()):
        return
    if ip.is_link_local or ip in METADATA_ADDRESSES:
        raise RefusedAddress(f"{address} is a link-local or metadata address.")
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        raise RefusedAddress(f"{address} is not a unicast address.")


RESOLVE_TTL_SECONDS = 30.0
_resolved: dict[tuple[str, int], tuple[float, str]] = {}


def resolve(host: str, port: int) -> str:
    """The first address of ``host`` that passes the guard (every address must pass).

    Answers are kept for RESOLVE_TTL_SECONDS per process (a lookup per request cost a few
    percent of a delivery); the connection still goes to the address that was checked.
    """
    key = (host, port)
    cached = _resolved.get(key)
    if cached is not None and time.monotonic() - cached[0] < RESOLVE_TTL_SECONDS:
        return cached[1]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        check_address(address)
    _resolved[key] = (time.monotonic(), addresses[0])
    return addresses[0]


_pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


def _pool(scheme: str, address: str, port: int, host: str) -> urllib3.HTTPConnectionPool:
    key = (scheme, address, port, host)
    # One kept-alive connection per sending thread: a smaller pool would open (and close) a
    # new connection for every request beyond it.
    size = max(1, settings.MDM_DELIVERY_THREADS)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    address, port, maxsize=size, server_hostname=host, assert_hostname=host
                )
            else:
                pool = urllib3.HTTPConnectionPool(address, port, maxsize=size)
            _pools[key] = pool
        return pool


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
    """POST ``body``; never raises for network trouble, which comes back as ``error``."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return HttpResult(None, b"", {}, took(), error=f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = resolve(parts.hostname, port)
    except RefusedAddress as exc:
        return HttpResult(None, b"", {}, took(), error=f"refused: {exc}")
    except OSError as exc:
        return HttpResult(None, b"", {}, took(), error=f"cannot resolve {parts.hostname}: {exc}")
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        response = _pool(parts.scheme, address, port, parts.hostname).urlopen(
            "POST",
            path,
            body=body,
            headers={
                **headers,
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": "mdm-hub-webhooks/1",
            },
            redirect=False,
            retries=False,
            timeout=urllib3.Timeout(total=timeout),
            preload_content=False,
        )
        try:
            content = response.read(MAX_BODY_BYTES, decode_content=True)
            response.drain_conn()  # the rest is not kept, but the connection stays reusable
        finally:
            response.release_conn()
        return HttpResult(response.status, content, dict(response.headers), took())
    except (TimeoutError, urllib3.exceptions.TimeoutError):
        return HttpResult(
            None, b"", {}, took(), error=f"timeout after {timeout:g} s", timed_out=True
        )
    except urllib3.exceptions.HTTPError as exc:
        return HttpResult(None, b"", {}, took(), error=f"{type(exc).__name__}: {exc}"[:500])


def send_webhook(
    subscription: Subscription, webhook_id: str, body: bytes, secrets: Sequence[str]
) -> HttpResult:
    """A Standard Webhooks POST to the subscription's endpoint."""
    return post(
        subscription.endpoint_url,
        body,
        signing.headers(secrets, webhook_id, body),
        settings.MDM_WEBHOOK_TIMEOUT_SECONDS,
    )


Transport = Callable[["Subscription", str, bytes, Sequence[str]], HttpResult]
TRANSPORTS: dict[str, Transport] = {"webhook": send_webhook}


def transport_for(subscription: Subscription) -> Transport:
    return TRANSPORTS[subscription.transport]
