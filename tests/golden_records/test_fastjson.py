"""golden_records.fastjson: orjson's speed, the standard library's documents."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from golden_records.fastjson import dumps_for

VALUE = {
    "price": decimal.Decimal("12.50"),
    "at": dt.datetime(2026, 11, 27, 9, 30, 1, 123456, tzinfo=dt.UTC),
    "day": dt.date(2026, 11, 27),
    "id": uuid.UUID("0193e0a4-7b1c-7cc3-9a4e-3f1f9b1e2d3c"),
    "name": "Müller & Söhne \u2028",
    7: "integer key",
    None: "null key",
    "nested": [1, 2.5, True, None, {"deep": "x"}],
}


@pytest.mark.parametrize(
    "value",
    [VALUE, {"huge": 2**70}, [], "text", 1e16],
    ids=["mixed", "beyond-64-bits", "empty", "string", "float"],
)
def test_documents_decode_to_what_json_dumps_writes(value):
    fast = dumps_for(DjangoJSONEncoder)(value)
    assert json.loads(fast) == json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def test_datetimes_keep_the_encoders_form():
    # DjangoJSONEncoder keeps milliseconds and writes UTC as Z; orjson alone would not.
    assert json.loads(dumps_for(DjangoJSONEncoder)(VALUE))["at"] == "2026-11-27T09:30:01.123Z"


def test_without_an_encoder_what_json_refuses_is_refused():
    with pytest.raises(TypeError):
        dumps_for(None)({"price": decimal.Decimal("1")})
    with pytest.raises(TypeError):
        dumps_for(None)({"at": dt.date(2026, 1, 1)})
