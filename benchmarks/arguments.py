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


def positive_count(text: str) -> int:
    """A whole number of at least 1 (workers)."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return count


def size(text: str) -> tuple[int, int]:
    """Agents x jobs written MxN, e.g. 20x200."""
    m, sep, n = text.strip().lower().partition("x")
    if not (sep and m.isdigit() and n.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size MxN, e.g. 20x200")
    return int(m), int(n)
