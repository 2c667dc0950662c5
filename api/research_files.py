"""The coded export as a file (RES-3): CSV or Parquet, written a batch at a time to a temporary file.

The rows never sit in memory together: each batch is written (a Parquet row group per batch) and
dropped. The finished file is then sent in chunks, with no database connection held while a slow
client reads, and with its row count known for the export log (RES-4).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from domain.research_export import ExportFormat, Kind

CHUNK_BYTES = 256 * 1024
MEDIA_TYPES = {ExportFormat.CSV: "text/csv", ExportFormat.PARQUET: "application/vnd.apache.parquet"}
ARROW_TYPES = {Kind.TEXT: pa.string(), Kind.INT: pa.int32(), Kind.BOOL: pa.bool_(), Kind.HOURS: pa.decimal128(9, 2)}
HUNDREDTHS = Decimal("0.01")


@dataclass
class ExportFile:
    file: IO[bytes]
    rows: int
    size: int

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, a chunk at a time; the file is closed (and removed) at the end."""
        try:
            self.file.seek(0)
            while chunk := self.file.read(CHUNK_BYTES):
                yield chunk
        finally:
            self.file.close()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""  # not known, or (a score) not applicable
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value.quantize(HUNDREDTHS))
    return value


def _write_csv(target: IO[bytes], names: list[str], batches: Iterable[list[dict[str, Any]]]) -> int:
    text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(names)
    count = 0
    for rows in batches:
        writer.writerows([_csv_value(row[name]) for name in names] for row in rows)
        count += len(rows)
    text.flush()
    text.detach()  # the file stays open for sending
    return count


def _write_parquet(target: IO[bytes], columns: tuple[tuple[str, Kind], ...],
                   batches: Iterable[list[dict[str, Any]]]) -> int:
    schema = pa.schema([pa.field(name, ARROW_TYPES[kind]) for name, kind in columns])
    count = 0
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for rows in batches:
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))  # one row group per batch
                count += len(rows)
    return count


def write_export(export_format: ExportFormat, columns: tuple[tuple[str, Kind], ...],
                 batches: Iterable[list[dict[str, Any]]]) -> ExportFile:
    """Write every batch to a temporary file (removed when closed) and rewind it."""
    target = tempfile.TemporaryFile(prefix="famassist-export-")  # noqa: SIM115 - closed by ExportFile.chunks
    try:
        if export_format is ExportFormat.CSV:
            count = _write_csv(target, [name for name, _ in columns], batches)
        else:
            count = _write_parquet(target, columns, batches)
        size = target.seek(0, io.SEEK_END)
    except BaseException:
        target.close()
        raise
    return ExportFile(file=target, rows=count, size=size)
