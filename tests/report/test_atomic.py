"""Output folders replaced in one rename; what a killed run left behind is cleared next time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from portfolio_opt.report.atomic import atomic_folder


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
