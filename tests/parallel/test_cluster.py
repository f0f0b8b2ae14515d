"""Sizing the cluster, and running tasks on a real one: events, failures, a lost worker."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from distributed import Client

from portfolio_opt.parallel.cluster import (
    ClusterSize,
    available_cores,
    new_topic,
    run_tasks,
    size_local_cluster,
    threads_on_cluster,
)
from portfolio_opt.parallel.tasks import SolveTask, TaskSummary, solve_task
from portfolio_opt.pipeline import EXIT_BAD_INPUT

from .conftest import TIME_LIMIT_S

# The helpers below travel to the workers by value: the workers need not import the tests.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.mark.parametrize(
    ("tasks", "threads", "cores", "size"),
    [
        (12, None, 2, ClusterSize(2, 1)),  # more tasks than cores: a worker per core
        (2, None, 8, ClusterSize(2, 4)),  # few tasks: the cores are shared out among them
        (3, None, 8, ClusterSize(3, 2)),  # 3 x 2 threads <= 8 cores
        (12, 2, 8, ClusterSize(4, 2)),  # threads given: as many workers as fit
        (12, 4, 2, ClusterSize(1, 4)),  # one solve wants more threads than cores: one worker
        (0, None, 4, ClusterSize(1, 4)),  # nothing to do still makes a valid cluster
    ],
)
def test_workers_times_threads_stay_within_the_cores(
    tasks: int, threads: int | None, cores: int, size: ClusterSize
) -> None:
    assert size_local_cluster(tasks, threads, cores) == size


def test_threads_on_an_existing_cluster(cluster: Client) -> None:
    assert threads_on_cluster(cluster) == max(1, available_cores() // 2)  # 2 one-thread workers


class Recorder:
    """A watcher that keeps what it is told."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.summaries: list[TaskSummary] = []

    def event(self, payload: dict[str, Any]) -> None:
        self.events.append(payload)

    def done(self, summary: TaskSummary) -> None:
        self.summaries.append(summary)


def die_once_then_solve(task: SolveTask) -> TaskSummary:
    """Kill this worker process the first time (a lost machine), solve when run again."""
    marker = Path(task.out).with_suffix(".died")
    if not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        os._exit(1)
    return solve_task(task)


def raise_always(task: SolveTask) -> TaskSummary:
    """A task with a bug: it raises on every attempt."""
    Path(task.out).parent.mkdir(parents=True, exist_ok=True)
    with Path(task.out).with_suffix(".attempts").open("a", encoding="utf-8") as stream:
        stream.write("x")
    raise RuntimeError(f"broken {task.key}")


def _task(key: str, scenario: Path, out: Path, topic: str = "") -> SolveTask:
    return SolveTask(
        key, str(scenario), str(out), (("span.tolerance", 3),), (), TIME_LIMIT_S, 1, 0, True, topic
    )


def test_a_worker_lost_mid_run_is_retried(
    cluster: Client, branch_dir: Path, tmp_path: Path
) -> None:
    tasks = [_task("a", branch_dir, tmp_path / "a"), _task("b", branch_dir, tmp_path / "b")]
    summaries = run_tasks(cluster, tasks, function=die_once_then_solve)
    assert [s.key for s in summaries] == ["a", "b"]
    assert all(s.ok for s in summaries), [s.errors for s in summaries]
    for name in ("a", "b"):
        assert (tmp_path / f"{name}.died").is_file()  # its first worker died
        assert (tmp_path / name / "assignment.csv").is_file()


def test_progress_events_reach_the_watcher(
    cluster: Client, branch_dir: Path, tmp_path: Path
) -> None:
    topic = new_topic()
    tasks = [
        _task("ok", branch_dir, tmp_path / "ok", topic),
        SolveTask("bad", str(tmp_path / "nowhere"), str(tmp_path / "bad"), topic=topic),
    ]
    recorder = Recorder()
    summaries = run_tasks(cluster, tasks, recorder)
    assert summaries[0].ok and summaries[1].exit_code == EXIT_BAD_INPUT  # one fails, one not
    assert sorted(s.key for s in recorder.summaries) == ["bad", "ok"]
    states = {(e["key"], e["state"]) for e in recorder.events}
    assert {("ok", "loading"), ("ok", "solving"), ("bad", "loading")} <= states
    assert all(str(e["worker"]).startswith("tcp://") for e in recorder.events)


def test_a_task_that_keeps_raising_is_retried_then_reported(
    cluster: Client, branch_dir: Path, tmp_path: Path
) -> None:
    tasks = [_task("broken", branch_dir, tmp_path / "broken")]
    (summary,) = run_tasks(cluster, tasks, function=raise_always)
    assert summary.status == "error" and "RuntimeError: broken broken" in summary.errors[0]
    assert (tmp_path / "broken.attempts").read_text(encoding="utf-8") == "xxx"  # 1 + 2 retries
