"""`govwatch export`: the store's notices (or every version) as CSV, JSON lines or Parquet,
for spreadsheets and notebooks.

The rows and their columns are store/export.py's; this module writes them, a batch at a
time: CSV in UTF-8 with a BOM (Excel then reads the Chinese right) and RFC 4180 quoting,
lists as JSON text; JSON lines with the characters as they are; Parquet with an explicit
schema (so an empty export still has its columns), one row group per batch. A file is
written beside OUT and renamed onto it when complete, so a failed export leaves no half
file behind and an earlier one intact.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import click

from govwatch.cli.common import check_sites, db_option, dump, iso_day, open_store
from govwatch.errors import ConfigError, GovwatchError

if TYPE_CHECKING:
    from govwatch.store.export import Kind

FORMATS = ("csv", "jsonl", "parquet")
BOM = "\ufeff".encode()
STDOUT = "-"


class Writer(Protocol):
    def write(self, rows: list[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@db_option
@click.option("--site", "sites", multiple=True, help="Only this site id (repeatable).")
@click.option(
    "--since", help="Notices dated on or after this day (YYYY-MM-DD, or an ISO time: its day)."
)
@click.option("--versions", "every_version", is_flag=True, help="One row per stored version.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
def export(
    out: str,
    db: str | None,
    sites: tuple[str, ...],
    since: str | None,
    every_version: bool,
    fmt: str,
) -> None:
    """Write every notice (its current version) to OUT, a file or - for standard output."""
    from govwatch.store.export import COLUMNS, export_rows

    if fmt == "parquet":
        if out == STDOUT:
            raise ConfigError("--format parquet needs a file for OUT, not standard output")
        _require_pyarrow()
    since_day = iso_day("--since", since)
    store = open_store(db, create=False)
    try:
        check_sites(store, sites)
        batches = export_rows(store, site_ids=sites, since=since_day, every_version=every_version)
        count = _write(out, fmt, COLUMNS, batches)
    finally:
        store.close()
    what = "versions" if every_version else "notices"
    where = "standard output" if out == STDOUT else out
    click.echo(f"govwatch: exported {count} {what} to {where}", err=True)


def _require_pyarrow() -> None:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ConfigError(
            "--format parquet needs pyarrow: pip install 'govwatch[parquet]'"
        ) from None


def _write(
    out: str,
    fmt: str,
    columns: tuple[tuple[str, Kind], ...],
    batches: Iterable[list[dict[str, Any]]],
) -> int:
    """Write every batch to `out` in `fmt`; the number of rows written."""
    if out == STDOUT:
        stream = sys.stdout.buffer
        count = _write_all(_text_writer(fmt, stream, columns), batches)
        stream.flush()
        return count
    target = Path(out)
    try:
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise ConfigError(f"OUT: cannot write in {target.parent}: {exc.strerror}") from None
    try:
        if fmt == "parquet":
            os.close(fd)
            count = _write_all(ParquetWriter(partial, columns), batches)
        else:
            with open(fd, "wb") as stream:
                count = _write_all(_text_writer(fmt, stream, columns), batches)
        os.chmod(partial, 0o666 & ~_umask())
        os.replace(partial, target)
    except BaseException as exc:
        Path(partial).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise GovwatchError(f"{out}: {exc.strerror or exc}") from exc
        raise
    return count


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_all(writer: Writer, batches: Iterable[list[dict[str, Any]]]) -> int:
    count = 0
    try:
        for rows in batches:
            writer.write(rows)
            count += len(rows)
    finally:
        writer.close()
    return count


def _text_writer(fmt: str, stream: IO[bytes], columns: tuple[tuple[str, Kind], ...]) -> Writer:
    return CsvWriter(stream, columns) if fmt == "csv" else JsonLinesWriter(stream, columns)


class CsvWriter:
    """RFC 4180 (CRLF between records, fields quoted when they hold a comma, a quote or a
    line break), after a BOM; times in ISO 8601, lists as JSON, null as an empty field."""

    def __init__(self, stream: IO[bytes], columns: tuple[tuple[str, Kind], ...]) -> None:
        self._stream = stream
        self._columns = columns
        self._emit([[name for name, _ in columns]], head=BOM)

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._emit([[_csv_value(row[name], kind) for name, kind in self._columns] for row in rows])

    def close(self) -> None:
        self._stream.flush()

    def _emit(self, records: list[list[Any]], head: bytes = b"") -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(records)
        self._stream.write(head + buffer.getvalue().encode())


def _csv_value(value: Any, kind: Kind) -> Any:
    if value is None:
        return ""
    if kind == "time":
        return value.isoformat()
    if kind in ("texts", "files"):
        return dump(value)
    return value


class JsonLinesWriter:
    """One JSON object per line, every column present (null when empty), times in ISO 8601."""

    def __init__(self, stream: IO[bytes], columns: tuple[tuple[str, Kind], ...]) -> None:
        self._stream = stream
        self._times = [name for name, kind in columns if kind == "time"]

    def write(self, rows: list[dict[str, Any]]) -> None:
        lines = "".join(dump(self._plain(row)) + "\n" for row in rows)
        self._stream.write(lines.encode())

    def _plain(self, row: dict[str, Any]) -> dict[str, Any]:
        times = {name: row[name].isoformat() for name in self._times if row[name] is not None}
        return {**row, **times}

    def close(self) -> None:
        self._stream.flush()


class ParquetWriter:
    """One row group per batch, under a schema fixed before the first row."""

    def __init__(self, path: str, columns: tuple[tuple[str, Kind], ...]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from govwatch.store.export import FILE_FIELDS

        files = pa.list_(pa.struct([(name, pa.string()) for name in FILE_FIELDS]))
        types = {
            "int": pa.int64(),
            "text": pa.string(),
            "time": pa.timestamp("us", tz="UTC"),
            "texts": pa.list_(pa.string()),
            "files": files,
        }
        self._pa = pa
        self._schema = pa.schema([pa.field(name, types[kind]) for name, kind in columns])
        self._writer = pq.ParquetWriter(path, self._schema, compression="zstd")

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._writer.write_table(self._pa.Table.from_pylist(rows, schema=self._schema))

    def close(self) -> None:
        self._writer.close()
