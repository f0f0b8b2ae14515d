"""An XLSX sheet as a planner sees it: the cells' values, and the Excel habits that hide them.

openpyxl gives each cell's value, and a formula's stored result. Error results (``#N/A``) stay
as their text, so they are reported like any cell that is not a number. Two habits would lose
values without a word, so they are found: a merged range keeps its value in its first cell
only, and a workbook written by a program and never saved by a spreadsheet holds formulas
without results.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

# A whole-number format of zeros (at least that many digits) between literal text, quoted or
# escaped: 000 shows 7 as 007, "C"0000 as C0007, \M00 as M07.
ZERO_PADDED = re.compile(r'((?:"[^"]*"|\\.)*)(0+)((?:"[^"]*"|\\.)*)')
LITERAL = re.compile(r'"([^"]*)"|\\(.)')
TEXT_RESULT = re.compile(r'<c r="([A-Z]+)(\d+)"[^>]*?\bt="str"[^>]*>\s*<f[ >]')


@dataclass(frozen=True)
class Merged:
    """A merged range: its text (``J2:J4``), first row and first column (1-based)."""

    ref: str
    row: int
    column: int


@dataclass(frozen=True)
class SheetCells:
    rows: list[list[object]]
    merged: list[Merged]
    unsaved_formulas: list[tuple[int, int, str]]  # (row, column, formula), 1-based
    title: str = ""
    hidden_before: tuple[str, ...] = ()  # hidden sheets passed over to reach the first shown
    hidden_rows: tuple[int, ...] = ()  # rows hidden or filtered out in Excel, 1-based


def _has_formulas(path: Path) -> bool:
    """Whether any sheet stores a formula (a cheap look before reading formulas too)."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                data = archive.read(name)
                if b"<f>" in data or b"<f " in data:
                    return True
    return False


def _formulas(path: Path, title: str) -> dict[tuple[int, int], str]:
    """(row, column) -> formula text of every formula cell of the sheet ``title`` whose result
    is not a saved text (Excel saves ``=IFERROR(...,"")`` as an empty text result)."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = book[title]
        texts = _text_results(path, getattr(sheet, "_worksheet_path", ""))
        found = {}
        for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            for c, value in enumerate(row, start=1):
                if isinstance(value, str) and value.startswith("=") and (r, c) not in texts:
                    found[(r, c)] = value
        return found
    finally:
        book.close()


def _text_results(path: Path, sheet_path: str) -> set[tuple[int, int]]:
    """(row, column) of the formula cells whose saved result is text (``t="str"``), read from
    the sheet's XML: openpyxl gives an empty text result as None, like a result never saved."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(sheet_path).decode("utf-8", errors="replace")
    except (KeyError, OSError):
        return set()
    return {
        (int(row), column_index_from_string(column)) for column, row in TEXT_RESULT.findall(data)
    }


def _as_shown(cell: Any) -> object:
    """A cell's value; a whole number formatted with leading zeros (000) or literal text
    ("C"0000) as the text Excel shows (024, C0024), since ids are often kept so."""
    value = cell.value
    shown = ZERO_PADDED.fullmatch(str(cell.number_format or ""))
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not shown or not number or not float(value).is_integer() or value < 0:
        return value
    prefix, zeros, suffix = shown.groups()
    if len(zeros) < 2 and not prefix and not suffix:
        return value  # the format "0": a plain number
    return _literal(prefix) + str(int(value)).zfill(len(zeros)) + _literal(suffix)


def _literal(text: str) -> str:
    """The text a format's quoted ("C") and escaped (\\C) literals show."""
    return LITERAL.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)


class NoSuchSheet(LookupError):
    """The workbook has no sheet of the name asked for."""


class NotATable(LookupError):
    """The sheet asked for holds a chart, not cells."""


def _sheet_title(titles: list[str], sheet: str) -> str:
    """The title of the sheet ``sheet`` names: Excel tells sheet names apart regardless of case,
    so ``#customers`` finds ``Customers``. NoSuchSheet when none matches."""
    if sheet in titles:
        return sheet
    wanted = sheet.strip().casefold()
    for title in titles:
        if title.strip().casefold() == wanted:
            return title
    raise NoSuchSheet(sheet)


_keeping = [0]  # how many workbooks_kept() blocks are open


@contextmanager
def workbooks_kept() -> Iterator[None]:
    """Within the block, a workbook is loaded once for all the sheets read from it (while its
    file is unchanged): a scenario often keeps every table in one workbook, and loading it took
    most of the time of reading each sheet. After the block, it is let go."""
    _keeping[0] += 1
    try:
        yield
    finally:
        _keeping[0] -= 1
        if not _keeping[0]:
            _loaded.cache_clear()


def _workbook(path: Path) -> Any:
    if not _keeping[0]:
        return openpyxl.load_workbook(path, data_only=True)
    stat = path.stat()
    return _loaded(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1)
def _loaded(path: str, mtime_ns: int, size: int) -> Any:
    return openpyxl.load_workbook(path, data_only=True)


def read_sheet(path: Path, sheet: str | None) -> SheetCells:
    """The sheet named ``sheet`` (else the first one shown: a planner does not see hidden
    ones); NoSuchSheet when there is no such sheet."""
    book = _workbook(path)
    try:
        shown = [w for w in book.worksheets if w.sheet_state == "visible"] or book.worksheets
        worksheet = book[_sheet_title(book.sheetnames, sheet)] if sheet is not None else shown[0]
        if worksheet not in book.worksheets:  # a chart sheet: no cells to read
            raise NotATable(worksheet.title)
        hidden_before = tuple(
            w.title for w in book.worksheets[: book.worksheets.index(worksheet)] if sheet is None
        )
        formulas = _formulas(path, worksheet.title) if _has_formulas(path) else {}
        last_row, last_column = _used_extent(worksheet, formulas)
        cells = worksheet.iter_rows(min_row=1, min_col=1, max_row=last_row, max_col=last_column)
        rows = [[_as_shown(cell) for cell in row] for row in cells] if last_row else []
        merged = [
            Merged(
                f"{get_column_letter(r.min_col)}{r.min_row}:{get_column_letter(r.max_col)}"
                f"{r.max_row}",
                r.min_row,
                r.min_col,
            )
            for r in sorted(worksheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))
        ]
        title = worksheet.title
        hidden_rows = tuple(
            sorted(r for r, d in worksheet.row_dimensions.items() if d.hidden and r <= last_row)
        )
    finally:
        if not _keeping[0]:
            book.close()
    unsaved = []
    for (r, c), formula in sorted(formulas.items()):
        if r <= len(rows) and c <= len(rows[r - 1]) and rows[r - 1][c - 1] is None:
            unsaved.append((r, c, formula))
    return SheetCells(rows, merged, unsaved, title, hidden_before, hidden_rows)


def _used_extent(worksheet: Any, formulas: dict[tuple[int, int], str]) -> tuple[int, int]:
    """The last row and column holding a value or a formula. Excel's used range can reach row
    1,048,576 through one formatted empty cell, and reading the range would build every cell
    of it (gigabytes); the cells the file holds are few."""
    last_row = last_column = 0
    for (r, c), cell in worksheet._cells.items():  # the cells stored, not the whole range
        if cell.value is not None:
            last_row, last_column = max(last_row, r), max(last_column, c)
    for r, c in formulas:
        last_row, last_column = max(last_row, r), max(last_column, c)
    return last_row, last_column
