"""The portfolio type a manager's customers make."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

PORTFOLIO_TYPES = ("separate_ledger", "premium", "standard")  # the first wins a tie


def customer_type(premium: bool, separate_ledger: bool) -> str:
    """A customer both premium and separate-ledger makes a separate-ledger portfolio: its
    manager is a dedicated one, and its pay follows the separate scheme."""
    return "separate_ledger" if separate_ledger else "premium" if premium else "standard"


def held_type(kinds: Iterable[str], flagged: str) -> str:
    """The type of a portfolio holding customers of ``kinds`` (each as :func:`customer_type`).

    A portfolio of one kind has that type. One that mixes kinds breaks a rule; it takes the kind
    most of its customers have, so a customer moved into the wrong portfolio does not change
    the band and pay rates of everyone beside it. A tie goes to ``flagged``, the type the
    manager's flags imply, where it is among the tied kinds.
    """
    counts = Counter(kinds)
    most = max(counts.values())
    tied = [k for k in PORTFOLIO_TYPES if counts.get(k) == most]
    return flagged if flagged in tied else tied[0]
