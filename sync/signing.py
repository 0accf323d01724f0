"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

A secret is ``whsec_`` followed by the base64 of its key bytes. The signature of a message is
``v1,`` + base64(HMAC-SHA256(key, f"{webhook_id}.{timestamp}.{body}")); during a secret rotation
the ``webhook-signature`` header carries one signature per active secret, separated by spaces.
Receivers compare in constant time and refuse timestamps more than five minutes off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class SignatureError(Exception):
    """Why a received message was refused: ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def new_secret() -> str:
    """A new signing secret (24 random bytes, as Svix and the reference libraries make them)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ValueError("A signing secret is 'whsec_' followed by base64.") from exc


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of the message."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: Iterable[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret, webhook_id, timestamp, body) for secret in secrets_)


def headers(
    secrets_: Iterable[str], webhook_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, webhook_id, timestamp, body),
    }


def verify(
    secrets_: Iterable[str],
    request_headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """Check a received message against any of the receiver's secrets; returns its webhook id.

    Raises SignatureError (missing_headers, bad_timestamp, stale_timestamp, bad_signature).
    """
    lowered = {k.lower(): v for k, v in request_headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    raw_timestamp = lowered.get("webhook-timestamp", "")
    header = lowered.get("webhook-signature", "")
    if not (webhook_id and raw_timestamp and header):
        raise SignatureError("missing_headers", "webhook-id, -timestamp and -signature needed.")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise SignatureError("bad_timestamp", "webhook-timestamp is not a number.") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("stale_timestamp", "webhook-timestamp is too far from now.")
    offered = [part for part in header.split(" ") if part.startswith("v1,")]
    for secret in secrets_:
        expected = sign(secret, webhook_id, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return webhook_id
    raise SignatureError("bad_signature", "No signature matches a known secret.")
