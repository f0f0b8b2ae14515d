"""A font that draws Chinese names, or none: then the plots show manager ids only.

Matplotlib's default font has no CJK glyphs, and drawing such text floods the log with
missing-glyph warnings. The plots therefore look for a CJK-capable font once, and show a name
only when every character of it can be drawn. Where fonts are looked for, in this order:

1. ``PORTFOLIO_OPT_FONT``: a font file, or a folder of them (e.g. a bank's licensed font);
2. ``portfolio_opt/data/fonts/``: fonts shipped with the package, if any;
3. the fonts matplotlib knows: the system's, preferring the well-known CJK families of
   Windows, macOS and Linux, then any other large font that covers the sample text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from matplotlib import font_manager, ft2font

ENV_VAR = "PORTFOLIO_OPT_FONT"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
# Traditional and simplified forms: a font must cover both to be chosen.
SAMPLE = "客戶經理客户经理銀行银行有限公司貿易贸易"
PREFERRED = (
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK HK",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans TC",
    "Source Han Sans CN",
    "Source Han Sans TW",
    "Microsoft YaHei",
    "Microsoft JhengHei",
    "PingFang SC",
    "PingFang TC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Heiti TC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Sarasa Gothic SC",
    "SimHei",
    "Noto Sans SC",
    "Noto Sans TC",
    "Droid Sans Fallback",
    "AR PL UMing TW",
    "AR PL UKai CN",
)
# CJK fonts hold tens of thousands of glyphs; smaller files are not worth opening.
MIN_GENERIC_BYTES = 2_000_000


@dataclass(frozen=True)
class CjkFont:
    """A font that draws Chinese text, and the characters it (and the default font) can draw."""

    family: str
    path: str
    codepoints: frozenset[int]

    def draws(self, text: str) -> bool:
        """Whether every character of ``text`` can be drawn, with the default font as fallback."""
        return all(ord(ch) in self.codepoints for ch in text if not ch.isspace())

    @property
    def families(self) -> list[str]:
        """A font-family list for matplotlib: the usual font first, this one for what it lacks."""
        return ["sans-serif", self.family]


def _charmap(path: str, index: int = 0) -> set[int]:
    try:
        return set(ft2font.FT2Font(path, face_index=index).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return set()


@cache
def default_codepoints() -> frozenset[int]:
    """Characters the default sans-serif font draws (Latin, digits, punctuation and more)."""
    path = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    return frozenset(_charmap(path) | {ord(" "), ord("\n")})


def _covers(codepoints: set[int]) -> bool:
    return all(ord(ch) in codepoints for ch in SAMPLE)


def _register(path: Path) -> CjkFont | None:
    codepoints = _charmap(str(path))
    if not _covers(codepoints):
        return None
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    return CjkFont(family, str(path), frozenset(codepoints) | default_codepoints())


def _files(location: Path) -> list[Path]:
    if location.is_file():
        return [location]
    if location.is_dir():
        return sorted(p for p in location.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    return []


def _given_fonts() -> list[Path]:
    given = os.environ.get(ENV_VAR, "").strip()
    shipped = Path(__file__).resolve().parents[2] / "data" / "fonts"
    return [*(_files(Path(given)) if given else []), *_files(shipped)]


def given_font_problem() -> str | None:
    """What is wrong with the font ``PORTFOLIO_OPT_FONT`` names, where it names one that draws
    no Chinese (a typo in the path, a Latin font): the plots then show manager ids."""
    given = os.environ.get(ENV_VAR, "").strip()
    if not given:
        return None
    files = _files(Path(given))
    if not files:
        problem = "names no font file (.ttf, .otf, .ttc, .otc) nor a folder of them"
    elif not any(_covers(_charmap(str(path))) for path in files):
        problem = "names no font that draws Chinese"
    else:
        return None
    return f"{ENV_VAR}={given} {problem}: the plots label managers with their ids"


def _known_font(entries: list[font_manager.FontEntry]) -> CjkFont | None:
    by_name: dict[str, list[font_manager.FontEntry]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, []).append(entry)
    preferred = [e for name in PREFERRED for e in by_name.get(name, [])]
    others = [
        e
        for e in entries
        if e.name not in PREFERRED
        and os.path.isfile(e.fname)
        and os.path.getsize(e.fname) >= MIN_GENERIC_BYTES
    ]
    for entry in [*preferred, *others]:
        codepoints = _charmap(entry.fname, getattr(entry, "index", 0))
        if _covers(codepoints):
            return CjkFont(entry.name, entry.fname, frozenset(codepoints) | default_codepoints())
    return None


@cache
def find_cjk_font() -> CjkFont | None:
    """The CJK-capable font the plots use, or ``None`` when the machine has none.

    Looked up once per process; ``find_cjk_font.cache_clear()`` looks again.
    """
    for path in _given_fonts():
        found = _register(path)
        if found is not None:
            return found
    return _known_font(list(font_manager.fontManager.ttflist))


def label_or(text: str, fallback: str) -> tuple[str, dict[str, object]]:
    """``text`` and the font keywords that draw it (the CJK font where it needs one); else
    ``fallback`` (ASCII), where no font here draws ``text``: boxes would hide which plan is
    which."""
    if text.isascii():
        return text, {}
    font = find_cjk_font()
    if font is not None and font.draws(text):
        return text, {"fontfamily": font.families}
    known = default_codepoints()
    if all(ord(ch) in known for ch in text if not ch.isspace()):
        return text, {}
    return fallback, {}
