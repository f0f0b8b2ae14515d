"""Plans side by side: KPIs, fairness curves, loads, and the customers that move between them.

A plan comes from a solve output folder (assignment.csv, portfolios.csv, payout.csv, kpis.json,
manifest.json) or from a scenario folder, solved on the way with :func:`pipeline.run_solve`.
"""

from __future__ import annotations

import io
import json
import math
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import ValidationError

from portfolio_opt import __version__
from portfolio_opt.model.solve import SolveParams, rule_collisions
from portfolio_opt.payout import compute_payout, customer_targets
from portfolio_opt.pipeline import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_OK,
    EXIT_USAGE,
    SolveOutcome,
    input_hashes,
    most_severe,
    plan_kpis,
    run_solve,
    write_csv,
)
from portfolio_opt.plan.io import plan_digest, plan_table, read_assignment
from portfolio_opt.problems import Problem, ScenarioError, counted, listed
from portfolio_opt.report.as_solved import as_solved
from portfolio_opt.report.folders import file_digest, replace_problem, write_manifest
from portfolio_opt.report.plots import fonts, plot_fairness, plot_load, span_bands
from portfolio_opt.report.plots._axes import bar_figure_width
from portfolio_opt.report.safe_text import unescape_formula
from portfolio_opt.report.tables import portfolios_table
from portfolio_opt.report.workbook import Sheet, write_workbook
from portfolio_opt.report.writer import flatten_kpis, save_figures, write_report_files
from portfolio_opt.scenario.columns import CURRENCY_SIGNS, parse_numbers
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import POLICY_FILE, inspect_scenario
from portfolio_opt.scenario.policy import Policy
from portfolio_opt.scenario.tables import decode_text, sniff_delimiter, split_table_spec

OUTPUT_FILES = ("assignment.csv", "portfolios.csv", "kpis.json", "manifest.json")
REPORT_FILE, PLAN_SHEET = "report.xlsx", "Assignment"  # the workbook a planner edits
SIDE_BY_SIDE_INCHES = 24.0  # of load panels; a wider comparison stacks them
LEGEND_HANDLE_INCHES, LEGEND_INCHES_PER_CHARACTER = 0.7, 0.055  # the fairness legend at 8 pt
SKIPPED_KPIS = ("goals.",)  # solver internals, on each run's own report
PAY_MEANINGS = {
    "pay.total_base_salary": "the year's base salaries, all managers",
    "pay.total_performance_pay": "the year's performance pay, all managers",
    "pay.total_actual_income": "the year's actual income, all managers",
}
ID_COLUMNS = {"customer_id": str, "manager_id": str, "prior_manager_id": str, "period": str}


class CompareError(Exception):
    """A plan cannot be compared; ``exit_code`` follows SPEC.md, ``details`` lists the reasons."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT, details: Sequence = ()):
        super().__init__(message)
        self.exit_code = exit_code
        self.details = [str(d) for d in details]


@dataclass
class Run:
    """One plan to compare, and what is known of its scenario.

    ``scenario`` is ``None`` when the plan was read from a folder whose inputs are gone or
    changed since; names and customer values are then unknown.
    """

    label: str
    assignment: pd.DataFrame
    portfolios: pd.DataFrame
    payout: pd.DataFrame
    kpis: dict[str, Any]
    policy: Policy | None = None
    scenario: Scenario | None = None
    folder: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def manager_names(self) -> dict[str, str]:
        if self.scenario is None:
            return {}
        managers = self.scenario.managers
        return dict(zip(managers["manager_id"], managers["name"].astype(str), strict=True))

    @property
    def customer_names(self) -> dict[str, str]:
        if self.scenario is None:
            return {}
        customers = self.scenario.customers
        return dict(zip(customers["customer_id"], customers["name"].astype(str), strict=True))

    def customer_values(self) -> pd.Series:
        """Each customer's total target (its value), empty without the scenario."""
        if self.scenario is None:
            return pd.Series(dtype=float)
        return customer_targets(self.scenario.customers, self.scenario.policy)["target"]

    def bands(self) -> pd.DataFrame | None:
        """Every manager's span band, with personal bounds where the scenario is known."""
        policy = self.scenario.policy if self.scenario is not None else self.policy
        if policy is None:
            return None
        managers = self.scenario.available_managers if self.scenario is not None else None
        n_customers = (
            len(self.scenario.customers)
            if self.scenario is not None
            else int(self.kpis.get("n_customers") or self.portfolios["n_customers"].sum())
        )
        return span_bands(policy, self.portfolios, n_customers, managers)


def is_output_folder(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in OUTPUT_FILES)


def _file_of(path: Path) -> Path:
    """The file of a table given as ``FILE`` or ``FILE#Sheet``."""
    return Path(split_table_spec(str(path))[0])


def is_plan_file(path: Path) -> bool:
    """An assignment file: ``.csv``, or ``.xlsx`` with an optional ``#Sheet``."""
    file = _file_of(path)
    return file.is_file() and file.suffix.lower() in (".csv", ".xlsx")


def is_scenario_folder(path: Path) -> bool:
    return (path / POLICY_FILE).is_file() or (path.is_file() and path.suffix == ".toml")


# The columns compare reads from each output file, which a re-saved file may have lost.
READ_COLUMNS = {
    "assignment.csv": ("customer_id", "manager_id"),
    "portfolios.csv": ("manager_id", "portfolio_type", "n_customers", "target"),
    "payout.csv": ("manager_id", "period"),
}
# The columns compare adds up or plots, which an edit may have left holding text.
NUMBER_COLUMNS = {
    "portfolios.csv": ("n_customers", "target"),
    "payout.csv": ("base_salary", "performance_pay", "actual_income"),
}


def _as_numbers(column: pd.Series) -> pd.Series:
    """A text column of numbers as a spreadsheet formats them (1,045,374.19, or 1.045.374,19
    where the decimal mark is a comma) as numbers; any other column as it is."""
    text = _accounting_as_plain(column.fillna("").astype(str).str.strip())
    filled = text != ""
    if not filled.any():
        return column
    for numbers in (parse_numbers(text), _decimal_comma_numbers(text)):
        if numbers[filled].notna().all():
            return numbers
    return column


def _accounting_as_plain(text: pd.Series) -> pd.Series:
    """Excel's accounting and currency formats, as a re-saved CSV shows them, written plainly:
    a currency sign dropped, (1,234.50) as -1,234.50, and the dash that shows a zero as 0."""
    text = text.str.replace(CURRENCY_SIGNS, "", regex=True).str.strip()
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    return text.mask(text.isin(["-", "–"]), "0")


def _decimal_comma_numbers(text: pd.Series) -> pd.Series:
    european = text.str.fullmatch(r"-?\d{1,3}(\.\d{3})*(,\d+)?|-?\d+(,\d+)?")
    plain = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(plain.where(european), errors="coerce")


def _read_csv(path: Path) -> pd.DataFrame:
    """An output CSV, also after a planner re-saved it from Excel (another delimiter or
    encoding); a CompareError names the columns it lacks."""
    text, _ = decode_text(path.read_bytes())
    frame = pd.read_csv(
        io.StringIO(text),
        sep=sniff_delimiter(text),
        dtype=ID_COLUMNS,
        keep_default_na=False,
        na_values=[""],
    )
    missing = [c for c in READ_COLUMNS.get(path.name, ()) if c not in frame.columns]
    if missing:
        raise CompareError(
            f"{path}: no column {', '.join(missing)}",
            details=[f"{path}: write it again with `portfolio-opt solve`, or restore its header"],
        )
    for column in ID_COLUMNS:  # blank ids stay text, not a column of missing floats
        if column in frame.columns:
            frame[column] = frame[column].fillna("").astype(str)
    for column in frame.columns:
        if column not in ID_COLUMNS and not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = _as_numbers(frame[column])
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(
                lambda v: unescape_formula(v) if isinstance(v, str) else v
            )
    _numbers_where_needed(frame, path)
    return frame


def _numbers_where_needed(frame: pd.DataFrame, path: Path) -> None:
    """A CompareError naming the first cells that hold text where compare needs a number."""
    for column in NUMBER_COLUMNS.get(path.name, ()):
        if column not in frame.columns or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        text = frame[column].fillna("").astype(str).str.strip()
        bad = np.flatnonzero((text != "") & pd.to_numeric(text, errors="coerce").isna())
        if len(bad):
            cells = ", ".join(f"row {i + 2} ({text.iloc[i]!r})" for i in bad[:5])
            raise CompareError(
                f"{path}, column {column}: not a number in {cells}"
                + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""),
                details=[
                    f"{path}: write a number there, or write the file again with "
                    "`portfolio-opt solve`"
                ],
            )


KPI_COUNTS = ("n_customers", "n_managers")
KPI_SECTIONS = ("span", "balance", "chain", "moves", "industries_per_portfolio")


def _readable_kpis(kpis: dict[str, Any], path: Path) -> dict[str, Any]:
    """kpis.json as compare reads it: a CompareError names a count that is not a whole number
    and a section that is not an object ({...}), as an edit may leave them."""
    wrong = [
        f"{key} = {kpis[key]!r} is not a whole number"
        for key in KPI_COUNTS
        if kpis.get(key) is not None
        and (isinstance(kpis[key], bool) or not isinstance(kpis[key], int | float))
    ] + [
        f"{key} = {kpis[key]!r} is not an object ({{...}})"
        for key in KPI_SECTIONS
        if kpis.get(key) is not None and not isinstance(kpis[key], dict)
    ]
    if wrong:
        raise CompareError(
            f"{path}: {'; '.join(wrong)}",
            details=[f"{path}: write it again with `portfolio-opt solve`"],
        )
    return kpis


def _json_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold one object (kpis.json, manifest.json)."""
    value = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise CompareError(
            f"{path}: not a JSON object ({{...}}) but a {type(value).__name__}",
            details=[f"{path}: write it again with `portfolio-opt solve`"],
        )
    return value


def _portfolios(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["portfolio_type"] = frame["portfolio_type"].fillna("").astype(str)
    return frame


def _source_scenario(manifest: dict[str, Any]) -> tuple[Scenario | None, str]:
    """The scenario a run was solved from, if it is still there and unchanged."""
    source = manifest.get("scenario")
    as_written = (
        "its KPIs and pay are as the solve wrote them, from the files as they were then "
        "(solve again to compare on today's files)"
    )
    if not source or not Path(str(source)).is_dir():
        return None, f"its scenario {source} is not found: {as_written}"
    scenario, _ = inspect_scenario(str(source))
    if scenario is None:
        return None, f"its scenario {source} no longer loads: {as_written}"
    if manifest.get("inputs_sha256") and input_hashes(scenario) != manifest["inputs_sha256"]:
        return None, f"the files of {source} changed since this solve: {as_written}"
    return as_solved(scenario, manifest), ""


def load_run(folder: Path, label: str | None = None) -> Run:
    """A plan from a solve output folder; where its assignment.csv was edited since the solve,
    the plan as it now is (KPIs, portfolios and pay computed again from the scenario)."""
    folder = Path(folder)
    missing = [name for name in OUTPUT_FILES if not (folder / name).is_file()]
    if missing:
        raise CompareError(
            f"{folder} is not a solve output folder: {', '.join(missing)} missing",
            details=[f"{folder}: run `portfolio-opt solve` first, or give a scenario folder"],
        )
    try:
        kpis = _readable_kpis(_json_object(folder / "kpis.json"), folder / "kpis.json")
        manifest = _json_object(folder / "manifest.json")
        assignment = _read_csv(folder / "assignment.csv")
        portfolios = _portfolios(_read_csv(folder / "portfolios.csv"))
        payout_file = folder / "payout.csv"
        payout = _read_csv(payout_file) if payout_file.is_file() else pd.DataFrame()
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise CompareError(f"{folder}: an output file cannot be read ({exc})") from exc
    try:
        policy = Policy.model_validate(manifest.get("policy") or {})
    except ValidationError:
        policy = None
    scenario, note = _source_scenario(manifest)
    name = label or folder.resolve().name
    edited = _plan_edited(assignment, manifest)
    in_workbook = _workbook_plan_edited(folder, manifest)
    if in_workbook and not edited:  # the planner edited the workbook: compare that plan
        if scenario is None:
            raise CompareError(
                f"{folder}: report.xlsx was changed after the solve, and {note.split(':')[0]}",
                details=[f"{folder}: its KPIs and pay are the solve's, not the edited plan's"],
            )
        recomputed = plan_run(scenario, folder / f"{REPORT_FILE}#{PLAN_SHEET}", name, folder)
        recomputed.notes.insert(
            0,
            f"{name}: the {PLAN_SHEET} sheet of report.xlsx was changed after the solve: that "
            "plan is compared, its KPIs, portfolios and pay computed again from it",
        )
        return recomputed
    if edited and scenario is None:
        raise CompareError(
            f"{folder}: assignment.csv was changed after the solve, and {note.split(':')[0]}",
            details=[f"{folder}: its KPIs and pay are the solve's, not the edited plan's"],
        )
    if scenario is not None and edited is not False:
        recomputed = plan_run(scenario, folder / "assignment.csv", name, folder)
        if edited or _differs(recomputed.kpis, kpis):
            recomputed.notes.insert(
                0,
                f"{name}: assignment.csv was changed after the solve: its KPIs, portfolios and "
                "pay are computed again from it"
                + (
                    f" (the {PLAN_SHEET} sheet of report.xlsx was changed too, and is not read)"
                    if in_workbook
                    else ""
                ),
            )
            return recomputed
    notes = [f"{label or folder.name}: {note}"] if note else []
    if _workbook_without_plan(folder, manifest):
        notes.append(
            f"{name}: report.xlsx was changed after the solve but has no {PLAN_SHEET} sheet "
            f"with a plan (renamed?): the solve's plan is compared; to compare an edit, keep "
            f"the sheet's name {PLAN_SHEET}"
        )
    return Run(
        name,
        assignment,
        portfolios,
        payout,
        kpis,
        policy,
        scenario,
        folder,
        notes,
    )


def _plan_edited(assignment: pd.DataFrame, manifest: dict[str, Any]) -> bool | None:
    """Whether assignment.csv gives any customer another manager than the plan the solve
    wrote; None where the manifest does not say (folders of older versions)."""
    written = manifest.get("plan_sha256")
    if not isinstance(written, str):
        return None
    return plan_digest(assignment) != written


def _workbook_plan_edited(folder: Path, manifest: dict[str, Any]) -> bool:
    """Whether the plan sheet of the folder's report.xlsx gives any customer another manager
    than the plan the solve wrote (a workbook merely re-saved is not an edit)."""
    workbook, written = folder / REPORT_FILE, manifest.get("plan_sha256")
    recorded = (manifest.get("output_sha256") or {}).get(REPORT_FILE)
    if not workbook.is_file() or not isinstance(written, str) or not isinstance(recorded, str):
        return False
    if file_digest(workbook) == recorded:
        return False
    table = plan_table(Path(f"{workbook}#{PLAN_SHEET}"))
    return table is not None and plan_digest(table) != written


def _workbook_without_plan(folder: Path, manifest: dict[str, Any]) -> bool:
    """Whether the folder's report.xlsx was changed since the solve and no longer holds a
    readable plan sheet (renamed or deleted): an edit there would go unread."""
    workbook = folder / REPORT_FILE
    recorded = (manifest.get("output_sha256") or {}).get(REPORT_FILE)
    if not workbook.is_file() or not isinstance(recorded, str):
        return False
    if file_digest(workbook) == recorded:
        return False
    return plan_table(Path(f"{workbook}#{PLAN_SHEET}")) is None


def _differs(recomputed: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether a plan's own KPIs differ from those its folder holds (the folder's plan was
    edited): broken rules, moves or spans."""
    keys = (("hard_rule_violations",), ("moves", "count"), ("span", "min"), ("span", "max"))

    def value(kpis: dict[str, Any], path: tuple[str, ...]) -> Any:
        for key in path:
            kpis = kpis.get(key) if isinstance(kpis, dict) else None  # type: ignore[assignment]
        return kpis

    return any(value(recomputed, k) != value(stored, k) for k in keys)


def plan_run(
    scenario: Scenario, path: Path, label: str | None = None, folder: Path | None = None
) -> Run:
    """A plan from an assignment file (e.g. edited in Excel), with its KPIs, portfolios and pay
    computed from ``scenario``; a plan that breaks hard rules is shown, with a note."""
    plan, problems = read_assignment(path, scenario, customers_left=True)
    errors = [p for p in problems if p.is_error]
    if errors:
        at = _file_of(path).parent
        raise CompareError(
            f"{path}: the plan has {counted(errors)} error(s)", details=_in_folder(errors, at)
        )
    name = label or _file_of(path).stem
    kpis: dict[str, Any] = {"status": "edited", **plan_kpis(scenario, plan)}
    notes = [f"{name}: {p.message}" for p in problems]
    broken = kpis["hard_rule_violations"]
    known = set(scenario.managers["manager_id"].astype(str))
    unknown = sorted(set(plan["manager_id"]) - known - {""})
    if broken:
        # verify takes a manager the scenario does not know for a typo and checks nothing.
        first = (
            f"once the rows of {listed(unknown)} (not in the scenario) name one who is, "
            if unknown
            else ""
        )
        notes.append(
            f"{name}: the plan breaks {broken} hard rule(s); "
            f"{first}`portfolio-opt verify {shlex.quote(str(scenario.root))} "
            f"{shlex.quote(str(path))}"
            + "".join(f" {option}" for option in scenario.as_run)
            + "` lists them"
        )
    # Customers with a blank manager, or one who left, break rule 1 (counted above); nobody
    # is paid for them.
    held = plan[plan["manager_id"].isin(known)]
    try:
        payout = compute_payout(scenario, held, path.name).table
    except ScenarioError as exc:
        raise CompareError(f"{path}: the plan cannot be paid", details=exc.problems) from exc
    return Run(
        name,
        plan,
        _portfolios(portfolios_table(held, scenario)),
        payout,
        kpis,
        scenario.policy,
        scenario,
        folder,
        notes,
    )


def run_from_outcome(scenario: Scenario, outcome: SolveOutcome, label: str | None = None) -> Run:
    """A plan from :func:`pipeline.run_solve`'s result, kept in memory (e.g. in a notebook)."""
    if outcome.exit_code != EXIT_OK:
        name = label or scenario.name
        raise CompareError(  # its reasons named as those of the quick check (_rules_can_hold)
            f"{name}: no plan to compare",
            outcome.exit_code,
            [f"{name}: {reason}" for reason in outcome.result.explanation + outcome.violations],
        )
    tables = outcome.tables
    return Run(
        label or scenario.root.name,
        tables["assignment"],
        _portfolios(tables["portfolios"]),
        tables.get("payout", pd.DataFrame()),
        dict(outcome.kpis),
        scenario.policy,
        scenario,
    )


def solve_run(
    scenario: Scenario, label: str, out: Path | None, solver: Mapping[str, object] | None = None
) -> Run:
    """Solve ``scenario`` (writing its output folder to ``out``, if given), its policy's
    [solver] settings overridden by ``solver`` (time_limit_s, workers, seed, deterministic:
    None keeps the policy's)."""
    params = SolveParams.from_policy(scenario, **(solver or {}))
    outcome = run_solve(scenario, out, params, extras=write_report_files)
    run = run_from_outcome(scenario, outcome, label)
    run.folder = out
    return run


TABLE_COLUMNS = ("kpi", "meaning")  # of the KPI table, beside one column per plan


def unique_labels(paths: Sequence[Path], taken: Sequence[str] = TABLE_COLUMNS) -> list[str]:
    """Folder names (a plan file's name without its suffix), made unique with -2, -3...
    where two share a name, or a name ``taken`` by the table they head (kpi, meaning)."""
    labels: list[str] = []
    for path in paths:
        base = _file_of(path).stem if is_plan_file(path) else path.resolve().name or "plan"
        label, n = base, 2
        while label in labels or label in taken:
            label, n = f"{base}-{n}", n + 1
        labels.append(label)
    return labels


@dataclass
class Collected:
    """The plans to compare, and the scenarios that have none (each with why)."""

    runs: list[Run]
    without_plan: list[CompareError] = field(default_factory=list)


def collect_runs(
    paths: Sequence[Path],
    runs_folder: Path | None = None,
    solver: Mapping[str, object] | None = None,
    announce: Callable[[str], None] | None = None,
    plans_of: Path | None = None,
) -> Collected:
    """Each path as a plan: output folders are read, scenario folders solved into runs_folder,
    plan files read against the scenario ``plans_of`` (else that of the solve beside them).

    Every input is read and every scenario folder checked before any is solved, so all the bad
    ones are reported at once (with the most severe exit code), not one solve after another.
    A scenario whose hard rules cannot all hold, or whose solve finds no plan, is left out and
    said, as a sweep's variant is: the others are still compared, where two or more have plans.
    """
    labels = unique_labels([Path(p) for p in paths])
    read: dict[int, Run | Scenario] = {}  # a plan read, or a scenario to solve
    failures: list[CompareError] = []
    without_plan: list[CompareError] = []
    for i, path in enumerate(map(Path, paths)):
        try:
            if is_scenario_folder(path) and not is_output_folder(path):
                read[i] = _loaded(path)
            else:
                read[i] = _read_plan(path, labels[i], plans_of)
        except CompareError as exc:
            failures.append(exc)
    if failures:
        raise _all_of(failures)
    for i, found in list(read.items()):
        if not isinstance(found, Scenario):
            continue
        try:
            _rules_can_hold(found, Path(paths[i]))
        except CompareError as exc:
            del read[i]
            without_plan.append(exc)
    _enough_to_compare(len(read), without_plan)
    runs = []
    for i, found in read.items():  # in the order given: the first plan is the others' base
        if isinstance(found, Run):
            runs.append(found)
            continue
        if announce is not None:
            announce(f"Solving {paths[i]} ...")
        out = None if runs_folder is None else runs_folder / labels[i]
        try:
            runs.append(solve_run(found, labels[i], out, solver))
        except CompareError as exc:
            without_plan.append(exc)
    _enough_to_compare(len(runs), without_plan)
    return Collected(runs, without_plan)


def _enough_to_compare(plans: int, without_plan: Sequence[CompareError]) -> None:
    """The scenarios without a plan as one error where fewer than two plans are left."""
    if plans < 2 and without_plan:
        raise _all_of(without_plan)


def _rules_can_hold(scenario: Scenario, path: Path) -> None:
    """A CompareError (exit 3) where the quick analysis before a solve finds that the hard
    rules of ``scenario`` cannot all hold: said before any scenario is solved."""
    reasons = rule_collisions(scenario)
    if reasons:
        raise CompareError(
            f"{path}: the hard rules cannot all hold, so it has no plan to compare",
            EXIT_INFEASIBLE,
            [f"{path}: {reason}" for reason in reasons],
        )


def _read_plan(path: Path, label: str, plans_of: Path | None) -> Run:
    """An output folder's or a plan file's plan; a CompareError for anything else."""
    if is_output_folder(path):
        return load_run(path, label)
    if is_plan_file(path) and plans_of is None and (folder := _solved_there(path)) is not None:
        return load_run(folder, label or _file_of(path).stem)
    if is_plan_file(path):
        return plan_run(_scenario_of_plan(path, plans_of), path, label)
    if not path.exists():
        raise CompareError(f"{path} does not exist", details=[f"{path}: check the path"])
    raise CompareError(
        f"{path} is neither a scenario folder nor a solve output folder",
        details=[
            f"{path}: a scenario folder holds {POLICY_FILE}; a solve output folder "
            f"holds {', '.join(OUTPUT_FILES)}"
        ],
    )


def _solved_there(path: Path) -> Path | None:
    """The solve output folder a plan file sits in, where the file is that solve's plan as
    written (a copy, or one re-saved by a spreadsheet): compared as that folder."""
    folder = _file_of(path).resolve().parent
    manifest = _manifest_or_none(folder / "manifest.json")
    if manifest is None or not is_output_folder(folder):
        return None
    table = plan_table(path)
    return (
        folder if table is not None and plan_digest(table) == manifest.get("plan_sha256") else None
    )


def _all_of(failures: Sequence[CompareError]) -> CompareError:
    """One error for several inputs: every reason, the most severe exit code."""
    if len(failures) == 1:
        return failures[0]
    return CompareError(
        "; ".join(str(f) for f in failures),
        most_severe(f.exit_code for f in failures),
        [detail for f in failures for detail in f.details],
    )


def _scenario_of_plan(path: Path, plans_of: Path | None) -> Scenario:
    """The scenario a plan file is read against: ``plans_of`` where given, else the scenario
    of the solve output folder the file sits in (a copy of its plan, edited)."""
    if plans_of is None:
        beside = _file_of(path).resolve().parent / "manifest.json"
        manifest = _manifest_or_none(beside) or {}
        scenario, note = _source_scenario(manifest) if manifest else (None, "")
        if scenario is not None:
            return scenario
        raise CompareError(
            f"{path}: which scenario is this plan of?",
            EXIT_USAGE,
            details=[
                f"{path}: give --scenario FOLDER"
                + (f" ({note})" if note else ", or put the file in the solve's output folder")
            ],
        )
    return _loaded(plans_of)


def _loaded(path: Path) -> Scenario:
    """The scenario at ``path``; its errors as a CompareError."""
    scenario, problems = inspect_scenario(path)
    if scenario is None:
        errors: list[Problem] = [p for p in problems if p.is_error]
        raise CompareError(
            f"{path}: the scenario has {counted(errors)} error(s)", details=_in_folder(errors, path)
        )
    return scenario


def _in_folder(problems: list[Problem], folder: Path) -> list[Problem]:
    """``problems`` with their files named by their path, not their name alone: several
    scenarios' customers.csv may be at fault at once."""
    return [replace(p, file=(folder / p.file).as_posix()) for p in problems]


def _manifest_or_none(path: Path) -> dict[str, Any] | None:
    """A solve's manifest.json, or None where there is none that can be read."""
    try:
        manifest = _json_object(path) if path.is_file() else None
    except (CompareError, ValueError, OSError):
        return None
    return manifest if manifest and manifest.get("command") == "solve" else None


def pay_totals(payout: pd.DataFrame) -> dict[str, float]:
    """The year's total base salary, performance pay and actual income over all managers."""
    if payout.empty or "period" not in payout.columns:
        return {}
    periods = payout["period"].astype(str)
    yearly = periods[~periods.str.contains("Q", case=False)]
    if yearly.empty:
        return {}
    rows = payout[periods == yearly.max()]
    return {
        f"pay.total_{column}": float(rows[column].astype(float).sum())
        for column in ("base_salary", "performance_pay", "actual_income")
        if column in rows.columns
    }


def kpi_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per KPI (``kpi``, ``meaning``), one column per plan."""
    order: list[str] = []
    meanings: dict[str, str] = {}
    values: dict[str, dict[str, Any]] = {}
    for run in runs:
        flat = flatten_kpis(run.kpis)
        column = {}
        for kpi, value, meaning in flat.itertuples(index=False, name=None):
            if kpi.startswith(SKIPPED_KPIS):
                continue
            column[kpi] = value
            meanings.setdefault(kpi, meaning)
        for kpi, total in pay_totals(run.payout).items():
            column[kpi] = total
            meanings.setdefault(kpi, PAY_MEANINGS.get(kpi, ""))
        order += [k for k in column if k not in order]
        values[run.label] = column
    table = pd.DataFrame({"kpi": order})
    for run in runs:
        table[run.label] = pd.Series([values[run.label].get(k) for k in order], dtype=object)
    table["meaning"] = [meanings.get(k, "") for k in order]
    return table


def _holders(run: Run) -> pd.Series:
    """customer_id -> manager_id of a plan."""
    return run.assignment.set_index("customer_id")["manager_id"].astype(str)


def moves_between(base: Run, other: Run) -> pd.DataFrame:
    """Customers both plans hold whose manager differs, largest target first by size (a
    customer that joined or left between them is not a move).

    Columns: ``from_plan``, ``to_plan``, ``customer_id``, ``customer_name``, ``value`` (the
    customer's total target), ``from_manager_id``/``_name``, ``to_manager_id``/``_name``.
    """
    before, after = _holders(base), _holders(other)
    before = before[before.index.isin(after.index)]
    after = after.reindex(before.index)
    moved = before.index[before != after]
    values = base.customer_values()
    if values.empty:
        values = other.customer_values()
    customers = {**other.customer_names, **base.customer_names}
    managers = {**other.manager_names, **base.manager_names}
    table = pd.DataFrame(
        {
            "from_plan": base.label,
            "to_plan": other.label,
            "customer_id": moved.astype(str),
            "customer_name": [customers.get(c, "") for c in moved],
            "value": [float(values.get(c, math.nan)) for c in moved],
            "from_manager_id": before[moved].to_numpy(),
            "from_manager_name": [managers.get(m, "") for m in before[moved]],
            "to_manager_id": after[moved].to_numpy(),
            "to_manager_name": [managers.get(m, "") for m in after[moved]],
        }
    )
    # Largest first by size: a loss-maker's move weighs as much as a profitable one's.
    table["size"] = table["value"].abs()
    ordered = table.sort_values(["size", "customer_id"], ascending=[False, True])
    return ordered.drop(columns="size").reset_index(drop=True)


def manager_moves(moves: pd.DataFrame, base: Run, other: Run) -> pd.DataFrame:
    """Per manager: customers before and after, gained and lost (count and value), net value;
    every manager of either plan, one who left (holding customers in one plan only) too."""
    managers = sorted(
        {
            str(m)
            for run in (base, other)
            for frame in (run.portfolios, run.assignment)
            for m in frame["manager_id"]
        }
    )
    names = {**other.manager_names, **base.manager_names}
    count_before = base.assignment["manager_id"].astype(str).value_counts()
    count_after = other.assignment["manager_id"].astype(str).value_counts()
    gained = moves.groupby("to_manager_id")["value"]
    lost = moves.groupby("from_manager_id")["value"]
    table = pd.DataFrame({"manager_id": managers})
    table.insert(0, "to_plan", other.label)
    table.insert(0, "from_plan", base.label)
    table["manager_name"] = [names.get(m, "") for m in managers]
    table["customers_before"] = [int(count_before.get(m, 0)) for m in managers]
    table["customers_after"] = [int(count_after.get(m, 0)) for m in managers]
    table["gained"] = [int(gained.size().get(m, 0)) for m in managers]
    table["gained_value"] = [float(gained.sum().get(m, 0.0)) for m in managers]
    table["lost"] = [int(lost.size().get(m, 0)) for m in managers]
    table["lost_value"] = [float(lost.sum().get(m, 0.0)) for m in managers]
    table["net_value"] = table["gained_value"] - table["lost_value"]
    money = ["gained_value", "lost_value", "net_value"]
    table[money] = table[money].round(2)
    joined, left = _joined_and_left(base, other)
    table["joined"] = [int(joined.get(m, 0)) for m in managers]
    table["left"] = [int(left.get(m, 0)) for m in managers]
    return table


def _joined_and_left(base: Run, other: Run) -> tuple[pd.Series, pd.Series]:
    """Per manager: customers only the later plan holds (joined) and only the earlier (left)."""
    before, after = _holders(base), _holders(other)
    joined = after[~after.index.isin(before.index)].value_counts()
    left = before[~before.index.isin(after.index)].value_counts()
    return joined, left


def membership_note(base: Run, other: Run) -> str | None:
    """How the customers of two plans differ, where they do: moves count only those in both."""
    before = set(base.assignment["customer_id"].astype(str))
    after = set(other.assignment["customer_id"].astype(str))
    if before == after:
        return None
    return (
        f"{base.label} and {other.label} hold different customers: {len(before - after)} only "
        f"in {base.label}, {len(after - before)} only in {other.label}; moves count the "
        f"{len(before & after)} both hold"
    )


def other_branch_note(base: Run, other: Run) -> str | None:
    """Where most customers both plans hold go by other names in the two scenarios, the plans
    look like two branches whose ids overlap: moves between them mean little."""
    before, after = base.customer_names, other.customer_names
    shared = sorted(set(before) & set(after))
    renamed = [c for c in shared if before[c].strip() != after[c].strip()]
    if not shared or len(renamed) * 2 <= len(shared):
        return None
    c = renamed[0]
    return (
        f"{len(renamed)} of the {len(shared)} customers {base.label} and {other.label} both hold "
        f"have other names in their scenarios ({c} is {before[c]!r} in {base.label}, "
        f"{after[c]!r} in {other.label}): these look like plans of two branches, and the moves "
        "between them mean little"
    )


@dataclass
class Comparison:
    """Plans side by side: the KPI table, and moves from the first plan to each other one."""

    runs: list[Run]
    kpis: pd.DataFrame
    moves: pd.DataFrame
    by_manager: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    left_out: list[CompareError] = field(default_factory=list)  # scenarios without a plan


def compare_runs(runs: Sequence[Run]) -> Comparison:
    """Compare plans; moves are counted from the first plan to each later one of its customers."""
    runs = list(runs)
    notes = [note for run in runs for note in run.notes]
    moves, by_manager = [], []
    for other in runs[1:]:
        notes += [
            note
            for note in (membership_note(runs[0], other), other_branch_note(runs[0], other))
            if note is not None
        ]
        pair = moves_between(runs[0], other)
        moves.append(pair)
        by_manager.append(manager_moves(pair, runs[0], other))
    renamed = [
        f"{label} = {run.label}"
        for i, run in enumerate(runs)
        if (label := plan_label(run, i)[0]) != run.label
    ]
    if renamed:
        notes.append(f"no font here draws some plans' names; the plots call them {listed(renamed)}")
    return Comparison(
        runs,
        kpi_table(runs),
        pd.concat(moves, ignore_index=True) if moves else pd.DataFrame(),
        pd.concat(by_manager, ignore_index=True) if by_manager else pd.DataFrame(),
        notes,
    )


def _fairness_figure(runs: Sequence[Run]) -> Figure:
    """Every plan's Lorenz curves on one square axes; the Gini of each curve in the legend,
    beside the axes (plans' names, a sweep's variants, are too long for a title and cover the
    curves). The figure is as wide as the legend needs, laid out by hand: a layout engine
    squeezes square axes to make room for a long legend."""
    labels = [plan_label(run, i) for i, run in enumerate(runs)]
    longest = max((len(label) for label, _ in labels), default=0)
    # The entries read "<plan>: <type> (Gini 0.0123)" at 8 pt, after a line of handle.
    legend = LEGEND_HANDLE_INCHES + LEGEND_INCHES_PER_CHARACTER * (longest + 30)
    left, side, gap, bottom, top = 0.9, 5.4, 0.2, 0.75, 0.6
    width, height = left + side + gap + legend, bottom + side + top
    figure = Figure(figsize=(width, height))
    ax = figure.add_axes((left / width, bottom / height, side / width, side / height))
    family: dict[str, object] = {}
    for i, (run, (label, style)) in enumerate(zip(runs, labels, strict=True)):
        if style and not family:
            family = {"family": style["fontfamily"]}
        plot_fairness(run.portfolios, ax, label=label, color=f"C{i}")
    ax.set_title("")  # each curve's own, in the middle
    ax.set_title("Target fairness of each plan (Gini in the legend; 0: equal targets)", loc="left")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.0 + gap / side, 1.0),
        frameon=False,
        prop={"size": 8, **family},
    )
    return figure


def plan_label(run: Run, position: int) -> tuple[str, dict[str, object]]:
    """The plan's label in a figure, and its font keywords; ``plan N`` where no font here
    draws the label (Chinese without a CJK font)."""
    return fonts.label_or(run.label, f"plan {position + 1}")


def _load_figure(runs: Sequence[Run]) -> Figure:
    """The plans' panels side by side; one under another where that would be too wide."""
    widths = [max(3.2, 1.0 + 0.42 * len(run.portfolios)) for run in runs]
    stacked = sum(widths) > SIDE_BY_SIDE_INCHES
    if stacked:
        width = max(bar_figure_width(len(run.portfolios)) for run in runs)
        figure = Figure(figsize=(width + 2.8, 4.4 * len(runs)), layout="constrained")
        axes = figure.subplots(len(runs), 1, sharey=True, squeeze=False)[:, 0]
    else:
        figure = Figure(figsize=(sum(widths) + 2.8, 5.2), layout="constrained")
        axes = figure.subplots(1, len(runs), sharey=True, width_ratios=widths, squeeze=False)[0]
    tops: list[float] = []
    entries: dict[str, Any] = {}
    for i, (run, ax) in enumerate(zip(runs, axes, strict=True)):
        label, style = plan_label(run, i)
        plot_load(run.portfolios, run.bands(), ax, names=run.manager_names, title=label)
        tops.append(ax.get_ylim()[1])  # the axes share y: the next panel resets it
        legend = ax.get_legend()
        # Plans with other managers or tolerances have other bands and ideals: each panel
        # names its own under its title, and the one legend, for every panel, names neither.
        labels = [t.get_text() for t in legend.get_texts()]
        own = [label for label in labels if label.startswith(("span band", "ideal"))]
        ax.set_title(f"{label}\n{', '.join(own)}", fontsize=10, **style)
        for handle, label in zip(legend.legend_handles, labels, strict=True):
            entries.setdefault(label.split(" ")[0] if label in own else label, handle)
        legend.remove()
        if i and not stacked:
            ax.set_ylabel("")
    generic = {"span": "span band", "ideal": "ideal"}
    axes[0 if stacked else -1].legend(
        handles=list(entries.values()),
        labels=[generic.get(label, label) for label in entries],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    for ax in axes:
        ax.set_ylim(0, max(tops))
    figure.suptitle("Customers per manager")
    return figure


def comparison_figures(comparison: Comparison) -> dict[str, Figure]:
    """fairness: Lorenz curves overlaid; load: each plan's customers per manager, side by side."""
    return {
        "fairness": _fairness_figure(comparison.runs),
        "load": _load_figure(comparison.runs),
    }


def portfolios_side_by_side(runs: Sequence[Run]) -> pd.DataFrame:
    """Per manager: each plan's portfolio type, customers and target."""
    table: pd.DataFrame | None = None
    names: dict[str, str] = {}
    for run in runs:
        names = {**run.manager_names, **names}
        part = run.portfolios[["manager_id", "portfolio_type", "n_customers", "target"]].rename(
            columns={
                "portfolio_type": f"{run.label} type",
                "n_customers": f"{run.label} customers",
                "target": f"{run.label} target",
            }
        )
        part = part.assign(manager_id=part["manager_id"].astype(str))
        table = part if table is None else table.merge(part, on="manager_id", how="outer")
    assert table is not None
    table.insert(1, "manager_name", table["manager_id"].map(names).fillna(""))
    return table.sort_values("manager_id").reset_index(drop=True)


def _where(run_folder: Path | None, folder: Path) -> str | None:
    """A run's folder, relative when it lies inside the comparison (it moves with it)."""
    if run_folder is None:
        return None
    resolved = run_folder.resolve()
    inside = resolved.is_relative_to(folder.resolve())
    return str(resolved.relative_to(folder.resolve())) if inside else str(resolved)


def left_out_table(left_out: Sequence[CompareError]) -> pd.DataFrame:
    """A row per reason of each scenario left out: why it has no plan, with its exit code."""
    return pd.DataFrame(
        [
            {"left_out": str(failed), "exit_code": failed.exit_code, "reason": reason}
            for failed in left_out
            for reason in failed.details or [""]
        ],
        columns=["left_out", "exit_code", "reason"],
    )


def write_comparison(folder: Path, comparison: Comparison) -> None:
    """compare.csv, compare.xlsx, moves.csv, moves_by_manager.csv, left_out.csv (where a
    scenario was left out) and plots/ into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(comparison.kpis, folder / "compare.csv")
    sheets: dict[str, pd.DataFrame | Sheet] = {
        "KPIs": Sheet(comparison.kpis, key_column="kpi"),
        "Portfolios": portfolios_side_by_side(comparison.runs),
    }
    if not comparison.moves.empty or not comparison.by_manager.empty:
        write_csv(comparison.moves, folder / "moves.csv")
        write_csv(comparison.by_manager, folder / "moves_by_manager.csv")
        sheets["Moves"] = comparison.moves
        sheets["Moves by manager"] = comparison.by_manager
    if comparison.left_out:
        sheets["Left out"] = left_out_table(comparison.left_out)
        write_csv(sheets["Left out"], folder / "left_out.csv")
    write_workbook(folder / "compare.xlsx", sheets)
    save_figures(folder / "plots", comparison_figures(comparison))
    manifest = {
        "tool": "portfolio-opt",
        "command": "compare",
        "version": __version__,
        "plans": {run.label: _where(run.folder, folder) for run in comparison.runs},
        "notes": comparison.notes,
        "left_out": [{"why": str(e), "reasons": e.details} for e in comparison.left_out],
    }
    write_manifest(folder, manifest)


def folder_problem(out: Path, inputs: Sequence[Path]) -> str | None:
    """Why ``out`` cannot take the comparison (it is replaced whole), or ``None``."""
    return replace_problem(out, {Path(p): "plan" for p in inputs}, "compare")
