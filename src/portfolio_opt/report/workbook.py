"""Tables as a formatted .xlsx workbook: what planners open first.

Every sheet has a bold frozen header row, an autofilter, columns as wide as their content,
money with thousands separators and rates as percentages. Text a spreadsheet would run as a
formula (=, +, -, @ at the start) is stored as a text cell (never a formula) with Excel's quote
prefix, so it stays text even when the cell is edited; Chinese text is kept as it is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from portfolio_opt.report.fingerprint import CellsFingerprint, remember_written
from portfolio_opt.report.safe_text import FORMULA_STARTS

if TYPE_CHECKING:  # openpyxl is imported where a workbook is written: the CLI starts faster
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

MONEY = "#,##0.00"
COUNT = "#,##0"
PERCENT = "0.0%"
RATE = "0.0##%"  # pay and growth rates: 1.25% shown whole
RATIO = "0.0000"
SECONDS = "0.0"

HEADER_COLOUR, HEADER_TEXT = "305496", "FFFFFF"
# Control characters XML cannot hold (openpyxl refuses them), as openpyxl defines them.
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
MIN_WIDTH, MAX_WIDTH = 6, 60
SAMPLE_ROWS = 2000  # rows measured for column widths
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")

_PERCENT_ENDS = ("gap", "share", "target_cv", "max_deviation", "utilisation", "growth", "rate")
_MONEY_ENDS = (
    "_base",
    "target",
    "income",
    "salary",
    "adjustments",
    "performance_pay",
    "value",
    "amount",
    "profit",
    "paid_before",
    "payment",
    "carried_forward",
)
_COUNT_ENDS = ("count", "lower_bound", "tenure_years", "management_score", "hard_rule_violations")


def number_format(name: str) -> str | None:
    """The Excel number format for a column (or KPI) name; ``None`` keeps General.

    >>> number_format("stock_target"), number_format("balance.max_deviation")
    ('#,##0.00', '0.0%')
    """
    key = name.lower().rsplit(".", 1)[-1]
    if "gini" in key or key in ("max_over_min", "fx_rate"):
        return RATIO
    if key.endswith(_PERCENT_ENDS):
        return PERCENT
    if key.endswith(_MONEY_ENDS):
        return MONEY
    if key.startswith("n_") or key.endswith(_COUNT_ENDS):
        return COUNT
    if key.endswith("seconds"):
        return SECONDS
    return None


# Sections of a dotted KPI or policy name whose entries are of one kind, whatever their own
# name says: the growth rate of a class called "growth", a count of customers of that class.
_PERCENT_SECTIONS = ("growth", "rates", "quarter_weights")
_COUNT_SECTIONS = ("customers_by_class", "managers_by_grade", "group_sizes")
_MONEY_SECTIONS = ("base_salary",)
_PLAIN_SECTIONS = ("goals", "tables")  # goal scores and bounds in the solver's units; paths


def key_format(key: str) -> str | None:
    """The Excel number format of a row named by a dotted key (KPIs, inputs): by the section
    it sits in where that says what it holds, else by its own name.

    >>> key_format("customers_by_class.growth"), key_format("policy.payout.rates.target")
    ('#,##0', '0.0##%')
    """
    sections = key.lower().split(".")[:-1]
    for names, fmt in (
        (_PLAIN_SECTIONS, None),
        (_COUNT_SECTIONS, COUNT),
        (_MONEY_SECTIONS, MONEY),
        (_PERCENT_SECTIONS, RATE),
    ):
        if any(s in names for s in sections):
            return fmt
    return number_format(key)


@dataclass(frozen=True)
class Sheet:
    """A table for one sheet.

    ``key_column`` names a column whose values name each row (a KPI table): rows are then
    formatted by that name instead of columns by theirs.
    """

    frame: pd.DataFrame
    key_column: str | None = None


def cell_value(value: object) -> object:
    """A value openpyxl stores as is: plain Python numbers, text without control characters."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, bool | int | float | str):
        return ILLEGAL_CHARACTERS.sub("", value) if isinstance(value, str) else value
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return ILLEGAL_CHARACTERS.sub("", str(value))


def set_value(cell: Cell, value: object) -> None:
    """Store ``value``; text that looks like a formula becomes a quoted text cell."""
    value = cell_value(value)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(value: object, fmt: str | None) -> str:
    if isinstance(value, bool) or value is None:
        return str(value or "")
    if isinstance(value, int | float) and fmt in (MONEY, COUNT):
        return f"{value:,.2f}" if fmt == MONEY else f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _formats(sheet: Sheet) -> Callable[[int, str], str | None]:
    """Format of the cell at (row position, column name)."""
    frame = sheet.frame
    if sheet.key_column is not None:
        keys = frame[sheet.key_column].astype(str).tolist()
        by_row = [key_format(k) for k in keys]

        def by_key(row: int, column: str) -> str | None:
            return None if column == sheet.key_column else by_row[row]

        return by_key
    by_column = {str(c): number_format(str(c)) for c in frame.columns}
    return lambda row, column: by_column[column]


def column_values(column: pd.Series) -> list[object]:
    """The column's values as :func:`cell_value` gives them, plain numbers without a call each."""
    if not isinstance(column.dtype, np.dtype):  # pandas' own types may hold pd.NA
        return [cell_value(v) for v in column.tolist()]
    if column.dtype.kind in "biu":
        return column.tolist()
    if column.dtype.kind == "f":
        values = column.to_numpy()
        finite = np.isfinite(values).tolist()
        return [v if ok else None for v, ok in zip(values.tolist(), finite, strict=True)]
    return [cell_value(v) for v in column.tolist()]


def _header_cell(ws: Worksheet, name: str) -> Cell:
    from openpyxl.styles import Alignment, Font, PatternFill

    cell = _cell(ws, name)
    cell.font = Font(bold=True, color=HEADER_TEXT)
    cell.fill = PatternFill("solid", fgColor=HEADER_COLOUR)
    cell.alignment = Alignment(vertical="center")
    return cell


def _cell(ws: Worksheet, value: object, number: str | None = None) -> Cell:
    """A cell of a write-only sheet holding ``value`` as :func:`set_value` stores it."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws)
    set_value(cell, value)
    if number is not None and isinstance(cell.value, int | float):
        cell.number_format = number
    return cell


def _styled(value: object, number: str | None) -> bool:
    """Whether the cell needs a style: a number format or a formula-like text's quote prefix."""
    if isinstance(value, str):
        return value.startswith(FORMULA_STARTS)
    return number is not None and isinstance(value, int | float)


def write_sheet(ws: Worksheet, sheet: Sheet, fingerprint: CellsFingerprint) -> None:
    """Header, rows, formats, widths, frozen header, autofilter, into a write-only sheet (its
    layout comes first: rows are written as they are appended); every row goes into the
    workbook's ``fingerprint`` too."""
    from openpyxl.utils import get_column_letter

    frame = sheet.frame
    columns = [str(c) for c in frame.columns]
    fmt = _formats(sheet)
    values = [column_values(frame.iloc[:, i]) for i in range(len(columns))]
    rows = list(zip(*values, strict=True))
    widths = [display_width(c) for c in columns]
    for row, cells in enumerate(rows[:SAMPLE_ROWS]):
        for col, (name, value) in enumerate(zip(columns, cells, strict=True)):
            widths[col] = max(widths[col], display_width(_shown(value, fmt(row, name))))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(
            max(width + 2, MIN_WIDTH), MAX_WIDTH
        )
    ws.freeze_panes = "B2" if len(columns) > 1 else "A2"
    if not columns:
        return
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"
    ws.append([_header_cell(ws, name) for name in columns])
    fingerprint.row([cell_value(name) for name in columns])
    for row, cells in enumerate(rows):
        fingerprint.row(cells)
        numbers = [fmt(row, name) for name in columns]
        ws.append(
            [
                _cell(ws, value, number) if _styled(value, number) else value
                for value, number in zip(cells, numbers, strict=True)
            ]
        )


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\ nor a control
    character."""
    base = SHEET_NAME_BAD.sub("_", ILLEGAL_CHARACTERS.sub("", name)).strip("'")[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame | Sheet]) -> None:
    """Write ``sheets`` (in order) as one workbook at ``path``."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    fingerprint = CellsFingerprint()
    taken: set[str] = set()
    for name, table in sheets.items():
        sheet = table if isinstance(table, Sheet) else Sheet(table)
        title = sheet_title(name, taken)
        fingerprint.sheet(title)
        write_sheet(workbook.create_sheet(title), sheet, fingerprint)
    if not sheets:
        workbook.create_sheet("Empty")
        fingerprint.sheet("Empty")
    workbook.properties.creator = "portfolio-opt"
    workbook.save(path)
    remember_written(path, fingerprint)
