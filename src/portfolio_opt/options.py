"""Command-line option types shared by the commands."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from portfolio_opt.scenario.policy import LARGEST_SEED, LEAST_TIME_LIMIT_S, MOST_WORKERS


class Seconds(click.FloatRange):
    """A time limit: a finite number of seconds, at least 0.1 (a range alone lets nan and inf
    through, and either would make a solve run without end)."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=LEAST_TIME_LIMIT_S)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


def solver_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--workers, --seed and --deterministic, for a command that solves scenarios."""
    options = [
        click.option(
            "--workers",
            type=click.IntRange(min=0, max=MOST_WORKERS),
            help="CP-SAT threads (0: all cores).",
        ),
        click.option("--seed", type=click.IntRange(min=0, max=LARGEST_SEED), help="Random seed."),
        click.option(
            "--deterministic/--no-deterministic",
            default=None,
            help="Same inputs, same plan (default: [solver] deterministic).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command
