"""Opening import files: plain or gzip, UTF-8 with or without BOM, streamed."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_GZIP_MAGIC = b"\x1f\x8b"


class SourceError(ValueError):
    """A file that cannot be read as CSV text."""


class CsvSource:
    """Rows of one CSV file with their line numbers, and how far reading has got."""

    def __init__(self, raw: BinaryIO, size: int) -> None:
        self._raw = raw
        self.size = size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream: BinaryIO = gzip.GzipFile(fileobj=raw) if compressed else raw  # type: ignore[assignment]
        self._text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text)

    @property
    def position(self) -> int:
        """Bytes of the file on disk read so far (for a progress bar)."""
        return self._raw.tell()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) for every non-blank row, header included."""
        reader = self._reader
        try:
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield reader.line_num, row
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"line {reader.line_num + 1}: not UTF-8 text ({exc.reason}); "
                "save the file as UTF-8 and import it again"
            ) from exc
        except (OSError, EOFError) as exc:
            raise SourceError(f"cannot read the file: {exc}") from exc
        except csv.Error as exc:
            raise SourceError(f"line {reader.line_num}: {exc}") from exc


@contextmanager
def open_source(path: Path) -> Iterator[CsvSource]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot open the file: {exc.strerror or exc}") from exc
    with raw:
        yield CsvSource(raw, path.stat().st_size)
