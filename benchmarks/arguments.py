"""Argument types the benchmark scripts share: a bad option is a usage error (exit 2) that
says what to give, not a traceback after the scenarios are generated."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def names_of(known: list[str]) -> Callable[[str], list[str]]:
    """A comma-separated list of names, each one of ``known``."""

    def parse(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(unknown) or 'empty list'}; choose from {', '.join(known)}"
            )
        return names

    return parse


def finite_number(what: str, least: float, above: bool = False) -> Callable[[str], float]:
    """A finite number of at least ``least`` (above it, where ``above``); ``what`` names it."""

    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and (number > least if above else number >= least)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return number

    return parse


positive_seconds = finite_number("a number of seconds above 0", 0, above=True)  # a time limit
percent = finite_number("a percentage of at least 0", 0)


def whole_number(least: int) -> Callable[[str], int]:
    """A whole number of at least ``least`` (workers 1, a seed 0)."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = least - 1
        if number < least:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least {least}")
        return number

    return parse


def size(text: str) -> tuple[int, int]:
    """Agents x jobs written MxN, e.g. 20x200."""
    m, sep, n = text.strip().lower().partition("x")
    if not (sep and m.isdigit() and n.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size MxN, e.g. 20x200")
    return int(m), int(n)
