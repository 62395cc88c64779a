"""What to tell about a `;`-separated file read as `,`-separated: its amounts decide whether
--decimal-comma would read it."""

from __future__ import annotations

from collections.abc import Iterable

from bot.importing.cells import shown
from bot.importing.formats import DECIMAL_COMMA_HINT, ImportFormat

# Data rows looked at: enough to see the decimal mark, few enough to stay instant.
SAMPLE_ROWS = 5

DOT_DECIMALS = (
    "this looks like a `;`-separated file with `.` in its amounts (e.g. {example}); kpibot "
    "reads `;`-separated files only with decimal commas (--decimal-comma, where `.` separates "
    "thousands): save it as `,`-separated CSV, or with decimal commas"
)
WHOLE_AMOUNTS = (
    "this looks like a `;`-separated file — try --decimal-comma (its amounts are whole "
    "numbers, which that mode reads as they are)"
)


def semicolon_hint(fmt: ImportFormat, header: list[str], rows: Iterable[list[str]]) -> str:
    """The hint for a file whose `;`-split header is `header`, from its first data rows as
    the `,`-separated reader split them."""
    amounts = [i for i, name in enumerate(header) if name in ("spend", fmt.revenue)]
    cells = []
    for row in rows:
        fields = [field.strip() for field in ",".join(row).split(";")]
        cells += [fields[i] for i in amounts if i < len(fields) and fields[i]]
    if not cells or any("," in cell for cell in cells):
        return DECIMAL_COMMA_HINT
    dotted = next((cell for cell in cells if "." in cell), None)
    if dotted is not None:
        return DOT_DECIMALS.format(example=shown(dotted))
    return WHOLE_AMOUNTS
