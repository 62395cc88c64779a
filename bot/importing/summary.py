"""What an import reports: a one-line summary, or why the file was not imported; for several
files, each file's outcome and, imported as one, the unit's totals."""

from __future__ import annotations

from dataclasses import dataclass, field


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What one import did (or, for a dry run, would do)."""

    source: str
    format: str
    rows: int
    campaigns: int
    new_campaigns: int
    campaign_days: int
    days: int
    spend_by_currency: dict[str, str]
    warnings: list[str]
    dry_run: bool
    # With a replace window: what it was, and how many stored campaign-days it deleted
    # before the file's were written (most of them written again).
    replaced: str = ""
    cleared: int = 0

    def line(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        return f"{self.source}: {verb} {_counted(self.rows, 'row')} ({self.format}) → " + _landed(
            self
        )


@dataclass(frozen=True, slots=True)
class UnitSummary:
    """What several files imported as one did: campaigns, days and campaign-days after the
    files' rows were rolled up together (a campaign-day split across files counts once)."""

    files: int
    rows: int
    campaigns: int
    new_campaigns: int
    campaign_days: int
    days: int
    spend_by_currency: dict[str, str]
    dry_run: bool
    replaced: str = ""
    cleared: int = 0

    def line(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        return (
            f"as one: {verb} {_counted(self.rows, 'row')} from {_counted(self.files, 'file')} "
            "→ " + _landed(self)
        )


def _landed(summary: ImportSummary | UnitSummary) -> str:
    """What landed: campaigns, days, campaign-days, spend, and the replace window if any."""
    return (
        f"{_counted(summary.campaigns, 'campaign')}, {_counted(summary.days, 'day')}, "
        f"{_counted(summary.campaign_days, 'campaign-day')}; spend "
        f"{_spend(summary.spend_by_currency)}{_replaced(summary.replaced, summary.cleared)}"
    )


def _spend(spend_by_currency: dict[str, str]) -> str:
    return ", ".join(f"{amount} {code}" for code, amount in spend_by_currency.items()) or "0"


def _replaced(window: str, cleared: int) -> str:
    if not window:
        return ""
    return f"; replaced {window} ({_counted(cleared, 'stored campaign-day')} cleared first)"


@dataclass
class ImportFailed(Exception):
    """The file was not imported; nothing of it was written."""

    source: str
    problems: list[str]
    total: int = 0
    warnings: list[str] = field(default_factory=list)
    format: str = ""
    rows: int = 0
    # The other files of an import of several files as one: none of them was written either.
    unit: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"{self.source}: not imported, nothing was written."]
        if self.unit:
            lines.append(unit_not_written(self.unit))
        lines += self.problems
        hidden = self.total - len(self.problems)
        if hidden > 0:
            lines.append(f"… and {hidden:,} more problem(s)")
        return "\n".join(lines)


def unit_not_written(others: tuple[str, ...]) -> str:
    return f"(imported as one with {', '.join(others)}: nothing from any of them was written)"


def held_back(source: str, failed: str) -> str:
    """Why a file of a unit that failed elsewhere was not written."""
    return f"{source}: not written because {failed} failed (the files were imported as one)"


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """The outcome of each file, in the order given; imported as one, either every outcome is
    a summary and `unit` has the totals, or none is and nothing was written."""

    as_one: bool
    outcomes: tuple[ImportSummary | ImportFailed, ...]
    unit: UnitSummary | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def summaries(self) -> list[ImportSummary]:
        return [o for o in self.outcomes if isinstance(o, ImportSummary)]

    @property
    def failures(self) -> list[ImportFailed]:
        return [o for o in self.outcomes if isinstance(o, ImportFailed)]
