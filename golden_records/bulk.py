"""Bulk inserts for the ingest hot path.

On PostgreSQL, Django's ``bulk_create`` sends each column as an array literal that psycopg quotes
value by value in Python (``INSERT … SELECT * FROM UNNEST(…)``); for the wide golden, history
and source-record rows of a 1,000-record batch that quoting costs more than the database work.
``COPY … FROM STDIN`` formats rows in psycopg's C layer instead (bench/ingest.py measures the
difference). Values still go through each field's ``pre_save`` and ``get_db_prep_save``, so
they are exactly what ``bulk_create`` would write. Other databases use ``bulk_create``.

Objects whose primary key is an auto-increment get ids drawn from the table's sequence first,
as ``bulk_create`` would return them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from psycopg.types.json import Jsonb

from golden_records.fastjson import dumps_for

# Field types whose database value on PostgreSQL is the Python value itself: read the attribute
# directly instead of through get_db_prep_save (a measurable share of a batch's time).
PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.UUIDField,
    models.DateField,
)


def _reader(field: models.Field) -> Callable[[models.Model], Any]:
    if isinstance(field, models.JSONField):
        return _jsonb_reader(field)
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        plain = isinstance(target, PLAIN_FIELDS) and not isinstance(target, models.DateTimeField)
        if plain:
            return attrgetter(field.attname)
    elif isinstance(field, PLAIN_FIELDS) and not (
        isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add)
    ):
        return attrgetter(field.attname)
    return _generic_reader(field)


def _jsonb_reader(field: models.JSONField) -> Callable[[models.Model], Any]:
    """As ``get_db_prep_save`` (None is SQL NULL), encoded by orjson (golden_records.fastjson)."""
    attname = field.attname
    dumps = dumps_for(field.encoder)

    def read(obj: models.Model) -> Any:
        value = getattr(obj, attname)
        if value is None:
            return None
        return Jsonb(field.get_prep_value(value), dumps=dumps)

    return read


def _generic_reader(field: models.Field) -> Callable[[models.Model], Any]:
    # The connection proxy costs a lookup per access: bind the real connection once.
    real_connection = connections[DEFAULT_DB_ALIAS]
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), real_connection)


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    if not objs:
        return
    meta = model._meta
    pk = meta.pk
    auto_pk = isinstance(pk, models.AutoField | models.BigAutoField)
    missing_ids = auto_pk and any(obj.pk is None for obj in objs)
    if connection.vendor == "sqlite" and (
        not missing_ids or (connection.in_atomic_block and all(obj.pk is None for obj in objs))
    ):
        _executemany_insert(model, objs, missing_ids)
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    with connection.cursor() as cursor:
        if auto_pk and any(obj.pk is None for obj in objs):
            missing = [obj for obj in objs if obj.pk is None]
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(missing)],
            )
            for obj, (new_id,) in zip(missing, cursor.fetchall(), strict=True):
                obj.pk = new_id
        fields = [f for f in meta.concrete_fields if f.column]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        readers = [_reader(f) for f in fields]
        with cursor.cursor.copy(sql) as copy:
            for obj in objs:
                copy.write_row([read(obj) for read in readers])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


SQLITE_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
)


def _sqlite_reader(field: models.Field) -> Callable[[models.Model], Any]:
    """Fields whose SQLite value is the Python value read it directly (see PLAIN_FIELDS)."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if isinstance(target, SQLITE_PLAIN):
        return attrgetter(field.attname)
    return _generic_reader(field)


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert plain rows (database values, in ``columns`` order) without model objects: for
    narrow tables written by the thousand (blocking keys)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))


def _executemany_insert(
    model: type[models.Model], objs: Sequence[models.Model], new_ids: bool
) -> None:
    """SQLite: one prepared INSERT run for every row, the same values as ``bulk_create``
    without compiling SQL for each chunk of objects.

    With ``new_ids`` the table's auto-increment key numbers the rows: the ingest transaction
    is the only writer (SQLite write transactions are exclusive, settings: IMMEDIATE), so the
    rows get consecutive ids ending at ``last_insert_rowid()``.
    """
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f.column and not (new_ids and f.primary_key)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    readers = [_sqlite_reader(f) for f in fields]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})",
            [[read(obj) for read in readers] for obj in objs],
        )
        if new_ids:
            cursor.execute("SELECT last_insert_rowid()")
            last = cursor.fetchone()[0]
            for offset, obj in enumerate(objs):
                obj.pk = last - len(objs) + 1 + offset
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def bulk_update_rows(
    model: type[models.Model], objs: Sequence[models.Model], field_names: Sequence[str]
) -> None:
    """Update ``field_names`` of ``objs`` by primary key, one ``UPDATE … FROM (VALUES …)`` per
    chunk (PostgreSQL, SQLite 3.33+), instead of Django's ``bulk_update`` with one
    ``CASE WHEN pk = … THEN …`` per field, whose cost grows with the square of the batch size.
    """
    if not objs:
        return
    meta = model._meta
    pk = meta.pk
    fields = [meta.get_field(name) for name in field_names]
    columns = [pk, *fields]
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        _update_from_json(meta, pk, fields, objs)
        return
    # SQLite names the columns of a VALUES list column1, column2, …
    placeholders = ["%s"] * len(columns)
    readers = [_generic_reader(f) for f in columns]
    names = [f"column{i}" for i in range(1, len(columns) + 1)]
    assignments = ", ".join(
        f"{quote(f.column)} = v.{name}" for f, name in zip(fields, names[1:], strict=True)
    )
    chunk = max(1, 30_000 // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), chunk):
            part = objs[start : start + chunk]
            rows = ", ".join(f"({', '.join(placeholders)})" for _ in part)
            params = [read(obj) for obj in part for read in readers]
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
                f"FROM (VALUES {rows}) AS v WHERE t.{quote(pk.column)} = v.{names[0]}",
                params,
            )


def _update_from_json(
    meta: Any, pk: models.Field, fields: Sequence[models.Field], objs: Sequence[models.Model]
) -> None:
    """PostgreSQL: the rows go as one JSON document, ``UPDATE … FROM jsonb_to_recordset(…)``.

    psycopg quotes an array parameter element by element in Python (a regular expression per
    string), which cost more than the database work for a batch's wide rows; one JSON text is
    encoded in C by ``json.dumps`` and parsed by the server. JSON columns travel as their own
    encoded text (with the field's encoder) and are cast back to jsonb in the ``SET``.
    """
    quote = connection.ops.quote_name
    columns = [pk, *fields]
    readers = [_json_reader(f) for f in columns]
    keys = [f"c{i}" for i in range(len(columns))]
    types = ", ".join(
        f"{key} {'text' if isinstance(f, models.JSONField) else f.db_type(connection)}"
        for key, f in zip(keys, columns, strict=True)
    )
    assignments = ", ".join(
        f"{quote(f.column)} = v.{key}{'::jsonb' if isinstance(f, models.JSONField) else ''}"
        for f, key in zip(fields, keys[1:], strict=True)
    )
    document = dumps_for(_RowEncoder)(
        [{key: read(obj) for key, read in zip(keys, readers, strict=True)} for obj in objs]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
            f"FROM jsonb_to_recordset(%s::jsonb) AS v({types}) "
            f"WHERE t.{quote(pk.column)} = v.{keys[0]}",
            [document.decode() if isinstance(document, bytes) else document],
        )


def _json_reader(field: models.Field) -> Callable[[models.Model], Any]:
    """The field's database value as the JSON document carries it (see _update_from_json)."""
    if isinstance(field, models.JSONField):
        dumps = dumps_for(field.encoder)
        attname = field.attname

        def read(obj: models.Model) -> str | None:
            value = field.get_prep_value(getattr(obj, attname))
            if value is None:
                return None
            encoded = dumps(value)
            return encoded.decode() if isinstance(encoded, bytes) else encoded

        return read
    return _reader(field)


class _RowEncoder(json.JSONEncoder):
    """Values json cannot encode, in the text form PostgreSQL parses back exactly (datetimes
    keep their microseconds and offset, decimals their digits)."""

    def default(self, value: Any) -> Any:
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal | uuid.UUID):
            return str(value)
        return super().default(value)
