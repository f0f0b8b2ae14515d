"""Wording helpers shared by every message."""

import pytest

from portfolio_opt.problems import as_sentence, listed


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("the span bands: 3 portfolios", "The span bands: 3 portfolios"),
        ("group G1 of 6 (C00, C01)", "Group G1 of 6 (C00, C01)"),
        ("m001 may hold only premium portfolios", "m001 may hold only premium portfolios"),
        ("12 standard customers", "12 standard customers"),
        ("A group mixes kinds", "A group mixes kinds"),
    ],
)
def test_an_explanation_line_starts_with_a_capital_unless_it_starts_with_an_id(text, shown):
    assert as_sentence(text) == shown


def test_listed_counts_what_it_leaves_out():
    assert listed(["a", "b", "c"], most=2) == "a, b and 1 more"
