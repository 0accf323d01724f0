"""JSON parsing that keeps decimals exact and refuses oversized bodies before reading them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BodyTooLarge(ParseError):
    default_code = "body_too_large"


class StrictJSONParser(JSONParser):
    """Numbers with a fraction become ``Decimal`` (never float: prices lose cents as floats);
    NaN and Infinity are refused; bodies over MDM_MAX_BODY_BYTES are refused unread."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        limit = settings.MDM_MAX_BODY_BYTES
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > limit:
            raise BodyTooLarge(f"Request body is {length} bytes; the limit is {limit}.")
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise BodyTooLarge(f"Request body is over the limit of {limit} bytes.")
        try:
            return json.loads(
                body.decode(settings.DEFAULT_CHARSET),
                parse_float=Decimal,
                parse_constant=_refuse_constant,
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"Malformed JSON: {exc}", code="malformed_json") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
