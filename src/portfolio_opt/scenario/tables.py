"""Reading one table: CSV in any encoding Excel writes, or an XLSX sheet, all cells as text."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from portfolio_opt.problems import FOLD_MARK, Problem, Severity, listed
from portfolio_opt.scenario.xlsx import NoSuchSheet, NotATable, SheetCells, read_sheet

ENCODINGS = ("utf-8-sig", "gb18030", "cp950", "cp1252")
ENCODING_NAMES = "UTF-8, UTF-16, GB18030, Big5 and Windows-1252"
ENCODING_LABELS = {"gb18030": "GB18030", "cp950": "Big5", "cp1252": "Windows-1252"}
# A reading with at most this many more unlikely characters than the one taken is as likely:
# one rare character (楊千嬅's 嬅) is all that tells a few Big5 words from Windows-1252 signs,
# and a few names (靚 甯 蓁 燊 in five) all that tells Big5 from GB18030; one more per five
# Chinese characters read, up to three (a table's readings differ by far more).
RIVAL_MARGIN = (1, 3)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text"
UTF16_ZEROS = 0.25  # share of byte pairs with a zero byte on one side: UTF-16 without a BOM
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheets of other formats: their '#Sheet' is split off, so the message is about the format.
OTHER_WORKBOOK_SUFFIXES = (".xls", ".xlsb", ".ods", ".numbers")
DELIMITERS = ",;\t"
# Excel's first line naming the separator; Excel reads it and hides it, so the header is row 1.
SEPARATOR_LINE = re.compile(r"\Asep=(.)[ \t]*\r?\n", re.IGNORECASE)
# GB18030 reads almost any Big5 bytes, but common Big5 characters land in its private-use area.
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
# Format characters and NUL: invisible in Excel, yet part of the text.
INVISIBLE = re.compile("[\x00\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# What GB18030 Chinese read as UTF-8 gives: C1 controls and letters of scripts from Latin
# Extended to Greek Extended (0100-1FFF) and Glagolitic to Ethiopic (2C00-2DFF); not the
# punctuation and signs between, which a planner may have typed.
UTF8_UNLIKELY = re.compile("[\x80-\x9f\u0100-\u1fff\u2c00-\u2dff]")
NON_ASCII_RUNS = re.compile("[^\x00-\x7f]{3,}")
# Signs no Western writer puts before a letter; Big5 bytes read as Windows-1252 do (林 -> ªL).
SIGN_BEFORE_A_LETTER = re.compile("[¤¦¨¯´¸¹²³ª¶µ¬\xad·¾¼½º©®](?=[^\\W\\d_])")
CHINESE = "\u2e80-\U0002ffff"
CHINESE_INSIDE_A_WORD = re.compile(f"(?<=[A-Za-z])[{CHINESE}]+(?=[A-Za-z])")
LONE_CHINESE_BY_A_LETTER = re.compile(
    f"(?<=[A-Za-z])[{CHINESE}](?![{CHINESE}])|(?<![{CHINESE}])[{CHINESE}](?=[A-Za-z])"
)
BIG5_FREQUENT = (0xA1, 0xC6)  # lead bytes of Big5's symbols and frequently used characters
MAX_FORMULA_PROBLEMS = 20
DECIMAL_COMMA = re.compile(r"-?\d+,(\d{1,2}|\d{4,})")  # 1234,56; not 1,234 (thousands)
MAX_ROW_PROBLEMS = 20  # of each kind of uneven row, per file
TOTALS_SEARCH_ROWS = 3  # rows at the end of a table searched for a totals row
TOTAL_WORDS = {"total", "totals", "grand total", "sum", "subtotal"} | {
    "合计",
    "合計",
    "总计",
    "總計",
    "小计",
    "小計",
    "共计",
    "共計",
}
HEADER_SEARCH_ROWS = 10  # rows searched for column names pushed down by a title or blank rows
PUSHED_DOWN = "the column names are in row"
TOO_MANY_FIELDS = "fields, but the header has"  # in the error of a row whose cells shifted


def split_table_spec(spec: str) -> tuple[str, str | None]:
    """``file.xlsx#Sheet`` -> (``file.xlsx``, ``Sheet``), split at the first ``#`` after a
    workbook's suffix (a sheet may be named ``客戶#2026``); other paths (``客戶#2026.csv``)
    have no sheet."""
    start = 0
    while (at := spec.find("#", start)) >= 0:
        file = spec[:at]
        if file.lower().endswith(WORKBOOK_SUFFIXES + OTHER_WORKBOOK_SUFFIXES):
            return file, spec[at + 1 :] or None
        start = at + 1
    return spec, None


def unreadable(label: str, exc: OSError) -> Problem:
    """A file the operating system will not let us read, as a problem."""
    if isinstance(exc, PermissionError):
        return Problem(
            label,
            "cannot read the file: permission denied",
            "give yourself read access to it, or copy it into a folder you can read",
        )
    reason = exc.strerror or type(exc).__name__
    return Problem(label, f"cannot read the file: {reason}", "check that the file can be opened")


def resolve_inside(root: Path, relative: str) -> Path | None:
    """The path of ``relative`` under ``root``, or None if it leaves the folder."""
    base = root.resolve()
    target = (base / relative).resolve()
    return target if target.is_relative_to(base) else None


def _other_case(base: Path, path: Path) -> str | None:
    """The one file under ``base`` whose path is ``path``'s in other capitals (a folder made
    on Windows, where DATA\\customers.csv and data/customers.csv are the same file), or None."""
    found = base
    for part in path.relative_to(base).parts:
        if not found.is_dir():
            return None
        matches = [c for c in found.iterdir() if c.name.casefold() == part.casefold()]
        if len(matches) != 1:
            return None
        found = matches[0]
    return found.relative_to(base).as_posix() if found.is_file() else None


def _decoded(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


Readings = dict[str, tuple[str, int]]  # encoding: its text, its unlikely characters


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes as UTF-8 (with or without BOM), UTF-16 (with BOM), GB18030, Big5 or
    Windows-1252; return (text, encoding).

    Where several of GB18030, Big5 (cp950, Taiwan and Hong Kong Excel) and Windows-1252 (Excel
    in Western Europe) read the bytes, the reading with fewer unlikely characters wins. Raises
    ``UnicodeDecodeError`` whose reason says what went wrong.
    """
    text, encoding, _ = _decoding(data)
    return text, encoding


def _decoding(data: bytes) -> tuple[str, str, Readings]:
    """:func:`decode_text`'s text and encoding, and the scored readings it chose among (none
    where the bytes are UTF-8 or UTF-16), for the warning of a rival reading."""
    if data.startswith(UTF16_BOMS) and (text := _decoded(data, "utf-16")) is not None:
        return text, "utf-16", {}
    if (unmarked := _utf16_without_bom(data)) and (text := _decoded(data, unmarked)) is not None:
        return text, unmarked, {}
    if (text := _decoded(data, "utf-8-sig")) is not None:
        disguised = _gb18030_read_as_utf8(data, text)
        if disguised is None:
            return text, "utf-8-sig", {}
        return disguised, "gb18030", _scored_readings(data)
    scored = _scored_readings(data)
    # No planner typed a private-use character: a reading with one is not what was written.
    readings = {e: r for e, r in scored.items() if not PRIVATE_USE.search(r[0])}
    if readings:
        encoding = min(readings, key=lambda e: readings[e][1])
        return readings[encoding][0], encoding, scored
    reason = "the encoding is unclear" if scored else "unknown encoding"
    raise UnicodeDecodeError("gb18030", data, 0, len(data), f"{reason}; tried {ENCODING_NAMES}")


def _scored_readings(data: bytes) -> Readings:
    """The readings of bytes that are not UTF-8, each with how many unlikely characters it
    holds, in the order ties go (GB18030, Big5, Windows-1252)."""
    readings = {e: t for e in ENCODINGS[1:] if (t := _decoded(data, e)) is not None}
    # Windows-1252 reads any bytes but five: its unlikely runs weigh against it, and it comes
    # last on a tie, but a Western table with one odd run (« Café ») is still read as one.
    return {e: (t, _unlikely_characters(t, e)) for e, t in readings.items()}


def rival_reading(readings: Readings, encoding: str) -> tuple[str, str, str] | None:
    """Another encoding that reads the bytes about as likely as ``encoding`` does (within the
    RIVAL_MARGIN of unlikely characters), but otherwise:
    a line it reads differently, as (that encoding, the line as ``encoding`` reads it, the
    line as it reads it). Short Chinese texts can be such: 高雄 in Big5 is 蔼动 in GB18030."""
    if encoding not in readings:
        return None
    text, score = readings[encoding]
    least, most = RIVAL_MARGIN
    margin = min(max(len(re.findall(f"[{CHINESE}]", text)) // 5, least), most)
    for other, (its_text, its_score) in readings.items():
        near = its_score <= score + margin and not PRIVATE_USE.search(its_text)
        if other != encoding and near and its_text != text:
            lines = zip(text.splitlines(), its_text.splitlines(), strict=False)
            ours, theirs = next(((a, b) for a, b in lines if a != b), (text, its_text))
            return other, ours, theirs
    return None


def _gb18030_read_as_utf8(data: bytes, utf8: str) -> str | None:
    """The GB18030 reading of bytes that UTF-8 also reads, where that is what they are.

    Short Chinese words in GB18030 can be valid UTF-8 (郑伟 -> ֣ΰ, 煤炭 -> úÌ¿): their UTF-8
    reading then holds letters of other scripts no Chinese planner typed, while the GB18030
    one holds only common Chinese characters. None where UTF-8 is the likelier reading: Latin
    letters of other languages (Yıldırım, Dvořák, Dương) are what they look like."""
    foreign = {
        c for c in UTF8_UNLIKELY.findall(utf8) if not unicodedata.name(c, "").startswith("LATIN")
    }
    if data.startswith(codecs.BOM_UTF8) or not (foreign or _unused(utf8)):
        return None
    gb = _decoded(data, "gb18030")
    if gb is None or not re.search(f"[{CHINESE}]", gb) or _unlikely_characters(gb, "gb18030"):
        return None
    return gb


def _unused(text: str) -> bool:
    """Whether ``text`` holds a private-use or unassigned character, which no one typed."""
    return any(unicodedata.category(c) in ("Co", "Cn") for c in set(text) if ord(c) > 0x7F)


def _utf16_without_bom(data: bytes) -> str | None:
    """The encoding ("utf-16-le" or "utf-16-be") where the bytes are UTF-16 saved without a
    byte-order mark (Latin letters and digits then come with a zero byte after, or before,
    each); else None. UTF-8 text has no zero bytes."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if not pairs or b"\x00" not in sample:
        return None
    even, odd = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    # Characters U+xx00 (一, 开) put their zero on the other side: fewer, never as many.
    if odd >= UTF16_ZEROS * pairs and even <= odd // 2:
        return "utf-16-le"
    if even >= UTF16_ZEROS * pairs and odd <= even // 2:
        return "utf-16-be"
    return None


def _rows_not_utf8(data: bytes) -> list[int]:
    """The lines (1-based) holding bytes UTF-8 cannot read, to point a planner at them."""
    rows = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            rows.append(number)
    return rows


def _unlikely_characters(text: str, encoding: str) -> int:
    """How many characters of ``text`` the file's writer would hardly have typed, had it been
    written in ``encoding``."""
    if encoding == "cp1252":
        # Accented letters stand alone inside words, or two together (Société, Grüße), and
        # longer runs are of one kind (ÄÖÜ, ———); Chinese bytes read as Windows-1252 come in
        # runs that mix capitals, small letters and signs (张三 -> ÕÅÈý).
        mixed = sum(len(run) for run in NON_ASCII_RUNS.findall(text) if _mixed(run))
        return mixed + len(SIGN_BEFORE_A_LETTER.findall(text))
    # A lone Chinese character against a Latin letter, made of a byte and a letter: an
    # accented letter and the next one, joined (Åsa -> 彎a).
    joined = [c for c in LONE_CHINESE_BY_A_LETTER.findall(text) if _ends_in_a_letter(c, encoding)]
    # Chinese characters inside a Latin word (Caf闁蒷ys閑: accented letters read in pairs).
    inside = sum(len(run) for run in CHINESE_INSIDE_A_WORD.findall(text))
    return _rare_characters(text, encoding) + len(joined) + inside


def _ends_in_a_letter(char: str, encoding: str) -> bool:
    """Whether the two bytes of ``char`` in ``encoding`` end with an ASCII letter."""
    data = char.encode(encoding)
    return len(data) == 2 and chr(data[1]).isascii() and chr(data[1]).isalpha()


def _mixed(run: str) -> bool:
    """Whether a run of characters mixes capitals, small letters and other signs."""
    return len({"upper" if c.isupper() else "lower" if c.islower() else "other" for c in run}) > 1


def _rare_characters(text: str, encoding: str) -> int:
    """Characters a text in ``encoding`` seldom holds: private-use ones, Chinese characters
    outside the common sets (GB2312's simplified ones, Big5's frequent traditional ones; GB18030
    holds both), and in GB18030 the fewer of simplified-only and traditional-only characters,
    as a writer types one script or the other. Big5 bytes read as GB18030 give mostly such
    characters, and GB18030 bytes read as Big5 too."""
    rare = 0
    scripts = {"simplified": 0, "traditional": 0}
    for char in set(text):
        count = text.count(char)
        if PRIVATE_USE.match(char):
            rare += count
        elif ord(char) >= 0x2E80:
            simplified, traditional = _in_gb2312(char), _frequent_in_big5(char)
            if not (traditional or (encoding == "gb18030" and simplified)):
                rare += count
            elif simplified != traditional:
                scripts["simplified" if simplified else "traditional"] += count
    return rare + (min(scripts.values()) if encoding == "gb18030" else 0)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _frequent_in_big5(char: str) -> bool:
    try:
        return BIG5_FREQUENT[0] <= char.encode("cp950")[0] <= BIG5_FREQUENT[1]
    except UnicodeEncodeError:
        return False


def column_name(cell: object) -> str:
    """A header cell as the spec matches it: trimmed and lower-cased, without invisible
    characters."""
    return INVISIBLE.sub("", str(cell)).strip().lower()


def normalise_columns(frame: pd.DataFrame, known: Collection[str] | None = None) -> pd.DataFrame:
    """Column names trimmed and lower-cased, as the spec matches them; with ``known``, only
    those that then match one of them: the planner's own columns keep their names."""
    names = [column_name(c) for c in frame.columns]
    frame.columns = [
        name if known is None or name in known else str(original).strip()
        for name, original in zip(names, frame.columns, strict=True)
    ]
    return frame


LOST_DIGITS = 1e15  # numbers from here on have more digits than a spreadsheet keeps


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a planner sees (whole numbers without '.0')."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        # Excel keeps 15 digits: a longer number (an id typed without Text format) has lost its
        # last ones, so it reads as Excel shows it (6.22202123456789E+18), never as a wrong id.
        return f"{value:.15G}" if abs(value) >= LOST_DIGITS else str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()  # a date cell, shown as the date
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def sniff_delimiter(text: str) -> str:
    """The separator of a CSV text, judged from its header line: comma, semicolon or tab."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:  # a single column: nothing to tell
        return ","


def _header_names(text: str, delimiter: str) -> list[str]:
    """The header cells as written: pandas renames a repeated name (``x``, ``x.1``)."""
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return []


def header_pushed_down(
    rows: Sequence[Sequence[object]], required: Sequence[str], label: str
) -> Problem | None:
    """When row 1 lacks the required column names but a row below holds them all (under a
    title or blank rows), the problem saying so; None otherwise."""
    wanted = set(required)

    def holds_all(row: Sequence[object]) -> bool:
        return wanted <= {column_name(cell) for cell in row}

    if not wanted or not rows or holds_all(rows[0]):
        return None
    for row_number, row in enumerate(rows[1 : HEADER_SEARCH_ROWS + 1], start=2):
        if holds_all(row):
            first = next((str(c).strip() for c in rows[0] if str(c).strip()), "")
            above = f"row 1 holds {first!r}" if first else "row 1 is blank"
            return Problem(
                label,
                f"{PUSHED_DOWN} {row_number}, not in row 1 ({above})",
                "delete the rows above the column names (a title, blank rows)",
                row=row_number,
            )
    return None


def rows_above_header(problems: Sequence[Problem]) -> int:
    """How many rows stand above the column names, where ``problems`` say they were pushed
    down (0 otherwise)."""
    rows = [p.row for p in problems if p.message.startswith(PUSHED_DOWN) and p.row]
    return rows[0] - 1 if rows else 0


ROWS_IN_TEXT = re.compile(r"\b(rows?) (\d+(?:-\d+)?(?:, \d+(?:-\d+)?)*)")


def at_sheet_rows(problem: Problem, above: int) -> Problem:
    """A problem found in a table read from below its title, with every row it names, where
    it is and in its text ("first in row 3", "rows 52-61"), moved down past the ``above`` rows
    to where the planner sees it."""

    def moved(match: re.Match[str]) -> str:
        numbers = re.sub(r"\d+", lambda n: str(int(n.group()) + above), match.group(2))
        return f"{match.group(1)} {numbers}"

    return replace(
        problem,
        row=None if problem.row is None else problem.row + above,
        message=ROWS_IN_TEXT.sub(moved, problem.message),
    )


def _csv_header_pushed_down(text: str, required: Sequence[str], label: str) -> Problem | None:
    head = text.splitlines()[: HEADER_SEARCH_ROWS + 1]
    for delimiter in DELIMITERS:  # the title row tells nothing about the separator
        try:
            rows = list(csv.reader(head, delimiter=delimiter))
        except csv.Error:
            continue
        if (problem := header_pushed_down(rows, required, label)) is not None:
            return problem
    return None


def _records(text: str, delimiter: str) -> list[list[str]] | None:
    """The CSV text's rows of fields, or None where the csv module cannot split it (the pandas
    parser then reports what is wrong)."""
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        return None


def _uneven_rows(records: list[list[str]] | None, delimiter: str, label: str) -> list[Problem]:
    """Rows whose fields do not match the header's columns. More fields is an error: a comma
    inside a number (1,234) or a stray separator, which shifts the cells into the wrong columns,
    even where the extra field is an empty last cell; only a separator ending most rows alike
    (empty trailing fields throughout) is harmless. Fewer fields is a warning: the cells to the
    right read as blank."""
    if records is None:
        return []
    header, *rows = records or [[]]
    rows = [fields if any(INVISIBLE.sub("", f).strip() for f in fields) else [] for fields in rows]
    width = len(header)
    allowed = width
    widths = Counter(len(fields) for fields in rows if fields)
    if widths:
        common, count = widths.most_common(1)[0]
        if (
            common > width
            and 2 * count > widths.total()
            and all(
                not any(f.strip() for f in fields[width:])
                for fields in rows
                if len(fields) == common
            )
        ):
            allowed = common  # a separator ending every row: harmless

    def joined_rows(fields: list[str]) -> bool:
        return any("\n" in f and delimiter in f for f in fields)

    overlong = [
        Problem(
            label,
            f"{len(fields)} {TOO_MANY_FIELDS} {width} columns"
            + (
                ": a quote left open joined this row and the next ones"
                if joined_rows(fields)
                else ""
            ),
            'check the quotes in the row: a cell that starts with " must end with "'
            if joined_rows(fields)
            else "a number written with a thousands comma (write 1234, or quote it: "
            '"1,234") or a stray separator; remove it',
            row=number,
        )
        for number, fields in enumerate(rows, start=2)
        if len(fields) > allowed
    ]
    short = [
        Problem(
            label,
            f"{len(fields)} fields, but the header has {width} columns: the cells to the "
            "right are read as blank",
            "check the row for a missing separator, or fill in the missing cells",
            row=number,
            severity=Severity.WARNING,
        )
        for number, fields in enumerate(rows, start=2)
        if 0 < len(fields) < width
    ]
    joined = [
        Problem(
            label,
            "a cell holds a line break and separators: a quote left open may have joined "
            "this row and the next into one",
            'check the quotes in the row; a cell that starts with " must end with "',
            row=number,
            severity=Severity.WARNING,
        )
        for number, fields in enumerate(rows, start=2)
        if joined_rows(fields) and len(fields) <= allowed
    ]
    return [*_capped(overlong), *_capped(short), *_capped(joined)]


def _ranges(rows: list[int]) -> str:
    """Row numbers as runs: 3-7, 9, 12-13."""
    runs: list[list[int]] = []
    for row in sorted(rows):
        if runs and row == runs[-1][-1] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _capped(problems: list[Problem]) -> list[Problem]:
    """The first MAX_ROW_PROBLEMS problems of one kind, then one line naming the rows left."""
    if len(problems) <= MAX_ROW_PROBLEMS:
        return problems
    rest = problems[MAX_ROW_PROBLEMS:]
    first = rest[0]
    rows = _ranges([int(p.row or 0) for p in rest])
    return [
        *problems[:MAX_ROW_PROBLEMS],
        Problem(
            first.file,
            f"{FOLD_MARK}{len(rest)} more like these, in rows {rows}",
            first.hint,
            severity=first.severity,
            stands_for=len(rest),
        ),
    ]


def shifted_rows(problems: Sequence[Problem]) -> set[tuple[str, int]]:
    """(file, row) of the rows reported with too many fields: their cells sit in the wrong
    columns, so other problems in them would blame the wrong cells."""
    return {
        (p.file, p.row)
        for p in problems
        if p.is_error and p.row is not None and TOO_MANY_FIELDS in p.message
    }


def _decimal_commas(text: str, delimiter: str, label: str) -> list[Problem]:
    """One word for the whole file where its numbers use decimal commas (a European Excel's
    CSV, separated by ;): each such cell is reported, and this says why."""
    if delimiter == ",":
        return []
    fields = [f.strip() for line in text.splitlines()[1:] for f in line.split(delimiter)]
    if sum(bool(DECIMAL_COMMA.fullmatch(f)) for f in fields) < max(3, len(fields) // 20):
        return []
    return [
        Problem(
            label,
            "the numbers are written with decimal commas (1234,56), as a European Excel saves "
            "a CSV: those in number columns are refused",
            "save the file as .xlsx, or with a decimal point in the numbers",
            severity=Severity.WARNING,
        )
    ]


def _without_extra_fields(text: str, records: list[list[str]] | None, delimiter: str) -> str:
    """The text with each row cut to the header's width (pandas refuses longer rows), so that
    the rest of the table is still checked; the cut rows are reported by _uneven_rows."""
    if not records or all(len(fields) <= len(records[0]) for fields in records):
        return text
    width = len(records[0])
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(
        fields[:width] for fields in records
    )
    return out.getvalue()


def _read_csv(
    path: Path, label: str, required: Sequence[str] = (), skip_rows: int = 0
) -> tuple[pd.DataFrame | None, list[Problem]]:
    try:
        data = path.read_bytes()
        text, encoding, readings = _decoding(data)
    except OSError as exc:
        return None, [unreadable(label, exc)]
    except UnicodeDecodeError as exc:
        rows = _rows_not_utf8(data)
        hint = "save it as 'CSV UTF-8' from Excel" + (
            f"; bytes that are not UTF-8 are in line{'s' if len(rows) > 1 else ''} "
            f"{listed([str(r) for r in rows], 20)}"
            if rows
            else ""
        )
        first = rows[0] if rows else None
        return None, [Problem(label, f"cannot read the text: {exc.reason}", hint, row=first)]
    unclear = _unclear_encoding(readings, encoding, label)
    named = SEPARATOR_LINE.match(text)
    if named:
        text = text[named.end() :]
    if skip_rows:
        text = "".join(text.splitlines(keepends=True)[skip_rows:])
    elif (pushed := _csv_header_pushed_down(text, required, label)) is not None:
        return None, [pushed]
    delimiter = named.group(1) if named else sniff_delimiter(text)
    records = _records(text, delimiter)
    uneven = _uneven_rows(records, delimiter, label) + _decimal_commas(text, delimiter, label)
    text = _without_extra_fields(text, records, delimiter)
    try:
        with warnings.catch_warnings():  # the empty trailing fields it drops
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                # Without this, one extra field on the first data row makes pandas take the first
                # column as the index, shifting every column by one without a word. Rows with
                # extra fields are cut before (_without_extra_fields).
                index_col=False,
            )
    except (pd.errors.ParserError, csv.Error) as exc:
        detail = " ".join(str(exc).split())
        line = re.search(r"line (\d+)", detail)
        row = int(line.group(1)) if line else None
        return None, [
            Problem(label, f"not a valid CSV file: {detail}", "check quotes and commas", row=row)
        ]
    except pd.errors.EmptyDataError:
        return None, [Problem(label, "the file is empty", "add a header row with the columns")]
    names = _header_names(text, delimiter)
    if len(names) == len(frame.columns):
        frame.columns = [n if n.strip() else p for n, p in zip(names, frame.columns, strict=True)]
    frame = frame.apply(lambda column: column.astype(str).str.strip())
    # A nameless column that holds something is kept under pandas' name; empty ones are only
    # formatting (a spreadsheet's empty first column), as in a workbook.
    nameless = [n.strip() == "" for n in names] if len(names) == len(frame.columns) else []
    keep = [not blank or bool((frame.iloc[:, i] != "").any()) for i, blank in enumerate(nameless)]
    return (frame.loc[:, keep] if keep else frame), unclear + uneven


def _unclear_encoding(readings: Readings, encoding: str, label: str) -> list[Problem]:
    """A warning where another encoding reads the file as likely, and otherwise (a few short
    Chinese words can be read either way): which reading was taken, and the other one."""
    rival = rival_reading(readings, encoding)
    if rival is None:
        return []
    other, ours, theirs = rival
    return [
        Problem(
            label,
            f"read as {ENCODING_LABELS[encoding]}, where {ENCODING_LABELS[other]} would read it "
            f"almost as well: {ours.strip()!r} rather than {theirs.strip()!r}",
            "if the text looks wrong, save the file as 'CSV UTF-8' from Excel",
            severity=Severity.WARNING,
        )
    ]


def _sheet_names(path: Path) -> list[str]:
    return list(pd.ExcelFile(path, engine="openpyxl").sheet_names)


def _other_sheet_with(
    path: Path, required: Sequence[str], missing: Sequence[str], label: str
) -> Problem | None:
    """When the first sheet lacks the required columns and another sheet has them, the
    problem naming that sheet; None otherwise."""
    names = _sheet_names(path)
    for name in names[1:]:
        head = pd.read_excel(
            path, sheet_name=name, header=None, dtype=object, nrows=HEADER_SEARCH_ROWS + 1
        )
        rows = head.map(_cell_text).astype(str).to_numpy().tolist()
        if rows and set(required) <= {column_name(c) for row in rows for c in row}:
            return Problem(
                label,
                f"the first sheet, {names[0]!r}, has no column {', '.join(missing)}; "
                f"the sheet {name!r} has them",
                f"name that sheet after the file: {label}#{name}, in [tables] or on the "
                "command line for a plan",
            )
    return None


def _read_xlsx(
    path: Path, sheet: str | None, label: str, required: Sequence[str] = (), skip_rows: int = 0
) -> tuple[pd.DataFrame | None, list[Problem]]:
    try:
        cells = read_sheet(path, sheet)
    except OSError as exc:
        return None, [unreadable(label, exc)]
    except NoSuchSheet:
        names = ", ".join(repr(n) for n in _sheet_names(path))
        hint = f"check the name after '#'; the workbook has {names}"
        return None, [Problem(label, f"no sheet named {sheet!r}", hint)]
    except NotATable as exc:
        names = ", ".join(repr(n) for n in _sheet_names(path))
        hint = f"name the sheet that holds the table after '#'; the workbook has {names}"
        return None, [Problem(label, f"the sheet {exc.args[0]!r} is a chart, not a table", hint)]
    except (KeyError, zipfile.BadZipFile):  # no workbook parts: another format renamed
        if is_encrypted_workbook(path):
            return None, [
                Problem(
                    label,
                    "cannot read the workbook: it is protected by a password (encrypted)",
                    "open it in Excel, remove the password (File > Info > Protect Workbook > "
                    "Encrypt with Password, left empty) and save it",
                )
            ]
        return None, [
            Problem(
                label,
                "cannot read the workbook: it is not an .xlsx file (an .xls, .ods or other file "
                "renamed?)",
                "open it in Excel or LibreOffice and save it as .xlsx (Excel Workbook)",
            )
        ]
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        return None, [Problem(label, f"cannot read the workbook: {exc}", "save it again as .xlsx")]
    passed = [
        Problem(
            label,
            f"the sheet {cells.title!r} is read: the sheets before it are hidden "
            f"({', '.join(repr(h) for h in cells.hidden_before)})",
            f"to read another, name it after the file: {label}#SHEET, in [tables] or on the "
            "command line for a plan",
            severity=Severity.WARNING,
        )
    ][: bool(cells.hidden_before)]
    frame = pd.DataFrame(cells.rows, dtype=object).map(_cell_text).astype(str)
    frame = frame.iloc[skip_rows:].reset_index(drop=True)
    if not skip_rows and not (frame != "").any(axis=None):
        others = [n for n in _sheet_names(path) if n != cells.title]
        hint = "add a header row with the columns" + (
            f", or name the sheet that holds the table: {split_table_spec(label)[0]}#SHEET "
            f"(the workbook also has {', '.join(repr(n) for n in others)})"
            if others
            else ""
        )
        return None, [Problem(label, f"the sheet {cells.title!r} is empty", hint)]
    if frame.empty:
        return pd.DataFrame(), []
    rows = frame.iloc[: HEADER_SEARCH_ROWS + 1].to_numpy().tolist()
    if not skip_rows and (pushed := header_pushed_down(rows, required, label)) is not None:
        return None, [pushed]
    missing = [name for name in required if name not in {column_name(c) for c in rows[0]}]
    if (
        sheet is None
        and missing
        and (elsewhere := _other_sheet_with(path, required, missing, label)) is not None
    ):
        return None, [elsewhere]
    # The header row is read as data: pandas would rename a repeated name (``x``, ``x.1``).
    header = frame.iloc[0].tolist()
    frame = frame.iloc[1:].reset_index(drop=True)
    # A nameless column that holds something is kept under pandas' name, as from a CSV;
    # empty ones are only formatting.
    keep = [bool(name) or bool((frame[i] != "").any()) for i, name in enumerate(header)]
    frame.columns = [name or f"Unnamed: {i}" for i, name in enumerate(header)]
    found = _hidden_values(cells, header, label, skip_rows) + _hidden_rows(cells, label, skip_rows)
    return frame.loc[:, keep], passed + found


def _hidden_rows(cells: SheetCells, label: str, skip_rows: int) -> list[Problem]:
    """A warning naming the table's rows hidden in Excel (hidden, or filtered out): they are
    read like the others, though the planner does not see them."""
    rows = [r - skip_rows for r in cells.hidden_rows if r > skip_rows + 1]
    if not rows:
        return []
    return [
        Problem(
            label,
            f"{len(rows)} row(s) hidden in Excel (hidden, or filtered out) are read like the "
            f"others: rows {_ranges(rows)}",
            "show them (Unhide, or clear the filter) and check them; delete the rows the plan "
            "should not have",
            severity=Severity.WARNING,
        )
    ]


def _hidden_values(
    cells: SheetCells, header: list[str], label: str, skip_rows: int = 0
) -> list[Problem]:
    """Merged ranges and formulas without a saved result: values the table would lose. Rows
    count from the header (row 1), as every other problem's; what lies above it is ignored."""

    def column(number: int) -> str | None:
        return column_name(header[number - 1]) or None if number <= len(header) else None

    problems = []
    for merged in cells.merged:
        if merged.row <= skip_rows:
            continue  # a title merged across the columns
        if merged.row == skip_rows + 1:
            problems.append(
                Problem(
                    label,
                    f"the column names in {merged.ref} are merged into one cell",
                    "unmerge them and give each column its own name in the header row",
                    row=1,
                    column=column(merged.column),
                )
            )
        else:
            problems.append(
                Problem(
                    label,
                    f"the cells {merged.ref} are merged: a merged cell holds its value in its "
                    "first cell only, so the other rows would read as blank",
                    "unmerge them and fill the value into every row",
                    row=merged.row - skip_rows,
                    column=column(merged.column),
                )
            )
    formulas = [(row, n, f) for row, n, f in cells.unsaved_formulas if row > skip_rows]
    for row, number, formula in formulas[:MAX_FORMULA_PROBLEMS]:
        problems.append(
            Problem(
                label,
                f"the formula {formula} has no saved result (the workbook was written by a "
                "program and never saved by a spreadsheet)",
                "open the workbook in Excel or LibreOffice and save it, so every result is stored",
                row=row - skip_rows,
                column=column(number),
            )
        )
    if len(formulas) > MAX_FORMULA_PROBLEMS:
        more = len(formulas) - MAX_FORMULA_PROBLEMS
        problems.append(
            Problem(label, f"{FOLD_MARK}{more} more formulas without a saved result", "save it")
        )
    return problems


OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # the container Excel wraps an encrypted .xlsx in
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream holding it


def is_encrypted_workbook(path: Path) -> bool:
    """Whether ``path`` is an .xlsx file Excel encrypted with a password: an OLE container
    (as an old .xls is too) holding an EncryptedPackage stream."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return data.startswith(OLE_MAGIC) and ENCRYPTED_PACKAGE in data


def read_table(
    root: Path,
    spec: str,
    label: str | None = None,
    required: Sequence[str] = (),
    known: Collection[str] | None = None,
    skip_rows: int = 0,
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one table of a scenario as text cells with normalised column names (only the
    ``known`` ones, where given).

    Returns the frame (or None when it cannot be read) and the problems met. ``required``
    column names found in a row below the first one (under a title) make it unreadable; read
    again with ``skip_rows`` rows dropped above the names, problems count rows from them.
    """
    file, sheet = split_table_spec(spec)
    label = label or file
    path = resolve_inside(root, file)
    if path is None:
        return None, [
            Problem(
                label, "the path leaves the scenario folder", "keep every table inside the folder"
            )
        ]
    if path.is_dir():
        return None, [
            Problem(label, "is a folder, not a file", f"name a file in [tables], not {file}")
        ]
    if not path.is_file():
        hint = f"put the file at {file} or fix [tables]"
        if (other := _other_case(root.resolve(), path)) is not None:
            hint = f"did you mean {other}? File names differ in case here: write it as it is"
        return None, [Problem(label, "file not found", hint)]
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        frame, problems = _read_xlsx(path, sheet, label, required, skip_rows)
    elif suffix in (".csv", ".txt", ""):
        frame, problems = _read_csv(path, label, required, skip_rows)
    elif suffix in OTHER_WORKBOOK_SUFFIXES:
        return None, [
            Problem(
                label,
                f"unsupported file type {suffix!r}",
                "open it in Excel or LibreOffice and save it as .xlsx (Excel Workbook)",
            )
        ]
    else:
        return None, [Problem(label, f"unsupported file type {suffix!r}", "use .csv or .xlsx")]
    if frame is None:
        return None, problems
    frame = normalise_columns(frame, known)
    duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    problems += [
        Problem(label, "the column appears twice", "keep one of them", row=1, column=c)
        for c in duplicated
    ]
    frame = frame.loc[:, ~frame.columns.duplicated()]
    blank_rows = (
        frame.apply(_blank_cells).all(axis=1) if len(frame) and len(frame.columns) else None
    )
    if blank_rows is not None and blank_rows.any():
        # Trailing blank rows (or a tail of NUL padding) are common; keep row numbers intact.
        last = int((~blank_rows).to_numpy().nonzero()[0].max()) + 1 if (~blank_rows).any() else 0
        frame = frame.iloc[:last]
    frame, totals = _without_totals_rows(frame.reset_index(drop=True), label)
    dropped = {p.row for p in totals}
    return frame, [p for p in problems if p.row is None or p.row not in dropped] + totals


def _blank_cells(column: pd.Series) -> pd.Series:
    """Cells holding nothing but spaces and invisible characters."""
    if INVISIBLE.search(column.str.cat()):
        column = column.str.replace(INVISIBLE, "", regex=True)
    return column.str.strip().eq("")


def _without_totals_rows(frame: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """The last rows of a table that are a spreadsheet's totals (``Total`` or 合計 as the row's
    own id, or anywhere in a row whose id is blank), as errors, and the table without them
    (their cells would only add errors)."""
    own = next((c for c in ("customer_id", "manager_id") if c in frame.columns), None)
    if own is None or frame.empty:
        return frame, []
    totals = {}
    for i in frame.index[-TOTALS_SEARCH_ROWS:]:
        row = frame.loc[i]
        columns = [own] if str(row[own]).strip() else list(frame.columns)
        named = [(c, row[c]) for c in columns if _is_total(row[c])]
        if named:
            totals[int(i)] = named[0]
    problems = [
        Problem(
            label,
            f"this looks like a totals row ({value!r} in {column}), not a row of the table",
            "delete the row: the tool adds up what it needs",
            row=i + 2,
            column=str(column),
        )
        for i, (column, value) in sorted(totals.items())
    ]
    return frame.drop(index=list(totals)), problems


def _is_total(cell: object) -> bool:
    return str(cell).strip().rstrip(":：").strip().casefold() in TOTAL_WORDS
