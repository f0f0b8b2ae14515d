"""Whether a workbook the tool wrote holds anything new: a fingerprint of what a planner sees.

A spreadsheet that opens a workbook and saves it again rewrites every byte, so a file's
SHA-256 cannot tell that from an edit. The fingerprint covers what a planner can add or change:
sheets and cell values (numbers as the file stores them, to the 15 digits a spreadsheet keeps),
each cell's format (number format, font, fill, border, alignment), conditional formats,
hyperlinks, drop-down lists, merged cells, rich text, notes and drawings. Formats are read by
meaning (bold, colours, size), not by how or in which order a spreadsheet writes them.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

STYLES_PART = "xl/styles.xml"
# Parts only a planner's work adds: notes, threaded comments, drawings, charts, tables, images.
ADDED_PARTS = re.compile(r"^xl/(comments|threadedComments|drawings|charts|tables|media)/?", re.I)
SHEET_PARTS = re.compile(r"^xl/(worksheets/[^/]+\.xml|sharedStrings\.xml)$", re.I)
SHEET_FEATURES = {
    "conditional formats": b"<conditionalFormatting",
    "hyperlinks": b"<hyperlink ",
    "drop-down lists": b"<dataValidation ",
    "merged cells": b"<mergeCell ",
    "rich text": b"<rPr",
}


class CellsFingerprint:
    """A SHA-256 over sheets' names and cell values, taken one row at a time (as written or as
    read)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._empty_rows = 0  # held back: a spreadsheet may drop or keep trailing empty rows

    def sheet(self, title: str) -> None:
        self._empty_rows = 0
        self._hash.update(f"\f{title}\n".encode())

    def row(self, values: list[object] | tuple[object, ...]) -> None:
        cells = [_kept_text(v) for v in values]
        while cells and not cells[-1]:  # nor does the used range end where it was written
            cells.pop()
        if not cells:
            self._empty_rows += 1
            return
        self._hash.update(b"\n" * self._empty_rows + ("\t".join(cells) + "\n").encode())
        self._empty_rows = 0

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _kept_text(value: object) -> str:
    """A cell's value as text; a number as the file stores it (16 digits: openpyxl's) and then
    to the 15 a spreadsheet keeps, so a whole number saved as 31.0, or a float's last bit, is
    no change."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int | float):
        return f"{float(f'{value:.16g}') + 0.0:.15g}"  # + 0.0: -0 is 0
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def workbook_fingerprint(path: Path) -> str | None:
    """The fingerprint of the workbook at ``path``; None where it is no readable workbook."""
    from openpyxl import load_workbook

    cells = CellsFingerprint()
    try:
        workbook = load_workbook(path, read_only=True)
        try:
            for ws in workbook.worksheets:
                cells.sheet(ws.title)
                for row in ws.iter_rows(values_only=True):
                    cells.row(row)
        finally:
            workbook.close()
        return _combined(cells, path)
    except Exception:  # any unreadable file is simply not the workbook written
        return None


# The fingerprint of each workbook written, by path, until its folder's manifest records it:
# its cells are taken as they are written, which costs no second reading.
_WRITTEN: dict[Path, str] = {}


def remember_written(path: Path, cells: CellsFingerprint) -> None:
    """Keep the fingerprint of the workbook just written at ``path`` from its ``cells``."""
    _WRITTEN[path.resolve()] = _combined(cells, path)


def written_fingerprint(path: Path) -> str | None:
    """The fingerprint of the workbook written at ``path`` (read from the file where this
    process did not write it)."""
    return _WRITTEN.pop(path.resolve(), None) or workbook_fingerprint(path)


def _combined(cells: CellsFingerprint, path: Path) -> str:
    """The cells' fingerprint with the workbook's cell formats, what its sheets hold besides
    cells, and any parts a planner added."""
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        styles = archive.read(STYLES_PART) if STYLES_PART in names else b""
        formats = cell_formats(styles)
        features, styled = [], hashlib.sha256()
        for name in names:
            if SHEET_PARTS.match(name):
                part = archive.read(name)
                features += [f"{name} {f} {n}" for f, n in _features(part).items()]
                styled.update(_styled_cells(name, part, formats))
    added = [n for n in names if ADDED_PARTS.match(n)]
    text = "\n".join(
        [cells.hexdigest(), styled.hexdigest(), *sorted(set(formats)), *features, *added]
    )
    return hashlib.sha256(text.encode()).hexdigest()


STYLED_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*? s="([0-9]+)"')


def _styled_cells(name: str, part: bytes, formats: list[str]) -> bytes:
    """Which cells of a sheet have which format (by meaning), those not in the plain one:
    a highlight or a number format given to more cells shows here."""
    plain = formats[0] if formats else ""
    entries = [
        f"{ref.decode()}={shown}"
        for ref, index in STYLED_CELL.findall(part)
        if (shown := formats[int(index)] if int(index) < len(formats) else index.decode()) != plain
    ]
    return (name + "\n" + "\n".join(entries) + "\n").encode()


def _features(part: bytes) -> dict[str, int]:
    """How often a sheet (or the shared strings) holds what a planner adds beside values:
    conditional formats, hyperlinks, drop-down lists, merged cells, rich text."""
    counts = {feature: part.count(tag) for feature, tag in SHEET_FEATURES.items()}
    return {feature: count for feature, count in counts.items() if count}


def cell_formats(styles: bytes) -> list[str]:
    """The cell formats a styles part defines, in order (cells name them by position), each
    by meaning (number format, font, fill, border, alignment, quote prefix); then the formats
    conditional rules use."""
    if not styles:
        return []
    root = ElementTree.fromstring(styles)
    section = {_local(child.tag): child for child in root}
    codes = {n.get("numFmtId", ""): n.get("formatCode", "") for n in _items(section, "numFmts")}
    fonts = _items(section, "fonts")
    default = fonts[0] if fonts else None
    parts = {
        "font": [_font(f, default) for f in fonts],
        "fill": [_fill(f) for f in _items(section, "fills")],
        "border": [_border(b) for b in _items(section, "borders")],
    }
    found = [_format(xf, codes, parts) for xf in _items(section, "cellXfs")]
    return found + sorted(
        "conditional " + ElementTree.tostring(d, encoding="unicode")
        for d in _items(section, "dxfs")
    )


def _items(section: dict[str, ElementTree.Element], name: str) -> list[ElementTree.Element]:
    return list(section[name]) if name in section else []


def _format(xf: ElementTree.Element, codes: dict[str, str], parts: dict[str, list[str]]) -> str:
    """One cell format by meaning: a spreadsheet may number them otherwise when it saves."""
    number = xf.get("numFmtId", "0")
    shown = [f"format {codes.get(number, 'builtin ' + number)}"]
    for kind in ("font", "fill", "border"):
        index = int(xf.get(f"{kind}Id", "0"))
        shown.append(f"{kind} {parts[kind][index] if index < len(parts[kind]) else index}")
    if xf.get("quotePrefix", "0") in ("1", "true"):
        shown.append("quoted")
    alignment = _child(xf, "alignment")
    if alignment is not None:
        shown.append("align " + " ".join(f"{k}={v}" for k, v in sorted(alignment.items())))
    return "cell " + "; ".join(shown)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _colour(element: ElementTree.Element | None) -> str:
    """A colour by meaning: the RGB without its alpha byte, or the theme or palette index."""
    if element is None:
        return ""
    if rgb := element.get("rgb"):
        return rgb[-6:].upper()
    for kind in ("theme", "indexed", "auto"):
        if (value := element.get(kind)) is not None:
            return f"{kind}:{value}"
    return ""


def _on(element: ElementTree.Element, name: str) -> bool:
    child = _child(element, name)
    return child is not None and child.get("val", "1").lower() not in ("0", "false", "none")


def _font(font: ElementTree.Element, default: ElementTree.Element | None) -> str:
    """A font by meaning; a size or name left out is the default font's."""
    flags = [name for name in ("b", "i", "u", "strike") if _on(font, name)]
    looks = [
        _value(font, name) or (_value(default, name) if default is not None else "")
        for name in ("sz", "name")
    ]
    return " ".join([",".join(flags), _colour(_child(font, "color")), *looks])


def _value(element: ElementTree.Element, name: str) -> str:
    child = _child(element, name)
    return "" if child is None else child.get("val", "")


def _fill(fill: ElementTree.Element) -> str:
    pattern = _child(fill, "patternFill")
    if pattern is None:  # a gradient: a planner's
        return "gradient " + ElementTree.tostring(fill, encoding="unicode")
    return f"{pattern.get('patternType', 'none')} {_colour(_child(pattern, 'fgColor'))}"


def _border(border: ElementTree.Element) -> str:
    sides = [
        f"{_local(side.tag)}:{side.get('style')}:{_colour(_child(side, 'color'))}"
        for side in border
        if side.get("style")
    ]
    return " ".join(sorted(sides))
