"""The ``portfolio-opt`` entry point: Ctrl-C while the libraries load ends quietly."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


def run() -> None:
    try:
        from portfolio_opt.cli import main
    except KeyboardInterrupt:  # nothing was read or written yet
        sys.exit(INTERRUPTED)
    try:
        main()
    finally:
        # The libraries leave a great many objects, and the interpreter's last collection would
        # walk them all (0.4 s) after a time limit meant for the whole command. Nothing needs
        # it: every file is closed by then, and exit handlers still run.
        gc.freeze()


@contextmanager
def nothing_written_on_ctrl_c(target: Path) -> Iterator[None]:
    """Ctrl-C inside ends the command with the shell's code, saying ``target`` was not written.

    For commands that run several solves: stopping one early, as ``solve`` does, would report
    a half-made plan beside finished ones.
    """
    try:
        yield
    except KeyboardInterrupt:
        print(f"Stopped (Ctrl-C): nothing was written to {target}.", file=sys.stderr, flush=True)
        sys.exit(INTERRUPTED)
