"""Generalized Assignment Problem benchmark files, turned into scenarios.

Two plain-integer formats are read. An OR-Library file (``gap1.txt`` ... ``gapd.txt``) starts
with the number of problems P, then holds P blocks; a Yagiura file (``c05100`` ... ``e801600``)
is one block without P. A block is ``m n``, the costs c[i][j] (m x n, agent-major), the
resource use a[i][j] (m x n) and the capacities b[i] (m). Line breaks mean nothing.

In the scenario a job is a customer and an agent a manager: the resource use is the workload,
the capacity the manager's capacity, and the cost the affinity cost, the only soft goal. The
span band is switched off, so the same ``solve`` command solves the published problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_opt.report.atomic import atomic_folder
from portfolio_opt.report.folders import record_written, untouched_since_written

CUSTOMER_CLASS = "basic"
MANAGER_GRADE = "B"
TABLES = ("customers.csv", "managers.csv", "affinity.csv", "scenario.toml")


class GapFormatError(ValueError):
    """The file is not a GAP file of either format."""


class GapSpecError(ValueError):
    """``FILE#k`` names no problem of the file (or ``#k`` is missing where the file has several)."""


@dataclass(frozen=True)
class GapProblem:
    """One GAP instance: ``cost`` and ``resource`` are (agents, jobs), ``capacity`` (agents,)."""

    cost: np.ndarray
    resource: np.ndarray
    capacity: np.ndarray
    name: str = ""

    @property
    def n_agents(self) -> int:
        return int(self.cost.shape[0])

    @property
    def n_jobs(self) -> int:
        return int(self.cost.shape[1])

    def objective(self, agent_of_job: np.ndarray) -> int:
        """Total cost of giving job j to agent ``agent_of_job[j]``."""
        return int(self.cost[agent_of_job, np.arange(self.n_jobs)].sum())

    def overload(self, agent_of_job: np.ndarray) -> np.ndarray:
        """Per agent, how far its resource use exceeds its capacity (0 where within)."""
        used = np.bincount(
            agent_of_job,
            weights=self.resource[agent_of_job, np.arange(self.n_jobs)],
            minlength=self.n_agents,
        )
        return np.maximum(used - self.capacity, 0)


BAD_SHOWN = 10  # tokens that are not integers, named before "and N more"


def _integers(path: Path) -> np.ndarray:
    """Every number of the file; where some are not integers, each of them with its line.
    A byte-order mark (Notepad's and Excel's "UTF-8") is not part of the first number."""
    lines = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("ascii", errors="replace")
    tokens, bad = [], []
    for number, line in enumerate(lines.splitlines(), start=1):
        for token in line.split():
            if re.fullmatch(r"-?\d+", token):
                tokens.append(int(token))
            else:
                bad.append(f"line {number}: {token!r}")
    if bad:
        shown = "; ".join(bad[:BAD_SHOWN]) + (
            f"; and {len(bad) - BAD_SHOWN} more" if len(bad) > BAD_SHOWN else ""
        )
        raise GapFormatError(
            f"{path.name}: {len(bad)} value(s) not a whole number ({shown}); a GAP file holds "
            "whole numbers only: correct or remove them"
        )
    return np.array(tokens, dtype=np.int64)


def _block(numbers: np.ndarray, start: int, name: str) -> tuple[GapProblem, int]:
    """The problem whose ``m n`` header is at ``start``, and the position after it."""
    if start + 2 > len(numbers):
        raise GapFormatError(f"{name}: the file ends before a problem's 'm n' header")
    m, n = int(numbers[start]), int(numbers[start + 1])
    if m < 1 or n < 1:
        raise GapFormatError(f"{name}: a problem has {m} agents and {n} jobs")
    end = start + 2 + 2 * m * n + m
    if end > len(numbers):
        raise GapFormatError(
            f"{name}: a problem of {m} agents x {n} jobs needs {2 * m * n + m} numbers after its "
            f"header, the file has {len(numbers) - start - 2}"
        )
    body = numbers[start + 2 : end]
    cost = body[: m * n].reshape(m, n)
    resource = body[m * n : 2 * m * n].reshape(m, n)
    capacity = body[2 * m * n :]
    if (resource < 0).any() or (capacity < 0).any():
        raise GapFormatError(f"{name}: resource use and capacities must be >= 0")
    return GapProblem(cost, resource, capacity, name), end


def read_gap_file(path: Path) -> list[GapProblem]:
    """Every problem in an OR-Library (several problems) or Yagiura (one problem) file."""
    numbers = _integers(path)
    stem = path.stem if path.suffix == ".txt" else path.name
    if len(numbers) >= 2 and len(numbers) == 2 + numbers[0] * (2 * numbers[1] + 1):
        problem, _ = _block(numbers, 0, stem)
        return [problem]
    if len(numbers) < 3 or numbers[0] < 1:
        raise GapFormatError(
            f"{path.name}: neither an OR-Library file (P, then P problems) nor a one-problem "
            "file (m n, costs, resource use, capacities)"
        )
    count = int(numbers[0])
    problems, at = [], 1
    for k in range(1, count + 1):
        problem, at = _block(numbers, at, f"{stem}-{k}")
        problems.append(problem)
    if at != len(numbers):
        raise GapFormatError(
            f"{path.name}: {len(numbers) - at} numbers are left after the {count} problems the "
            "file announces"
        )
    return problems


def split_spec(spec: str) -> tuple[Path, int | None]:
    """``FILE#k`` -> (FILE, k); ``FILE`` -> (FILE, None)."""
    file, hash_, index = spec.rpartition("#")
    if not hash_ or not re.fullmatch(r"\d+", index):
        return Path(spec), None
    return Path(file), int(index)


def load_gap(spec: str) -> GapProblem:
    """The problem named by ``FILE`` (one problem in it) or ``FILE#k`` (the k-th, from 1)."""
    path, index = split_spec(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    problems = read_gap_file(path)
    if index is None:
        if len(problems) > 1:
            raise GapSpecError(
                f"{path.name} holds {len(problems)} problems: pick one with "
                f"{path.name}#k (k = 1..{len(problems)})"
            )
        index = 1
    if not 1 <= index <= len(problems):
        raise GapSpecError(
            f"{path.name} holds {len(problems)} problem(s): "
            f"#{index} is not among 1..{len(problems)}"
        )
    return problems[index - 1]


def _ids(prefix: str, count: int) -> list[str]:
    width = len(str(count))
    return [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]


def scenario_tables(problem: GapProblem, maximise: bool = False) -> dict[str, pd.DataFrame]:
    """customers, managers and affinity tables of the problem (cost = -profit when maximising)."""
    jobs, agents = _ids("J", problem.n_jobs), _ids("A", problem.n_agents)
    customers = pd.DataFrame({"customer_id": jobs, "customer_class": CUSTOMER_CLASS})
    managers = pd.DataFrame(
        {"manager_id": agents, "grade": MANAGER_GRADE, "capacity": problem.capacity}
    )
    sign = -1 if maximise else 1
    affinity = pd.DataFrame(
        {
            "customer_id": np.tile(jobs, problem.n_agents),
            "manager_id": np.repeat(agents, problem.n_jobs),
            "cost": sign * problem.cost.ravel(),
            "workload": problem.resource.ravel(),
        }
    )
    return {"customers": customers, "managers": managers, "affinity": affinity}


def scenario_toml(problem: GapProblem, source: str, maximise: bool = False) -> str:
    """The policy of an imported problem: affinity the only goal, span band off."""
    sense = (
        "# Maximisation: the file's numbers are profits, so affinity.csv holds cost = -profit\n"
        "# and the best plan's total affinity cost is minus the published optimum.\n"
        if maximise
        else "# Minimisation: affinity.csv holds the file's costs as they are.\n"
    )
    return (
        f"# Generalized Assignment Problem {problem.name}, imported from {source}.\n"
        f"# {problem.n_jobs} jobs are customers, {problem.n_agents} agents are managers; each\n"
        "# job's resource use is its workload, each agent's capacity bounds its total workload.\n"
        f"{sense}"
        "# Written by portfolio-opt import-gap.\n\n"
        f"name = {json.dumps(problem.name + ('-max' if maximise else ''))}\n\n"
        "[tables]\n"
        'customers = "customers.csv"\n'
        'managers = "managers.csv"\n'
        'affinity = "affinity.csv"\n\n'
        "# One class for every job; the premium class and grade exist but hold nobody.\n"
        "[classes]\n"
        f'classes = ["premium", "{CUSTOMER_CLASS}"]\n'
        'premium_class = "premium"\n'
        f'grades = ["A", "{MANAGER_GRADE}"]\n'
        'premium_grade = "A"\n\n'
        "# The span band is off: a tolerance of every job lets a manager hold 0 .. all of them.\n"
        "[span]\n"
        f"tolerance = {problem.n_jobs}\n\n"
        "# Total cost is the only goal.\n"
        "[objective]\n"
        'order = ["affinity"]\n\n'
        "[solver]\n"
        "time_limit_s = 60\n"
    )


def write_gap_scenario(problem: GapProblem, out: Path, source: str, maximise: bool = False) -> None:
    """Write the problem as a scenario folder ``out`` (atomically)."""
    if not untouched_since_written(out):
        raise FileExistsError(
            f"{out} holds files import-gap did not write, or changed since it wrote them (a "
            "scenario of yours?); nothing was changed: choose a new folder"
        )
    tables = scenario_tables(problem, maximise)
    with atomic_folder(out) as staging:
        for name, frame in tables.items():
            frame.to_csv(
                staging / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n"
            )
        (staging / "scenario.toml").write_text(
            scenario_toml(problem, source, maximise), encoding="utf-8"
        )
        record_written(staging, ["scenario.toml", *(f"{name}.csv" for name in tables)])


def import_gap(spec: str, out: Path, maximise: bool = False) -> None:
    """Turn ``FILE`` or ``FILE#k`` (a GAP benchmark problem) into the scenario folder ``out``.

    With ``maximise`` the numbers are profits (as OR-Library publishes gap1-gap12) and the
    scenario minimises cost = -profit.
    """
    problem = load_gap(spec)
    path, index = split_spec(spec)
    source = path.name if index is None else f"{path.name}#{index}"
    write_gap_scenario(problem, Path(out), source, maximise)
