"""import_records: load one system's export of one domain from a CSV or JSON Lines file.

The rows go through the same pipeline as the batch API (``ingest_batch``), in batches, while the
file is read: nothing holds more than one batch in memory, so files of millions of rows are fine.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import csv
import gzip
import io
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from django.db import DatabaseError, transaction
from tqdm import tqdm

from golden_records.domains import DOMAINS, DomainSpec
from golden_records.history import ChangeOrigin
from golden_records.management.actor import add_actor_argument, command_origin
from golden_records.models import Channel, SourceSystem
from golden_records.pipeline import META_FIELDS
from golden_records.services import ingest_batch
from golden_records.services.exceptions import keep_rejections
from golden_records.services.ingest import REJECT_ALL, REJECT_FAILED, Action

MAX_BATCH_SIZE = 1000
SHOWN_REJECTIONS = 20
SHOWN_WARNINGS = 20
HELD_REJECTIONS = 10_000
"""Under reject_all the rejected rows are kept as exceptions after the rollback; at most these."""
ACTIONS = (
    Action.CREATED,
    Action.LINKED,
    Action.UPDATED,
    Action.UNCHANGED,
    Action.STALE,
    Action.REJECTED,
)
FORMATS_BY_EXTENSION = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
MAX_IGNORED_SHOWN = 50

HELP = """\
Import one source system's records of one domain from a CSV or JSON Lines file (FILE, or - for
stdin with --format).

CSV: UTF-8 (a byte order mark is fine), a header row of the domain's attribute names plus
source_id and an optional source_updated_at (ISO 8601). An empty cell means no value. Columns that
are not attributes of the domain are ignored, with one warning naming them.
JSON Lines: one JSON object per line with the same keys; blank lines are skipped, and a line that
is not a JSON object is rejected with code malformed_json. Keys that are not attributes are
ignored, with one warning at the end. A .gz file is decompressed on the fly.

Records go through the same pipeline as POST /api/v1/sources/{system}/{domain}/batch, in batches
of --batch-size. Each source_id should appear once in a file: a second row with the same source_id
is rejected (duplicate_source_id) when it falls in the same batch, and is taken as an update of the
first when it falls in a later one.

--on-error reject_failed (default) writes every valid row and reports the others. reject_all
writes nothing if any row is rejected; the whole file is then imported in one transaction, which
holds the domain's write lock (API writes of the domain wait) until the file is done; every row
then counts as rejected, and --errors-out lists the rows that are not valid.

At the end a summary is printed: rows per action, the first 20 rejections and the first 20 rows
with warnings (values kept as sent that the sender should know about, e.g. tax_id_without_country:
a tax id with no prefix, no country and no default country of the system, not used to match;
warnings never reject a row). --errors-out writes
every rejected row as JSON Lines ({"line", "source_id", "errors", "record"}); fix the records and
re-import them, e.g. jq -c .record ERRORS.jsonl > fixed.jsonl. The exit status is 1 ("N records
rejected") when any row was rejected, 0 otherwise. Importing the same file again changes nothing:
every row is "unchanged".
"""


def _error(code: str, message: str, field_name: str = "non_field") -> dict[str, str]:
    return {"field": field_name, "code": code, "message": message}


@dataclass
class Row:
    """One data row of the file: the record to ingest, or why it could not be read as one."""

    line: int
    record: dict[str, Any] | None
    errors: list[dict[str, str]] = field(default_factory=list)
    raw: Any = None
    action: str = ""
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def source_id(self) -> Any:
        return self.record.get("source_id") if self.record is not None else None


class ReadError(Exception):
    """The file cannot be read on from ``line``; the rows before it were processed."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _RollBack(Exception):
    pass


def decoded_lines(stream: Iterable[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 byte stream (line endings kept, a leading BOM dropped).

    Each line is decoded on its own, so a byte that is not UTF-8 is reported with its line.
    """
    for number, data in enumerate(stream, 1):
        if number == 1 and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            yield data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ReadError(
                number,
                f"not UTF-8 (byte 0x{data[exc.start]:02x} at position {exc.start + 1}); "
                "convert the file, e.g. iconv -f latin1 -t utf-8",
            ) from exc


class CsvRows:
    """Rows of a CSV file, keyed by the header's known columns; empty cells left out."""

    def __init__(self, lines: Iterable[str], spec: DomainSpec, label: str):
        self.reader = csv.reader(lines)
        header: list[str] | None = None
        for cells in self.reader:
            if any(cell.strip() for cell in cells):
                header = cells
                break
        if header is None:
            raise CommandError(f"{label} is empty: expected a header row.")
        self.columns = [name.strip() for name in header]
        seen: set[str] = set()
        duplicates = []
        for name in self.columns:
            if name and name in seen:
                duplicates.append(name)
            seen.add(name)
        if duplicates:
            raise CommandError(f"{label}: the header has {', '.join(duplicates)} more than once.")
        if "source_id" not in self.columns:
            raise CommandError(f"{label}: the header has no source_id column.")
        known = {*spec.attribute_names, *META_FIELDS}
        self.keep = [(i, name) for i, name in enumerate(self.columns) if name in known]
        self.ignored = [name or '""' for name in self.columns if name not in known]

    def __iter__(self) -> Iterator[Row]:
        reader, width = self.reader, len(self.columns)
        previous = reader.line_num
        while True:
            start = previous + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                previous = reader.line_num
                yield Row(start, None, [_error("malformed_csv", f"Not valid CSV: {exc}.")])
                continue
            previous = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a row of empty cells
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                message = f"The row has {len(cells)} fields; the header has {width}."
                yield Row(start, None, [_error("malformed_csv", message)], raw=cells)
                continue
            record = {
                name: cells[i] for i, name in self.keep if i < len(cells) and cells[i].strip()
            }
            yield Row(start, record)


class JsonRows:
    """Rows of a JSON Lines file; numbers with a fraction parsed as ``Decimal``."""

    def __init__(self, lines: Iterable[str], spec: DomainSpec):
        self.lines = lines
        self.known = {*spec.attribute_names, *META_FIELDS}
        self.ignored: dict[str, None] = {}
        self.lines_with_ignored = 0

    def __iter__(self) -> Iterator[Row]:
        for number, text in enumerate(self.lines, 1):
            if not text.strip():
                continue
            raw = text.rstrip("\r\n")
            try:
                value = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
            except (ValueError, RecursionError) as exc:
                yield Row(number, None, [_error("malformed_json", f"Not valid JSON: {exc}")], raw)
                continue
            if not isinstance(value, dict):
                message = f"Expected a JSON object, not {_json_type(value)}."
                yield Row(number, None, [_error("malformed_json", message)], raw)
                continue
            record = {}
            unknown = False
            for key, item in value.items():
                if key in self.known:
                    record[key] = item
                else:
                    unknown = True
                    if len(self.ignored) < MAX_IGNORED_SHOWN:
                        self.ignored.setdefault(key)
            self.lines_with_ignored += unknown
            yield Row(number, record)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


class Importer:
    """Feeds rows to ``ingest_batch`` in batches and keeps the tally and the rejections."""

    def __init__(
        self,
        system: SourceSystem,
        spec: DomainSpec,
        on_error: str,
        origin: ChangeOrigin,
        batch_size: int,
        errors_out: IO[str] | None,
        progress: tqdm,
    ):
        self.system = system
        self.spec = spec
        self.on_error = on_error
        self.origin = origin
        self.batch_size = batch_size
        self.errors_out = errors_out
        self.progress = progress
        self.pending: list[Row] = []
        self.total = 0
        self.counts = dict.fromkeys(ACTIONS, 0)
        self.invalid = 0
        """Rows rejected for errors of their own (not only because their batch failed)."""
        self.shown: list[tuple[Row, list[dict[str, str]]]] = []
        self.warned = 0
        """Rows with warnings (accepted or not)."""
        self.shown_warnings: list[Row] = []
        self.first_line = 0
        """The first line of the rows waiting in ``pending``."""
        self.held: list[tuple[Any, dict[str, Any]]] = []
        """reject_all: rejected records to keep as exceptions once the transaction is over."""

    def run(self, rows: Iterable[Row]) -> None:
        for row in rows:
            if not self.pending:
                self.first_line = row.line
            self.pending.append(row)
            if len(self.pending) >= self.batch_size:
                self.flush()
        self.flush()

    def flush(self) -> None:
        rows, self.pending = self.pending, []
        if not rows:
            return
        readable = [row for row in rows if row.record is not None]
        if readable:
            outcome = ingest_batch(
                self.system,
                self.spec.name,
                [row.record for row in readable],
                self.on_error,
                self.origin,
            )
            for row, result in zip(readable, outcome.records, strict=True):
                row.action = result.action
                row.errors = result.errors_as_list()
                row.warnings = result.warnings_as_list()
            self._keep_rejections(outcome.records, [row.record for row in readable])
        for row in rows:
            action = row.action if row.record is not None else Action.REJECTED
            self.counts[action] += 1
            if action == Action.REJECTED:
                own = [e for e in row.errors if e["code"] != "batch_rejected"]
                if own:
                    self._reject(row, own)
            if row.warnings:
                self.warned += 1
                if len(self.shown_warnings) < SHOWN_WARNINGS:
                    self.shown_warnings.append(row)
        self.total += len(rows)
        self.progress.update(len(rows))
        if self.counts[Action.REJECTED]:
            self.progress.set_postfix(rejected=self.counts[Action.REJECTED], refresh=False)

    def _keep_rejections(self, results: list[Any], records: list[dict[str, Any]]) -> None:
        """The stewards' exceptions queue keeps the rejected records: at once under
        reject_failed, after the rollback under reject_all (``keep_held_rejections``)."""
        if self.on_error == REJECT_FAILED:
            keep_rejections(self.system, self.spec.name, results, records, Channel.COMMAND)
            return
        room = HELD_REJECTIONS - len(self.held)
        rejected = [(r, raw) for r, raw in zip(results, records, strict=True) if not r.ok]
        self.held.extend(rejected[:room])

    def keep_held_rejections(self) -> int:
        held, self.held = self.held, []
        if not held:
            return 0
        results, records = zip(*held, strict=True)
        return keep_rejections(
            self.system, self.spec.name, list(results), list(records), Channel.COMMAND
        )

    def _reject(self, row: Row, errors: list[dict[str, str]]) -> None:
        self.invalid += 1
        if len(self.shown) < SHOWN_REJECTIONS:
            self.shown.append((row, errors))
        if self.errors_out is not None:
            entry: dict[str, Any] = {
                "line": row.line,
                "source_id": row.source_id,
                "errors": errors,
                "record": row.record,
            }
            if row.record is None:
                entry["raw"] = row.raw
            self.errors_out.write(
                json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":")) + "\n"
            )


class HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's argument order, with the paragraphs of the description kept."""


class Command(BaseCommand):
    help = HELP
    stealth_options = ("stdin",)

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "file", metavar="FILE", help="CSV or JSON Lines file (optionally .gz); - for stdin."
        )
        parser.add_argument("--system", required=True, help="Source system code, e.g. erp.")
        parser.add_argument("--domain", required=True, help=f"One of: {', '.join(DOMAINS)}.")
        parser.add_argument(
            "--format",
            choices=["csv", "jsonl"],
            help="File format; by default from the extension (.csv, .jsonl, .ndjson).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=MAX_BATCH_SIZE,
            help=f"Records per ingest batch (1 to {MAX_BATCH_SIZE}; default {MAX_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--on-error",
            choices=[REJECT_FAILED, REJECT_ALL],
            default=REJECT_FAILED,
            help="reject_failed writes the valid rows; reject_all writes nothing if any fails.",
        )
        parser.add_argument(
            "--errors-out",
            metavar="ERRORS.jsonl",
            help="Write every rejected row here as JSON Lines, to fix and re-import.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (off unless a TTY)."
        )
        add_actor_argument(parser)

    def handle(self, *args, **options):
        system = self._system(options["system"])
        spec = self._domain(options["domain"])
        path: str = options["file"]
        fmt = self._format(path, options["format"])
        batch_size = options["batch_size"]
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}.")
        on_error = options["on_error"]
        label = "stdin" if path == "-" else Path(path).name
        origin = command_origin("import_records", options, reason=f"import {label}")

        with contextlib.ExitStack() as stack:
            lines = decoded_lines(self._open(path, options.get("stdin"), stack))
            errors_out = None
            if options["errors_out"]:
                errors_out = self._open_errors_out(options["errors_out"], stack)
            rows: CsvRows | JsonRows
            if fmt == "csv":
                try:
                    rows = CsvRows(lines, spec, label)
                except ReadError as exc:
                    raise CommandError(f"{label}: line {exc.line}: {exc.message}.") from exc
                if rows.ignored:
                    self.stderr.write(
                        self.style.WARNING(
                            f"Ignoring {len(rows.ignored)} column(s) that are not {spec.name} "
                            f"attributes: {', '.join(rows.ignored)}."
                        )
                    )
            else:
                rows = JsonRows(lines, spec)
            progress = tqdm(
                desc=f"{system.code} {spec.name}",
                unit=" records",
                file=getattr(self.stderr, "_out", sys.stderr),
                disable=options["no_progress"] or not self.stderr.isatty(),
                dynamic_ncols=True,
            )
            stack.callback(progress.close)
            importer = Importer(system, spec, on_error, origin, batch_size, errors_out, progress)
            started = time.monotonic()
            failure, rolled_back = self._run(importer, rows, on_error)
            importer.keep_held_rejections()  # outside the (rolled back) transaction
            elapsed = time.monotonic() - started
            progress.close()

        if isinstance(rows, JsonRows) and rows.ignored:
            more = " (and more)" if len(rows.ignored) >= MAX_IGNORED_SHOWN else ""
            self.stderr.write(
                self.style.WARNING(
                    f"Ignored keys that are not {spec.name} attributes on "
                    f"{rows.lines_with_ignored} line(s): {', '.join(rows.ignored)}{more}."
                )
            )
        self._summary(importer, label, spec, elapsed, rolled_back, options["errors_out"])
        if failure:
            raise CommandError(f"{label}: {failure}")
        rejected = importer.counts[Action.REJECTED]
        if rolled_back:
            raise CommandError(
                f"{rejected} records rejected ({importer.invalid} not valid); "
                "nothing was written (--on-error reject_all)"
            )
        if rejected:
            raise CommandError(f"{rejected} records rejected")

    # -- the import -------------------------------------------------------------------------------

    def _run(self, importer: Importer, rows: Iterable[Row], on_error: str) -> tuple[str, bool]:
        """Import every row; returns a message if the import stopped early, and whether
        everything was rolled back (reject_all)."""
        failure = ""
        all_or_nothing = on_error == REJECT_ALL
        try:
            with transaction.atomic() if all_or_nothing else contextlib.nullcontext():
                try:
                    importer.run(rows)
                except ReadError as exc:
                    importer.flush()  # the rows before the unreadable line
                    failure = f"line {exc.line}: {exc.message}. The import stopped there"
                except DatabaseError as exc:
                    failure = (
                        f"the batch starting at line {importer.first_line} failed: {exc}. "
                        "The import stopped there"
                    )
                    importer.pending = []
                    if all_or_nothing:
                        raise
                if all_or_nothing and (importer.invalid or failure):
                    raise _RollBack
        except _RollBack:
            pass
        except DatabaseError as exc:  # the transaction is rolled back
            failure = failure or f"the import failed: {exc}. The import stopped there"
        else:
            if failure:
                failure += f"; the {importer.total} rows before it were processed."
            return failure, False
        if failure:
            failure += "; nothing was written (--on-error reject_all)."
        importer.counts = dict.fromkeys(ACTIONS, 0)
        importer.counts[Action.REJECTED] = importer.total
        return failure, True

    # -- arguments --------------------------------------------------------------------------------

    def _system(self, code: str) -> SourceSystem:
        system = SourceSystem.objects.filter(code=code).first()
        if system is None:
            known = ", ".join(SourceSystem.objects.values_list("code", flat=True)) or "none yet"
            raise CommandError(
                f"Unknown source system {code!r} (known: {known}); "
                "register it with create_source_system first."
            )
        if not system.active:
            raise CommandError(f"Source system {code!r} is inactive; it may not send records.")
        return system

    def _domain(self, name: str) -> DomainSpec:
        spec = DOMAINS.get(name)
        if spec is None:
            raise CommandError(f"Unknown domain {name!r}; one of: {', '.join(DOMAINS)}.")
        return spec

    def _format(self, path: str, fmt: str | None) -> str:
        if fmt:
            return fmt
        if path == "-":
            raise CommandError("Reading stdin (-) needs --format csv or --format jsonl.")
        suffixes = [s.lower() for s in Path(path).suffixes]
        if suffixes and suffixes[-1] == ".gz":
            suffixes.pop()
        found = FORMATS_BY_EXTENSION.get(suffixes[-1]) if suffixes else None
        if found is None:
            raise CommandError(
                f"Cannot tell the format of {path} from its extension "
                f"({', '.join(FORMATS_BY_EXTENSION)}); give --format csv or --format jsonl."
            )
        return found

    def _open(self, path: str, stdin: Any, stack: contextlib.ExitStack) -> Iterable[bytes]:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                return buffer  # the bytes under a text stream (sys.stdin)
            if isinstance(stream, io.TextIOBase):
                return (line.encode("utf-8") for line in stream)
            return stream
        try:
            if path.lower().endswith(".gz"):
                return stack.enter_context(gzip.open(path, "rb"))
            return stack.enter_context(open(path, "rb"))
        except OSError as exc:
            raise CommandError(f"Cannot open {path}: {exc.strerror or exc}.") from exc

    def _open_errors_out(self, path: str, stack: contextlib.ExitStack) -> IO[str]:
        try:
            return stack.enter_context(open(path, "w", encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.") from exc

    # -- output -----------------------------------------------------------------------------------

    def _summary(
        self,
        importer: Importer,
        label: str,
        spec: DomainSpec,
        elapsed: float,
        rolled_back: bool,
        errors_out: str | None,
    ) -> None:
        write = self.stdout.write
        rate = f", {importer.total / elapsed:,.0f} rows/s" if elapsed > 0 and importer.total else ""
        write(
            f"{label}: {importer.total} rows for {importer.system.code} / {spec.name} "
            f"in {elapsed:.1f} s{rate}."
        )
        if rolled_back:
            write(
                self.style.ERROR(
                    f"Nothing was written (--on-error reject_all): {importer.invalid} rows are "
                    "not valid."
                )
            )
        for action in ACTIONS:
            write(f"  {action:<10} {importer.counts[action]:>10}")
        if importer.shown:
            shown = len(importer.shown)
            more = f"first {shown} of {importer.invalid}" if importer.invalid > shown else "all"
            write(f"Rejected rows ({more}):")
            for row, errors in importer.shown:
                source_id = "(none)" if row.source_id is None else repr(row.source_id)
                write(f"  line {row.line}, source_id {source_id}:")
                for error in errors:
                    write(f"    {error['field']}: {error['code']}: {error['message']}")
        if importer.shown_warnings:
            shown = len(importer.shown_warnings)
            more = f"first {shown} of {importer.warned}" if importer.warned > shown else "all"
            write(f"Rows with warnings ({more}):")
            for row in importer.shown_warnings:
                write(f"  line {row.line}, source_id {row.source_id!r}:")
                for warning in row.warnings:
                    write(f"    {warning['field']}: {warning['code']}: {warning['message']}")
        if errors_out:
            write(f"{importer.invalid} rejected rows written to {errors_out}.")
