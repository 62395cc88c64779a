"""RowReader: a file of a million bad rows is counted, not kept."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from bot.importing.cells import DateWindow
from bot.importing.findings import MAX_PROBLEMS
from bot.importing.formats import NATIVE
from bot.importing.rows import RowReader
from bot.importing.run import ImportFailed, import_file

BAD_ROWS = 200_000
HEADER = ["date", "campaign", "spend", "impressions", "clicks", "platform", "channel"]


def _reader() -> RowReader:
    return RowReader(NATIVE, HEADER, "USD", DateWindow.default(date(2026, 12, 3)))


def test_problems_are_counted_and_only_the_first_are_kept() -> None:
    reader = _reader()
    for line in range(2, BAD_ROWS + 2):
        # Every row distinct junk: no cache may keep it either.
        assert reader.parse(line, [f"x{line}", "A", "-1", "1", "1", f"p{line}", f"c{line}"]) is None
    assert reader.problems.count == 3 * BAD_ROWS
    assert len(reader.problems.kept) == MAX_PROBLEMS
    assert reader.problems.kept[0].line == 2
    assert len(reader._days) == 0
    assert len(reader._channels) <= 4096
    assert len(reader._platforms) <= 4096


def test_warnings_are_counted_and_only_the_first_are_kept() -> None:
    reader = _reader()
    for line in range(2, BAD_ROWS + 2):
        assert reader.parse(line, ["2025-08-01", f"C{line}", "1", "1", "2", "", ""]) is not None
    assert reader.warnings.count == BAD_ROWS
    assert len(reader.warnings.kept) == MAX_PROBLEMS
    rendered = reader.warnings.rendered("f.csv")
    assert len(rendered) == MAX_PROBLEMS + 1
    assert rendered[-1] == f"f.csv: … and {BAD_ROWS - MAX_PROBLEMS:,} more"


def test_a_file_of_bad_rows_fails_with_the_total_and_the_first_problems(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    with path.open("w") as out:
        out.write("date,campaign,spend\n")
        for i in range(BAD_ROWS):
            out.write(f"2025-08-01,C{i},-{i + 1}\n")
    try:
        import_file(engine, path, default_currency="USD")
    except ImportFailed as failed:
        assert failed.total == BAD_ROWS
        assert len(failed.problems) == MAX_PROBLEMS
        assert failed.problems[0] == f"{path}:2: spend: -1 is negative; amounts cannot be below 0"
        assert str(failed).endswith(f"… and {BAD_ROWS - MAX_PROBLEMS:,} more problem(s)")
    else:
        raise AssertionError("a file of bad rows must fail")
