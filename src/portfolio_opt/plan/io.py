"""Reading an assignment file, such as a plan a planner edited in Excel."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_opt.plan.checker import text_column
from portfolio_opt.problems import Problem, Severity, listed
from portfolio_opt.report.safe_text import unescape_formula
from portfolio_opt.scenario.columns import capped, id_hint, id_lookup, parse_numbers
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.glossary import column_for_header
from portfolio_opt.scenario.tables import (
    at_sheet_rows,
    column_name,
    read_table,
    rows_above_header,
    split_table_spec,
)
from portfolio_opt.scenario.validate import LOOK_ALIKE, column_spelling

REQUIRED = ("customer_id", "manager_id")
# The columns a plan is read by, matched in any case: the ids, and the written columns whose
# edits are warned about (manager_name, and those in WORKED_OUT).
SCENARIO_COLUMNS = ("prior_manager_id", "customer_class", "group_id", "industry")
READ_COLUMNS = (*REQUIRED, "manager_name", "portfolio_type", "target", *SCENARIO_COLUMNS)
SOURCE_ROWS, SOURCE_FILE = "source_rows", "source_file"  # a plan's attrs: where its rows were
ANOTHER_BRANCH_SHARE = 0.9  # of the plan's customers unknown, past which it is named as such
LEFT_AT_MOST = 0.5  # of last year's plan naming customers or managers who left, at the most


def _row(position: int) -> int:
    """Spreadsheet row of a data row: the header is row 1."""
    return position + 2


def _header_meant(headers: Sequence[str], column: str) -> str | None:
    """A hint naming the header that stands for the missing ``column`` ("Customer ID",
    "客户号", "custmer_id"), if one does."""
    table = "customers" if column == "customer_id" else "managers"
    for header in headers:
        close = difflib.get_close_matches(column_spelling(header), [column], cutoff=LOOK_ALIKE)
        if close or column_for_header(table, column_name(header)) == column:
            return f"rename the column {header!r} to {column!r}"
    return None


def _id_problems(
    frame: pd.DataFrame, scenario: Scenario, label: str, leavers: frozenset[str] = frozenset()
) -> list[Problem]:
    """Unknown and repeated ids, located by row: errors, as in any table (an id Excel changed,
    00123 read as 123, would otherwise read as a plan breaking every rule). Past 50 of a kind,
    one line names the rest's rows: a plan of another branch is not 40,000 lines."""
    unknown: dict[str, list[Problem]] = {"customer_id": [], "manager_id": []}
    repeated: list[Problem] = []
    known = {
        column: (set(text_column(table, column)), name)
        for column, table, name in (
            ("customer_id", scenario.customers, "customers"),
            ("manager_id", scenario.managers, "managers"),
        )
    }
    lookups = {column: id_lookup(ids) for column, (ids, _) in known.items()}
    named = _ids_by_name(scenario.managers)
    first_row: dict[str, int] = {}
    unexplained = 0  # unknown customers no slip (lost zeros, case) explains
    for position, (cid, mid) in enumerate(
        zip(frame["customer_id"], frame["manager_id"], strict=True)
    ):
        row = int(frame.index[position])
        for column, value in (("customer_id", cid), ("manager_id", mid)):
            ids, table = known[column]
            if value and value not in ids and not (column == "manager_id" and value in leavers):
                # A slip (zeros a spreadsheet dropped, case) has its hint; else the table.
                slip = id_hint(value, lookups[column])
                if column == "manager_id" and len(named.get(value, [])) == 1:
                    slip = (
                        f"{value} is the name of manager {named[value][0]}: write {named[value][0]}"
                    )
                unexplained += column == "customer_id" and slip is None
                unknown[column].append(
                    Problem(
                        label,
                        f"unknown {column.removesuffix('_id')} {value!r}",
                        slip or f"use an id from the {table} table",
                        row=row,
                        column=column,
                    )
                )
        if cid in first_row:
            repeated.append(
                Problem(
                    label,
                    f"customer {cid} is listed again (first at row {first_row[cid]})",
                    "keep one row per customer",
                    row=row,
                    column="customer_id",
                )
            )
        first_row.setdefault(cid, row)
    return [
        *_another_branch(unexplained, len(frame), label),
        *capped(unknown["customer_id"], "unknown customers", "use an id from the customers table"),
        *capped(unknown["manager_id"], "unknown managers", "use an id from the managers table"),
        *capped(repeated, "repeated customers"),
    ]


def _ids_by_name(managers: pd.DataFrame) -> dict[str, list[str]]:
    """Managers' ids by their name, for a plan that names the manager instead of the id."""
    if "name" not in managers.columns:
        return {}
    ids: dict[str, list[str]] = {}
    for mid, name in zip(
        text_column(managers, "manager_id"), text_column(managers, "name"), strict=True
    ):
        if name.strip():
            ids.setdefault(name.strip(), []).append(mid)
    return ids


def _unexplained(ids: pd.Series, table: pd.DataFrame, column: str) -> pd.Series:
    """Which ``ids`` the table does not have and no spreadsheet slip (lost zeros, case)
    explains."""
    known = set(text_column(table, column))
    lookup = id_lookup(known)
    return ids.map(lambda i: bool(i) and i not in known and id_hint(i, lookup) is None)


def _mostly_known(frame: pd.DataFrame, scenario: Scenario) -> bool:
    """Whether at most LEFT_AT_MOST of the plan's rows name a customer or manager the
    scenario does not have: then they left; beyond, the plan is of another branch."""
    unknown = _unexplained(frame["customer_id"], scenario.customers, "customer_id") | (
        _unexplained(frame["manager_id"], scenario.managers, "manager_id")
    )
    return bool(unknown.sum() <= LEFT_AT_MOST * len(frame))


def _without_customers_who_left(
    frame: pd.DataFrame, scenario: Scenario, label: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """The plan without the customers the scenario does not know and no slip explains (lost
    zeros, case), and a warning naming them."""
    gone = _unexplained(frame["customer_id"], scenario.customers, "customer_id")
    if not gone.any():
        return frame, []
    ids = frame.loc[gone, "customer_id"].tolist()
    warning = Problem(
        label,
        f"{len(ids)} customer(s) of the plan are not in the scenario ({listed(ids)}): left out "
        "of its figures, as customers who left",
        "nothing to do if they left; else check their ids",
        severity=Severity.WARNING,
    )
    return frame[~gone], [warning]


def _managers_who_left(
    frame: pd.DataFrame, scenario: Scenario, label: str
) -> tuple[frozenset[str], list[Problem]]:
    """Managers of the plan the scenario does not know and no slip explains, taken as managers
    who left (deleted from managers), with a warning."""
    held = frame["manager_id"]
    gone = _unexplained(held, scenario.managers, "manager_id")
    if not gone.any():
        return frozenset(), []
    ids = sorted(set(held[gone]))
    warning = Problem(
        label,
        f"{int(gone.sum())} customer(s) of the plan are held by managers the scenario does not "
        f"have ({listed(ids)}): shown as managers who left, not paid",
        "nothing to do if they left; else check their ids",
        severity=Severity.WARNING,
    )
    return frozenset(ids), [warning]


def _another_branch(unknown: int, listed: int, label: str) -> list[Problem]:
    """One line first where nearly all the plan's customers are unknown: the likely cause is a
    plan of another branch (or another year's scenario), not many slips."""
    if unknown <= ANOTHER_BRANCH_SHARE * listed:
        return []
    return [
        Problem(
            label,
            f"{unknown:,} of the plan's {listed:,} customers are not in the scenario",
            "check that the plan belongs to this scenario",
        )
    ]


def _plan_in_folder(folder: Path) -> str:
    """Which plan file of an output folder to give: report.xlsx's plan sheet where the workbook
    was edited since the solve (and assignment.csv was not), else assignment.csv."""
    from portfolio_opt.report.folders import files_changed

    inside = folder / "assignment.csv"
    if not inside.is_file():
        return "give the plan file in it"
    changed = files_changed(folder)
    if "report.xlsx" in changed and "assignment.csv" not in changed:
        return (
            f"give {folder / 'report.xlsx'}#Assignment: report.xlsx was changed since the solve "
            f"(edited in Excel?), and {inside} is the plan as solved"
        )
    return f"give {inside}"


def read_assignment(
    path: Path, scenario: Scenario, customers_left: bool = False
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read an assignment (CSV in UTF-8, UTF-8 with BOM or GB18030; or ``.xlsx[#Sheet]``).

    Every cell is read as text, so ids keep their exact spelling (no ``101.0``); column names
    are matched case-insensitively after trimming; blank rows are skipped. Returns the rows
    (``customer_id``, ``manager_id`` and any other columns, all text) and the problems found:
    errors for a file that cannot be used and for unknown or repeated ids. With
    ``customers_left`` (last year's plan against this year's scenario), customers the scenario
    does not know are customers who left (their rows dropped) and managers it does not know
    managers who left (their rows kept), each with one warning, unless more than half the rows
    name such ids (a plan of another branch) or a spreadsheet's slip explains them.
    """
    file, sheet = split_table_spec(str(path))
    label = Path(file).name
    real = Path(file).resolve()
    if real.is_dir():
        return _no_plan(), [Problem(label, "is a folder, not a plan file", _plan_in_folder(real))]
    if not real.is_file():
        return _no_plan(), [Problem(label, "file not found", f"check the path {file}")]
    spec = real.name + (f"#{sheet}" if sheet else "")
    plan, problems = _plan_read(real.parent, spec, label, scenario, customers_left)
    if above := rows_above_header(problems):  # the rows' own problems too, at sheet rows
        _, below = _plan_read(real.parent, spec, label, scenario, customers_left, above)
        problems += [at_sheet_rows(p, above) for p in below]
    return plan, problems


def _no_plan() -> pd.DataFrame:
    """The plan of a file that cannot be read: its columns, no rows."""
    return pd.DataFrame({c: pd.Series(dtype=str) for c in REQUIRED})


def _plan_read(
    folder: Path,
    spec: str,
    label: str,
    scenario: Scenario,
    customers_left: bool,
    skip_rows: int = 0,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The plan in ``folder``'s ``spec`` read from below ``skip_rows`` rows (see
    :func:`read_assignment`), rows counted from its header."""
    # The columns read are matched in any case; others keep the planner's spelling.
    frame, problems = read_table(folder, spec, label, REQUIRED, READ_COLUMNS, skip_rows=skip_rows)
    if frame is None:
        return _no_plan(), problems
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        problems += [
            Problem(
                label,
                "a required column is missing",
                _header_meant(frame.columns, c) or f"add a column named {c!r} to the header row",
                row=1,
                column=c,
            )
            for c in missing
        ]
        return _no_plan(), problems
    frame = frame.astype(str).map(lambda v: unescape_formula(v.strip()))
    frame.index = pd.Index([_row(p) for p in range(len(frame))])
    blank_id = frame["customer_id"] == ""
    blank_row = blank_id & (frame["manager_id"] == "")
    problems += [
        Problem(
            label,
            "the customer_id is empty",
            "fill it in or delete the row",
            row=row,
            column="customer_id",
        )
        for row in frame.index[blank_id & ~blank_row]
    ]
    frame = frame[~blank_id]
    leavers: frozenset[str] = frozenset()
    if customers_left and _mostly_known(frame, scenario):
        frame, gone = _without_customers_who_left(frame, scenario, label)
        leavers, away = _managers_who_left(frame, scenario, label)
        problems += gone + away
    problems += _id_problems(frame, scenario, label, leavers)
    problems += _names_unlike_ids(frame, scenario, label)
    if not customers_left and not any(p.is_error for p in problems):
        problems += _worked_out_columns_edited(frame, scenario, label)
    ordered = [*REQUIRED, *(c for c in frame.columns if c not in REQUIRED)]
    plan = frame[ordered].reset_index(drop=True)
    # Where each customer's row is in the file, for messages about the plan (verify's).
    plan.attrs[SOURCE_ROWS] = dict(zip(frame["customer_id"], frame.index, strict=True))
    plan.attrs[SOURCE_FILE] = label
    return plan, problems


WORKED_OUT = {  # column: where it comes from, what to do instead of editing it
    "portfolio_type": (
        "is worked out from the customers each manager holds",
        "to change the plan, change manager_id; this column is written anew",
    ),
    "target": (
        "is worked out from the customer's incomes and growth in the scenario",
        "to change pay, change those in the customers table; this column is written anew",
    ),
    **{
        column: (
            "comes from the scenario's customers table",
            "change it there; this column is written anew",
        )
        for column in SCENARIO_COLUMNS
    },
}
TARGET_CENTS = 0.006  # a written target within this of the scenario's is the same target


def _as_written(value: object) -> str:
    """A cell's value as a planner would type it (money to the cent, no type names)."""
    if isinstance(value, float | np.floating):
        return f"{float(value):.2f}"
    return str(value)


def _worked_out_columns_edited(
    frame: pd.DataFrame, scenario: Scenario, label: str
) -> list[Problem]:
    """A warning for each column the tool works out rather than reads (``WORKED_OUT``) whose
    cells say otherwise than the plan and the scenario: a planner may think that editing them
    changes the plan. Stale cells are no news: ``moved`` after any move, and a portfolio_type
    that names the customer's own kind after a move into a portfolio of another kind (a broken
    rule, which the checker reports)."""
    from portfolio_opt.payout import customer_targets
    from portfolio_opt.payout.compute import customer_kinds, held_types

    customers = scenario.customers.set_index(scenario.customers["customer_id"].astype(str))
    own_kind = frame["customer_id"].map(customer_kinds(scenario))
    right_values = {
        "portfolio_type": frame["manager_id"].map(held_types(scenario, frame)),
        "target": frame["customer_id"].map(
            customer_targets(scenario.customers, scenario.policy)["target"]
        ),
        **{
            column: frame["customer_id"].map(customers[column].astype(str)).fillna("")
            for column in SCENARIO_COLUMNS
        },
    }
    problems = []
    for column, right in right_values.items():
        if column not in frame.columns:
            continue
        written = frame[column].str.strip()
        # A spreadsheet or pandas may re-save the id 7004 of a column with blanks as 7004.0.
        whole = written.str.fullmatch(r"\d+\.0+")
        written = written.where(~whole, written.str.split(".").str[0])
        differ = _cells_differ(column, written, right, own_kind)
        if not differ.any():
            continue
        first = differ.idxmax()
        source, hint = WORKED_OUT[column]
        problems.append(
            Problem(
                label,
                f"{int(differ.sum())} cell(s) differ from the plan, the first "
                f"{frame.at[first, column]!r} where it is {_as_written(right[first])!r}: "
                f"{column} {source}, not read",
                hint,
                row=int(first),
                column=column,
                severity=Severity.WARNING,
            )
        )
    return problems


def _cells_differ(
    column: str, written: pd.Series, right: pd.Series, own_kind: pd.Series
) -> pd.Series:
    """Which cells of ``column`` say otherwise than ``right``: a target to within a cent, and a
    portfolio_type naming the customer's own kind is stale rather than edited."""
    if column == "target":
        number = parse_numbers(written)
        return (number - right).abs().gt(TARGET_CENTS) | (number.isna() & (written != ""))
    differ = written != right
    return differ & (written != own_kind) if column == "portfolio_type" else differ


def _names_unlike_ids(frame: pd.DataFrame, scenario: Scenario, label: str) -> list[Problem]:
    """Warnings where a row's manager_name is not its manager_id's name: the plan is read by
    id, and a planner may have moved a customer in a spreadsheet by typing another name."""
    if "manager_name" not in frame.columns:
        return []
    managers = scenario.managers
    name_of = dict(zip(managers["manager_id"], managers["name"].astype(str), strict=True))
    id_of: dict[str, list[str]] = {}
    for manager, name in name_of.items():
        id_of.setdefault(name, []).append(manager)
    problems = []
    for row, manager, name in zip(
        frame.index, frame["manager_id"], frame["manager_name"], strict=True
    ):
        own = name_of.get(manager, "")
        if not name or not own or name == own:
            continue
        others = id_of.get(name, [])
        hint = (
            f"to give the customer to {name}, write {others[0]} in manager_id"
            if len(others) == 1
            else "the plan is read by manager_id: change it to move a customer"
        )
        problems.append(
            Problem(
                label,
                f"manager_name {name!r} is not the name of {manager} ({own!r}): the row is "
                f"read as {manager}'s",
                hint,
                row=int(row),
                column="manager_name",
                severity=Severity.WARNING,
            )
        )
    return capped(problems, "names unlike their manager_id")


def plan_digest(assignment: pd.DataFrame) -> str:
    """A fingerprint of who holds whom: the same for the plan re-saved by a spreadsheet
    (line ends, column order, extra columns), different once a customer moves."""
    pairs = sorted(
        f"{str(c).strip()}\t{str(m).strip()}"
        for c, m in zip(assignment["customer_id"], assignment["manager_id"], strict=True)
        if str(c).strip()
    )
    return hashlib.sha256("\n".join(pairs).encode("utf-8")).hexdigest()


def plan_table(path: Path) -> pd.DataFrame | None:
    """A plan file as a spreadsheet may have saved it (any encoding, separator or column
    order), every cell as text; None where it holds no readable plan."""
    frame, _ = read_table(path.parent, path.name, path.name, REQUIRED)
    if frame is None or any(c not in frame.columns for c in REQUIRED):
        return None
    return _as_text(frame)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a planner sees (no spaces around, no formula escape); rows with
    any cell, so a row without a customer (a planner's note) counts in the cells' digest."""
    frame = frame.astype(str).map(lambda v: unescape_formula(v.strip()))
    return frame[(frame != "").any(axis=1)]


def table_cells_digest(path: Path) -> str | None:
    """The :func:`cells_digest` of any table file as a spreadsheet may have saved it (another
    encoding, separator, line ends; a whole number as 60.0); None where it cannot be read."""
    frame, _ = read_table(path.parent, path.name, path.name)
    return None if frame is None else cells_digest(_as_text(frame).map(_number_as_shown))


def _number_as_shown(text: str) -> str:
    """A number as a spreadsheet shows it (15 digits, 60.0 as 60); other text as it is."""
    try:
        return f"{float(text) + 0.0:.15g}" if text not in ("nan", "inf", "-inf") else text
    except ValueError:
        return text


def cells_digest(table: pd.DataFrame) -> str:
    """A fingerprint of every cell of a plan table, whatever its column or row order and letter
    case (TRUE, true): a column of notes added, or any cell changed, changes it."""
    columns = sorted(table.columns)
    rows = sorted("\t".join(row).casefold() for row in table[columns].itertuples(index=False))
    text = "\t".join(columns) + "\n" + "\n".join(rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def where_in_file(plan: pd.DataFrame, customers: Sequence[str], most: int = 5) -> str:
    """Where a plan read from a file names ``customers``: ``report.xlsx, rows 5, 9, column
    manager_id`` ("" for a plan not read from a file)."""
    rows = plan.attrs.get(SOURCE_ROWS) or {}
    found = sorted(int(rows[c]) for c in customers if c in rows)
    if not found:
        return ""
    word = "row" if len(found) == 1 else "rows"
    shown = listed([str(r) for r in found], most)
    return f"{plan.attrs.get(SOURCE_FILE, 'the plan')}, {word} {shown}, column manager_id"
