"""Output folders replaced in one rename; what a killed run left behind is cleared next time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portfolio_opt.report.atomic import FolderChangedError, atomic_folder


def _dead_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_a_killed_runs_staging_folder_is_removed_and_a_running_ones_kept(tmp_path: Path) -> None:
    dead, alive = (
        _dead_pid(),
        subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE),
    )
    try:
        killed = tmp_path / f".out.{dead}.abc123.tmp"
        running = tmp_path / f".out.{alive.pid}.def456.tmp"
        old = tmp_path / f".out.old-{dead}"
        other = tmp_path / f".outer.{dead}.xyz.tmp"  # another folder's: not ours to clear
        for folder in (killed, running, old, other):
            folder.mkdir()
        with atomic_folder(tmp_path / "out") as staging:
            (staging / "plan.csv").write_text("x\n", encoding="utf-8")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["out", running.name, other.name]
        )
        assert (tmp_path / "out" / "plan.csv").read_text(encoding="utf-8") == "x\n"
    finally:
        alive.communicate(b"\n")


def test_the_output_folder_is_as_open_as_the_umask_allows(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with atomic_folder(tmp_path / "out") as staging:
            (staging / "a.csv").write_text("x\n")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755


def test_a_target_changed_during_the_run_is_kept_and_the_outputs_go_beside_it(
    tmp_path: Path,
) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "assignment.csv").write_text("edited during the run", encoding="utf-8")

    with (
        pytest.raises(FolderChangedError) as raised,
        atomic_folder(target, lambda: "assignment.csv changed") as staging,
    ):
        (staging / "assignment.csv").write_text("new plan", encoding="utf-8")

    assert (target / "assignment.csv").read_text(encoding="utf-8") == "edited during the run"
    kept = raised.value.kept
    assert kept == tmp_path / "run-new"
    assert (kept / "assignment.csv").read_text(encoding="utf-8") == "new plan"
    assert "assignment.csv changed" in str(raised.value) and str(kept) in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run-new"]  # no staging left


def test_an_unchanged_target_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    with atomic_folder(target, lambda: None) as staging:
        (staging / "a.csv").write_text("new", encoding="utf-8")
    assert (target / "a.csv").read_text(encoding="utf-8") == "new"


def test_a_run_that_writes_nothing_leaves_no_new_empty_folders(tmp_path: Path) -> None:
    target = tmp_path / "out" / "runs" / "branch"
    with pytest.raises(RuntimeError), atomic_folder(target):
        raise RuntimeError("no plan")
    assert list(tmp_path.iterdir()) == []
