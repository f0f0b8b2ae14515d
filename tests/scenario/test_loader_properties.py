"""Whatever a planner types into a cell, loading reports problems, never crashes, never changes
the files, and points every problem at a real row of the file it names."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_opt.scenario.loader import inspect_scenario

DEMO = Path(__file__).parents[2] / "scenarios" / "demo"
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1e400",
    "nan",
    "NaN",
    "inf",
    "1,5",
    "1.234,5",
    "8%",
    "-8%",
    "%",
    "#N/A",
    "=1+1",
    "'=A1",
    "TRUE",
    "是",
    "否",
    "１２３",
    "M001",
    "C0001",
    "premium",
    "A",
    "\u200b",
    '"',
    "a\nb",
    "0x10",
    "1_000",
    "９９％",
]
cells = st.one_of(st.sampled_from(NASTY), st.text(max_size=6))


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _edited(folder: Path, table: str, edits: list[tuple[int, int, str]]) -> int:
    path = folder / f"{table}.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row, column, value in edits:
        r = 1 + row % (len(rows) - 1)
        rows[r][column % len(rows[0])] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    # csv quotes a cell holding "\n" (the line ending) but not "\r": that one breaks the line.
    return len(rows) + sum(value.count("\r") for _, _, value in edits)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    table=st.sampled_from(["customers", "managers", "relations", "actuals", "credits"]),
    edits=st.lists(
        st.tuples(st.integers(0, 500), st.integers(0, 40), cells), min_size=1, max_size=6
    ),
)
def test_any_cell_is_reported_or_read_never_a_crash(tmp_path, table, edits):
    folder = tmp_path / "s"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(DEMO, folder)
    n_rows = _edited(folder, table, edits)
    before = _digest(folder)
    scenario, problems = inspect_scenario(folder)
    assert _digest(folder) == before
    assert (scenario is None) == any(p.is_error for p in problems)
    for problem in problems:
        assert problem.file and problem.message
        if problem.file == f"{table}.csv" and problem.row is not None:
            # a cell with a line break spans two lines but is one row
            assert 1 <= problem.row <= n_rows, problem
