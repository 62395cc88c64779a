"""What is wrong in a file: problems (and warnings) with their line and column, counted."""

from __future__ import annotations

from dataclasses import dataclass, field

# Problems and warnings kept to show; the rest are only counted, so memory stays flat.
MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one cell (or line) of the file."""

    line: int
    column: str
    message: str

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}"
        return (
            f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


@dataclass(slots=True)
class Findings:
    """The first MAX_PROBLEMS findings and how many there were in all."""

    kept: list[Problem] = field(default_factory=list)
    count: int = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(problem)

    def rendered(self, source: str) -> list[str]:
        lines = [p.render(source) for p in self.kept]
        if self.count > len(self.kept):
            lines.append(f"{source}: … and {self.count - len(self.kept):,} more")
        return lines
