"""What an import reports: a one-line summary, or why the file was not imported."""

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

    def line(self) -> str:
        spend = ", ".join(f"{amount} {code}" for code, amount in self.spend_by_currency.items())
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{self.source}: {verb} {_counted(self.rows, 'row')} ({self.format}) → "
            f"{_counted(self.campaigns, 'campaign')}, {_counted(self.days, 'day')}, "
            f"{_counted(self.campaign_days, 'campaign-day')}; spend {spend or '0'}"
        )


@dataclass
class ImportFailed(Exception):
    """The file was not imported; nothing of it was written."""

    source: str
    problems: list[str]
    total: int = 0
    warnings: list[str] = field(default_factory=list)
    format: str = ""
    rows: int = 0

    def __str__(self) -> str:
        lines = [f"{self.source}: not imported, nothing was written."]
        lines += self.problems
        hidden = self.total - len(self.problems)
        if hidden > 0:
            lines.append(f"… and {hidden:,} more problem(s)")
        return "\n".join(lines)
