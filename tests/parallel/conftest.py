"""Fixtures of the parallel tests: two small branches and one real Dask cluster per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client

from portfolio_opt.generate import demo_scenario, generate_scenario, write_scenario
from portfolio_opt.parallel.cluster import ClusterSize, open_client

TIME_LIMIT_S = 1.0  # per solve: the plans need not be good, only real


@pytest.fixture(scope="session")
def branch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated branch of 60 customers and 6 managers (seed 0): M006 holds the separate
    ledger, C0020 is pinned to M003 (C), the others are M001 A, M002 A, M005 D, M004 E.
    With span tolerance 1 it cannot lose a manager; with tolerance 3 it can."""
    folder = tmp_path_factory.mktemp("branches") / "north"
    write_scenario(generate_scenario(60, 6, seed=0, name="north"), folder)
    return folder


@pytest.fixture(scope="session")
def other_branch_dir(branch_dir: Path) -> Path:
    """A second generated branch (seed 1) beside ``branch_dir``, in the same parent folder."""
    folder = branch_dir.parent / "south"
    write_scenario(generate_scenario(60, 6, seed=1, name="south"), folder)
    return folder


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo branch: M004 premium, M002 separate ledger, M001 leaving, C0023 pinned to
    M005; the others are M003 A, M006 B, M007 C."""
    folder = tmp_path_factory.mktemp("scenarios") / "demo"
    write_scenario(demo_scenario(), folder)
    return folder


@pytest.fixture(scope="session")
def cluster() -> Iterator[Client]:
    """A LocalCluster of two worker processes with one thread each, and its client."""
    with open_client(None, ClusterSize(n_workers=2, threads_per_task=1)) as client:
        yield client
