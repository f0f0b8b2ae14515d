"""The tables over many solves: the sweep's variants, the branches and the bank."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from portfolio_opt.parallel.commands import many_exit_code
from portfolio_opt.parallel.consolidate import (
    BANK,
    BranchError,
    bank_row,
    branch_table,
    find_branches,
    remove_leftovers,
    sweep_table,
)
from portfolio_opt.parallel.tasks import TaskSummary
from portfolio_opt.parallel.variants import Variant


def _solved(key: str, customers: int, managers: int, gini: float, target: float) -> TaskSummary:
    """A summary as a worker returns it for a written plan (only the KPIs used here)."""
    kpis = {
        "status": "feasible",
        "n_customers": customers,
        "n_managers": managers,
        "span": {"min": customers // managers - 1, "max": customers // managers + 2},
        "balance": {
            "target_gini": gini,
            "target_cv": 2 * gini,
            "max_over_min": 1 + gini,
            "max_deviation": gini / 2,
        },
        "chain": {"links": 10.0, "cut": 4.0, "cut_share": 0.4},
        "moves": {"count": 3, "value": 100.0},
        "industries_per_portfolio": {"mean": 2.0},
    }
    totals = {"target": target, "pay.total_performance_pay": target / 100}
    return TaskSummary(key, f"/x/{key}", "feasible", 0, 5.0, kpis, totals)


def _failed(key: str, code: int = 3) -> TaskSummary:
    status = {1: "bad input", 3: "infeasible", 4: "no plan"}[code]
    return TaskSummary(key, f"/x/{key}", status, code, 0.5, errors=("too few A managers",))


def test_a_swept_bound_and_the_deviation_reached_are_two_columns() -> None:
    """Sweeping balance.max_deviation: the bound each variant set, and the largest deviation
    its plan reached (the KPI of the same name)."""
    variants = [
        Variant(1, (("balance.max_deviation", 0.02),)),
        Variant(2, (("span.tolerance", 1),)),
    ]
    table = sweep_table(variants, [_solved("a", 60, 6, 0.03, 1e6), _solved("b", 60, 6, 0.1, 1e6)])
    assert table.loc[0, "policy.balance.max_deviation"] == 0.02
    assert list(table["balance.max_deviation"]) == [0.015, 0.05]


def test_the_sweep_table_has_a_row_per_variant_failed_or_not() -> None:
    variants = [
        Variant(1, (("span.tolerance", 1),), ()),
        Variant(2, (("span.tolerance", 1),), ("M4",)),
    ]
    table = sweep_table(variants, [_solved("a", 60, 6, 0.1, 1e6), _failed("b")])
    assert list(table["variant"]) == [
        "span.tolerance=1 all managers",
        "span.tolerance=1 without M4",
    ]
    assert list(table["span.tolerance"]) == [1, 1]
    assert list(table["managers_dropped"]) == [0, 1] and table.loc[1, "dropped_ids"] == "M4"
    assert list(table["status"]) == ["feasible", "infeasible"]
    assert table.loc[0, "folder"] == "variants/01_tolerance=1" and table.loc[1, "folder"] == ""
    assert table.loc[0, "balance.target_gini"] == 0.1 and table.loc[0, "target"] == 1e6
    assert table.loc[1, "error"] == "too few A managers"
    assert table["n_customers"].isna().tolist() == [False, True]  # blank, not 0 or 60.0
    assert str(table["n_customers"].dtype) == "Int64"


def test_the_bank_adds_up_its_branches_and_weights_ratios_by_managers() -> None:
    summaries = [
        _solved("north", 60, 6, 0.10, 1_000_000.0),
        _solved("south", 40, 4, 0.20, 500_000.0),
        _failed("west"),
    ]
    table = branch_table(["north", "south", "west"], summaries)
    bank = bank_row(table)
    assert bank["branch"] == BANK and bank["status"] == "2 of 3 branches solved"
    assert bank["exit_code"] == 3  # the failed branch's
    assert bank["n_customers"] == 100 and bank["n_managers"] == 10
    assert bank["target"] == 1_500_000.0 and bank["pay.total_performance_pay"] == 15_000.0
    assert bank["balance.target_gini"] == pytest.approx((0.10 * 6 + 0.20 * 4) / 10)
    assert bank["span.ideal"] == 10.0
    assert bank["span.min"] == 9 and bank["span.max"] == 12
    assert bank["balance.max_over_min"] == pytest.approx(1.2)
    assert bank["chain.cut_share"] == pytest.approx(8 / 20)
    assert bank["moves.count"] == 6 and bank["seconds"] == 10.0  # of the branches solved


def test_the_bank_row_has_the_commands_exit_code_the_most_severe_failures() -> None:
    summaries = [_solved("north", 60, 6, 0.1, 1e6), _failed("west", 3), _failed("east", 1)]
    table = branch_table(["north", "west", "east"], summaries)
    assert bank_row(table)["exit_code"] == many_exit_code(summaries) == 1


def test_a_bank_of_failed_branches_has_no_totals() -> None:
    bank = bank_row(branch_table(["west"], [_failed("west")]))
    assert bank["status"] == "0 of 1 branches solved"
    assert bank["n_customers"] is None or math.isnan(bank["n_customers"])


def _scenario(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text("", encoding="utf-8")
    return folder


def test_branches_are_scenario_folders_or_folders_of_them(tmp_path: Path) -> None:
    north = _scenario(tmp_path / "bank" / "north")
    south = _scenario(tmp_path / "bank" / "south")
    (tmp_path / "bank" / "notes").mkdir()  # not a scenario: skipped inside a folder
    east = _scenario(tmp_path / "east")
    found = find_branches([tmp_path / "bank", east, north])  # north twice: once
    assert found == [north, south, east]
    assert find_branches([east / "scenario.toml"]) == [east]
    with pytest.raises(BranchError, match="no such scenario folder"):
        find_branches([tmp_path / "missing"])
    with pytest.raises(BranchError, match="no scenario folder"):
        find_branches([tmp_path / "bank" / "notes"])


def test_half_written_folders_of_lost_workers_are_removed(tmp_path: Path) -> None:
    (tmp_path / "01_a").mkdir()
    (tmp_path / ".01_a.x1y2.tmp").mkdir()
    (tmp_path / ".02_b.old-123").mkdir()
    remove_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_a"]
