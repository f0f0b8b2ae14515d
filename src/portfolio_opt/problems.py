"""Problems found in a scenario: what, where, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


def listed(items: list[str], most: int = 5) -> str:
    """The first ``most`` items, comma-separated, and how many more there are."""
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def as_sentence(text: str) -> str:
    """``text`` with a capital first letter, where it starts with a word in lower case (an id
    such as m001, with a digit, is left as written)."""
    first = text.split(" ", 1)[0].rstrip(":;,.")
    if first.isalpha() and first.islower():
        return text[0].upper() + text[1:]
    return text


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as a spreadsheet user would find it.

    ``row`` is the row number a spreadsheet shows (the header is row 1), or ``None`` for a
    problem with the whole file or column. A line standing for more problems of a kind (past
    the first few) counts them all in ``stands_for``.
    """

    file: str
    message: str
    hint: str = ""
    row: int | None = None
    column: str | None = None
    severity: Severity = Severity.ERROR
    stands_for: int = 1

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


FOLD_MARK = "... and "  # how a line standing for more problems of a kind begins


def counted(problems: list[Problem]) -> int:
    """How many problems these lines report (a line standing for more counts each)."""
    return sum(p.stands_for for p in problems)


def in_reading_order(problems: list[Problem]) -> list[Problem]:
    """Per file (in the order the files first come up), by row, as a planner fixes them in a
    spreadsheet: problems of the whole file first, lines standing for more of a kind last."""

    def row_key(p: Problem) -> float:
        if p.message.startswith(FOLD_MARK):
            return float("inf")
        return float(p.row) if p.row is not None else 0.0

    files = {file: rank for rank, file in enumerate(dict.fromkeys(p.file for p in problems))}
    return sorted(problems, key=lambda p: (files[p.file], row_key(p)))


class ScenarioError(Exception):
    """The scenario cannot be used; ``problems`` lists every reason at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.is_error]
        super().__init__(
            f"{len(errors)} problem(s) in the scenario:\n" + "\n".join(map(str, errors))
        )


class InfeasibleError(Exception):
    """The hard rules cannot all hold; ``reasons`` says which rules collide and where."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("The hard rules cannot all hold:\n" + "\n".join(f"- {r}" for r in reasons))


class NoPlanError(Exception):
    """No plan was found within the time limit (the rules may still be satisfiable)."""
