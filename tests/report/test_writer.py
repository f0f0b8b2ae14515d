"""The solve's report.xlsx and plots, as written into a real output folder."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from matplotlib.image import imread
from openpyxl import load_workbook

from portfolio_opt.payout import customer_targets
from portfolio_opt.pipeline import write_csv
from portfolio_opt.report.plots.load import BAND_GID
from portfolio_opt.report.workbook import MONEY, PERCENT
from portfolio_opt.report.writer import flatten_kpis, report_figures

from .conftest import Solved

SHEETS = ["Assignment", "Portfolios", "Payout", "KPIs", "Inputs"]


@pytest.fixture(scope="module")
def book(solved: Solved):
    return load_workbook(solved.out / "report.xlsx")


def test_every_sheet_is_there_with_header_and_filter(book) -> None:
    assert book.sheetnames == SHEETS
    for sheet in book:
        assert sheet.freeze_panes == "B2"
        assert (
            sheet.auto_filter.ref
            == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
        )


def test_no_cell_is_a_formula(book) -> None:
    formulas = [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in book
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []


def test_assignment_carries_names_and_values(book, solved: Solved) -> None:
    rows = list(book["Assignment"].iter_rows(values_only=True))
    frame = pd.DataFrame(rows[1:], columns=rows[0]).set_index("customer_id")
    assert frame.at["C0003", "customer_name"] == "=SUM 貿易有限公司"
    managers = solved.scenario.managers.set_index("manager_id")["name"]
    assert (frame["manager_name"] == frame["manager_id"].map(managers)).all()
    targets = customer_targets(solved.scenario.customers, solved.scenario.policy)["target"]
    assert frame["target"].to_dict() == pytest.approx(targets.reindex(frame.index).to_dict())
    plan = solved.outcome.tables["assignment"].set_index("customer_id")["manager_id"]
    assert frame["manager_id"].to_dict() == plan.to_dict()


def test_money_and_percent_formats(book) -> None:
    portfolios = book["Portfolios"]
    header = [c.value for c in portfolios[1]]
    target = portfolios.cell(2, header.index("target") + 1)
    assert target.number_format == MONEY
    kpis = {r[0].value: r[1] for r in book["KPIs"].iter_rows(min_row=2)}
    assert kpis["gap"].number_format == PERCENT
    assert kpis["moves.value"].number_format == MONEY


def test_kpi_sheet_matches_kpis_json(book, solved: Solved) -> None:
    written = json.loads((solved.out / "kpis.json").read_text(encoding="utf-8"))
    kpis = {r[0]: r[1] for r in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert kpis["balance.target_gini"] == pytest.approx(written["balance"]["target_gini"])
    assert kpis["span.max"] == written["span"]["max"]
    assert kpis["status"] == written["status"]


def test_inputs_sheet_summarises_the_scenario(book) -> None:
    items = {r[0]: r[1] for r in book["Inputs"].iter_rows(min_row=2, values_only=True)}
    assert items["customers"] == 60 and items["managers_available"] == 6
    assert items["span_band"] == "8, 12"
    assert items["policy.span.tolerance"] == 2


def test_four_plots_are_written(solved: Solved) -> None:
    for name in ("load", "targets", "fairness", "payout"):
        image = imread(solved.out / "plots" / f"{name}.png")
        assert image.shape[0] >= 500 and image.shape[1] >= 700, name


def test_load_plot_shows_each_managers_band(solved: Solved) -> None:
    figures = report_figures(solved.scenario, solved.outcome.tables, solved.outcome.kpis)
    (ax,) = figures["load"].axes
    bands = [(p.get_y(), p.get_y() + p.get_height()) for p in ax.patches if p.get_gid() == BAND_GID]
    # the demo's premium and separate-ledger bands and personal bounds differ from 8..12
    assert len(bands) == 6 and (8, 12) in bands and len(set(bands)) > 1
    assert set(figures) == {"load", "targets", "fairness", "payout"}


def test_flatten_kpis_dotted_names() -> None:
    table = flatten_kpis(
        {"status": "optimal", "span": {"min": 3, "by_type": {"premium": {"max": 9}}}}
    )
    assert table[["kpi", "value"]].values.tolist() == [
        ["status", "optimal"],
        ["span.min", 3],
        ["span.by_type.premium.max", 9],
    ]
    assert table["meaning"].iloc[1] == "fewest customers of any manager"


def test_csv_numbers_carry_no_float_noise(tmp_path) -> None:
    """Sums such as 2394935.84 + 0.0 print as written, also in columns mixing text and numbers
    (compare.csv's plan columns); precision a KPI needs is kept."""
    frame = pd.DataFrame(
        {
            "money": [2394935.8400000003, 0.1 + 0.2],
            "mixed": ["n/a", 1234567.1200000001],
            "share": [0.000370123456789, 1.0],
        }
    )
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines() == [
        "money,mixed,share",
        "2394935.84,n/a,0.000370123456789",
        "0.3,1234567.12,1.0",
    ]
