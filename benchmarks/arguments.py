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


def positive_seconds(text: str) -> float:
    """A time limit: a finite number of seconds above 0."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds


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


def percent(text: str) -> float:
    """A finite percentage of at least 0."""
    try:
        share = float(text)
    except ValueError:
        share = math.nan
    if not (share >= 0 and math.isfinite(share)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage of at least 0")
    return share


def size(text: str) -> tuple[int, int]:
    """Agents x jobs written MxN, e.g. 20x200."""
    m, sep, n = text.strip().lower().partition("x")
    if not (sep and m.isdigit() and n.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size MxN, e.g. 20x200")
    return int(m), int(n)
