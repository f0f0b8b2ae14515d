"""Engine benchmark: S, M, M-chain, M-rebalance and L branches; our engine, a greedy and a
one-shot CP-SAT model side by side in the same run, one table.

    python benchmarks/run.py                      # every case, each at its own limit (20-60 s)
    python benchmarks/run.py --cases S,M --time-limit 20 --csv out/bench.csv

Each run happens in a fresh child process so its peak memory is its own. Every method's plan is
scored the same way: its objective over the goals the policy ranks, and the bound every plan
obeys (the engine's and the one-shot model's own proofs tighten theirs). Not part of the tests.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from arguments import names_of, positive_seconds, whole_number  # beside this script

from portfolio_opt.generate import generate_scenario, write_scenario

ORDER_CHAIN = ["span", "chain", "balance", "industry", "continuity"]
ORDER_CONTINUITY = ["continuity", "span", "balance", "chain", "industry"]


@dataclass(frozen=True)
class Case:
    name: str
    customers: int
    managers: int
    rebalance: bool
    overrides: dict[str, object]
    time_limit_s: float
    target: str


CASES = [
    Case("S", 300, 10, False, {}, 20, "proven optimal in seconds"),
    Case("M", 3000, 80, False, {}, 20, "span range <= 2, CV <= 0.5%, <= 20 s"),
    Case(
        "M-chain",
        3000,
        80,
        False,
        {"objective.order": ORDER_CHAIN, "balance.max_deviation": 0.02},
        30,
        "cut <= 35% of chain weight, <= 30 s",
    ),
    Case(
        "M-rebalance",
        3000,
        80,
        True,
        {"objective.order": ORDER_CONTINUITY, "balance.max_deviation": 0.05},
        60,
        "moves <= 1.15 x lower bound, <= 60 s",
    ),
    Case("L", 30000, 600, False, {}, 60, "CV <= 1%, <= 60 s, <= 4 GiB"),
]


def _row(case: Case, method: str, scenario, result, seconds: float) -> dict[str, object]:
    from portfolio_opt.payout import customer_targets
    from portfolio_opt.plan.checker import check_plan
    from portfolio_opt.plan.kpis import compute_kpis

    row: dict[str, object] = {"case": case.name, "method": method, "seconds": round(seconds, 1)}
    if result is None or result.assignment is None:
        row["status"] = "no plan" if result is None else result.status.value
        return row
    plan = result.assignment
    kpis = compute_kpis(
        scenario, plan, customer_targets(scenario.customers, scenario.policy)["target"]
    )
    standard = kpis["span"]["by_type"].get("standard", {})
    row.update(
        status=result.status.value,
        violations=len(check_plan(scenario, plan)),
        span_std=f"{standard.get('min')}..{standard.get('max')}",
        target_cv_pct=round(100 * (kpis["balance"]["target_cv"] or 0), 3),
        max_dev_pct=round(100 * (kpis["balance"]["max_deviation"] or 0), 2),
        chain_cut_pct=round(100 * (kpis["chain"]["cut_share"] or 0), 1),
        moves=kpis["moves"]["count"],
        moves_lb=kpis["moves"]["lower_bound"],
        objective=result.objective,
        bound=result.best_bound,
        gap_pct=None if result.gap is None else round(100 * result.gap, 1),
    )
    return row


def _load(folder: Path, case: Case):
    from portfolio_opt.scenario.loader import load_scenario

    return load_scenario(folder, case.overrides)


def run_engine(folder: Path, case: Case, queue: mp.Queue) -> None:
    from portfolio_opt.model.solve import solve

    scenario = _load(folder, case)
    started = time.monotonic()
    result = solve(scenario, time_limit_s=case.time_limit_s, workers=2, seed=0)
    row = _row(case, "portfolio_opt", scenario, result, time.monotonic() - started)
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    queue.put(row)


def _prepare(folder: Path, case: Case):
    """Scenario, start time, instance, portfolio kinds (None if none fit), goals and means."""
    from portfolio_opt.model.goals import goal_spec, portfolio_means
    from portfolio_opt.model.instance import build_instance
    from portfolio_opt.model.structure import Structure, decide_structure
    from portfolio_opt.payout import customer_targets

    scenario = _load(folder, case)
    started = time.monotonic()
    instance = build_instance(
        scenario, customer_targets(scenario.customers, scenario.policy)["target"]
    )
    structure = decide_structure(instance)
    if not isinstance(structure, Structure):
        return scenario, started, instance, None, None, None
    spec = goal_spec(instance)
    return scenario, started, instance, structure, spec, portfolio_means(instance, structure)


def _scored(instance, structure, means, assign, proven: bool = False):
    """A baseline's plan scored as the engine scores its own (``_finish`` of model.solve): the
    objective over every goal the policy ranks, the bound every plan obeys (the objective
    itself where the plan is proven best for every choice of portfolio holders), and
    NO_PLAN where it breaks a band or bound."""
    from portfolio_opt.model.bounds import goal_bounds
    from portfolio_opt.model.goals import evaluate, goal_spec
    from portfolio_opt.model.result import Result, SolveStatus
    from portfolio_opt.model.solve import plan_frame
    from portfolio_opt.model.structure import structure_is_forced

    values = evaluate(instance, structure, means, assign)
    ranked, spec = goal_spec(instance, constant_goals=True), goal_spec(instance)
    bounds = {g: min(float(b), values[g]) for g, b in goal_bounds(instance).items() if g in values}
    bounds.update({g: float(values[g]) for g in ranked.order if g not in spec.order})
    objective = ranked.reported(values)
    proven = proven and structure_is_forced(instance)
    status = SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE
    return Result(
        SolveStatus.NO_PLAN if values["violation"] else status,
        assignment=plan_frame(instance, structure, assign),
        objective=objective,
        best_bound=objective if proven else min(ranked.reported(bounds), objective),
    )


def run_greedy(folder: Path, case: Case, queue: mp.Queue) -> None:
    """The constructive plan alone: kinds decided, blocks placed greedily, no search."""
    from portfolio_opt.model.construct import construct

    scenario, started, instance, structure, spec, means = _prepare(folder, case)
    result = None
    if structure is not None:
        result = _scored(instance, structure, means, construct(instance, structure, means, spec))
    row = _row(case, "greedy", scenario, result, time.monotonic() - started)
    if result is not None and result.status.value == "no_plan":
        row["status"] = "greedy breaks a band or bound"
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    queue.put(row)


def run_one_shot(folder: Path, case: Case, queue: mp.Queue) -> None:
    """One CP-SAT model of the whole branch, hard rules hard, no start plan, goals in order."""
    import numpy as np

    from portfolio_opt.model.cpmodel import SubModel

    scenario, started, instance, structure, spec, means = _prepare(folder, case)
    result = None
    if structure is not None:
        start = np.zeros(instance.n_blocks, dtype=np.int64)
        model = SubModel.whole_branch(
            instance,
            structure,
            means,
            spec,
            start,
            soft_hard_rules=False,
            hint=False,
        )
        remaining = max(case.time_limit_s - (time.monotonic() - started), 1.0)
        outcome = model.solve(remaining, 2, 0, False)
        if outcome.assign and len(outcome.assign) == instance.n_blocks:
            assign = start.copy()
            for b, m in outcome.assign.items():
                assign[b] = m
            result = _scored(instance, structure, means, assign, proven=outcome.proven)
    row = _row(case, "one-shot CP-SAT", scenario, result, time.monotonic() - started)
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    queue.put(row)


def _in_child(target, folder: Path, case: Case) -> dict[str, object]:
    context = mp.get_context("spawn")
    queue: mp.Queue = context.Queue()
    process = context.Process(target=target, args=(folder, case, queue))
    process.start()
    process.join(timeout=case.time_limit_s * 4 + 120)
    if process.is_alive():
        process.kill()
        return {"case": case.name, "method": target.__name__, "status": "killed (time)"}
    return (
        queue.get()
        if not queue.empty()
        else {
            "case": case.name,
            "method": target.__name__,
            "status": f"crashed ({process.exitcode})",
        }
    )


METHODS = {"engine": run_engine, "greedy": run_greedy, "one-shot": run_one_shot}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = [c.name for c in CASES]
    parser.add_argument(
        "--cases",
        type=names_of(names),
        default=names,
        help=f"comma-separated cases (default all: {','.join(names)})",
    )
    parser.add_argument(
        "--time-limit", type=positive_seconds, help="override every case's time limit (seconds)"
    )
    parser.add_argument(
        "--methods",
        type=names_of(list(METHODS)),
        default=list(METHODS),
        help=f"comma-separated methods (default all: {','.join(METHODS)})",
    )
    parser.add_argument(
        "--seed",
        type=whole_number(0),
        default=1,
        help="seed of the generated scenarios (solvers use 0)",
    )
    parser.add_argument("--csv", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if case.name not in args.cases:
                continue
            if args.time_limit is not None:
                case = Case(**{**case.__dict__, "time_limit_s": args.time_limit})
            folder = Path(tmp) / case.name
            write_scenario(
                generate_scenario(
                    case.customers,
                    case.managers,
                    seed=args.seed,
                    rebalance=case.rebalance,
                    name=case.name,
                ),
                folder,
            )
            for name in args.methods:
                row = _in_child(METHODS[name], folder, case)
                row["target"] = case.target
                rows.append(row)
                print(pd.DataFrame([row]).to_string(index=False, header=False), file=sys.stderr)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.drop(columns=["target"]).to_string(index=False))
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
