"""Loading a scenario folder: policy, tables, types, and every problem at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from portfolio_opt.problems import Problem, ScenarioError, Severity
from portfolio_opt.scenario import validate as rules
from portfolio_opt.scenario.columns import coerce_table, has_required_columns
from portfolio_opt.scenario.data import Scenario, premium_ledger_mask
from portfolio_opt.scenario.policy import (
    POLICY_FILE,
    Classes,
    Payout,
    Policy,
    gives_objective,
    load_policy,
    names_listed,
    payout_section,
    policy_key_line,
    tables_section,
    values_warnings,
)
from portfolio_opt.scenario.schema import INCOME_COLUMNS, REQUIRED_TABLES, SCHEMAS
from portfolio_opt.scenario.tables import (
    TOO_MANY_FIELDS,
    at_sheet_rows,
    read_table,
    resolve_inside,
    rows_above_header,
    shifted_rows,
    split_table_spec,
)
from portfolio_opt.scenario.xlsx import workbooks_kept


def _empty(table: str) -> pd.DataFrame:
    return _typed_empty(table).copy()


@cache
def _typed_empty(table: str) -> pd.DataFrame:
    frame = pd.DataFrame({c.name: pd.Series(dtype=str) for c in SCHEMAS[table]})
    typed, _ = coerce_table(frame, SCHEMAS[table], table)
    return typed


def scenario_root(path: str | Path) -> Path:
    """A scenario is named by its folder or by its scenario.toml."""
    path = Path(path)
    return path.parent if path.is_file() and path.suffix == ".toml" else path


def _read_tables(
    root: Path, policy: Policy
) -> tuple[dict[str, pd.DataFrame], dict[str, Path], dict[str, str], list[Problem]]:
    """Every table [tables] names, typed, with the files, labels and problems found; a workbook
    holding several of them is loaded once."""
    with workbooks_kept():
        return _read_each_table(root, policy)


def _read_each_table(
    root: Path, policy: Policy
) -> tuple[dict[str, pd.DataFrame], dict[str, Path], dict[str, str], list[Problem]]:
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    labels: dict[str, str] = {}
    problems: list[Problem] = []
    for table in SCHEMAS:
        spec = getattr(policy.tables, table)
        if spec is None:
            continue
        file, sheet = split_table_spec(spec)
        # A workbook may hold several tables: the sheet says which one a problem is in.
        labels[table] = Path(file).name + (f"#{sheet}" if sheet else "")
        required = [c.name for c in SCHEMAS[table] if c.required]
        known = {c.name for c in SCHEMAS[table]}
        if resolve_inside(root, file) is None:
            problems.append(_outside_the_folder(root, table, spec))
            continue
        raw, found = read_table(root, spec, labels[table], required, known)
        problems += found
        if above := rows_above_header(found):
            problems += _below_title(root, spec, labels[table], table, above, policy)
            continue
        if raw is None:
            continue
        typed, found = _typed(raw, table, labels[table])
        problems += found
        if not has_required_columns(raw, SCHEMAS[table]):
            # Checks across tables would repeat that the column is missing; repeated ids not.
            problems += _ids_unique_alone(table, typed, labels[table])
            continue
        frames[table] = typed
        inside = resolve_inside(root, file)
        if inside is not None:
            files[table] = inside
    return frames, files, labels, problems


def _typed(raw: pd.DataFrame, table: str, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """The table with its columns typed, and the problems of its columns and cells."""
    problems = rules.look_alike_columns(raw, table, label) + rules.nameless_columns(raw, label)
    if table in ("customers", "actuals"):
        problems += rules.income_columns_read(raw, table, label)
    typed, found = coerce_table(raw, SCHEMAS[table], label)
    return typed, problems + found


def _ids_unique_alone(table: str, typed: pd.DataFrame, label: str) -> list[Problem]:
    """Repeated customer or manager ids of a table missing another required column."""
    column = {"customers": "customer_id", "managers": "manager_id"}.get(table, "")
    return rules.duplicate_ids(typed, column, label) if column in typed.columns else []


def _outside_the_folder(root: Path, table: str, spec: str) -> Problem:
    """A table path that leaves the scenario folder, named at its key in scenario.toml; a link
    in the folder to a file outside is named as such."""
    file = root / split_table_spec(spec)[0]
    if file.is_symlink():
        message = f"{table} = {spec!r} is a link to {file.resolve()}, outside the scenario folder"
        hint = "copy the file into the folder: a scenario holds its own tables"
    else:
        message = f"{table} = {spec!r} leaves the scenario folder"
        hint = "keep every table inside the folder, and name it relative to it"
    return Problem(
        POLICY_FILE,
        message,
        hint,
        row=policy_key_line(root, f"tables.{table}"),
        column=f"tables.{table}",
    )


def _unit_target_slip(root: Path, customers: pd.DataFrame, policy: Policy) -> list[Problem]:
    """The payout's warning on a unit target far above the stock, before anything is solved."""
    if policy.payout.unit_target is None:
        return []
    # The payout model builds on the scenario: imported here, when a unit target is given.
    from portfolio_opt.payout.notices import unit_target_notice
    from portfolio_opt.payout.targets import target_reconciliation

    try:
        reconciliation = target_reconciliation(customers, policy)
    except (ValueError, KeyError):  # columns the other checks already report
        return []
    if reconciliation is None or not reconciliation.implausible:
        return []  # the other notices need the plan's customers: the payout gives them
    return unit_target_notice(reconciliation, policy_key_line(root, "payout.unit_target"))


def _foreign_income_without_fx_rate(
    frames: dict[str, pd.DataFrame], labels: dict[str, str], policy: Policy
) -> list[Problem]:
    """A warning at the first foreign-currency income of each table when scenario.toml gives
    no [payout] fx_rate: the income then counts one for one as local currency."""
    if "fx_rate" in policy.payout.model_fields_set:
        return []
    problems = []
    for table in [t for t in ("customers", "actuals") if t in frames]:
        frame = frames[table]
        foreign = [c for c in INCOME_COLUMNS if c.endswith("_fx") and c in frame.columns]
        given = [(np.flatnonzero(frame[c].fillna(0.0).to_numpy() != 0), c) for c in foreign]
        if first := min(((int(rows[0]), c) for rows, c in given if len(rows)), default=None):
            problems.append(
                Problem(
                    labels[table],
                    f"foreign-currency income, but scenario.toml gives no [payout] fx_rate: "
                    f"{first[1]} counts one for one as local currency",
                    "set fx_rate under [payout]: local currency per unit of foreign currency",
                    row=first[0] + 2,
                    column=first[1],
                    severity=Severity.WARNING,
                )
            )
    return problems


def _tables_beside_a_bad_policy(root: Path) -> list[Problem]:
    """The tables' own problems (bad cells, missing columns, duplicate ids, unknown
    references) while the policy has errors, so that one round of fixes can take them all;
    classes and grades too where their lists are sound, and the payout tables where [payout]
    is. The other checks across tables need the whole policy."""
    tables = tables_section(root / POLICY_FILE)
    if tables is None:
        return []
    frames, _, labels, found = _read_tables(root, Policy(tables=tables))
    if not all(t in frames for t in REQUIRED_TABLES):
        found += _new_cells(_one_table_read(frames, labels, None), found)
        return _without_shifted_cells(found)
    found += _new_cells(_table_checks(frames, labels), found)
    classes, grades = (names_listed(root / POLICY_FILE, key) for key in ("classes", "grades"))
    payout, salaries_bad = payout_section(root / POLICY_FILE)
    policy = Policy.model_construct(
        tables=tables,
        classes=Classes.model_construct(classes=classes or [], grades=grades or []),
        payout=payout or Payout(),
    )
    if classes is not None:
        found += rules.classes_known(frames["customers"], policy, labels["customers"])
    if grades is not None:
        found += rules.grades_known(frames["managers"], policy, labels["managers"])
    if payout is not None and len(frames["customers"]) and len(frames["managers"]):
        checked = _payout_checks(frames, labels, policy)
        if salaries_bad:  # they would read the default salary for the planner's table
            checked = [p for p in checked if p.column != "staff_level"]
        found += _new_cells(checked, found)
    return _without_shifted_cells(found)


def _without_shifted_cells(problems: list[Problem]) -> list[Problem]:
    """The problems, less those in rows reported with too many fields: their cells sit in the
    wrong columns, so the problems would blame the wrong cells."""
    shifted = shifted_rows(problems)
    return [p for p in problems if (p.file, p.row) not in shifted or TOO_MANY_FIELDS in p.message]


def _tables_not_named(root: Path, policy: Policy) -> list[Problem]:
    """A warning for each file in the folder named like a table (relations.csv) that [tables]
    does not name: it is not read, and a planner may think it is (an old CSV beside the
    workbook that [tables] names, say)."""
    problems = []
    for table in SCHEMAS:
        named = getattr(policy.tables, table)
        used = None if named is None else resolve_inside(root, split_table_spec(named)[0])
        given = None if named is None else root / split_table_spec(named)[0]
        for suffix in (".csv", ".xlsx"):
            file = root / f"{table}{suffix}"
            if not file.is_file() or (used is not None and file.resolve() == used):
                continue
            if given is not None and file.absolute() == given.absolute():
                continue  # named, but a link out of the folder: an error says so
            reason = (
                "[tables] does not name it"
                if named is None
                else f"[tables] names {named} for {table}"
            )
            hint = (
                f'add {table} = "{table}{suffix}" under [tables], or move the file away'
                if named is None
                else "move the file away, or name it in [tables] instead"
            )
            problems.append(
                Problem(
                    f"{table}{suffix}",
                    f"the file is in the folder, but {reason}: it is not read",
                    hint,
                    severity=Severity.WARNING,
                )
            )
    return problems


def _below_title(
    root: Path, spec: str, label: str, table: str, above: int, policy: Policy
) -> list[Problem]:
    """A table's own problems below the title above its column names (bad cells, missing
    columns, repeated ids, unknown classes), at the sheet's rows, so that they show together
    with the title's; the checks across tables wait until the title is gone."""
    schema = SCHEMAS[table]
    required = [c.name for c in schema if c.required]
    raw, found = read_table(root, spec, label, required, {c.name for c in schema}, above)
    if raw is not None:
        typed, cells = _typed(raw, table, label)
        found += cells
        if has_required_columns(raw, schema):
            found += _new_cells(_own_checks(table, typed, label, policy), found)
    return [at_sheet_rows(p, above) for p in found]


def _cross_checks(
    frames: dict[str, pd.DataFrame], labels: dict[str, str], policy: Policy
) -> list[Problem]:
    """Every check across rows and tables: those that read the policy, and the rest."""
    customers, managers = frames["customers"], frames["managers"]
    c_label, m_label = labels["customers"], labels["managers"]
    premium_ledger = premium_ledger_mask(customers, policy)
    problems = [
        *rules.classes_known(customers, policy, c_label),
        *rules.grades_known(managers, policy, m_label),
        *rules.flags_that_bar(managers, policy, m_label, bool(premium_ledger.any())),
        *rules.incomes_within_reach(customers, policy, c_label),
        *rules.tenure_without_prior(customers, policy, c_label),
    ]
    if len(customers) and len(managers):
        affinity = frames.get("affinity")
        problems += rules.affinity_goal_has_a_table(policy, affinity, POLICY_FILE)
        problems += rules.capacity_without_workload(managers, policy, affinity, m_label)
        problems += rules.workload_without_capacity(managers, policy, affinity, m_label)
        problems += _payout_checks(frames, labels, policy)
    return _table_checks(frames, labels) + problems


def _customer_checks(customers: pd.DataFrame, label: str) -> list[Problem]:
    """The checks of the customers table on its own."""
    return [
        *rules.customer_ids_unique(customers, label),
        *rules.industries_alike(customers, label),
        *rules.own_columns_carried(customers, "customers", label),
        *rules.negative_income(customers, label),
        *rules.outlying_income(customers, label),
        *rules.growth_as_percent(customers, label),
        *rules.placeholder_groups(customers, label),
        *rules.ids_excel_changed(customers, label),
    ]


def _manager_checks(managers: pd.DataFrame, label: str) -> list[Problem]:
    """The checks of the managers table on its own."""
    return [
        *rules.manager_ids_unique(managers, label),
        *rules.designations_available(managers, label),
        *rules.own_columns_carried(managers, "managers", label),
        *rules.personal_bounds_ordered(managers, label),
        *rules.some_manager_available(managers, label),
        *rules.ids_excel_changed(managers, label),
        *rules.scores_as_fractions(managers, label),
    ]


def _one_table_read(
    frames: dict[str, pd.DataFrame], labels: dict[str, str], policy: Policy | None
) -> list[Problem]:
    """Where customers or managers could not be read (a column missing), the checks the other
    one needs alone, and those of relations, which need only the customers: one round of
    fixes takes them all."""
    problems = []
    if "customers" in frames:
        customers, label = frames["customers"], labels["customers"]
        problems += _own_checks("customers", customers, label, policy)
        if "relations" in frames and len(customers):
            problems += rules.relations_valid(frames["relations"], customers, labels["relations"])
    if "managers" in frames:
        problems += _own_checks("managers", frames["managers"], labels["managers"], policy)
    return problems


def _own_checks(
    table: str, frame: pd.DataFrame, label: str, policy: Policy | None
) -> list[Problem]:
    """The checks of the customers or managers table on its own (none for the others)."""
    if table == "customers":
        own = _customer_checks(frame, label)
        return own + (rules.classes_known(frame, policy, label) if policy is not None else [])
    if table == "managers":
        own = _manager_checks(frame, label)
        return own + (rules.grades_known(frame, policy, label) if policy is not None else [])
    return []


def _table_checks(frames: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    """The checks across rows and tables that need no policy, so that they run while the
    policy has errors too: duplicate ids, unknown references, bounds out of order."""
    customers, managers = frames["customers"], frames["managers"]
    c_label, m_label = labels["customers"], labels["managers"]
    problems = [
        *_customer_checks(customers, c_label),
        *_manager_checks(managers, m_label),
        *rules.manager_references_known(customers, managers, c_label),
        *rules.pins_to_available(customers, managers, c_label),
    ]
    if not len(customers):  # every reference to a customer would be reported unknown
        return [*rules.some_customers(customers, c_label), *problems]
    if not len(managers):  # likewise every reference to a manager
        references = {"prior_manager_id", "pinned_manager_id"}
        return [p for p in problems if not (p.file == c_label and p.column in references)]
    if "relations" in frames:
        problems += rules.relations_valid(frames["relations"], customers, labels["relations"])
    if "affinity" in frames:
        problems += rules.affinity_valid(
            frames["affinity"], customers, managers, labels["affinity"]
        )
    if "actuals" in frames:
        problems += rules.negative_income(frames["actuals"], labels["actuals"])
    return problems


def _payout_checks(
    frames: dict[str, pd.DataFrame], labels: dict[str, str], policy: Policy
) -> list[Problem]:
    from portfolio_opt.payout.validate import no_actuals_rows, validate_payout_inputs

    payout_tables = ("actuals", "adjustments", "credits")
    if any(getattr(policy.tables, t) is not None and t not in frames for t in payout_tables):
        return []  # one named but unread (a title row): read as empty, it would mislead
    tables = {
        t: frames[t] if t in frames else _empty(t) for t in ("actuals", "adjustments", "credits")
    }
    given = no_actuals_rows(frames["actuals"], labels["actuals"]) if "actuals" in frames else []
    return given + validate_payout_inputs(
        frames["customers"],
        frames["managers"],
        tables["actuals"],
        tables["adjustments"],
        tables["credits"],
        policy,
        files=labels,
    )


def _new_cells(found: list[Problem], earlier: list[Problem]) -> list[Problem]:
    """``found`` without problems on cells that already have an error (a share that is not a
    number is not also outside 0..1, nor is an amount that is not a number a penalty of 0)."""
    flagged = {(p.file, p.row, p.column) for p in earlier if p.is_error and p.row is not None}
    return [p for p in found if (p.file, p.row, p.column) not in flagged]


OVERRIDES = "--set"  # where values given instead of the policy file's are said to come from


def _with_overrides(
    policy: Policy, overrides: dict[str, object]
) -> tuple[Policy | None, list[Problem]]:
    try:
        updated = policy.updated(overrides)
    except ValidationError as exc:
        return None, [
            Problem(
                POLICY_FILE,
                f"override {'.'.join(map(str, e['loc']))}: {e['msg']}",
                "fix the value given on the command line",
            )
            for e in exc.errors()
        ]
    return updated, values_warnings(updated, overrides, OVERRIDES)


def _objective_of_overrides(problems: list[Problem], overrides: dict[str, object]) -> list[Problem]:
    """Where the command line gives the objective: the file's warnings on its own [objective]
    go (they are said again of the objective in force), and the checks of the objective in
    force (an affinity goal without its table) name the command line, not the file."""
    if not gives_objective(overrides):
        return problems
    said = []
    for p in problems:
        own = p.file == POLICY_FILE and not p.is_error
        if own and (p.column or "").startswith("objective."):
            continue
        said.append(replace(p, file=OVERRIDES) if own and p.column == "objective" else p)
    return said


def _taken_away(managers: pd.DataFrame, away: Sequence[str]) -> pd.DataFrame:
    """The managers table with those ``away`` unavailable, as if it said so; as it is where
    that would leave nobody (the command says so, as bad usage) or it cannot tell."""
    if not away or "manager_id" not in managers:
        return managers
    if managers.get("available", pd.Series()).dtype != bool:
        return managers
    kept = managers["available"] & ~managers["manager_id"].astype(str).isin(list(away))
    return managers.assign(available=kept) if kept.any() else managers


def inspect_scenario(
    path: str | Path,
    overrides: dict[str, object] | None = None,
    away: Sequence[str] = (),
) -> tuple[Scenario | None, list[Problem]]:
    """Load what can be loaded and list every problem (errors and warnings) found on the way.

    ``overrides`` replace policy keys by dotted name (``{"span.tolerance": 1}``) before checking,
    and the managers ``away`` are taken as unavailable, as if managers.csv said so.
    """
    root = scenario_root(path)
    if root.is_file():
        return None, [
            Problem(
                str(path),
                "is a file, not a scenario folder",
                f"give the folder holding scenario.toml ({root.parent}?)",
            )
        ]
    if not root.is_dir():
        return None, [
            Problem(str(path), "no such scenario folder", "give the folder holding scenario.toml")
        ]
    policy, problems = load_policy(root / POLICY_FILE)
    if policy is not None and overrides:
        policy, found = _with_overrides(policy, overrides)
        problems = [*problems, *found]
    if policy is None:
        return None, problems + _tables_beside_a_bad_policy(root)
    frames, files, labels, found = _read_tables(root, policy)
    problems += found + _tables_not_named(root, policy)
    if "managers" in frames:
        frames["managers"] = _taken_away(frames["managers"], away)
    if all(t in frames for t in REQUIRED_TABLES):
        problems += _new_cells(_cross_checks(frames, labels, policy), problems)
        problems += _unit_target_slip(root, frames["customers"], policy)
        problems += _foreign_income_without_fx_rate(frames, labels, policy)
    else:
        problems += _new_cells(_one_table_read(frames, labels, policy), problems)
    problems = _objective_of_overrides(_without_shifted_cells(problems), overrides or {})
    if any(p.is_error for p in problems):
        return None, problems
    scenario = Scenario(
        root=root,
        policy=policy,
        files=files,
        warnings=[p for p in problems if not p.is_error],
        **{t: frames[t] if t in frames else _empty(t) for t in SCHEMAS},
    )
    return scenario, problems


def load_scenario(path: str | Path, overrides: dict[str, object] | None = None) -> Scenario:
    """Load and validate a scenario folder; raise ScenarioError listing every problem.

    ``overrides`` replace policy keys by dotted name, e.g. ``{"span.tolerance": 1}``.
    """
    scenario, problems = inspect_scenario(path, overrides)
    if scenario is None:
        raise ScenarioError(problems)
    return scenario
