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

from portfolio_opt.report.safe_text import FORMULA_STARTS

if TYPE_CHECKING:  # openpyxl is imported where a workbook is written: the CLI starts faster
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

MONEY = "#,##0.00"
COUNT = "#,##0"
PERCENT = "0.0%"
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
        by_row = [number_format(k) for k in keys]

        def by_key(row: int, column: str) -> str | None:
            return None if column == sheet.key_column else by_row[row]

        return by_key
    by_column = {str(c): number_format(str(c)) for c in frame.columns}
    return lambda row, column: by_column[column]


def write_sheet(ws: Worksheet, sheet: Sheet) -> None:
    """Header, rows, formats, widths, frozen header, autofilter."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    frame = sheet.frame
    columns = [str(c) for c in frame.columns]
    fmt = _formats(sheet)
    widths = [display_width(c) for c in columns]
    for col, name in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=col)
        set_value(cell, name)
        cell.font = Font(bold=True, color=HEADER_TEXT)
        cell.fill = PatternFill("solid", fgColor=HEADER_COLOUR)
        cell.alignment = Alignment(vertical="center")
    for row, values in enumerate(frame.itertuples(index=False, name=None)):
        for col, (name, value) in enumerate(zip(columns, values, strict=True), start=1):
            cell = ws.cell(row=row + 2, column=col)
            set_value(cell, value)
            number = fmt(row, name)
            if number is not None and isinstance(cell.value, int | float):
                cell.number_format = number
            if row < SAMPLE_ROWS:
                widths[col - 1] = max(widths[col - 1], display_width(_shown(cell.value, number)))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(
            max(width + 2, MIN_WIDTH), MAX_WIDTH
        )
    ws.freeze_panes = "B2" if len(columns) > 1 else "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\."""
    base = SHEET_NAME_BAD.sub("_", name).strip("'")[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame | Sheet]) -> None:
    """Write ``sheets`` (in order) as one workbook at ``path``."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for name, table in sheets.items():
        sheet = table if isinstance(table, Sheet) else Sheet(table)
        write_sheet(workbook.create_sheet(sheet_title(name, taken)), sheet)
    if not sheets:
        workbook.create_sheet("Empty")
    workbook.properties.creator = "portfolio-opt"
    workbook.save(path)
