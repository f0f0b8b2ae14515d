"""Sweep benchmark: 12 variants of a branch on a Dask LocalCluster against the same 12 solved
one after another, with the same time limit, seed and CP-SAT threads.

    python benchmarks/sweep.py                          # scenarios/city-branch, 20 s per variant
    python benchmarks/sweep.py --time-limit 60 --out out/sweep-bench

The variants: span tolerance 1, 2, 3 x growth of the growth class 8 % or 16 % x all managers
or two fewer. Both sides solve with ``--deterministic`` by default, so they do the same work
and must write the same plans: the script checks every assignment.csv byte for byte and exits
1 when one differs. Not part of the tests: it takes minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
VARY = ["span.tolerance=1,2,3", "payout.growth.growth=0.08,0.16"]
DROP = "0,2"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=REPOSITORY / "scenarios" / "city-branch")
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per variant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="where both runs go (default: a temp folder)")
    parser.add_argument(
        "--free",
        action="store_true",
        help="solve without --deterministic: both sides then run to the time limit",
    )
    return parser.parse_args()


def _sweep(args: argparse.Namespace, out: Path) -> float:
    from portfolio_opt.parallel.commands import sweep

    command = [str(args.scenario), "--out", str(out), "--time-limit", str(args.time_limit)]
    command += ["--seed", str(args.seed), "--workers", "1", "--drop-managers", DROP]
    for spec in VARY:
        command += ["--vary", spec]
    if not args.free:
        command.append("--deterministic")
    started = time.monotonic()
    sweep.main(args=command, standalone_mode=False)
    return time.monotonic() - started


def _one_after_another(args: argparse.Namespace, out: Path) -> tuple[float, list[str]]:
    """The same variants, each solved and written in turn in this process (no Dask)."""
    from portfolio_opt.parallel.tasks import SolveTask, solve_task
    from portfolio_opt.parallel.variants import build_variants, parse_counts
    from portfolio_opt.scenario.loader import load_scenario

    started = time.monotonic()
    scenario = load_scenario(args.scenario)
    variants = build_variants(scenario, VARY, parse_counts(DROP))
    folders = []
    for variant in variants:
        task = SolveTask(
            variant.label,
            str(args.scenario.resolve()),
            str(out / variant.folder_name),
            variant.settings,
            variant.drop or (),
            args.time_limit,
            1,
            args.seed,
            None if args.free else True,
        )
        summary = solve_task(task)
        print(f"  {variant.label}: {summary.status} in {summary.seconds:.1f}s", flush=True)
        folders.append(variant.folder_name if summary.ok else "")
    return time.monotonic() - started, folders


def main() -> int:
    args = _arguments()
    out = args.out or Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    print(f"12 variants of {args.scenario.name}, {args.time_limit:g} s each, into {out}")
    print("On a LocalCluster:", flush=True)
    parallel = _sweep(args, out / "sweep")
    print("One after another:", flush=True)
    serial, folders = _one_after_another(args, out / "one-after-another")
    differ = [
        name
        for name in folders
        if name
        and (out / "sweep" / "variants" / name / "assignment.csv").read_bytes()
        != (out / "one-after-another" / name / "assignment.csv").read_bytes()
    ]
    print(f"\nLocalCluster sweep (start, 12 solves, comparison report): {parallel:7.1f} s")
    print(f"One after another (12 solves with their output folders): {serial:7.1f} s")
    print(f"Speed-up: {serial / parallel:.2f} x")
    if not args.free:
        same = len([f for f in folders if f]) - len(differ)
        print(f"Plans identical on both sides: {same} of {len([f for f in folders if f])}")
    return 1 if differ and not args.free else 0


if __name__ == "__main__":  # the guard lets Dask start its worker processes
    sys.exit(main())
