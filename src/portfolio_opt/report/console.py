"""Printing tables: as wide as a terminal, and wide enough in a file or pipe not to cut names."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console
from rich.table import Table

from portfolio_opt.pipeline import EXIT_USAGE

PIPE_WIDTH = 160


def print_table(console: Console, table: Table) -> None:
    """``table`` on ``console`` where it is a terminal, else on stdout at PIPE_WIDTH."""
    if console.is_terminal:
        console.print(table)
    else:
        Console(file=sys.stdout, width=PIPE_WIDTH, highlight=False).print(table)


def refuse(console: Console, message: object) -> NoReturn:
    """``message`` as an error on ``console``, then exit 2 (bad usage), having done nothing."""
    console.print(f"Error: {message}", markup=False)
    sys.exit(EXIT_USAGE)
