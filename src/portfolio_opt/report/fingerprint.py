"""Whether a workbook the tool wrote holds anything new: a fingerprint of what a planner sees.

A spreadsheet that opens a workbook and saves it again rewrites every byte, so a file's
SHA-256 cannot tell that from an edit. The fingerprint covers what a planner can add or change:
sheets and cell values (numbers as the file stores them, to the 15 digits a spreadsheet keeps),
the fonts, fills, borders and number formats in use, and notes or drawings. Styles are read by
meaning (bold, colours), not by how a spreadsheet spells them.
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
DEFAULT_FILLS = {("none", ""), ("gray125", "")}


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
    """The cells' fingerprint with the workbook's styles and any parts a planner added."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        styles = archive.read(STYLES_PART) if STYLES_PART in names else b""
    added = sorted(n for n in names if ADDED_PARTS.match(n))
    text = "\n".join([cells.hexdigest(), *style_palette(styles), *added])
    return hashlib.sha256(text.encode()).hexdigest()


def style_palette(styles: bytes) -> list[str]:
    """The fonts, fills, borders and number formats a styles part defines, by meaning."""
    if not styles:
        return []
    root = ElementTree.fromstring(styles)
    found: set[str] = set()
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "font":
            found.add("font " + _font(element))
        elif tag == "fill" and (fill := _fill(element)) not in DEFAULT_FILLS:
            found.add(f"fill {fill[0]} {fill[1]}")
        elif tag == "border" and (sides := _border(element)):
            found.add("border " + sides)
        elif tag == "numFmt":
            found.add("format " + element.get("formatCode", ""))
    return sorted(found)


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


def _font(font: ElementTree.Element) -> str:
    flags = [name for name in ("b", "i", "u", "strike") if _on(font, name)]
    return ",".join(flags) + " " + _colour(_child(font, "color"))


def _fill(fill: ElementTree.Element) -> tuple[str, str]:
    pattern = _child(fill, "patternFill")
    if pattern is None:  # a gradient: a planner's
        return ("gradient", ElementTree.tostring(fill, encoding="unicode"))
    return (pattern.get("patternType", "none"), _colour(_child(pattern, "fgColor")))


def _border(border: ElementTree.Element) -> str:
    sides = [
        f"{_local(side.tag)}:{side.get('style')}:{_colour(_child(side, 'color'))}"
        for side in border
        if side.get("style")
    ]
    return " ".join(sorted(sides))
