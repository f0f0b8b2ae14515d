"""Wording helpers shared by every message."""

import pytest

from portfolio_opt.problems import Problem, as_sentence, in_reading_order, listed


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("the span bands: 3 portfolios", "The span bands: 3 portfolios"),
        ("group G1 of 6 (C00, C01)", "Group G1 of 6 (C00, C01)"),
        ("rotation: C0000 (with M05) must move", "Rotation: C0000 (with M05) must move"),
        ("m001 may hold only premium portfolios", "m001 may hold only premium portfolios"),
        ("12 standard customers", "12 standard customers"),
        ("A group mixes kinds", "A group mixes kinds"),
    ],
)
def test_an_explanation_line_starts_with_a_capital_unless_it_starts_with_an_id(text, shown):
    assert as_sentence(text) == shown


def test_listed_counts_what_it_leaves_out():
    assert listed(["a", "b", "c"], most=2) == "a, b and 1 more"


def test_problems_print_per_file_by_row_with_whole_file_ones_first_and_folds_last() -> None:
    found = [
        Problem("customers.csv", "b", row=12),
        Problem("managers.csv", "m", row=3),
        Problem("customers.csv", "... and 4 more like these, in rows 20-23", column="x"),
        Problem("customers.csv", "a", row=7),
        Problem("customers.csv", "column missing", row=None, column="customer_class"),
        Problem("customers.csv", "c", row=12, column="z"),
    ]
    ordered = [(p.file, p.message) for p in in_reading_order(found)]
    assert ordered == [
        ("customers.csv", "column missing"),
        ("customers.csv", "a"),
        ("customers.csv", "b"),
        ("customers.csv", "c"),  # the same row: as the checks found them
        ("customers.csv", "... and 4 more like these, in rows 20-23"),
        ("managers.csv", "m"),
    ]
