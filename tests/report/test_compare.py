"""Comparing plans: reading output folders, the KPI table, the moves between two plans."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from portfolio_opt.model.result import Result, SolveStatus
from portfolio_opt.payout import customer_targets
from portfolio_opt.pipeline import EXIT_BAD_INPUT, EXIT_NO_PLAN, SolveOutcome
from portfolio_opt.report.compare import (
    CompareError,
    Run,
    compare_runs,
    comparison_figures,
    folder_problem,
    kpi_table,
    load_run,
    manager_moves,
    moves_between,
    run_from_outcome,
    unique_labels,
    write_comparison,
)

from .conftest import Solved


@pytest.fixture(scope="module")
def base(solved: Solved) -> Run:
    return load_run(solved.out)


@pytest.fixture(scope="module")
def tight(solved_tight: Solved) -> Run:
    return load_run(solved_tight.out)


def _moved_c0003(run: Run) -> Run:
    """The same plan with C0003 handed to another manager (M006 or M007)."""
    assignment = run.assignment.copy()
    row = assignment["customer_id"] == "C0003"
    before = assignment.loc[row, "manager_id"].iloc[0]
    assignment.loc[row, "manager_id"] = "M007" if before != "M007" else "M006"
    return Run("edited", assignment, run.portfolios, run.payout, run.kpis, run.policy, run.scenario)


def test_output_folder_read_back(base: Run, solved: Solved) -> None:
    assert base.label == "demo"
    plan = solved.outcome.tables["assignment"]
    assert base.assignment["manager_id"].tolist() == plan["manager_id"].astype(str).tolist()
    assert base.kpis["balance"] == pytest.approx(solved.outcome.kpis["balance"])
    assert base.scenario is not None and base.notes == []
    assert (
        base.manager_names["M001"]
        == solved.scenario.managers.set_index("manager_id").at["M001", "name"]
    )
    assert base.bands() is not None and len(base.bands()) == 6


def test_changed_inputs_drop_names_and_values(solved: Solved, tmp_path: Path) -> None:
    copy = shutil.copytree(solved.out, tmp_path / "old-run")
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["inputs_sha256"]["customers"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    run = load_run(copy)
    assert run.scenario is None and run.manager_names == {}
    assert "changed since this solve" in run.notes[0]
    assert "KPIs and pay are as the solve wrote them" in run.notes[0]
    assert run.bands() is not None  # from the policy in the manifest


def test_not_an_output_folder(tmp_path: Path) -> None:
    (tmp_path / "assignment.csv").write_text("customer_id,manager_id\n", encoding="utf-8")
    with pytest.raises(CompareError) as caught:
        load_run(tmp_path)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert "kpis.json" in str(caught.value)


def test_kpi_table_side_by_side(base: Run, tight: Run) -> None:
    table = kpi_table([base, tight]).set_index("kpi")
    assert list(table.columns) == ["demo", "demo-tight", "meaning"]
    assert table.at["span.max", "demo"] == base.kpis["span"]["max"]
    assert table.at["balance.target_gini", "demo-tight"] == tight.kpis["balance"]["target_gini"]
    assert not [k for k in table.index if k.startswith("goals.")]
    yearly = base.payout[base.payout["period"] == "2026"]
    assert table.at["pay.total_actual_income", "demo"] == pytest.approx(
        yearly["actual_income"].sum()
    )


def test_moves_of_one_customer(base: Run, solved: Solved) -> None:
    edited = _moved_c0003(base)
    moves = moves_between(base, edited)
    assert moves["customer_id"].tolist() == ["C0003"]
    (move,) = moves.to_dict("records")
    target = customer_targets(solved.scenario.customers, solved.scenario.policy)["target"]
    assert move["value"] == pytest.approx(target["C0003"])
    assert move["customer_name"] == "=SUM 貿易有限公司"
    assert (
        move["to_manager_id"] in ("M006", "M007")
        and move["from_manager_id"] != move["to_manager_id"]
    )
    by_manager = manager_moves(moves, base, edited).set_index("manager_id")
    giver, taker = by_manager.loc[move["from_manager_id"]], by_manager.loc[move["to_manager_id"]]
    assert (giver["lost"], giver["gained"], taker["gained"]) == (1, 0, 1)
    assert taker["net_value"] == pytest.approx(-giver["net_value"])
    assert taker["customers_after"] == taker["customers_before"] + 1


def test_moves_between_two_solves_add_up(base: Run, tight: Run) -> None:
    moves = moves_between(base, tight)
    before = base.assignment.set_index("customer_id")["manager_id"]
    after = tight.assignment.set_index("customer_id")["manager_id"]
    assert set(moves["customer_id"]) == set(before.index[before != after.reindex(before.index)])
    by_manager = manager_moves(moves, base, tight)
    assert by_manager["gained"].sum() == by_manager["lost"].sum() == len(moves)
    assert (
        by_manager["customers_after"] - by_manager["customers_before"]
        == by_manager["gained"] - by_manager["lost"]
    ).all()
    assert moves["value"].is_monotonic_decreasing


def test_a_year_with_customers_joining_and_leaving_counts_moves_over_those_both_hold(
    base: Run,
) -> None:
    # The next year: C0003 changes manager, the first customer left and a new one joined.
    edited = _moved_c0003(base).assignment
    first = edited.iloc[0]
    joined = pd.DataFrame([{**first.to_dict(), "customer_id": "C9999"}])
    later = Run(
        "later", pd.concat([edited.iloc[1:], joined]), base.portfolios, base.payout, base.kpis
    )
    comparison = compare_runs([base, later])
    assert comparison.moves["customer_id"].tolist() == ["C0003"]
    assert any(
        f"1 only in demo, 1 only in later; moves count the {len(base.assignment) - 1} both hold"
        in note
        for note in comparison.notes
    )
    managers = comparison.by_manager.set_index("manager_id")
    assert managers.loc[first["manager_id"], "joined"] == 1
    assert managers.loc[first["manager_id"], "left"] == 1
    assert (
        managers["customers_after"] - managers["customers_before"]
        == managers["gained"] - managers["lost"] + managers["joined"] - managers["left"]
    ).all()


def test_a_manager_who_left_has_a_row_with_what_it_lost(base: Run) -> None:
    """Last year's plan against this year's: the leaver held customers only in the first plan
    and is in neither's portfolios; its row shows them all lost, so gains and losses add up."""
    last_year = base.assignment.copy()
    held = last_year["manager_id"] == last_year["manager_id"].iloc[0]
    last_year.loc[held, "manager_id"] = "MX"  # since left
    previous = Run("last-year", last_year, base.portfolios, base.payout, base.kpis)
    comparison = compare_runs([previous, base])
    managers = comparison.by_manager.set_index("manager_id")
    assert managers.loc["MX", "customers_before"] == managers.loc["MX", "lost"] == held.sum()
    assert managers.loc["MX", "customers_after"] == 0
    assert managers["gained"].sum() == managers["lost"].sum() == len(comparison.moves)


def test_written_comparison(base: Run, tmp_path: Path) -> None:
    comparison = compare_runs([base, _moved_c0003(base)])
    write_comparison(tmp_path, comparison)
    moves_csv = (tmp_path / "moves.csv").read_text(encoding="utf-8")
    assert "'=SUM 貿易有限公司" in moves_csv  # escaped for spreadsheets
    kpis = pd.read_csv(tmp_path / "compare.csv")
    assert list(kpis.columns) == ["kpi", "demo", "edited", "meaning"]
    book = load_workbook(tmp_path / "compare.xlsx")
    assert book.sheetnames == ["KPIs", "Portfolios", "Moves", "Moves by manager"]
    assert not [c for s in book for row in s.iter_rows() for c in row if c.data_type == "f"]
    assert "=SUM 貿易有限公司" in [c.value for c in book["Moves"]["D"]]
    assert (tmp_path / "plots" / "fairness.png").is_file()
    assert (tmp_path / "plots" / "load.png").is_file()
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "compare" and list(manifest["plans"]) == ["demo", "edited"]


def test_a_load_figure_too_wide_side_by_side_stacks_its_panels() -> None:
    """Four plans of 85 managers side by side would make a strip 150 inches wide: the panels
    go one under another, each as wide as a single plan's load plot."""
    from portfolio_opt.report.compare import _load_figure

    portfolios = pd.DataFrame(
        {
            "manager_id": [f"M{i:03d}" for i in range(85)],
            "portfolio_type": "standard",
            "n_customers": 35,
        }
    )
    runs = [Run(f"v{k}", pd.DataFrame(), portfolios, pd.DataFrame(), {}) for k in range(4)]
    figure = _load_figure(runs)

    width, height = figure.get_size_inches()
    assert width <= 22 and height > width / 2
    lefts = {round(ax.get_position().x0, 2) for ax in figure.axes}
    assert len(lefts) == 1  # one column of panels
    small = portfolios.iloc[:10]  # two plans of 10 managers stay side by side
    pair = _load_figure([Run(f"s{k}", pd.DataFrame(), small, pd.DataFrame(), {}) for k in (1, 2)])
    assert len({round(ax.get_position().x0, 2) for ax in pair.axes}) == 2


def test_figures_overlay_and_side_by_side(base: Run, tight: Run) -> None:
    figures = comparison_figures(compare_runs([base, tight]))
    (fairness,) = figures["fairness"].axes
    labels = [line.get_label() for line in fairness.get_lines()]
    assert any(label.startswith("demo: standard") for label in labels)
    assert any(label.startswith("demo-tight: standard") for label in labels)
    # each curve's Gini in the legend beside the axes, not in a title too long to read
    legend = fairness.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert any(t.startswith("demo-tight: standard (Gini ") for t in texts)
    assert "demo-tight" not in fairness.get_title()
    assert legend.get_bbox_to_anchor().x0 > fairness.get_window_extent().x1 - 1
    titles = [ax.get_title() for ax in figures["load"].axes]
    assert [t.split("\n")[0] for t in titles] == ["demo", "demo-tight"]
    # each panel names its own band and ideal; the one legend names neither
    assert all("span band" in t and "ideal" in t for t in titles)
    legend = [t.get_text() for t in figures["load"].axes[-1].get_legend().get_texts()]
    assert legend[:2] == ["span band", "ideal"]
    assert figures["load"].axes[0].get_legend() is None
    # the axes share y: it reaches above every panel's highest bar
    highest = max(run.portfolios["n_customers"].max() for run in (base, tight))
    assert figures["load"].axes[0].get_ylim()[1] > highest


@pytest.mark.usefixtures("no_cjk_font")
def test_plans_named_in_chinese_without_a_font_for_it_are_numbered_in_the_plots(
    base: Run, tight: Run
) -> None:
    """Boxes would hide which plan is which: the plots say plan 1, plan 2, and a note which
    is which."""
    comparison = compare_runs([replace(base, label="分行甲"), replace(tight, label="分行乙")])
    figures = comparison_figures(comparison)

    legend = [t.get_text() for t in figures["fairness"].axes[0].get_legend().get_texts()]
    assert any(t.startswith("plan 1: standard") for t in legend)
    assert [ax.get_title().split("\n")[0] for ax in figures["load"].axes] == ["plan 1", "plan 2"]
    assert "the plots call them plan 1 = 分行甲, plan 2 = 分行乙" in " ".join(comparison.notes)


def test_run_from_outcome(solved: Solved) -> None:
    run = run_from_outcome(solved.scenario, solved.outcome, "in memory")
    assert run.label == "in memory" and run.scenario is solved.scenario
    assert len(run.assignment) == 60


def test_a_solve_without_a_plan_is_no_run_and_names_itself_in_each_reason(solved: Solved) -> None:
    failed = SolveOutcome(
        Result(SolveStatus.NO_PLAN, explanation=["try a longer limit"]), EXIT_NO_PLAN
    )
    with pytest.raises(CompareError) as raised:
        run_from_outcome(solved.scenario, failed, "variant b")
    assert str(raised.value) == "variant b: no plan to compare"
    assert raised.value.exit_code == EXIT_NO_PLAN
    assert raised.value.details == ["variant b: try a longer limit"]


def test_unique_labels() -> None:
    assert unique_labels([Path("a/demo"), Path("b/demo"), Path("demo-x")]) == [
        "demo",
        "demo-2",
        "demo-x",
    ]
    # a folder named like a column of the KPI table would overwrite that column
    assert unique_labels([Path("runs/kpi"), Path("runs/meaning")]) == ["kpi-2", "meaning-2"]
    # solve-many's total row is called bank: a branch of that name is another
    assert unique_labels([Path("x/bank"), Path("x/kpi")], taken=("bank",)) == ["bank-2", "kpi"]


def test_folder_problem(tmp_path: Path) -> None:
    inputs = [tmp_path / "runs" / "a", tmp_path / "b"]
    assert folder_problem(tmp_path / "new", inputs) is None
    assert "holds the plan" in folder_problem(tmp_path / "runs", inputs)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    assert "not a comparison folder" in folder_problem(tmp_path / "mine", inputs)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "manifest.json").write_text('{"command": "compare"}', encoding="utf-8")
    assert folder_problem(tmp_path / "old", inputs) is None


def test_plans_of_two_branches_whose_ids_overlap_are_named_as_such(base: Run) -> None:
    """The same ids, other companies: the moves between the two mean little, and a note says
    so; a variant of the same branch (same names) gets no such note."""
    assert base.scenario is not None
    customers = base.scenario.customers.copy()
    customers["name"] = "other company " + customers["customer_id"]
    elsewhere = replace(base.scenario, customers=customers)
    other = Run("other", base.assignment, base.portfolios, base.payout, base.kpis, None, elsewhere)

    notes = compare_runs([base, other]).notes

    assert any("have other names in their scenarios" in note for note in notes), notes
    assert not any("other names" in n for n in compare_runs([base, _moved_c0003(base)]).notes)


def test_a_variants_edited_folder_is_checked_with_the_rules_it_was_solved_with(
    solved_tight: Solved, tmp_path: Path
) -> None:
    """A sweep's variant shares the scenario's files: its manifest's policy (tolerance 1 here)
    and the managers it had unavailable are the rules an edit of its plan is checked by."""
    copy = shutil.copytree(solved_tight.out, tmp_path / "variant")
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    plan = pd.read_csv(copy / "assignment.csv", dtype=str, keep_default_na=False)
    dropped = plan["manager_id"].iloc[0]  # as if the sweep had made it unavailable
    manifest["unavailable_managers"] = [*manifest["unavailable_managers"], dropped]
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    first, second = plan["customer_id"].iloc[0], plan["customer_id"].iloc[1]
    plan.loc[plan["customer_id"] == second, "manager_id"] = plan["manager_id"].iloc[0]
    plan.to_csv(copy / "assignment.csv", index=False)

    run = load_run(copy)

    assert run.scenario is not None and run.scenario.policy.span.tolerance == 1
    assert dropped not in set(run.scenario.available_managers["manager_id"])
    assert run.kpis["hard_rule_violations"] >= 1  # the dropped manager holds customers
    assert first in set(run.assignment["customer_id"])
