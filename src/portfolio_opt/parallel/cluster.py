"""Where the solves run: a LocalCluster sized to this machine, or an existing Dask scheduler.

Each worker is a process that runs one solve at a time; a solve's CP-SAT threads are sized so
that workers x threads stays within the cores (a solver thread waiting for a core is wasted).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from portfolio_opt.parallel.tasks import SolveTask, TaskSummary, crashed, solve_task

if TYPE_CHECKING:
    from distributed import Client, Future

RETRIES = 2  # a task that raises runs again up to twice; a lost worker's task is rescheduled
CONNECT_TIMEOUT = "20s"
WORKER_WAIT_S = 60.0  # how long to wait for the first worker of an existing cluster


@dataclass(frozen=True)
class ClusterSize:
    """Worker processes (one solve each at a time) and the CP-SAT threads of each solve."""

    n_workers: int
    threads_per_task: int


def available_cores() -> int:
    """Cores this process may use (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def size_local_cluster(
    n_tasks: int, threads_per_task: int | None = None, cores: int | None = None
) -> ClusterSize:
    """As many workers as tasks and cores allow, with workers x threads <= cores.

    Without ``threads_per_task``, the cores are shared out among the workers; with it, the
    workers are as many as fit (at least one, even when one solve wants more threads).
    """
    cores = cores or available_cores()
    n_tasks = max(n_tasks, 1)
    if threads_per_task is None:
        workers = min(n_tasks, cores)
        return ClusterSize(workers, max(1, cores // workers))
    return ClusterSize(max(1, min(n_tasks, cores // threads_per_task)), threads_per_task)


def host_and_cores() -> tuple[str, int]:
    """This machine's name and usable cores (run on each worker of a cluster)."""
    return socket.gethostname(), available_cores()


def threads_on_cluster(client: Client) -> int:
    """CP-SAT threads per solve on an existing cluster: the cores of the tightest host shared
    among the Dask threads it runs (the same on every worker, so plans do not depend on
    where a task lands)."""
    nthreads = client.nthreads()
    if not nthreads:
        return 1
    threads: dict[str, int] = {}
    cores: dict[str, int] = {}
    for address, (host, host_cores) in client.run(host_and_cores).items():
        threads[host] = threads.get(host, 0) + int(nthreads.get(address, 1))
        cores[host] = host_cores
    return max(1, min(cores[host] // threads[host] for host in threads))


@contextmanager
def open_client(
    scheduler: str | None,
    size: ClusterSize | None = None,
    *,
    dashboard: bool = False,
) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a new LocalCluster of ``size``.

    The LocalCluster runs worker processes (a solve holds the GIL for long stretches, so
    threads would not run in parallel) and is shut down on leaving; with ``dashboard`` it
    serves Dask's dashboard (bokeh needed) on a free port.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout=CONNECT_TIMEOUT) as client:
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
            yield client
        return
    size = size or ClusterSize(available_cores(), 1)
    with (
        LocalCluster(
            n_workers=size.n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: other clusters may run on this machine
            scheduler_kwargs={"dashboard": dashboard},
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


class Watcher(Protocol):
    """Told what the tasks do while they run (a terminal display, a log)."""

    def event(self, payload: dict[str, Any]) -> None:
        """A task's progress event (``key``, ``state``, solver values)."""

    def done(self, summary: TaskSummary) -> None:
        """A task has finished, well or not."""


def new_topic() -> str:
    """An event topic of its own for one run (other runs may share the scheduler)."""
    return f"portfolio-opt-{uuid.uuid4().hex[:12]}"


def _summary(future: Future, task: SolveTask, submitted: float) -> TaskSummary:
    if future.status == "finished":
        result = future.result()
        if isinstance(result, TaskSummary):
            return result
        return crashed(task, TypeError(f"the task returned {type(result).__name__}"))
    seconds = time.monotonic() - submitted
    if future.status == "cancelled":
        return crashed(task, RuntimeError("the task was cancelled"), seconds)
    exc = future.exception()
    return crashed(task, exc if exc is not None else RuntimeError(future.status), seconds)


def run_tasks(
    client: Client,
    tasks: Sequence[SolveTask],
    watcher: Watcher | None = None,
    function: Callable[[SolveTask], TaskSummary] = solve_task,
) -> list[TaskSummary]:
    """Run every task on the cluster, each on its own; summaries in the order of ``tasks``.

    A task that fails (bad input, infeasible, an exception after its retries, workers lost
    too often) gives a failed summary and the others go on. ``function`` runs one task on a
    worker (:func:`solve_task`, or a wrapper of it).
    """
    from distributed import as_completed

    topics = sorted({task.topic for task in tasks if task.topic})
    if watcher is not None:
        for topic in topics:
            client.subscribe_topic(topic, lambda event: watcher.event(dict(event[1])))
    submitted = time.monotonic()
    futures = {client.submit(function, task, pure=False, retries=RETRIES): task for task in tasks}
    summaries: dict[str, TaskSummary] = {}
    try:
        for future in as_completed(futures):
            task = futures[future]
            summary = _summary(future, task, submitted)
            summaries[task.key] = summary
            if watcher is not None:
                watcher.done(summary)
    finally:
        client.cancel(list(futures))
        if watcher is not None:
            for topic in topics:
                client.unsubscribe_topic(topic)
    return [summaries[task.key] for task in tasks]
