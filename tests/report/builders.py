"""Small inputs for the report tests, built in code."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

from portfolio_opt.report.plots.fonts import SAMPLE

TEST_FONT_FAMILY = "Portfolio Test CJK"


def cjk_test_font(path: Path, text: str, with_sample: bool = True) -> Path:
    """A TrueType font whose glyphs (plain boxes) cover ``text`` and SAMPLE, and nothing else.

    Stands in for a real CJK font, which a fresh machine does not have.
    """
    chars = sorted({ch for ch in (SAMPLE if with_sample else "") + text if not ch.isspace()})
    names = [".notdef", *(f"uni{ord(ch):04X}" for ch in chars)]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(ch): f"uni{ord(ch):04X}" for ch in chars})
    pen = TTGlyphPen(None)
    for x, y in ((100, 0), (100, 800), (900, 800), (900, 0)):
        (pen.moveTo if (x, y) == (100, 0) else pen.lineTo)((x, y))
    pen.closePath()
    box = pen.glyph()
    builder.setupGlyf({name: box for name in names})
    builder.setupHorizontalMetrics({name: (1000, 100) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": TEST_FONT_FAMILY, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


def portfolios_frame() -> pd.DataFrame:
    """Six portfolios: two premium, three standard, one separate-ledger (ids out of order)."""
    return pd.DataFrame(
        {
            "manager_id": ["M06", "M02", "M01", "M04", "M03", "M05"],
            "grade": ["B", "A", "A", "C", "A", "B"],
            "portfolio_type": [
                "separate_ledger",
                "standard",
                "premium",
                "standard",
                "premium",
                "standard",
            ],
            "n_customers": [4, 11, 9, 10, 8, 12],
            "stock_target": [900.0, 3000.0, 9000.0, 3300.0, 7000.0, 2800.0],
            "increment_target": [-50.0, 200.0, 800.0, 100.0, 500.0, 250.0],
        }
    ).assign(target=lambda f: f["stock_target"] + f["increment_target"])


def payout_frame() -> pd.DataFrame:
    """Yearly rows and one quarter row for three managers."""
    rows = []
    for manager, kind, base, tiers, actual in (
        ("M01", "premium", 200.0, (50.0, 20.0, 10.0), 270.0),
        ("M02", "standard", 150.0, (30.0, 0.0, 0.0), 177.0),
        ("M03", "premium", 180.0, (40.0, 10.0, 5.0), 230.0),
    ):
        rows.append((manager, "2026", kind, base, *tiers, actual))
        rows.append((manager, "2026Q1", kind, base / 4, 1.0, 1.0, 1.0, base / 4 + 3))
    return pd.DataFrame(
        rows,
        columns=[
            "manager_id",
            "period",
            "portfolio_type",
            "base_salary",
            "target_income",
            "increment_income",
            "excess_income",
            "actual_income",
        ],
    )
