"""Problems and warnings about a file as a whole, found once its rows are staged: repeated
campaign-days, campaign-days too large to store, and currencies."""

from __future__ import annotations

from collections.abc import Sequence

from bot.importing.findings import MAX_PROBLEMS, Findings, Problem
from bot.importing.formats import ImportFormat
from bot.importing.rows import RowReader
from bot.money import MICROS_PER_UNIT
from storage.loading import CurrencyConflict, MetricsLoad, Oversized
from storage.models import MAX_DAY_VALUE

_CHOOSE_CURRENCY = "(choose with --currency or KPIBOT_DEFAULT_CURRENCY)"


def duplicate_problems(load: MetricsLoad, reader: RowReader) -> Findings:
    """Campaign-days the file names more than once: the first MAX_PROBLEMS, all counted."""
    duplicates = load.duplicates(MAX_PROBLEMS)
    kept = [
        Problem(
            d.line,
            "",
            f"campaign {reader.campaigns[d.ref].name!r} on {d.day} "
            f"appears again (first on line {d.first_line}); keep one row per campaign and day",
        )
        for d in duplicates.found
    ]
    return Findings(kept, duplicates.rows)


def oversized_problems(load: MetricsLoad, reader: RowReader, fmt: ImportFormat) -> list[Problem]:
    """Campaign-days whose rows add up to more than storage.models.MAX_DAY_VALUE."""
    return [
        Problem(
            found.line,
            fmt.column_of(measure),
            _too_much(found, reader.campaigns[found.ref].name, measure),
        )
        for found in load.oversized(MAX_PROBLEMS)
        for measure in found.measures
    ]


def _too_much(found: Oversized, name: str, measure: str) -> str:
    if measure.endswith("_micros"):
        limit = f"{MAX_DAY_VALUE // MICROS_PER_UNIT:,}"
    else:
        limit = f"{MAX_DAY_VALUE:,}"
    return (
        f"campaign {name!r} on {found.day} adds up to more than {limit} over its rows, "
        "the most kpibot stores for one campaign and day"
    )


def conflict_problems(
    reader: RowReader, conflicts: Sequence[CurrencyConflict], *, currency_chosen: bool
) -> list[Problem]:
    """Campaigns the database holds in another currency than the file (or the default) says.

    Args:
        currency_chosen: a campaign without a currency in the file got --currency's, not
            KPIBOT_DEFAULT_CURRENCY's.
    """
    problems = []
    for conflict in conflicts:
        seen = reader.campaigns[conflict.ref]
        if seen.currency_given:
            said = f"the file says {seen.currency}; one campaign has one currency"
        else:
            chooser = "--currency" if currency_chosen else "KPIBOT_DEFAULT_CURRENCY"
            said = (
                f"but the file gives it no currency and {chooser} said {seen.currency}; "
                f"import it with --currency {conflict.stored}"
            )
        problems.append(
            Problem(
                seen.currency_line or seen.first_line,
                "currency",
                f"campaign {seen.name!r} is stored in {conflict.stored}, {said}",
            )
        )
    return sorted(problems, key=lambda p: p.line)


def file_warnings(
    reader: RowReader, source: str, default_currency: str, *, currency_chosen: bool
) -> list[str]:
    """The rows' warnings, after one for a file without a currency column (unless the
    currency was chosen for this import)."""
    warnings = reader.warnings.rendered(source)
    if not reader.has_currency_column and not currency_chosen:
        # A silent default would file a DKK team's spend as USD for good.
        warnings.insert(
            0,
            f"{source}: has no currency column; its campaigns are stored in "
            f"{default_currency} {_CHOOSE_CURRENCY}",
        )
    return warnings


def new_campaign_warnings(
    reader: RowReader,
    source: str,
    default_currency: str,
    new_refs: Sequence[int],
    *,
    currency_chosen: bool,
) -> list[str]:
    """New campaigns of a file with a currency column whose every currency cell is empty."""
    if not reader.has_currency_column or currency_chosen:
        return []
    found = Findings()
    for ref in new_refs:
        seen = reader.campaigns[ref]
        if not seen.currency_given:
            found.add(
                Problem(
                    seen.first_line,
                    "currency",
                    f"campaign {seen.name!r} has no currency; stored in "
                    f"{default_currency} {_CHOOSE_CURRENCY}",
                )
            )
    return found.rendered(source)
