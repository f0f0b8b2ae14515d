"""GAP files: both formats read, imported as a scenario, solved to the published optimum."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from portfolio_opt.cli import main
from portfolio_opt.gap import (
    GapFormatError,
    GapSpecError,
    import_gap,
    load_gap,
    read_gap_file,
    split_spec,
)
from portfolio_opt.gap_command import import_gap as import_gap_command
from portfolio_opt.model.instance import Instance, build_instance
from portfolio_opt.model.lp_start import lp_start
from portfolio_opt.model.reduced_cost import cheapest_with, core_offer, safe_bans
from portfolio_opt.model.result import SolveStatus
from portfolio_opt.model.solve import solve
from portfolio_opt.model.structure import Structure, decide_structure
from portfolio_opt.payout import customer_targets
from portfolio_opt.plan import check_plan, compute_kpis
from portfolio_opt.scenario.loader import load_scenario

# OR-Library gap1.txt, problem 1 (c515-1): optimum 261 as a minimisation, 336 as a maximisation.
GAP1_1 = """
5 15
17 21 22 18 24 15 20 18 19 18 16 22 24 24 16
23 16 21 16 17 16 19 25 18 21 17 15 25 17 24
16 20 16 25 24 16 17 19 19 18 20 16 17 21 24
19 19 22 22 20 16 19 17 21 19 25 23 25 25 25
18 19 15 15 21 25 16 16 23 15 22 17 19 22 24
8 15 14 23 8 16 8 25 9 17 25 15 10 8 24
15 7 23 22 11 11 12 10 17 16 7 16 10 18 22
21 20 6 22 24 10 24 9 21 14 11 14 11 19 16
20 11 8 14 9 5 6 19 19 7 6 6 13 9 18
8 13 13 13 10 20 25 16 16 17 10 10 5 12 23
36 34 38 27 33
"""
# A second, hand-checkable problem: 2 agents, 3 jobs.
TINY = "2 3  1 2 3  4 5 6  1 1 1  2 2 2  2 4"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "gap"


@pytest.fixture
def orlib_file(tmp_path: Path) -> Path:
    """An OR-Library style file with two problems (gap1-1, then TINY), oddly wrapped."""
    path = tmp_path / "gapx.txt"
    numbers = " ".join(GAP1_1.split()).replace(" 36 ", "\n36\n")
    path.write_text(f"  2\n{numbers}\n{TINY.replace('  ', chr(10))}\n", encoding="ascii")
    return path


@pytest.fixture
def single_file(tmp_path: Path) -> Path:
    """A Yagiura style file: one problem, no leading count."""
    path = tmp_path / "c0203"
    path.write_text(TINY + "\n", encoding="ascii")
    return path


def test_one_problem_file_is_read_agent_major(single_file: Path) -> None:
    (problem,) = read_gap_file(single_file)
    assert (problem.n_agents, problem.n_jobs) == (2, 3)
    assert problem.cost.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert problem.resource.tolist() == [[1, 1, 1], [2, 2, 2]]
    assert problem.capacity.tolist() == [2, 4]
    assert problem.name == "c0203"
    # jobs 0, 1 to agent 0 (cost 1 + 2, resource 2 of 2), job 2 to agent 1 (cost 6, 2 of 4)
    plan = np.array([0, 0, 1])
    assert problem.objective(plan) == 9
    assert not problem.overload(plan).any()
    assert problem.overload(np.array([0, 0, 0])).tolist() == [1, 0]


def test_several_problems_file_is_read_whatever_the_line_breaks(orlib_file: Path) -> None:
    first, second = read_gap_file(orlib_file)
    assert (first.n_agents, first.n_jobs, second.n_agents, second.n_jobs) == (5, 15, 2, 3)
    assert first.capacity.tolist() == [36, 34, 38, 27, 33]
    assert first.cost[4, 14] == 24 and first.resource[0, 0] == 8
    assert (first.name, second.name) == ("gapx-1", "gapx-2")
    assert load_gap(f"{orlib_file}#2").cost.tolist() == second.cost.tolist()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("a/gap1.txt#3", (Path("a/gap1.txt"), 3)),
        ("a/gap1.txt", (Path("a/gap1.txt"), None)),
        ("odd#name", (Path("odd#name"), None)),  # a '#' not followed by a number is the name
    ],
)
def test_split_spec(spec: str, expected: tuple[Path, int | None]) -> None:
    assert split_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "holds 2 problems: pick one with gapx.txt#k (k = 1..2)"),  # #k missing
        ("#3", "#3 is not among 1..2"),
        ("#0", "#0 is not among 1..2"),
    ],
)
def test_a_problem_that_is_not_in_the_file(orlib_file: Path, spec: str, message: str) -> None:
    with pytest.raises(GapSpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_gap(f"{orlib_file}{spec}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 3 1 2 3 x", r"1 value\(s\) not a whole number \(line 1: 'x'\)"),  # not numbers
        ("2 3\n1 2.5 3\n4 x 6", r"2 value\(s\).*line 2: '2.5'; line 3: 'x'"),  # each, by line
        ("1  2 3  1 2 3  4 5 6  1 1 1  2 2 2  2", "needs 14 numbers after its header"),  # cut
        ("1  " + TINY + " 7", "1 numbers are left after the 1 problems"),  # trailing junk
        ("2 3  1 2 3  4 5 6  1 1 1  2 -2 2  2 4", "must be >= 0"),  # negative resource use
        ("", "neither an OR-Library file"),  # empty
    ],
)
def test_a_file_that_is_not_a_gap_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken"
    path.write_text(text, encoding="ascii")
    with pytest.raises(GapFormatError, match=message):
        read_gap_file(path)


def test_import_writes_a_scenario_that_loads_with_the_band_off(
    orlib_file: Path, tmp_path: Path
) -> None:
    import_gap(f"{orlib_file}#1", tmp_path / "s")
    scenario = load_scenario(tmp_path / "s")
    assert len(scenario.customers) == 15 and len(scenario.managers) == 5
    assert set(scenario.customers["customer_class"]) == {"basic"}
    assert scenario.managers["capacity"].tolist() == [36, 34, 38, 27, 33]
    affinity = scenario.affinity
    assert len(affinity) == 5 * 15
    row = affinity[(affinity["customer_id"] == "J15") & (affinity["manager_id"] == "A5")]
    assert (row["cost"].item(), row["workload"].item()) == (24, 23)
    assert scenario.policy.span.tolerance == 15  # 0 .. all customers per manager
    assert scenario.policy.objective.goals() == ["affinity"]


def test_import_for_maximisation_stores_minus_the_profit(orlib_file: Path, tmp_path: Path) -> None:
    import_gap(f"{orlib_file}#2", tmp_path / "max", maximise=True)
    scenario = load_scenario(tmp_path / "max")
    assert sorted(scenario.affinity["cost"].tolist()) == [-6, -5, -4, -3, -2, -1]
    assert "cost = -profit" in (tmp_path / "max" / "scenario.toml").read_text(encoding="utf-8")


def test_import_refuses_a_folder_with_other_files(orlib_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        import_gap(f"{orlib_file}#2", out)
    assert (out / "notes.txt").exists()
    import_gap(f"{orlib_file}#2", tmp_path / "again")
    import_gap(f"{orlib_file}#1", tmp_path / "again")  # an earlier import is replaced
    assert len(load_scenario(tmp_path / "again").customers) == 15


def test_import_refuses_a_planners_scenario_and_an_import_edited_since(
    orlib_file: Path, tmp_path: Path
) -> None:
    """Files named like an import's are not an import's: the planner's own are kept."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "customers.csv").write_text("customer_id,customer_class\nC1,key\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        import_gap(f"{orlib_file}#2", mine)
    assert (mine / "customers.csv").read_text(encoding="utf-8").startswith("customer_id,")
    edited = tmp_path / "edited"
    import_gap(f"{orlib_file}#2", edited)
    toml = edited / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "# my note\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        import_gap(f"{orlib_file}#1", edited)
    assert toml.read_text(encoding="utf-8").endswith("# my note\n")


@pytest.mark.parametrize(("maximise", "optimum"), [(False, 261), (True, 336)])
def test_gap1_1_round_trip_solves_to_the_published_optimum(
    orlib_file: Path, tmp_path: Path, maximise: bool, optimum: int
) -> None:
    import_gap(f"{orlib_file}#1", tmp_path / "s", maximise=maximise)
    scenario = load_scenario(tmp_path / "s")
    started = time.monotonic()
    result = solve(scenario, time_limit_s=10, workers=1, seed=0, deterministic=True)
    assert time.monotonic() - started < 10
    assert result.status is SolveStatus.OPTIMAL
    assert result.assignment is not None
    assert check_plan(scenario, result.assignment) == []
    cost = -optimum if maximise else optimum
    assert result.goals["affinity"] == cost
    assert compute_kpis(scenario, result.assignment)["affinity"]["cost"] == cost
    # The plan, scored on the raw file, is the optimum and within every capacity.
    problem = load_gap(f"{orlib_file}#1")
    agents = result.assignment.set_index("customer_id")["manager_id"]
    plan = np.array([int(agents[f"J{j + 1:02d}"][1:]) - 1 for j in range(15)])
    assert problem.objective(plan) == optimum
    assert not problem.overload(plan).any()


def test_command_writes_the_scenario_and_reports_usage_errors(
    orlib_file: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    done = runner.invoke(import_gap_command, [f"{orlib_file}#2", str(tmp_path / "s"), "--maximise"])
    assert done.exit_code == 0, done.output
    assert "3 customers (jobs), 2 managers (agents), maximise profit" in done.output
    assert (tmp_path / "s" / "affinity.csv").exists()
    which = runner.invoke(import_gap_command, [str(orlib_file), str(tmp_path / "t")])
    assert which.exit_code == 2 and "pick one with gapx.txt#k" in which.output
    missing = runner.invoke(import_gap_command, [str(tmp_path / "nope.txt"), str(tmp_path / "u")])
    assert missing.exit_code == 1 and "nope.txt: file not found" in missing.output  # bad input
    broken = tmp_path / "broken.txt"
    broken.write_text("3 1 x", encoding="ascii")
    bad = runner.invoke(import_gap_command, [str(broken), str(tmp_path / "v")])
    assert bad.exit_code == 1 and "not a whole number (line 1: 'x')" in bad.output
    assert not (tmp_path / "t").exists() and not (tmp_path / "v").exists()


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared GAP benchmark folder is not here")
@pytest.mark.parametrize(
    ("spec", "certificate", "best"),
    [
        ("orlib/gap1.txt#1", "cattrysse1994/gap1-0_solution.txt", 261),
        ("orlib/gap12.txt#5", "cattrysse1994/gap12-4_solution.txt", 945),
        ("orlib/gapd.txt#6", "chu1997/d20200_solution.txt", 12238),
        ("yagiura/c05100", "chu1997/c05100_solution.txt", 1931),
        ("yagiura/e801600", "yagiura2004/e801600_solution.txt", 176820),
    ],
)
def test_published_certificates_score_their_published_value(
    spec: str, certificate: str, best: int
) -> None:
    problem = load_gap(str(SHARED / spec))
    plan = np.array(
        (SHARED / "best_solutions" / certificate).read_text(encoding="ascii").split(), dtype=int
    )
    assert len(plan) == problem.n_jobs
    assert problem.objective(plan) == best
    assert not problem.overload(plan).any()


def test_import_gap_then_solve_on_the_command_line(orlib_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    scenario, out = tmp_path / "gap1-1", tmp_path / "out"
    done = runner.invoke(main, ["import-gap", f"{orlib_file}#1", str(scenario)])
    assert done.exit_code == 0, done.output
    solved = runner.invoke(
        main, ["solve", str(scenario), "--out", str(out), "--time-limit", "10", "--workers", "1"]
    )
    assert solved.exit_code == 0, solved.output
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["status"] == "optimal"
    assert kpis["affinity"] == {"cost": 261.0}
    assert 0 < kpis["workload"]["max_utilisation"] <= 1.0
    assert kpis["hard_rule_violations"] == 0


# 3 agents, 6 jobs, tight capacities: small enough to enumerate all 729 plans.
SMALL = """3 6
 9 4 7 3 8 6
 5 8 3 9 4 7
 7 6 9 5 6 3
 4 3 5 4 6 3
 5 4 3 5 3 4
 3 5 4 3 4 5
 10 9 9
"""


def _compiled(text: str, tmp_path: Path) -> tuple[Instance, Structure]:
    source = tmp_path / "small"
    source.write_text(text, encoding="ascii")
    import_gap(str(source), tmp_path / "scenario")
    scenario = load_scenario(tmp_path / "scenario")
    instance = build_instance(
        scenario, customer_targets(scenario.customers, scenario.policy)["target"]
    )
    structure = decide_structure(instance, 10, False, exclude=[], deterministic=True)
    assert isinstance(structure, Structure)
    return instance, structure


def _feasible_plans(instance: Instance) -> list[tuple[np.ndarray, int]]:
    """Every plan within the capacities, with its cost (blocks and managers of the instance)."""
    cost, work, capacity = instance.affinity_cost, instance.workload, instance.capacity
    assert cost is not None and work is not None and capacity is not None
    rows = np.arange(instance.n_blocks)
    plans = []
    for plan in itertools.product(range(instance.n_managers), repeat=instance.n_blocks):
        assign = np.array(plan)
        used = np.bincount(assign, weights=work[rows, assign], minlength=instance.n_managers)
        if (used <= capacity).all():
            plans.append((assign, int(cost[rows, assign].sum())))
    return plans


def test_reduced_costs_bound_every_plan_and_bans_keep_every_plan_as_good(tmp_path: Path) -> None:
    instance, structure = _compiled(SMALL, tmp_path)
    relaxed = lp_start(instance, structure, 10)
    assert relaxed is not None
    plans = _feasible_plans(instance)
    best = min(c for _, c in plans)
    assert relaxed.bound <= best + 1e-6
    least = cheapest_with(relaxed)
    rows = np.arange(instance.n_blocks)
    for assign, cost in plans:  # no plan costs less than its pairs' reduced costs promise
        assert (least[rows, assign] <= cost + 1e-6).all()
    for upper in sorted({c for _, c in plans})[:4]:
        banned = safe_bans(relaxed, upper)
        for assign, cost in plans:
            if cost <= upper:
                assert all(int(m) not in banned.get(b, set()) for b, m in enumerate(assign))
    assert sum(map(len, safe_bans(relaxed, best).values())) > 0  # the optimum prunes pairs


def test_core_offers_the_plan_and_the_cheapest_pairs(tmp_path: Path) -> None:
    instance, structure = _compiled(SMALL, tmp_path)
    relaxed = lp_start(instance, structure, 10)
    assert relaxed is not None
    assign = np.array([2, 2, 2, 0, 0, 1])
    offer = core_offer(relaxed, assign, per_block=1.0)
    for b in range(instance.n_blocks):
        assert int(assign[b]) in offer[b]
        assert int(np.argmin(relaxed.reduced[b])) in offer[b]
    assert sum(map(len, offer.values())) < instance.n_blocks * instance.n_managers


def test_a_file_saved_with_a_byte_order_mark_is_read(single_file: Path, tmp_path: Path) -> None:
    marked = tmp_path / "marked"
    marked.write_bytes(b"\xef\xbb\xbf" + single_file.read_bytes())

    (problem,) = read_gap_file(marked)

    (plain,) = read_gap_file(single_file)
    assert (problem.cost == plain.cost).all() and (problem.capacity == plain.capacity).all()
