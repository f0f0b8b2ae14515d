"""``run_solve``: solve, check, pay and write, on the small branch of ``data/small_branch``."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from portfolio_opt.model.solve import SolveParams
from portfolio_opt.pipeline import (
    EXIT_INFEASIBLE,
    EXIT_OK,
    OutputFolderError,
    run_solve,
)
from portfolio_opt.plan import check_plan
from portfolio_opt.plan.io import plan_digest
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import load_scenario

from .helpers import standard_customers, write_scenario_folder

SMALL_BRANCH = Path(__file__).parent / "data" / "small_branch"
PARAMS = SolveParams(time_limit_s=2, workers=1, seed=0, deterministic=True)


@pytest.fixture
def branch(tmp_path: Path) -> Scenario:
    """A copy of the small branch (16 customers, 4 available managers), loaded."""
    return load_scenario(shutil.copytree(SMALL_BRANCH, tmp_path / "small_branch"))


def test_outcome_holds_a_checked_plan_its_tables_and_kpis(branch: Scenario) -> None:
    outcome = run_solve(branch, None, PARAMS)

    assert outcome.exit_code == EXIT_OK
    assert outcome.violations == []
    plan = outcome.tables["assignment"]
    assert check_plan(branch, plan) == []
    assert outcome.kpis["hard_rule_violations"] == 0
    assert outcome.kpis["n_customers"] == 16
    assert outcome.kpis["n_managers"] == 4  # MX is leaving
    portfolios = outcome.tables["portfolios"].set_index("manager_id")
    assert portfolios["n_customers"].to_dict() == plan["manager_id"].value_counts().to_dict()
    assert set(outcome.tables["payout"]["manager_id"]) >= set(plan["manager_id"])


def test_the_rules_of_the_small_branch_all_bind(branch: Scenario) -> None:
    plan = run_solve(branch, None, PARAMS).tables["assignment"].set_index("customer_id")
    manager = plan["manager_id"]

    assert set(manager[["P01", "P02", "P03"]]) == {"A1"}  # designated premium manager
    assert set(manager[["L01", "L02"]]) == {"L1"}  # dedicated separate-ledger manager
    assert manager["S01"] == manager["S02"]  # group G1, split last year
    assert manager["S04"] == manager["S05"]  # group link
    assert manager["S03"] == "M2"  # pinned away from its prior manager M1
    assert manager["S08"] != "M1"  # 7 years with M1, rotation after 6
    assert "MX" not in set(manager)
    forced = ["P03", "L02", "S03", "S04", "S08"]
    assert plan.loc[forced, "moved"].all()


def test_written_folder_matches_the_outcome(branch: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "run"

    outcome = run_solve(branch, out, PARAMS)

    assert {p.name for p in out.iterdir()} >= {
        "assignment.csv",
        "portfolios.csv",
        "payout.csv",
        "kpis.json",
        "manifest.json",
    }
    written = pd.read_csv(out / "assignment.csv", dtype=str)
    expected = outcome.tables["assignment"].astype(str)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    assert json.loads((out / "kpis.json").read_text(encoding="utf-8"))["status"] == (
        outcome.result.status.value
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["inputs_sha256"].items():
        path = branch.files.get(name, branch.root / name)  # tables by name, then the policy
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    # compare tells an edited plan by it: who holds whom, however a spreadsheet re-saves it
    assert manifest["plan_sha256"] == plan_digest(written)
    resaved = written[list(reversed(written.columns))].iloc[::-1]
    assert plan_digest(resaved) == plan_digest(written)
    moved = written.copy()
    moved.loc[0, "manager_id"] = moved.loc[1, "manager_id"] + "x"
    assert plan_digest(moved) != plan_digest(written)
    assert manifest["solver"]["seed"] == 0 and manifest["solver"]["workers"] == 1
    # The resolved policy records the solver settings the solve ran with, not the file's.
    ran = {k: manifest["solver"][k] for k in ("time_limit_s", "workers", "seed", "deterministic")}
    assert manifest["policy"]["solver"] == ran


def test_a_collision_returns_exit_3_and_writes_nothing(tmp_path: Path) -> None:
    folder = write_scenario_folder(
        tmp_path / "branch",
        [*standard_customers(6, group_id="G1"), *standard_customers(6, start=6)],
        [{"manager_id": f"M{i}", "grade": "B"} for i in range(3)],
        policy={"span": {"tolerance": 0}},
    )
    out = tmp_path / "run"

    outcome = run_solve(load_scenario(folder), out, PARAMS)

    assert outcome.exit_code == EXIT_INFEASIBLE
    assert any("group G1 of 6" in reason for reason in outcome.result.explanation)
    assert outcome.tables == {} and not out.exists()


@pytest.mark.parametrize(
    "where",
    [
        "root",  # the scenario folder itself
        "parent",  # a folder holding the scenario
    ],
)
def test_an_output_folder_holding_the_scenario_is_refused(branch: Scenario, where: str) -> None:
    out = branch.root if where == "root" else branch.root.parent
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    with pytest.raises(OutputFolderError, match="holds the scenario"):
        run_solve(branch, out, PARAMS)

    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_a_folder_of_someone_elses_files_is_refused(branch: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "minutes.docx").write_text("branch meeting", encoding="utf-8")

    with pytest.raises(OutputFolderError, match="not an output folder"):
        run_solve(branch, out, PARAMS)

    assert [p.name for p in out.iterdir()] == ["minutes.docx"]


def test_solving_again_replaces_the_last_run_but_not_the_planners_files(
    branch: Scenario, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    run_solve(branch, out, PARAMS)
    run_solve(branch, out, PARAMS)  # its own earlier outputs are replaced
    edited = out / "assignment_edited.csv"
    edited.write_text("customer_id,manager_id\n", encoding="utf-8")

    with pytest.raises(OutputFolderError, match=r"did not write \(assignment_edited.csv\)"):
        run_solve(branch, out, PARAMS)

    assert edited.read_text(encoding="utf-8") == "customer_id,manager_id\n"


def test_the_search_leaves_the_time_limit_room_for_starting_and_writing() -> None:
    """--time-limit 20 is the whole command: the search gets what starting, loading and
    writing the plan leave, at least half; a deterministic run the whole limit, as its plan
    must not depend on the clock."""
    from portfolio_opt.model.settings import search_seconds

    quick = SolveParams(time_limit_s=20, workers=2, seed=0, deterministic=False)
    assert search_seconds(quick, 3000, spent_s=2.0) == pytest.approx(20 - 2 - 1.8 - 0.6)
    assert search_seconds(quick, 3000, spent_s=15.0) == 10.0
    same = SolveParams(time_limit_s=20, workers=2, seed=0, deterministic=True)
    assert search_seconds(same, 3000, spent_s=2.0) == 20.0


def test_run_solve_gives_the_search_what_is_left_of_the_limit(
    branch: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portfolio_opt.pipeline as pipeline

    asked: list[float] = []

    def solve(scenario: Scenario, **given: float) -> None:
        asked.append(given["time_limit_s"])
        raise LookupError  # the budget is all this test needs

    monkeypatch.setattr(pipeline, "solve", solve)
    params = SolveParams(time_limit_s=10, workers=1, seed=0, deterministic=False)
    with pytest.raises(LookupError):
        run_solve(branch, None, params, spent_s=1.0)
    assert asked == [pytest.approx(10 - 1.0 - 1.8 - 0.0002 * len(branch.customers))]
