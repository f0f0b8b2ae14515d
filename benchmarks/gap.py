"""GAP benchmark: our engine against the best known values and a plain CP-SAT model.

Each selected instance (from ``optima.csv`` of the shared GAP benchmark folder) is imported as a
scenario with ``portfolio_opt.gap`` and solved through the public API
(``portfolio_opt.model.solve.solve``); the plan is re-scored on the raw instance data and
checked against the capacities. A plain one-shot CP-SAT model (x[i, j] booleans, one agent per
job, capacity per agent, optimise cost) gets the same time and workers in the same process.

    python benchmarks/gap.py --set orlib --time-limit 10 --csv gap-orlib.csv
    python benchmarks/gap.py --set cde --max-size 20x200 --time-limit 60
    python benchmarks/gap.py --instances d20200,e20200 --time-limit 60
    python benchmarks/gap.py --instances 'gap1-*' --sense max --only ours

"% above" is how much worse than the best known value a result is, in percent of it: above
it for minimisation, below it for maximisation (gap1-gap12 with ``--sense max``).
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from arguments import percent, positive_seconds, size, whole_number  # beside this script
from ortools.sat.python import cp_model

from portfolio_opt.gap import GapProblem, load_gap, write_gap_scenario
from portfolio_opt.model.result import SolveStatus
from portfolio_opt.model.solve import solve
from portfolio_opt.scenario.loader import load_scenario

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "gap"
DATA_FILES = ("optima.csv", "instance_files.csv")
SETS = {
    "orlib": ["gap*"],
    "cde": ["c*", "d*", "e*"],
    "abcde": ["a*", "b*", "c*", "d*", "e*"],
    "all": ["*"],
}


@dataclass(frozen=True)
class Entry:
    """One row of optima.csv joined with where its data lives."""

    instance: str
    sense: str  # "min" or "max"
    n_agents: int
    n_jobs: int
    best_known: int
    proven_optimal: bool
    spec: str  # FILE or FILE#k

    @property
    def label(self) -> str:
        return f"{self.instance}:{self.sense}" if self.instance.startswith("gap") else self.instance


@dataclass
class Row:
    """One line of the output table."""

    instance: str
    sense: str
    n_agents: int
    n_jobs: int
    best_known: int
    best_proven: bool  # optima.csv marks best_known a proven optimum
    ours: int | None = None
    ours_pct: float | None = None
    ours_proven: bool | None = None
    ours_seconds: float | None = None
    ours_cpu: float | None = None
    ours_method: str = ""
    plain: int | None = None
    plain_pct: float | None = None
    plain_proven: bool | None = None
    plain_seconds: float | None = None
    plain_cpu: float | None = None


def read_entries(data: Path) -> list[Entry]:
    with (data / "instance_files.csv").open(encoding="utf-8") as stream:
        where = {r["instance"]: r for r in csv.DictReader(stream)}
    entries = []
    with (data / "optima.csv").open(encoding="utf-8") as stream:
        for r in csv.DictReader(stream):
            place = where[r["instance"]]
            spec = str(data / place["file"])
            if place["format"] == "orlib-multi":
                spec += f"#{place['problem_index_1based']}"
            entries.append(
                Entry(
                    r["instance"],
                    r["objective_sense"],
                    int(r["n_agents"]),
                    int(r["n_jobs"]),
                    int(r["best_known"]),
                    r["proven_optimal"].strip().lower() == "true",
                    spec,
                )
            )
    return entries


def select(entries: list[Entry], args: argparse.Namespace) -> list[Entry]:
    patterns: list[str] = []
    for name in args.set or []:
        patterns += SETS[name]
    if args.instances:
        patterns += [p.strip() for p in args.instances.split(",") if p.strip()]
    if not patterns:
        patterns = SETS["orlib"] + SETS["cde"]
    chosen = [e for e in entries if any(fnmatch.fnmatchcase(e.instance, p) for p in patterns)]
    if args.sense != "both":
        chosen = [e for e in chosen if e.sense == args.sense]
    if args.max_size:
        m, n = args.max_size
        chosen = [e for e in chosen if e.n_agents <= m and e.n_jobs <= n]
    if args.min_size:
        m, n = args.min_size
        chosen = [e for e in chosen if e.n_agents >= m and e.n_jobs >= n]
    order = {"gap": 0}
    return sorted(
        chosen,
        key=lambda e: (
            order.get(e.instance[:3], 1),
            e.n_jobs * e.n_agents if not e.instance.startswith("gap") else 0,
            _natural(e.instance),
            e.sense,
        ),
    )


def _natural(name: str) -> tuple[object, ...]:
    """gap2-1 before gap10-1."""
    head, _, tail = name.partition("-")
    digits = "".join(ch for ch in head if ch.isdigit())
    return (head.rstrip("0123456789"), int(digits or 0), tail)


def pct_worse(value: int | None, entry: Entry) -> float | None:
    if value is None or entry.best_known == 0:
        return None
    worse = value - entry.best_known if entry.sense == "min" else entry.best_known - value
    return 100.0 * worse / abs(entry.best_known)


def check_plan(problem: GapProblem, agent_of_job: np.ndarray) -> int:
    """The plan's cost on the raw data; raises if a capacity is broken."""
    over = problem.overload(agent_of_job)
    if over.any():
        raise AssertionError(f"plan exceeds capacity of agents {np.flatnonzero(over).tolist()}")
    return problem.objective(agent_of_job)


def run_ours(
    problem: GapProblem, entry: Entry, limit: float, workers: int, seed: int
) -> tuple[int | None, bool, float, float, str]:
    """Import, load and solve with the engine: value in the file's sense, proven, wall and CPU
    seconds, method."""
    folder = Path(tempfile.mkdtemp(prefix="gap-bench-"))
    try:
        root = folder / entry.instance
        write_gap_scenario(problem, root, entry.spec, maximise=entry.sense == "max")
        scenario = load_scenario(root)
        started, cpu = time.monotonic(), time.process_time()
        result = solve(scenario, time_limit_s=limit, workers=workers, seed=seed)
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if result.assignment is None:
        return None, False, seconds, cpu, f"{result.status.value}: {' '.join(result.explanation)}"
    agents = result.assignment["manager_id"].str.lstrip("A").astype(int).to_numpy() - 1
    jobs = result.assignment["customer_id"].str.lstrip("J").astype(int).to_numpy() - 1
    agent_of_job = np.empty(problem.n_jobs, dtype=np.int64)
    agent_of_job[jobs] = agents
    value = check_plan(problem, agent_of_job)
    sign = -1 if entry.sense == "max" else 1
    if result.goals.get("affinity") != sign * value:
        raise AssertionError(
            f"{entry.label}: the engine reports {result.goals.get('affinity')}, "
            f"the plan costs {sign * value}"
        )
    return value, result.status is SolveStatus.OPTIMAL, seconds, cpu, result.method


def run_plain(
    problem: GapProblem, entry: Entry, limit: float, workers: int, seed: int
) -> tuple[int | None, bool, float, float]:
    """The textbook CP-SAT model, solved once: value, proven, wall and CPU seconds."""
    started, cpu = time.monotonic(), time.process_time()
    model = cp_model.CpModel()
    m, n = problem.n_agents, problem.n_jobs
    x = [[model.new_bool_var(f"x{i}_{j}") for j in range(n)] for i in range(m)]
    for j in range(n):
        model.add_exactly_one(x[i][j] for i in range(m))
    for i in range(m):
        model.add(
            sum(int(problem.resource[i, j]) * x[i][j] for j in range(n)) <= int(problem.capacity[i])
        )
    total = cp_model.LinearExpr.weighted_sum(
        [x[i][j] for i in range(m) for j in range(n)], problem.cost.ravel().tolist()
    )
    if entry.sense == "max":
        model.maximize(total)
    else:
        model.minimize(total)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False, seconds, cpu
    agent_of_job = np.array(
        [next(i for i in range(m) if solver.value(x[i][j])) for j in range(n)], dtype=np.int64
    )
    return check_plan(problem, agent_of_job), status == cp_model.OPTIMAL, seconds, cpu


COLUMNS = [
    ("instance", "instance", 12),
    ("sense", "sense", 5),
    ("n_agents", "m", 3),
    ("n_jobs", "n", 5),
    ("best_known", "best known", 10),
    ("ours", "ours", 8),
    ("ours_pct", "% above", 8),
    ("ours_proven", "proven", 6),
    ("ours_seconds", "s", 6),
    ("ours_cpu", "cpu s", 6),
    ("plain", "plain", 8),
    ("plain_pct", "% above", 8),
    ("plain_proven", "proven", 6),
    ("plain_seconds", "s", 6),
    ("plain_cpu", "cpu s", 6),
]


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def header() -> str:
    return "  ".join(title.rjust(width) for _, title, width in COLUMNS)


def line(row: Row) -> str:
    data = asdict(row)
    return "  ".join(_cell(data[key]).rjust(width) for key, _, width in COLUMNS)


def summary(rows: list[Row]) -> list[str]:
    out = []
    for who in ("ours", "plain"):
        pcts = [getattr(r, f"{who}_pct") for r in rows if getattr(r, f"{who}_pct") is not None]
        if not pcts:
            continue
        proven = sum(bool(getattr(r, f"{who}_proven")) for r in rows)
        better = sum(  # better than a proven optimum is no news but an error: said apart
            (getattr(r, f"{who}_pct") or 0) < -1e-9 and not r.best_proven for r in rows
        )
        out.append(
            f"{who}: {len(pcts)} solved, {sum(abs(p) <= 1e-9 for p in pcts)} at best known, "
            + (f"{better} better than best known, " if better else "")
            + f"{proven} proven optimal, mean {np.mean(pcts):.3f}% / max {max(pcts):.3f}% above"
        )
    duels = [r for r in rows if r.ours is not None and r.plain is not None]
    if duels:
        better = sum((r.ours_pct or 0) < (r.plain_pct or 0) - 1e-9 for r in duels)
        worse = sum((r.ours_pct or 0) > (r.plain_pct or 0) + 1e-9 for r in duels)
        out.append(
            f"ours vs plain: better on {better}, equal on {len(duels) - better - worse}, "
            f"worse on {worse}"
        )
    return out


def beyond_proven_optima(rows: list[Row]) -> list[str]:
    """A line for each result better than a proven optimum: impossible, so the optimum was
    misread or the plan is not what was scored."""
    return [
        f"IMPOSSIBLE {who} on {r.instance} ({r.sense}): {value} is better than the proven "
        f"optimum {r.best_known}"
        for r in rows
        if r.best_proven
        for who, value, pct in (("ours", r.ours, r.ours_pct), ("plain", r.plain, r.plain_pct))
        if pct is not None and pct < -1e-9
    ]


def write_csv(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    with temp.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(
            stream, fieldnames=list(asdict(rows[0]) if rows else Row.__annotations__)
        )
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in asdict(row).items()})
    os.replace(temp, path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GAP benchmark folder")
    parser.add_argument("--set", action="append", choices=sorted(SETS), help="instance set(s)")
    parser.add_argument("--instances", help="comma-separated names or patterns (d20200,'gap1-*')")
    parser.add_argument("--sense", choices=["min", "max", "both"], default="both")
    parser.add_argument("--max-size", type=size, help="at most MxN agents x jobs, e.g. 20x200")
    parser.add_argument("--min-size", type=size, help="at least MxN agents x jobs, e.g. 10x400")
    parser.add_argument(
        "--time-limit", type=positive_seconds, default=60.0, help="seconds per instance"
    )
    parser.add_argument("--workers", type=whole_number(1), default=2, help="threads per solve")
    parser.add_argument("--seed", type=whole_number(0), default=0, help="solvers' random seed")
    parser.add_argument("--only", choices=["ours", "plain"], help="run one side only")
    parser.add_argument("--csv", type=Path, help="write the table here (after every instance)")
    parser.add_argument(
        "--fail-above",
        type=percent,
        help="exit 1 if our result is more than this %% worse than best known anywhere",
    )
    parser.add_argument("--list", action="store_true", help="list the selection and stop")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [f for f in DATA_FILES if not (args.data / f).is_file()]
    if missing:
        print(
            f"{args.data} is not a GAP benchmark folder (no {', '.join(missing)}); "
            "give the folder with --data",
            file=sys.stderr,
        )
        return 2
    entries = select(read_entries(args.data), args)
    if not entries:
        print("no instance matches the selection", file=sys.stderr)
        return 2
    if args.list:
        for e in entries:
            print(f"{e.label:14} {e.n_agents:3d} x {e.n_jobs:5d}  best known {e.best_known}")
        return 0
    print(
        f"{len(entries)} instance(s), {args.time_limit:g} s each, {args.workers} workers",
        flush=True,
    )
    print(header(), flush=True)
    rows: list[Row] = []
    for entry in entries:
        problem = load_gap(entry.spec)
        assert (problem.n_agents, problem.n_jobs) == (entry.n_agents, entry.n_jobs), entry
        row = Row(
            entry.instance,
            entry.sense,
            entry.n_agents,
            entry.n_jobs,
            entry.best_known,
            entry.proven_optimal,
        )
        if args.only != "plain":
            value, proven, seconds, cpu, method = run_ours(
                problem, entry, args.time_limit, args.workers, args.seed
            )
            row.ours, row.ours_proven, row.ours_seconds = value, proven, round(seconds, 2)
            row.ours_cpu = round(cpu, 1)
            row.ours_pct, row.ours_method = pct_worse(value, entry), method
        if args.only != "ours":
            value, proven, seconds, cpu = run_plain(
                problem, entry, args.time_limit, args.workers, args.seed
            )
            row.plain, row.plain_proven, row.plain_seconds = value, proven, round(seconds, 2)
            row.plain_cpu = round(cpu, 1)
            row.plain_pct = pct_worse(value, entry)
        rows.append(row)
        print(line(row), flush=True)
        if args.csv:
            write_csv(rows, args.csv)
    for text in summary(rows):
        print(text)
    impossible = beyond_proven_optima(rows)
    for text in impossible:
        print(text)
    if impossible:
        return 1
    if args.fail_above is not None:
        bad = [r for r in rows if r.ours_pct is None or r.ours_pct > args.fail_above + 1e-9]
        if bad and args.only != "plain":
            print(f"above {args.fail_above}%: {', '.join(r.instance for r in bad)}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
