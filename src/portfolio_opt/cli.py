"""The ``portfolio-opt`` command: parse, call, print. Exit codes follow SPEC.md."""

from __future__ import annotations

import io
import json
import shlex
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from portfolio_opt import IMPORTED, __version__
from portfolio_opt.launch import INTERRUPTED
from portfolio_opt.model.collisions import QUICK_CHECKS
from portfolio_opt.model.solve import SolveParams
from portfolio_opt.options import Seconds, solver_options
from portfolio_opt.pipeline import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_OK,
    OutputFolderError,
    file_hash,
    input_hashes,
    run_solve,
)
from portfolio_opt.problems import Problem, as_sentence, counted, in_reading_order
from portfolio_opt.report.console import refuse
from portfolio_opt.scenario.columns import folded
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.loader import inspect_scenario
from portfolio_opt.scenario.policy import Policy
from portfolio_opt.scenario.tables import split_table_spec

console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)
MANY_MOVES_SHARE = 0.1  # moves beyond the unavoidable, as a share of customers, worth a note


def _print_warnings(warnings: list[Problem]) -> None:
    """Each warning on a line, past the first few of a kind the rest in one line."""
    for p in folded(warnings):
        out_console.print(f"WARNING {p}", markup=False)


def _print_problems(
    problems: list[Problem], outcome: str = "nothing was solved", every: bool = False
) -> None:
    """Errors, then warnings (``every`` one of them, else folded past a few of a kind)."""
    errors = in_reading_order([p for p in problems if p.is_error])
    warnings = in_reading_order([p for p in problems if not p.is_error])
    for p in errors:
        out_console.print(f"ERROR   {p}", markup=False)
    for p in warnings if every else folded(warnings):
        out_console.print(f"WARNING {p}", markup=False)
    if errors:
        out_console.print(
            f"{counted(errors)} error(s), {counted(warnings)} warning(s): {outcome}.", markup=False
        )


def _print_new_warnings(warnings: list[Problem], shown: list[Problem]) -> None:
    """The warnings not among ``shown`` (each said once, where several steps find it)."""
    said = {(p.file, p.row, p.column, p.message) for p in shown}
    new = []
    for p in warnings:
        if not p.is_error and (p.file, p.row, p.column, p.message) not in said:
            said.add((p.file, p.row, p.column, p.message))
            new.append(p)
    _print_warnings(new)


def _load(
    path: str,
    outcome: str = "nothing was solved",
    overrides: dict[str, object] | None = None,
    away: Sequence[str] = (),
) -> Scenario:
    scenario, problems = inspect_scenario(path, overrides or None, away)
    if scenario is None:
        _print_problems(problems, outcome)
        sys.exit(EXIT_BAD_INPUT)
    _print_warnings(scenario.warnings)
    return scenario


def _as_run(command: Callable[..., None]) -> Callable[..., None]:
    """``--set`` and ``--unavailable``: the scenario with other policy values or managers
    away, as a sweep's variant runs it, without editing its files."""
    command = click.option(
        "--unavailable",
        default="",
        metavar="ID,...",
        help="Managers taken as unavailable (leaving, on leave), as if managers.csv said so.",
    )(command)
    return click.option(
        "--set",
        "settings",
        multiple=True,
        metavar="KEY=VALUE",
        help="A scenario.toml key's value instead of the file's (e.g. balance.max_deviation=0.02).",
    )(command)


def _load_as_run(path: str, settings: tuple[str, ...], unavailable: str, outcome: str) -> Scenario:
    """The scenario with ``--set`` values and ``--unavailable`` managers, or an exit."""
    overrides = _settings_given(path, settings)
    scenario = _load(path, outcome, overrides, _ids(unavailable))
    return _with_unavailable(scenario, unavailable)


def _ids(listed: str) -> list[str]:
    """The ids of a comma-separated option (``--unavailable M1,M2``)."""
    return [i.strip() for i in listed.split(",") if i.strip()]


def _settings_given(path: str, settings: tuple[str, ...]) -> dict[str, object]:
    """The ``--set`` values, checked against the scenario's policy file, or an exit."""
    if not settings:
        return {}
    from portfolio_opt.parallel.variants import (
        VariantError,
        check_policy_overrides,
        parse_settings,
    )
    from portfolio_opt.scenario.loader import scenario_root
    from portfolio_opt.scenario.policy import POLICY_FILE, load_policy

    try:
        overrides = parse_settings(settings)
        policy, _ = load_policy(scenario_root(path) / POLICY_FILE)
        if policy is not None:  # else loading the scenario says what is wrong with the file
            check_policy_overrides(policy, overrides)
    except VariantError as exc:
        refuse(console, f"--set {exc}")
    return overrides


def _with_unavailable(scenario: Scenario, unavailable: str) -> Scenario:
    """The scenario with the ``--unavailable`` managers away, or an exit."""
    from portfolio_opt.parallel.variants import VariantError, apply_drop

    try:
        return apply_drop(scenario, _ids(unavailable))
    except VariantError as exc:
        refuse(console, f"--unavailable: {exc}")


class _Commands(click.Group):
    """Ctrl-C that reaches a command (while it loads, or a second one during a solve) ends it
    with the shell's code, not click's "Aborted!" and the code of bad input."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _quiet_cleanup()
            # Every output folder is written whole or not at all.
            console.print("Stopped (Ctrl-C): nothing was written.", markup=False)
            sys.exit(INTERRUPTED)


def _quiet_cleanup() -> None:
    """Once aborted, writers cut off mid-file (openpyxl's sheet streams) complain as they are
    collected; their folder is discarded whole, so those complaints are noise, not news."""
    sys.unraisablehook = lambda unraisable: None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portfolio-opt")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Split a branch's corporate customers among its managers, then set targets and pay."""
    now = time.monotonic()
    # From the shell, the command's time starts as its libraries load; one of many commands
    # in a process (a test, a notebook) starts now.
    ctx.obj = {"started": IMPORTED if now - IMPORTED < STARTUP_AT_MOST_S else now}
    if threading.current_thread() is threading.main_thread():  # signals reach that one only
        signal.signal(signal.SIGTERM, _terminated)
    _escape_what_the_console_cannot_show()


STARTUP_AT_MOST_S = 20.0  # loading the libraries takes less: longer ago, another command did


def _seconds_spent() -> float:
    """The seconds the running command has taken so far."""
    obj = click.get_current_context().find_root().obj
    started = obj.get("started") if isinstance(obj, dict) else None
    return time.monotonic() - started if isinstance(started, float) else 0.0


def _escape_what_the_console_cannot_show() -> None:
    """Names a console's encoding cannot write (Chinese on a Latin-1 console) print as escapes
    such as \\u512a, not as an error halfway through the list of problems."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _terminated(signum: int, frame: object) -> None:
    """A kill (SIGTERM) unwinds like an error, so no half-written staging folder is left."""
    raise SystemExit(128 + signum)


@main.command()
@click.argument("scenario", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the summary and problems as JSON.")
@_as_run
def validate(scenario: str, as_json: bool, settings: tuple[str, ...], unavailable: str) -> None:
    """List every problem in SCENARIO, or summarise it.

    Besides the files, checks whether the hard rules can all hold, as solve would before
    searching (exit 3 when they cannot); with --set and --unavailable, as solve would run it
    with them.
    """
    from portfolio_opt.model.solve import rule_collisions
    from portfolio_opt.scenario.summary import scenario_summary

    overrides = _settings_given(scenario, settings)
    loaded, problems = inspect_scenario(scenario, overrides or None, _ids(unavailable))
    if loaded is None:
        if as_json:
            out_console.print(_problems_json(problems), markup=False)
        else:
            _print_problems(problems, "fix them and validate again", every=True)
        sys.exit(EXIT_BAD_INPUT)
    loaded = _with_unavailable(loaded, unavailable)
    collisions = rule_collisions(loaded)
    summary = scenario_summary(loaded)
    if as_json:
        summary["warnings"] = [_problem_record(p) for p in loaded.warnings]
        summary["collisions"] = collisions
        out_console.print(json.dumps(summary, ensure_ascii=False, indent=2), markup=False)
    else:
        for p in loaded.warnings:
            out_console.print(f"WARNING {p}", markup=False)
        title = f"Scenario {summary['scenario']}: no errors in the files"
        table = Table(title=title, show_header=False)
        for key, value in summary.items():
            table.add_row(key.replace("_", " "), str(value))
        out_console.print(table)
        if collisions:
            out_console.print(
                "The files are fine, but the hard rules cannot all hold (solve would stop here):",
                markup=False,
            )
            for reason in collisions:
                out_console.print(f"- {as_sentence(reason)}", markup=False)
    if collisions:
        sys.exit(EXIT_INFEASIBLE)


def _problem_record(problem: Problem) -> dict[str, object]:
    return {
        "severity": problem.severity.value,
        "file": problem.file,
        "row": None if problem.row is None else int(problem.row),
        "column": problem.column,
        "message": problem.message,
        "hint": problem.hint,
        "stands_for": problem.stands_for,
    }


def _problems_json(problems: list[Problem]) -> str:
    records = [_problem_record(p) for p in problems]
    return json.dumps(
        {
            "errors": [r for r in records if r["severity"] == "error"],
            "warnings": [r for r in records if r["severity"] != "error"],
        },
        ensure_ascii=False,
        indent=2,
    )


class _Interrupt:
    """First Ctrl-C asks the search to stop and keep its best plan; the second one aborts.

    Python runs a signal handler only once the main thread is back in Python code, and a
    CP-SAT solve in it may take minutes: the request is also read from the signal's wakeup
    byte by a thread of its own, so the search stops within a moment.
    """

    def __init__(self) -> None:
        self.requested = False
        self._handled = 0
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        return self.requested

    def _request(self) -> None:
        with self._lock:
            if self.requested:
                return
            self.requested = True
        console.print("Stopping: keeping the best plan so far (Ctrl-C again to abort)")

    def _watch(self, reader: socket.socket) -> None:
        while data := reader.recv(64):
            if signal.SIGINT in data:
                self._request()

    @contextmanager
    def armed(self) -> Iterator[None]:
        def handler(signum: int, frame: object) -> None:
            self._handled += 1
            if self._handled > 1:
                _quiet_cleanup()
                raise KeyboardInterrupt
            self._request()

        previous = signal.signal(signal.SIGINT, handler)
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        wakeup = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        threading.Thread(target=self._watch, args=(reader,), daemon=True).start()
        try:
            yield
        finally:
            signal.set_wakeup_fd(wakeup)
            signal.signal(signal.SIGINT, previous)
            writer.close()  # the watcher reads the end of the stream and stops
            reader.shutdown(socket.SHUT_RDWR)


class _ProgressText:
    """The live line's text, rendered on every refresh so the clock runs between reports."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.state: dict[str, object] | None = None

    def __rich__(self) -> str:
        elapsed = time.monotonic() - self.started
        state = self.state
        if state is None or "incumbent" not in state:
            phase = "starting" if state is None else state.get("phase", "solving")
            return f"{phase}  elapsed {elapsed:.1f}s"
        return (
            f"incumbent {float(state['incumbent']):.3f}  "  # type: ignore[arg-type]
            f"bound {float(state['bound']):.3f}  "  # type: ignore[arg-type]
            f"gap {float(state['gap']):.1%}  elapsed {elapsed:.1f}s"  # type: ignore[arg-type]
        )


@contextmanager
def _progress_line() -> Iterator[Callable[[dict[str, object]], None] | None]:
    """A live line on a terminal; nothing in a pipe."""
    if not console.is_terminal:
        yield None
        return
    text = _ProgressText()
    with Live(text, console=console, refresh_per_second=4, transient=True):

        def show(state: dict[str, object]) -> None:
            text.state = state

        yield show


def _number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _weight(value: object) -> str:
    """A sum of link weights: whole numbers without decimals, thousands separated."""
    if not isinstance(value, int | float):
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _percent(value: object, digits: int = 1) -> str:
    return f"{value:.{digits}%}" if isinstance(value, int | float) else "n/a"


def _goal_note(name: str, goal: dict[str, Any], moves: dict[str, Any]) -> str:
    """A goal with what is known of it: proven best (given the goals before it), or its gap."""
    value, bound = goal.get("value"), goal.get("bound")
    if value is None or bound is None:
        return name
    if value <= bound + 1e-9:
        return f"{name} (proven best)"
    # The goal's own bound is per group; the moves' lower bound also counts the bands.
    if name == "continuity" and moves.get("count") == moves.get("lower_bound"):
        return f"{name} (fewest moves possible)"
    gap = (value - bound) / value
    # Whole percents, but a gap under 1% keeps a decimal: 0.2% is not 0%.
    return f"{name} (gap {_percent(gap, 1 if 0 < gap < 0.01 else 0)})"


def _print_kpis(kpis: dict[str, Any], weighted: bool = False) -> None:
    span, balance, chain, moves = (kpis.get(k) or {} for k in ("span", "balance", "chain", "moves"))
    lines = [
        f"status {kpis['status']}  objective {kpis['objective']}  bound {kpis['best_bound']}  "
        f"gap {_percent(kpis['gap'])}  {kpis['solve_seconds']}s",
        f"span {span.get('min')}..{span.get('max')} (ideal {_number(span.get('ideal'))})  "
        f"target CV {_percent(balance.get('target_cv'), 3)}  "
        f"largest deviation {_percent(balance.get('max_deviation'), 2)}",
        f"chain link weight cut {_weight(chain.get('cut'))} of {_weight(chain.get('links'))} "
        f"({_percent(chain.get('cut_share'))}; {_weight(chain.get('unavoidable'))} unavoidable)  "
        f"moves {moves.get('count')} (at least {moves.get('lower_bound')})  "
        f"hard-rule violations {kpis.get('hard_rule_violations')}",
    ]
    if kpis.get("goals"):
        notes = [_goal_note(name, goal, moves) for name, goal in kpis["goals"].items()]
        heading = "goals, in one weighted sum" if weighted else "goals, most important first"
        lines.append(f"{heading}: " + ", ".join(notes))
    for line in lines:
        out_console.print(line, markup=False)


def _balance_moved_note(policy: Policy) -> str | None:
    """Where the policy ranks balance above other goals and also bounds it, why balance came
    last, and how to rank it where the order puts it."""
    goals, bound = policy.objective.goals(), policy.balance.max_deviation
    if policy.objective.weights is not None or bound is None or "balance" not in goals[:-1]:
        return None
    return (
        f"balance is held within {bound:.2%} of the mean by [balance] max_deviation and refined "
        "last, after the goals the order ranks below it; remove the bound to rank it where the "
        "order puts it."
    )


def _many_moves_note(kpis: dict[str, Any], policy: Policy) -> str | None:
    """Where many more customers move than must and the policy ranks continuity after other
    goals, that the order moved them, and how to keep more of last year's relationships."""
    moves, n = kpis.get("moves") or {}, int(kpis.get("n_customers") or 0)
    count, least = int(moves.get("count") or 0), int(moves.get("lower_bound") or 0)
    goals = policy.objective.goals()
    if policy.objective.weights is not None or "continuity" not in goals[1:]:
        return None
    if count <= max(2 * least, least + MANY_MOVES_SHARE * n):
        return None
    ranked = ["continuity", *(g for g in goals if g != "continuity")]
    continuity_first = ", ".join(f'"{g}"' for g in ranked)
    return (
        f"{count:,} of {n:,} customers change manager, where no plan moves fewer than "
        f"{least:,}: continuity ranks {goals.index('continuity') + 1} of {len(goals)} in "
        "[objective] order, so the "
        "goals before it use the freedom first. To keep more of last year's relationships, "
        f"rank it higher (order = [{continuity_first}])."
    )


@main.command(name="solve")
@click.argument("scenario", type=click.Path())
@click.option("--out", type=click.Path(file_okay=False), help="Output folder (default out/NAME).")
@click.option(
    "--time-limit",
    type=Seconds(),
    help="Seconds for the whole command; the search takes what loading and writing leave.",
)
@solver_options
@_as_run
def solve_command(
    scenario: str,
    out: str | None,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    deterministic: bool | None,
    settings: tuple[str, ...],
    unavailable: str,
) -> None:
    """Validate, assign, pay and report."""
    from portfolio_opt.report.folders import output_folder

    loaded = _load_as_run(scenario, settings, unavailable, "nothing was solved")
    params = SolveParams.from_policy(
        loaded, time_limit_s=time_limit, workers=workers, seed=seed, deterministic=deterministic
    )
    target, refused = output_folder(out, loaded.name, [loaded.root])
    if refused is not None:
        refuse(console, refused)
    interrupt = _Interrupt()
    started = time.monotonic()
    try:
        with interrupt.armed(), _progress_line() as progress:
            outcome = run_solve(
                loaded,
                target,
                params,
                progress,
                interrupt,
                extras=_extras(),
                spent_s=_seconds_spent(),
            )
    except OutputFolderError as exc:
        refuse(console, exc)
    except OSError as exc:  # the disk filled up while writing, say: the old folder stands
        refuse(
            console,
            f"the outputs could not be written to {target} ({exc.strerror or exc}); "
            "nothing was changed there. Free some space or choose another --out folder.",
        )
    if outcome.exit_code != EXIT_OK:
        title = (
            "The hard rules cannot all hold:"
            if outcome.exit_code == EXIT_INFEASIBLE
            else ("No plan was written:")
        )
        out_console.print(title, markup=False)
        for reason in outcome.result.explanation + outcome.violations:
            out_console.print(f"- {as_sentence(reason)}", markup=False)
        if outcome.result.method == QUICK_CHECKS:
            out_console.print(
                "These are what the checks before the search find; once they are fixed, the "
                "search may find other rules that cannot hold together.",
                markup=False,
            )
        if (target / "assignment.csv").is_file():
            out_console.print(
                f"{target} still holds the plan of an earlier run, untouched.", markup=False
            )
        sys.exit(outcome.exit_code)
    _print_new_warnings(outcome.notices, loaded.warnings)
    _print_kpis(outcome.kpis, weighted=loaded.policy.objective.weights is not None)
    from portfolio_opt.report.plots.fonts import given_font_problem

    notes = (
        _balance_moved_note(loaded.policy),
        _many_moves_note(outcome.kpis, loaded.policy),
        given_font_problem(),
    )
    for note in notes:
        if note is not None:
            out_console.print(note, markup=False)
    if interrupt.requested:
        out_console.print(
            "Stopped early (Ctrl-C): this is the best plan found so far.", markup=False
        )
    out_console.print(
        f"Plan written to {target} in {time.monotonic() - started:.1f}s", markup=False
    )


def _extras() -> Callable[..., None]:
    """The report workbook and plots, written into the output folder with the tables."""
    from portfolio_opt.report.writer import write_report_files

    return write_report_files


def _solved_otherwise_note(
    scenario: str, assignment: str, loaded: Scenario, settings: tuple[str, ...], unavailable: str
) -> str | None:
    """Where the plan sits in a solve's output folder and was solved with ``--set`` values or
    managers away that this check lacks, the command that checks it as it was made."""
    from portfolio_opt.report.as_solved import options_of_plan

    plan_file = Path(split_table_spec(assignment)[0])
    if not options_of_plan(loaded, plan_file):
        return None
    given = bool(settings) or bool(unavailable.strip())
    files = inspect_scenario(scenario)[0] if given else loaded  # as the files have it
    made = options_of_plan(files if files is not None else loaded, plan_file)
    command = shlex.join(["portfolio-opt", "verify", scenario, assignment])
    return (
        f"Note: this plan was solved with {' '.join(made)} (its manifest.json says so), not as "
        f"this check runs; to check it as it was made: {' '.join([command, *made])}"
    )


@main.command()
@click.argument("scenario", type=click.Path())
@click.argument("assignment", type=click.Path())
@_as_run
def verify(scenario: str, assignment: str, settings: tuple[str, ...], unavailable: str) -> None:
    """Check ASSIGNMENT (e.g. a hand-edited plan) against every hard rule; print the KPIs."""
    from portfolio_opt.payout import customer_targets
    from portfolio_opt.plan.checker import check_plan
    from portfolio_opt.plan.io import read_assignment, where_in_file
    from portfolio_opt.plan.kpis import compute_kpis

    loaded = _load_as_run(scenario, settings, unavailable, "nothing was checked")
    plan, problems = read_assignment(Path(assignment), loaded)
    if plan is None or any(p.is_error for p in problems):
        _print_problems(problems, "nothing was checked")
        sys.exit(EXIT_BAD_INPUT)
    _print_problems(problems)  # warnings only: rows, and hints such as lost leading zeros
    violations = check_plan(loaded, plan)
    kpis = compute_kpis(loaded, plan, customer_targets(loaded.customers, loaded.policy)["target"])
    out_console.print(json.dumps(kpis, ensure_ascii=False, indent=2, default=str), markup=False)
    if note := _solved_otherwise_note(scenario, assignment, loaded, settings, unavailable):
        out_console.print(note, markup=False)
    if violations:
        out_console.print(f"{len(violations)} hard-rule violation(s):", markup=False)
        for v in violations:
            where = where_in_file(plan, v.customers)
            out_console.print(
                f"- [{v.rule}] {v.message}" + (f" ({where})" if where else ""), markup=False
            )
        sys.exit(EXIT_INFEASIBLE)
    out_console.print("The plan keeps every hard rule.", markup=False)


@main.command()
@click.argument("scenario", type=click.Path())
@click.argument("assignment", type=click.Path())
@click.option(
    "--out", type=click.Path(file_okay=False), help="Output folder (default out/NAME-payout)."
)
@_as_run
def payout(
    scenario: str,
    assignment: str,
    out: str | None,
    settings: tuple[str, ...],
    unavailable: str,
) -> None:
    """The payout model alone, on any assignment file."""
    from portfolio_opt.payout import compute_payout
    from portfolio_opt.payout.compute import payout_problems
    from portfolio_opt.pipeline import write_csv
    from portfolio_opt.plan.checker import check_plan
    from portfolio_opt.plan.io import read_assignment
    from portfolio_opt.report.atomic import atomic_folder
    from portfolio_opt.report.folders import output_folder, replace_problem, write_manifest
    from portfolio_opt.report.workbook import write_workbook
    from portfolio_opt.report.writer import payout_sheets

    loaded = _load_as_run(scenario, settings, unavailable, "nothing was paid")
    target, refused = output_folder(out, f"{loaded.name}-payout", [loaded.root])
    file, sheet = split_table_spec(assignment)  # report.xlsx#Assignment: a workbook's sheet
    plan_file = Path(file)
    refused = refused or replace_problem(
        target, {loaded.root: "scenario", plan_file: "plan"}, "payout"
    )
    if refused is not None:
        refuse(console, refused)
    plan, problems = read_assignment(Path(assignment), loaded)
    if plan is not None and not any(p.is_error for p in problems):
        found = payout_problems(loaded, plan, Path(assignment).name)
        hints = {(p.row, p.column): p.hint for p in problems if p.hint}
        # The payout's words for a cell win; a hint of the reader's (lost zeros) is kept.
        found = [_with_hint(p, hints.get((p.row, p.column), "")) for p in found]
        said = {(p.row, p.column) for p in found}
        problems = [p for p in problems if (p.row, p.column) not in said] + found
    if plan is None or any(p.is_error for p in problems):
        _print_problems(problems, "nothing was paid")
        sys.exit(EXIT_BAD_INPUT)
    result = compute_payout(loaded, plan, Path(assignment).name)
    # The reader's warnings, then the payout's; those of the scenario were said on loading.
    _print_new_warnings(problems + result.warnings, loaded.warnings)
    broken = check_plan(loaded, plan)
    if broken:  # pay is still computed: a planner may price a draft before mending it
        out_console.print(
            f"WARNING the plan breaks {len(broken)} hard rule(s), first: {broken[0].message}. "
            "Pay is computed for the plan as it stands; `portfolio-opt verify` lists them all.",
            markup=False,
        )
    with atomic_folder(target) as staging:
        write_csv(result.table, staging / "payout.csv")
        if len(result.adjustments_applied):
            write_csv(result.adjustments_applied, staging / "adjustments_applied.csv")
        write_workbook(
            staging / "payout.xlsx",
            payout_sheets(loaded, result.table, result.adjustments_applied),
        )
        write_manifest(
            staging,
            {
                "tool": "portfolio-opt",
                "command": "payout",
                "version": __version__,
                "scenario": str(loaded.root.resolve()),
                "assignment": str(plan_file.resolve()) + (f"#{sheet}" if sheet else ""),
                "assignment_sha256": file_hash(plan_file),
                "inputs_sha256": input_hashes(loaded),
                "settings": list(settings),
                "unavailable_managers": sorted(
                    map(str, loaded.managers.loc[~loaded.managers["available"], "manager_id"])
                ),
            },
        )
    out_console.print(f"payout.csv and payout.xlsx written to {target}", markup=False)


GENERATE_MOST = 1_000_000  # customers or managers generate writes: past it, memory runs out


def _with_hint(problem: Problem, hint: str) -> Problem:
    """``problem`` with ``hint`` added to its own, unless one says the other already (the
    longer is kept)."""
    if not hint or hint in problem.hint:
        return problem
    if problem.hint in hint:
        return replace(problem, hint=hint)
    return replace(problem, hint=f"{problem.hint}; {hint}")


@main.command()
@click.option(
    "--customers", "n_customers", type=click.IntRange(min=1, max=GENERATE_MOST), required=True
)
@click.option(
    "--managers", "n_managers", type=click.IntRange(min=1, max=GENERATE_MOST), required=True
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--rebalance", is_flag=True, help="Add last year's plan and a year of change.")
@click.argument("out", type=click.Path(file_okay=False))
def generate(n_customers: int, n_managers: int, seed: int, rebalance: bool, out: str) -> None:
    """Write a synthetic scenario of N customers and M managers to OUT."""
    from portfolio_opt.generate import generate_scenario, write_scenario
    from portfolio_opt.report.atomic import atomic_folder
    from portfolio_opt.report.folders import untouched_since_written, unwritable_place

    if not untouched_since_written(Path(out)):
        refuse(
            console,
            f"{out} holds files generate did not write, or changed since it wrote them "
            "(a scenario of yours?); nothing was changed. Choose a new or empty folder.",
        )
    if (unwritable := unwritable_place(Path(out).resolve())) is not None:
        refuse(console, unwritable)
    started = time.monotonic()
    generated = generate_scenario(
        n_customers, n_managers, seed=seed, rebalance=rebalance, name=Path(out).name
    )
    with atomic_folder(Path(out)) as staging:
        write_scenario(generated, staging)
    out_console.print(
        f"Scenario written to {out} in {time.monotonic() - started:.1f}s", markup=False
    )


def _register_commands() -> None:
    """Commands that live beside the packages they drive."""
    from portfolio_opt.gap_command import import_gap
    from portfolio_opt.parallel.commands import solve_many, sweep
    from portfolio_opt.report.compare_command import compare

    main.add_command(compare)
    main.add_command(import_gap)
    main.add_command(sweep)
    main.add_command(solve_many)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
