"""Printing tables: as wide as a terminal, and wide enough in a file or pipe not to cut names."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 160


def print_table(console: Console, table: Table) -> None:
    """``table`` on ``console`` where it is a terminal, else on stdout at PIPE_WIDTH."""
    if console.is_terminal:
        console.print(table)
    else:
        Console(file=sys.stdout, width=PIPE_WIDTH, highlight=False).print(table)
