"""The CJK font choice: names only where they can be drawn, never a missing-glyph warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from portfolio_opt.report.plots import fonts, plot_load

from ..builders import TEST_FONT_FAMILY, cjk_test_font, portfolios_frame

NAMES = {"M01": "田鵬斌", "M02": "José Wong", "M03": "蘇勇英", "M04": "", "M05": "田", "M06": "斌"}


def _draw_and_save(tmp_path: Path) -> tuple[list[str], list[warnings.WarningMessage]]:
    figure = Figure(figsize=(8, 4))
    ax = plot_load(portfolios_frame(), (8, 12), figure.subplots(), names=NAMES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.savefig(tmp_path / "load.png")
    return [t.get_text() for t in ax.get_xticklabels()], caught


def test_font_given_by_the_environment_is_chosen(test_cjk_font: Path) -> None:
    font = fonts.find_cjk_font()
    assert font is not None
    assert font.family == TEST_FONT_FAMILY and font.path == str(test_cjk_font)
    assert font.draws("田鵬斌 M01") and not font.draws("蘇勇英")


def test_a_font_lacking_common_chinese_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partial = cjk_test_font(tmp_path / "partial.ttf", "田鵬斌", with_sample=False)
    monkeypatch.setenv(fonts.ENV_VAR, str(partial))
    fonts.find_cjk_font.cache_clear()
    try:
        found = fonts.find_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()
    assert found is None or found.path != str(partial)


def test_a_given_font_that_draws_no_chinese_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_cjk_font: Path
) -> None:
    partial = cjk_test_font(tmp_path / "partial.ttf", "田鵬斌", with_sample=False)
    for given, said in (
        (
            tmp_path / "no such font.ttf",
            "names no font file (.ttf, .otf, .ttc, .otc) nor a folder of them",
        ),
        (partial, "names no font that draws Chinese"),
    ):
        monkeypatch.setenv(fonts.ENV_VAR, str(given))
        assert fonts.given_font_problem() == (
            f"{fonts.ENV_VAR}={given} {said}: the plots label managers with their ids"
        )
    monkeypatch.setenv(fonts.ENV_VAR, str(test_cjk_font))
    assert fonts.given_font_problem() is None


def test_names_drawn_where_the_font_covers_them(tmp_path: Path, test_cjk_font: Path) -> None:
    labels, caught = _draw_and_save(tmp_path)
    # type order M01, M03, M02, M04, M05, M06; 蘇勇英 has glyphs the test font lacks
    assert labels == ["M01\n田鵬斌", "M03", "M02\nJosé Wong", "M04", "M05\n田", "M06\n斌"]
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_ids_only_without_a_cjk_font(tmp_path: Path, no_cjk_font: None) -> None:
    labels, caught = _draw_and_save(tmp_path)
    assert labels == ["M01", "M03", "M02\nJosé Wong", "M04", "M05", "M06"]
    assert not [w for w in caught if "missing from font" in str(w.message)]
