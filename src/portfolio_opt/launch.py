"""The ``portfolio-opt`` entry point: Ctrl-C while the libraries load ends quietly."""

from __future__ import annotations

import sys

INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


def run() -> None:
    try:
        from portfolio_opt.cli import main
    except KeyboardInterrupt:  # nothing was read or written yet
        sys.exit(INTERRUPTED)
    main()
