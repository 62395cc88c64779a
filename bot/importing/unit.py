"""Several files imported as one: what they may not disagree on, and what a replace window
allows. Each finding is a line of the file it is in, naming the other file where there is one.

The roll-up rule across files is the Fivetran one within a file: rows of one campaign-day add
up when they are different shares of it (different ads: source_relation, ad_group_id, ad_id);
the same share twice would count it twice. A native row is the whole campaign-day, so it
overlaps any other file's row for that campaign-day (native or Fivetran) and is refused there,
as a repeated campaign-day is within one native file.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from bot.importing.findings import MAX_PROBLEMS, Problem
from bot.importing.formats import ImportFormat
from bot.importing.rows import CampaignSeen, RowReader
from bot.money import MICROS_PER_UNIT
from storage.loading import MetricsLoad, Overlap, ReplaceWindow
from storage.models import MAX_DAY_VALUE


@dataclass(slots=True)
class StagedFile:
    """One file parsed into the staging table and checked on its own; its campaigns are the
    unit's refs first_ref to end_ref - 1 (readers of one unit share one campaign list)."""

    source: str
    fmt: ImportFormat
    reader: RowReader
    rows: int
    spend_by_ref: dict[int, int]
    first_ref: int
    end_ref: int
    days: int = 0
    campaign_days: int = 0

    @property
    def campaigns(self) -> int:
        return self.end_ref - self.first_ref


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem and the file it is in."""

    source: str
    problem: Problem

    def render(self) -> str:
        return self.problem.render(self.source)


class Unit:
    """The staged files of one import and which of their campaigns are the same."""

    def __init__(self, files: Sequence[StagedFile]) -> None:
        self.files = list(files)
        self._starts = [f.first_ref for f in self.files]
        self.campaigns: list[CampaignSeen] = self.files[0].reader.campaigns if files else []
        refs: dict[tuple[str, str, str], list[int]] = {}
        for ref, seen in enumerate(self.campaigns):
            refs.setdefault((seen.platform, seen.account, seen.external_id), []).append(ref)
        # Campaigns met in more than one file, each as the refs of those files (in file order).
        self.shared = [found for found in refs.values() if len(found) > 1]

    def file_of(self, ref: int) -> StagedFile:
        return self.files[bisect_right(self._starts, ref) - 1]

    def where(self, ref: int, line: int) -> str:
        return f"{self.file_of(ref).source}:{line}"

    def links(self) -> list[tuple[int, int]]:
        """(ref, campaign number) for every ref of a campaign met in several files."""
        return [(ref, number) for number, refs in enumerate(self.shared) for ref in refs]

    def currency_findings(self, *, currency_chosen: bool) -> list[Finding]:
        """Campaigns that two files put in different currencies (stated, or the default)."""
        found = []
        for refs in self.shared:
            first = self.campaigns[refs[0]]
            for ref in refs[1:]:
                seen = self.campaigns[ref]
                if seen.currency == first.currency:
                    continue
                there = self.where(refs[0], first.currency_line or first.first_line)
                found.append(
                    Finding(
                        self.file_of(ref).source,
                        Problem(
                            seen.currency_line or seen.first_line,
                            "currency",
                            f"campaign {seen.name!r} is in {seen.currency} here"
                            f"{_how(seen, currency_chosen)} but in {first.currency} in {there}"
                            f"{_how(first, currency_chosen)}; one campaign has one currency",
                        ),
                    )
                )
        return found[:MAX_PROBLEMS]

    def overlap_findings(self, load: MetricsLoad) -> tuple[list[Finding], int]:
        """Campaign-days two files both hold where adding them up would count twice."""
        overlaps = load.overlaps(MAX_PROBLEMS)
        return [self._overlap(o) for o in overlaps.found], overlaps.count

    def _overlap(self, overlap: Overlap) -> Finding:
        later = self.file_of(overlap.ref)
        name = self.campaigns[overlap.ref].name
        there = self.where(overlap.first_ref, overlap.first_line)
        if overlap.whole_day:
            why = (
                f"campaign {name!r} on {overlap.day} is also in {there}, and a native row is "
                "the whole campaign-day: both would count it; keep that day in one file"
            )
        else:
            grain = ", ".join(later.fmt.grain)
            why = (
                f"campaign {name!r} on {overlap.day} has the same ad row ({grain}) as {there}: "
                "the files overlap, and adding them up would count it twice"
            )
        return Finding(later.source, Problem(overlap.line, "", why))

    def oversized_findings(self, load: MetricsLoad) -> list[Finding]:
        """Campaign-days whose rows in all the files add up to more than kpibot stores."""
        found = []
        for over in load.oversized_across(MAX_PROBLEMS):
            staged = self.file_of(over.ref)
            name = self.campaigns[over.ref].name
            for measure in over.measures:
                limit = (
                    f"{MAX_DAY_VALUE // MICROS_PER_UNIT:,}"
                    if measure.endswith("_micros")
                    else f"{MAX_DAY_VALUE:,}"
                )
                found.append(
                    Finding(
                        staged.source,
                        Problem(
                            over.line,
                            staged.fmt.column_of(measure),
                            f"campaign {name!r} on {over.day} adds up to more than {limit} "
                            "over the rows of all the files, the most kpibot stores for one "
                            "campaign and day",
                        ),
                    )
                )
        return found[:MAX_PROBLEMS]

    def window_findings(self, load: MetricsLoad, window: ReplaceWindow) -> list[Finding]:
        """Campaigns of another platform or account than the window's, and days outside it:
        an import that replaces a window writes nothing outside what it replaced."""
        found = []
        for ref, seen in enumerate(self.campaigns):
            if (seen.platform, seen.account) == (window.platform, window.account):
                continue
            staged = self.file_of(ref)
            found.append(
                Finding(
                    staged.source,
                    Problem(
                        seen.first_line,
                        staged.fmt.account or "",
                        f"campaign {seen.name!r} is {seen.platform} account "
                        f"{seen.account or '(none)'}; this import replaces {window} only",
                    ),
                )
            )
            if len(found) == MAX_PROBLEMS:
                return found
        for outside in load.outside(window, MAX_PROBLEMS - len(found)):
            staged = self.file_of(outside.ref)
            found.append(
                Finding(
                    staged.source,
                    Problem(
                        outside.line,
                        staged.fmt.date,
                        f"{outside.day} is outside the days this import replaces "
                        f"({window.start} to {window.end})",
                    ),
                )
            )
        return found


def _how(seen: CampaignSeen, currency_chosen: bool) -> str:
    if seen.currency_given:
        return ""
    chooser = "--currency" if currency_chosen else "KPIBOT_DEFAULT_CURRENCY"
    return f" (no currency in the file, so {chooser}'s)"
