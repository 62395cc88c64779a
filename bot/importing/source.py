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
    """A file that cannot be read as CSV text; `line` is where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class CsvSource:
    """Rows of one CSV file with their line numbers, and how far reading has got."""

    def __init__(self, raw: BinaryIO, size: int, delimiter: str = ",") -> None:
        self._raw = raw
        self.size = size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        self._compressed = compressed
        stream: BinaryIO = gzip.GzipFile(fileobj=raw) if compressed else raw  # type: ignore[assignment]
        self._text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text, delimiter=delimiter)

    @property
    def position(self) -> int:
        """Bytes of the file on disk read so far (for a progress bar)."""
        return self._raw.tell()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) for every non-blank row, header included."""
        reader = self._reader
        try:
            for row in reader:
                # The first cell is almost always filled: check it before scanning the row.
                if row and (row[0].strip() or any(cell.strip() for cell in row)):
                    yield reader.line_num, row
        except UnicodeDecodeError as exc:
            # The text layer decodes ahead of the CSV reader, so line_num is not the bad line.
            raise SourceError(
                f"not UTF-8 text ({exc.reason}); save the file as UTF-8 and import it again",
                self._undecodable_line(),
            ) from exc
        except (OSError, EOFError) as exc:
            raise SourceError(f"cannot read the file: {exc}") from exc
        except csv.Error as exc:
            raise SourceError(str(exc), reader.line_num) from exc

    def _undecodable_line(self) -> int | None:
        """The first line that is not UTF-8, read again from the start (only after a failure)."""
        try:
            self._raw.seek(0)
            stream: BinaryIO = (
                gzip.GzipFile(fileobj=self._raw) if self._compressed else self._raw  # type: ignore[assignment]
            )
            for number, line in enumerate(stream, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return number
        except (OSError, EOFError):
            return None
        return None


@contextmanager
def open_source(path: Path, delimiter: str = ",") -> Iterator[CsvSource]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot open the file: {exc.strerror or exc}") from exc
    with raw:
        yield CsvSource(raw, path.stat().st_size, delimiter)
