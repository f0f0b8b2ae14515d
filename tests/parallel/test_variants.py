"""--vary values, head-count cuts, the cross product, labels and folder names."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from portfolio_opt.parallel.variants import (
    Variant,
    VariantError,
    apply_drop,
    build_variants,
    cross_product,
    format_value,
    managers_to_drop,
    parse_counts,
    parse_value,
    parse_vary,
    split_top_level,
)
from portfolio_opt.scenario.loader import load_scenario


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", 2),  # an int
        ("0.04", 0.04),  # a float
        ("1e-3", 0.001),  # a float in exponent form
        ("true", True),  # a bool, as TOML writes it
        ("premium", "premium"),  # a bare word is a string
        ('"2"', "2"),  # a quoted number stays a string
        ("none", None),  # unsets an optional key
        ("[span, balance]", ["span", "balance"]),  # a list of bare words
        ('["span","balance"]', ["span", "balance"]),  # a TOML list
        ("[[1,2],[3]]", [[1, 2], [3]]),  # nested lists
        ("[]", []),  # an empty list
        ("{ span = 100, balance = 10 }", {"span": 100, "balance": 10}),  # an inline table
        ("  3 ", 3),  # spaces around are dropped
    ],
)
def test_values_are_typed_as_in_toml(text: str, value: object) -> None:
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("value", [2, 0.04, True, None, "premium", "2", "a,b", ["x", 1], "none"])
def test_a_formatted_value_reads_back_the_same(value: object) -> None:
    assert parse_value(format_value(value)) == value


@pytest.mark.parametrize(
    "text",
    [
        "",  # nothing
        "[1,2",  # a list not closed
        '"open',  # a quote not closed
        "1]",  # a bracket closing nothing
    ],
)
def test_malformed_values_are_refused(text: str) -> None:
    with pytest.raises(VariantError):
        parse_value(text) if "," not in text else split_top_level(text)


def test_commas_inside_brackets_and_quotes_do_not_split() -> None:
    assert split_top_level('1,[2,3],"a,b",{x=1,y=2}') == ["1", "[2,3]", '"a,b"', "{x=1,y=2}"]


def test_a_vary_spec_gives_its_key_and_typed_values() -> None:
    assert parse_vary("payout.rates.excess=0.04,0.06") == ("payout.rates.excess", [0.04, 0.06])
    # a class named in Chinese, as a planner's policy names them
    assert parse_vary("payout.growth.優質=0.05,0.1") == ("payout.growth.優質", [0.05, 0.1])
    assert parse_vary("objective.order=[span,balance],[balance,span]") == (
        "objective.order",
        [["span", "balance"], ["balance", "span"]],
    )


@pytest.mark.parametrize(
    "spec",
    [
        "span.tolerance",  # no values
        "=1,2",  # no key
        "span tolerance=1",  # not a dotted key
        "span.tolerance=1,1",  # a value twice
        "span.tolerance=1,",  # an empty value
    ],
)
def test_malformed_vary_specs_are_refused(spec: str) -> None:
    with pytest.raises(VariantError):
        parse_vary(spec)


def test_head_count_cuts() -> None:
    assert parse_counts("0,1,2") == [0, 1, 2]
    for bad in ("-1", "1.5", "x", "1,1"):
        with pytest.raises(VariantError):
            parse_counts(bad)


def test_the_cross_product_varies_the_last_axis_fastest() -> None:
    variants = cross_product(
        [("span.tolerance", [1, 2]), ("payout.rates.excess", [0.04, 0.06])], [(), ("M9",)]
    )
    assert len(variants) == 8
    assert [v.index for v in variants] == list(range(1, 9))
    assert variants[0].overrides == {"span.tolerance": 1, "payout.rates.excess": 0.04}
    assert variants[1].drop == ("M9",) and variants[2].overrides["payout.rates.excess"] == 0.06
    assert variants[-1].overrides == {"span.tolerance": 2, "payout.rates.excess": 0.06}
    assert len({v.label for v in variants}) == 8
    assert len({v.folder_name for v in variants}) == 8


def test_a_key_varied_twice_is_refused() -> None:
    with pytest.raises(VariantError, match="varied twice"):
        cross_product([("span.tolerance", [1]), ("span.tolerance", [2])])


def test_labels_name_the_values_and_the_managers_dropped() -> None:
    variant = Variant(3, (("span.tolerance", 1), ("objective.order", ["span"])), ("M7", "M6"))
    assert variant.label == "span.tolerance=1 objective.order=[span] without M7,M6"
    assert Variant(1, (("span.tolerance", 1),), ()).label == "span.tolerance=1 all managers"
    assert variant.folder_name == "03_tolerance=1_order=_span_drop-2"  # [ ] are unsafe


def test_folder_names_are_safe_and_short() -> None:
    variant = Variant(12, (("name", 'a/b\\c:"d" ' + "x" * 200),))
    name = variant.folder_name
    assert name.startswith("12_") and len(name) <= 83
    assert not set(name) & set('/\\:" ')


def test_managers_are_dropped_lowest_grade_first(branch_dir: Path) -> None:
    scenario = load_scenario(branch_dir)
    # M006 holds the separate ledger and C0020 is pinned to M003 (C): neither is dropped;
    # E, D, then the two A's, the higher id first
    assert managers_to_drop(scenario, 3) == ("M004", "M005", "M002")
    assert managers_to_drop(scenario, 4) == ("M004", "M005", "M002", "M001")
    assert managers_to_drop(scenario, 0) == ()
    with pytest.raises(VariantError, match="only 4"):
        managers_to_drop(scenario, 5)
    with pytest.raises(VariantError, match="one must remain"):
        managers_to_drop(scenario, 6)


def test_designated_and_pinned_managers_are_kept(demo_dir: Path) -> None:
    scenario = load_scenario(demo_dir)
    # M004 premium, M002 separate ledger, M005 pinned, M001 already unavailable
    assert managers_to_drop(scenario, 3) == ("M007", "M006", "M003")
    with pytest.raises(VariantError, match="only 3"):
        managers_to_drop(scenario, 4)


def test_a_drop_is_the_same_as_available_false_in_the_file(
    branch_dir: Path, tmp_path: Path
) -> None:
    edited = tmp_path / "edited"
    edited.mkdir()
    for file in branch_dir.iterdir():
        (edited / file.name).write_bytes(file.read_bytes())
    with (branch_dir / "managers.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        if row["manager_id"] in ("M004", "M005"):
            row["available"] = "false"
    with (edited / "managers.csv").open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    dropped = apply_drop(load_scenario(branch_dir), ["M004", "M005"])
    pd.testing.assert_frame_equal(dropped.managers, load_scenario(edited).managers)
    assert len(dropped.available_managers) == 4
    with pytest.raises(VariantError, match="unknown manager"):
        apply_drop(dropped, ["M999"])


def test_variants_are_checked_against_the_policy(branch_dir: Path) -> None:
    scenario = load_scenario(branch_dir)
    variants = build_variants(scenario, ["span.tolerance=1,3"], [0, 1])
    assert [v.label for v in variants] == [
        "span.tolerance=1 all managers",
        "span.tolerance=1 without M004",
        "span.tolerance=3 all managers",
        "span.tolerance=3 without M004",
    ]
    for spec, message in [
        ("span.tolerance=-1", "span.tolerance=-1: .*greater than or equal to 0"),
        ("span.tolrance=1", "span.tolrance=1: unknown key"),
        ("span.tolerance.x=1", "below a value"),
        ("payout.rates.excess=0.04,-1", "payout.rates.excess=-1: a rate must be >= 0"),
    ]:
        with pytest.raises(VariantError, match=message):
            build_variants(scenario, [spec])


def test_values_that_clash_only_together_are_refused(branch_dir: Path) -> None:
    scenario = load_scenario(branch_dir)
    with pytest.raises(VariantError, match="min 9 is above max 5"):
        build_variants(scenario, ["span.premium.min=1,9", "span.premium.max=5,20"])


def test_a_value_valid_only_with_another_axis_is_accepted(branch_dir: Path) -> None:
    """max 3 alone clashes with the file's premium min; with min 2 beside it, it is fine."""
    scenario = load_scenario(branch_dir, {"span.premium.min": 8})
    with pytest.raises(VariantError, match=r"span\.premium\.max=3: min 8 is above max 3"):
        build_variants(scenario, ["span.premium.max=3,12"])
    variants = build_variants(scenario, ["span.premium.min=2", "span.premium.max=3,12"])
    assert [v.overrides for v in variants] == [
        {"span.premium.min": 2, "span.premium.max": 3},
        {"span.premium.min": 2, "span.premium.max": 12},
    ]


@pytest.mark.parametrize(
    "value",
    [
        {"高級": 300000.0, "junior": 1.0},
        '5" branch',
        "a,b",
        ["x y", "貿易"],
        {"a": {"b c": 1}},
        None,
        [0.01, 0.02],
    ],
)
def test_a_value_written_back_reads_as_itself(value: object) -> None:
    """compare suggests --set with values as format_value writes them: they must read back."""
    assert parse_value(format_value(value)) == value
