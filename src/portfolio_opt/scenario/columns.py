"""Turning text cells into typed columns, one problem per bad cell."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import pandas as pd

from portfolio_opt.problems import FOLD_MARK, Problem, Severity
from portfolio_opt.scenario.schema import FALSE_WORDS, TRUE_WORDS, Column
from portfolio_opt.scenario.tables import INVISIBLE

MAX_CELL_PROBLEMS = 50  # per column: past this, one summary line keeps the list readable
# Warnings of a kind (file, column, advice) shown one by one by the commands that go on to
# solve or pay; the rest in one line naming their rows (validate lists every one).
WARNINGS_OF_A_KIND = 5
THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?")  # no leading zero: 0,050 is 0.05
# Far beyond any branch's figures; larger values would overflow the model's integer arithmetic.
NUMBER_LIMIT = 1e15
INTEGER_LIMIT = 1e9
# What a spreadsheet shows (and saves to CSV) for a formula that failed, e.g. a VLOOKUP.
SPREADSHEET_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
)
DECIMAL_POINT_HINT = (
    "use a decimal point: 0.08, not 0,08; a comma may only group thousands, as in 1,234.5"
)


def _row(position: int) -> int:
    """Spreadsheet row of a data row: the header is row 1."""
    return position + 2


def _cell_problems(
    label: str, column: str, positions: np.ndarray, values: pd.Series, what: str, hint: str
) -> list[Problem]:
    problems = [
        Problem(label, f"{values.iloc[p]!r} is not {what}", hint, row=_row(p), column=column)
        for p in positions[:MAX_CELL_PROBLEMS]
    ]
    if len(positions) > MAX_CELL_PROBLEMS:
        rest = [_row(int(p)) for p in positions[MAX_CELL_PROBLEMS:]]
        problems.append(more_like_these(label, column, rest, hint, "cells"))
    return problems


def more_like_these(
    label: str,
    column: str | None,
    rows: Sequence[int],
    hint: str,
    what: str,
    severity: Severity = Severity.ERROR,
    count: int | None = None,
) -> Problem:
    """One line for the problems past MAX_CELL_PROBLEMS of a kind, naming their rows (as a
    spreadsheet numbers them) in runs, so that none is lost: ``rows 12, 15-40, 52``."""
    runs: list[list[int]] = []
    for row in sorted(rows):
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    where = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)
    one = len(rows) == 1
    return Problem(
        label,
        f"{FOLD_MARK}{len(rows)} more {what.removesuffix('s') if one else what} like these, "
        f"in row{'' if one else 's'} {where}",
        hint,
        column=column,
        severity=severity,
        stands_for=len(rows) if count is None else count,
    )


DIFFERING_HINTS = "they differ in what to do: look at each of these rows"


def capped(problems: list[Problem], what: str, hint: str | None = None) -> list[Problem]:
    """``problems`` of one kind (same file and column) past MAX_CELL_PROBLEMS folded into one
    line naming their rows, so a wrong file gives a readable list and loses no row. The line
    gives their advice where they share it, else ``hint`` (advice true of every one of them):
    one row's "did you mean key?" is wrong for the next row's PREMIUM."""
    if len(problems) <= MAX_CELL_PROBLEMS:
        return problems
    first, rest = problems[:MAX_CELL_PROBLEMS], problems[MAX_CELL_PROBLEMS:]
    rows = [p.row for p in rest if p.row is not None]
    last = rest[-1]
    shared = last.hint if len({p.hint for p in rest}) == 1 else (hint or DIFFERING_HINTS)
    return [
        *first,
        more_like_these(last.file, last.column, rows, shared, what, last.severity, len(rest)),
    ]


def folded(problems: Sequence[Problem], shown: int = WARNINGS_OF_A_KIND) -> list[Problem]:
    """Per kind (same file, column and advice), the first ``shown`` problems, then the rest as
    one line naming their rows: a slip repeated on every row must not bury the rest."""
    kinds: dict[tuple[str, str | None, str], list[Problem]] = {}
    for p in problems:
        kinds.setdefault((p.file, p.column, p.hint), []).append(p)
    out: list[Problem] = []
    for (file, column, hint), alike in kinds.items():
        # A line that stands for more rows already (a table's cap) is kept as it is, after.
        more = [p for p in alike if p.message.startswith(FOLD_MARK)]
        alike = [p for p in alike if not p.message.startswith(FOLD_MARK)]
        out += alike[:shown]
        if rest := alike[shown:]:
            rows = [p.row for p in rest if p.row is not None]
            out.append(
                more_like_these(file, column, rows, hint, "warnings", rest[0].severity, len(rest))
            )
        out += more
    return out


def _nfkc(text: pd.Series) -> pd.Series:
    # NFKC turns full-width digits, signs and points (as a Chinese input method types them)
    # and the ideographic space into their plain forms; ASCII it leaves as it is.
    return text if text.str.cat().isascii() else text.str.normalize("NFKC")


def _without(text: pd.Series, character: str) -> pd.Series:
    """The cells with every ``character`` dropped (a column without any is returned as is)."""
    if character not in text.str.cat():
        return text
    return text.str.replace(character, "", regex=False)


def _compact(text: pd.Series) -> pd.Series:
    return _without(_nfkc(text), " ")


def _commas_misplaced(compact: pd.Series) -> pd.Series:
    """Of compacted cells, those with a comma that does not group thousands."""
    if "," not in compact.str.cat():
        return pd.Series(False, index=compact.index)
    return compact.str.contains(",", regex=False) & ~compact.str.fullmatch(THOUSANDS)


def misplaced_commas(text: pd.Series) -> pd.Series:
    """Cells with a comma that does not group thousands (``0,08``, ``1,5``, ``12,34,5``)."""
    return _commas_misplaced(_compact(text))


CURRENCY_SIGNS = "[¥￥$€£]"
ACCOUNTING = rf"^({CURRENCY_SIGNS}|\(.*\)$|[-–]$)"
ACCOUNTING_HINT = (
    "write it without a currency sign (1234.50), a negative with a minus sign (-1234.50 for "
    "(1,234.50)) and a zero as 0, not a dash; or format the column as General in Excel"
)


def _numbers_ignoring_commas(text: pd.Series) -> pd.Series:
    """What the cells read as once spaces and every comma are dropped (infinities included)."""
    return _numbers_without_commas(_compact(text))


def _numbers_without_commas(compact: pd.Series) -> pd.Series:
    cleaned = _without(compact, ",")
    return pd.to_numeric(cleaned.where(cleaned != "", None), errors="coerce").astype(float)


def parse_numbers(text: pd.Series) -> pd.Series:
    """Numbers as a spreadsheet user writes them: spaces and thousands separators allowed.

    A comma that is not a thousands separator, and anything not finite, gives NaN: ``0,08``
    is a decimal comma, never 8.
    """
    compact = _compact(text)
    values = _numbers_without_commas(compact)
    return values.where(~_commas_misplaced(compact) & np.isfinite(values))


def parse_booleans(text: pd.Series) -> pd.Series:
    """true/false, 1/0, yes/no, y/n, 是/否 (any case) -> True/False; anything else -> NA."""
    lowered = text.str.strip().str.lower()
    result = pd.Series(pd.NA, index=text.index, dtype="boolean")
    result[lowered.isin(TRUE_WORDS)] = True
    result[lowered.isin(FALSE_WORDS)] = False
    return result


def _unreadable_numbers(
    raw: pd.Series, values: pd.Series, label: str, column: str
) -> list[Problem]:
    """One problem per filled cell that gave no number, with the most useful reason."""
    failed = values.isna() & (raw != "")
    if not failed.any():
        return []
    lenient = _numbers_ignoring_commas(raw)
    # Only cells that would be a number without their commas are decimal-comma mistakes.
    comma = failed & misplaced_commas(raw) & lenient.notna()
    infinite = failed & ~comma & np.isinf(lenient)
    # Excel's accounting and currency formats, saved as shown: ¥1,234.50, (1,234.50), -
    accounting = failed & ~comma & ~infinite & raw.str.strip().str.match(ACCOUNTING)
    other = failed & ~comma & ~infinite & ~accounting
    return (
        _cell_problems(
            label, column, np.flatnonzero(accounting), raw, "a plain number", ACCOUNTING_HINT
        )
        + _cell_problems(
            label,
            column,
            np.flatnonzero(comma),
            raw,
            "a number with a decimal point",
            DECIMAL_POINT_HINT,
        )
        + _cell_problems(
            label, column, np.flatnonzero(infinite), raw, "a finite number", "write a plain number"
        )
        + _cell_problems(
            label, column, np.flatnonzero(other), raw, "a number", "write a plain number"
        )
    )


def parse_percents(text: pd.Series) -> pd.Series:
    """Like :func:`parse_numbers`, and ``8%`` (as a spreadsheet saves a percent cell) is 0.08."""
    stripped = _nfkc(text).str.strip()
    if "%" not in stripped.str.cat():
        return parse_numbers(stripped)
    percent = stripped.str.endswith("%")
    values = parse_numbers(stripped.where(~percent, stripped.str[:-1]))
    return values.where(~percent, values / 100)


def _coerce_number(raw: pd.Series, col: Column, label: str) -> tuple[pd.Series, list[Problem]]:
    values = parse_percents(raw) if col.percent else parse_numbers(raw)
    problems = _unreadable_numbers(raw, values, label, col.name)
    if col.minimum is not None:
        low = np.flatnonzero(values < col.minimum)
        problems += _cell_problems(
            label,
            col.name,
            low,
            raw,
            f"at least {col.minimum:g}",
            f"use a value >= {col.minimum:g}",
        )
    if col.maximum is not None:
        high = np.flatnonzero(values > col.maximum)
        problems += _cell_problems(
            label,
            col.name,
            high,
            raw,
            f"at most {col.maximum:g}",
            f"use a value <= {col.maximum:g}",
        )
    limit = INTEGER_LIMIT if col.kind == "integer" else NUMBER_LIMIT
    huge = (values.abs() > limit).to_numpy()
    problems += _cell_problems(
        label, col.name, np.flatnonzero(huge), raw, f"within ±{limit:,.0f}", "check the value"
    )
    values = values.mask(huge)
    if col.kind == "integer":
        fractional = np.flatnonzero(values.notna() & (values % 1 != 0))
        problems += _cell_problems(label, col.name, fractional, raw, "a whole number", "round it")
        values = values.where(values % 1 == 0).round().astype("Int64")
    elif col.default is not None:
        values = values.fillna(float(col.default)).astype(float)
    return values, problems


def _coerce_bool(raw: pd.Series, col: Column, label: str) -> tuple[pd.Series, list[Problem]]:
    values = parse_booleans(raw)
    bad = np.flatnonzero(values.isna() & (raw.str.strip() != ""))
    problems = _cell_problems(
        label, col.name, bad, raw, "a yes/no value", "write true/false, 1/0, yes/no, y/n or 是/否"
    )
    return values.fillna(bool(col.default)).astype(bool), problems


def _without_invisible(raw: pd.Series, column: str, label: str) -> tuple[pd.Series, list[Problem]]:
    """Text without invisible characters (zero-width spaces, byte-order marks, NUL), which
    make two ids that look the same differ; a warning for each cell that held one."""
    if not INVISIBLE.search(raw.str.cat()):
        return raw.str.strip(), []
    cleaned = raw.str.replace(INVISIBLE, "", regex=True)
    changed = np.flatnonzero((cleaned != raw).to_numpy())
    problems = [
        Problem(
            label,
            f"{cleaned.iloc[p]!r} holds invisible characters "
            f"({', '.join(sorted({f'U+{ord(c):04X}' for c in INVISIBLE.findall(raw.iloc[p])}))}), "
            f"read without them",
            "retype the cell, to be sure it matches elsewhere",
            row=_row(int(p)),
            column=column,
            severity=Severity.WARNING,
        )
        for p in changed[:MAX_CELL_PROBLEMS]
    ]
    return cleaned.str.strip(), problems


def _without_spreadsheet_errors(
    raw: pd.Series, column: str, label: str
) -> tuple[pd.Series, list[Problem]]:
    """Cells showing a formula's error, reported once each and then read as blank, so they
    are not also reported as not a number or an unknown id."""
    if "#" not in raw.str.cat():  # every error a spreadsheet shows starts with it
        return raw, []
    failed = raw.str.upper().isin(SPREADSHEET_ERRORS).to_numpy()
    if not failed.any():
        return raw, []
    problems = _cell_problems(
        label,
        column,
        np.flatnonzero(failed),
        raw,
        "a value but a spreadsheet formula's error",
        "fix the formula behind the cell (a lookup that found nothing?), or type the value",
    )
    return raw.mask(failed, ""), problems


def coerce_table(
    frame: pd.DataFrame, schema: tuple[Column, ...], label: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check and convert the schema's columns; unknown columns stay as text, untouched.

    Missing optional columns are added (blank / default); missing required ones are problems.
    """
    blank = (
        (frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.zeros(len(frame), bool)
    )
    hint = "delete it: blank rows may only follow the table"
    blank_rows = [_row(int(p)) for p in np.flatnonzero(blank)]
    problems = [
        Problem(label, "the row is blank", hint, row) for row in blank_rows[:MAX_CELL_PROBLEMS]
    ]
    if len(blank_rows) > MAX_CELL_PROBLEMS:
        problems.append(more_like_these(label, None, blank_rows[MAX_CELL_PROBLEMS:], hint, "rows"))
    typed = frame.copy()
    for col in schema:
        if col.name not in frame.columns:
            if col.required:
                problems.append(
                    Problem(
                        label,
                        "a required column is missing",
                        f"add a column named {col.name!r} to the header row",
                        row=1,
                        column=col.name,
                    )
                )
            raw = pd.Series([""] * len(frame), index=frame.index, dtype=str)
        else:
            raw = frame[col.name].astype(str).str.strip()
        if col.required and col.name in frame.columns:
            empty = np.flatnonzero((raw == "").to_numpy() & ~blank)
            fill = f"fill in {col.name}"
            problems += [
                Problem(label, "the value is empty", fill, row=_row(p), column=col.name)
                for p in empty[:MAX_CELL_PROBLEMS]
            ]
            if len(empty) > MAX_CELL_PROBLEMS:
                rest = [_row(int(p)) for p in empty[MAX_CELL_PROBLEMS:]]
                problems.append(more_like_these(label, col.name, rest, fill, "cells"))
        raw, found = _without_spreadsheet_errors(raw, col.name, label)
        problems += found
        if col.kind in ("id", "text"):
            raw, found = _without_invisible(raw, col.name, label)
            problems += found
        if col.kind in ("number", "integer"):
            typed[col.name], found = _coerce_number(raw, col, label)
        elif col.kind == "bool":
            typed[col.name], found = _coerce_bool(raw, col, label)
        else:
            typed[col.name], found = raw, []
        problems += found
    return typed, problems


def has_required_columns(frame: pd.DataFrame, schema: tuple[Column, ...]) -> bool:
    """Whether every required column of ``schema`` is in the header."""
    return all(c.name in frame.columns for c in schema if c.required)


def repeats(keys: Iterable[Hashable]) -> list[tuple[int, int]]:
    """(position, position of its first appearance) of every key seen before."""
    first: dict[Hashable, int] = {}
    found = []
    for position, key in enumerate(keys):
        if key in first:
            found.append((position, first[key]))
        else:
            first[key] = position
    return found


def duplicate_ids(frame: pd.DataFrame, column: str, label: str) -> list[Problem]:
    """Each repeated id, at every row after its first appearance (past the first 50, one line
    names the rest's rows: a table pasted twice)."""
    ids = frame[column]
    repeated = [
        Problem(
            label,
            f"duplicate {column} {ids.iloc[p]!r} (first at row {_row(first)})",
            "give every row its own id, or merge the rows",
            row=_row(p),
            column=column,
        )
        for p, first in repeats(ids)
        if ids.iloc[p] != ""
    ]
    return capped(repeated, f"repeated {column} values") + look_alike_ids(frame, column, label)


def look_alike_ids(frame: pd.DataFrame, column: str, label: str) -> list[Problem]:
    """A warning at each id that differs from an earlier one in case, width or spaces only:
    on screen they are one, yet they are read as two."""
    if column not in frame.columns:
        return []
    ids = frame[column].astype(str)
    plain = ids.map(_plain_id)
    return [
        Problem(
            label,
            f"{column} {ids.iloc[p]!r} looks like {ids.iloc[first]!r} (row {_row(first)}): they "
            "differ only in case, full-width characters or spaces, and are read as two",
            "type the id as it should be, or give the row an id of its own",
            row=_row(p),
            column=column,
            severity=Severity.WARNING,
        )
        for p, first in repeats(plain)
        if ids.iloc[p] != "" and ids.iloc[p] != ids.iloc[first]
    ][:MAX_CELL_PROBLEMS]


def look_alike_names(frame: pd.DataFrame, column: str, label: str, counted: str) -> list[Problem]:
    """A warning at the first row of each spelling that differs from an earlier one in case,
    width or spaces only (Steel, steel, ＳＴＥＥＬ); ``counted`` says what they are counted as
    (``"two industries"``)."""
    if column not in frame.columns:
        return []
    first_spelling: dict[str, tuple[str, int]] = {}
    warned: set[str] = set()
    problems = []
    for position, name in enumerate(frame[column].astype(str)):
        spelling, first = first_spelling.setdefault(_plain_id(name), (name, position))
        if name == spelling or name in warned:
            continue
        warned.add(name)
        problems.append(
            Problem(
                label,
                f"{column} {name!r} looks like {spelling!r} (row {_row(first)}): they differ "
                f"only in case, full-width characters or spaces, and count as {counted}",
                f"write the {column} alike in every row",
                row=_row(position),
                column=column,
                severity=Severity.WARNING,
            )
        )
    return problems[:MAX_CELL_PROBLEMS]


def id_lookup(known: Iterable[str]) -> dict[str, str]:
    """The known ids by the forms a slip leaves of them, for :func:`id_hint`: digit ids by their
    value without leading zeros, and every id by its plain form (:func:`_plain_id`); the
    smallest id where several share a form."""
    lookup = {}
    for k in sorted(known, reverse=True):
        lookup[_plain_id(k)] = k
        if k.isdigit():
            lookup[k.lstrip("0")] = k
    return lookup


def _plain_id(value: str) -> str:
    """An id as it looks on screen: full-width letters as ASCII, case and spaces ignored (a
    prefix keeps these apart from the digit forms)."""
    return "~" + "".join(unicodedata.normalize("NFKC", value).casefold().split())


def id_hint(value: str, lookup: dict[str, str]) -> str | None:
    """ "Did you mean 0001?" where a spreadsheet dropped an id's leading zeros, or "did you
    mean M005?" where the id differs from a known one in case, width or spaces only."""
    if value.isdigit() and lookup.get(value.lstrip("0"), value) != value:
        return (
            f"did you mean {lookup[value.lstrip('0')]}? The spreadsheet may have dropped leading "
            "zeros: format the column as text"
        )
    meant = lookup.get(_plain_id(value), value)
    if meant != value:
        return (
            f"did you mean {meant}? The two differ only in case, full-width characters or "
            "spaces: type it as in its table"
        )
    whole, point, zeros = value.partition(".")
    if whole.isdigit() and point and set(zeros) == {"0"} and whole in lookup.values():
        return (
            f"did you mean {whole}? A program saved the id as a number with decimals: save "
            "the column as text"
        )
    return None


def unknown_values(
    frame: pd.DataFrame,
    column: str,
    allowed: set[str],
    label: str,
    what: str,
    hint: str,
    severity: Severity = Severity.ERROR,
) -> list[Problem]:
    """Non-blank cells whose value is not among ``allowed``; where a spreadsheet dropped an
    id's leading zeros (1 for 0001), the hint says so."""
    values = frame[column]
    bad = np.flatnonzero((values != "") & ~values.isin(allowed))
    padded = id_lookup(allowed)
    problems = [
        Problem(
            label,
            f"unknown {what} {values.iloc[p]!r}",
            id_hint(str(values.iloc[p]), padded) or hint,
            row=_row(int(p)),
            column=column,
            severity=severity,
        )
        for p in bad
    ]
    return capped(problems, f"unknown {what} values", hint)
