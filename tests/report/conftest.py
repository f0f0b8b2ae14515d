"""Fixtures of the report tests: one solved demo plan (and a tighter variant) for the session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portfolio_opt.generate import demo_scenario, write_scenario
from portfolio_opt.model.solve import SolveParams
from portfolio_opt.pipeline import EXIT_OK, SolveOutcome, run_solve
from portfolio_opt.report.plots import fonts
from portfolio_opt.report.writer import write_report_files
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import load_scenario

from .builders import cjk_test_font

TIME_LIMIT_S = 1.5


@dataclass
class Solved:
    scenario: Scenario
    outcome: SolveOutcome
    out: Path


def _solve(scenario_dir: Path, out: Path, overrides: dict[str, object] | None = None) -> Solved:
    scenario = load_scenario(scenario_dir, overrides)
    params = SolveParams(time_limit_s=TIME_LIMIT_S, workers=2, seed=0, deterministic=False)
    outcome = run_solve(scenario, out, params, extras=write_report_files)
    assert outcome.exit_code == EXIT_OK, outcome.result.explanation + outcome.violations
    return Solved(scenario, outcome, out)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo scenario (60 customers, 6 managers, C0003 named "=SUM 貿易有限公司")."""
    folder = tmp_path_factory.mktemp("scenarios") / "demo"
    write_scenario(demo_scenario(), folder)
    return folder


@pytest.fixture(scope="session")
def solved(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Solved:
    """The demo solved once, output folder written with report.xlsx and plots."""
    return _solve(demo_dir, tmp_path_factory.mktemp("runs") / "demo")


@pytest.fixture(scope="session")
def solved_tight(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Solved:
    """The demo with span tolerance 1 instead of 2, solved once."""
    return _solve(demo_dir, tmp_path_factory.mktemp("runs") / "demo-tight", {"span.tolerance": 1})


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without any font that draws Chinese."""
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)


@pytest.fixture
def test_cjk_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A CJK font given by PORTFOLIO_OPT_FONT that covers the sample and 田鵬斌 only."""
    path = cjk_test_font(tmp_path / "test-cjk.ttf", "田鵬斌")
    monkeypatch.setenv(fonts.ENV_VAR, str(path))
    fonts.find_cjk_font.cache_clear()
    yield path
    fonts.find_cjk_font.cache_clear()
