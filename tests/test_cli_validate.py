"""``portfolio-opt validate``: every problem with file, row and column and exit 1, or a summary."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from portfolio_opt.cli import main

DATA = Path(__file__).parent / "scenario" / "data"
CONSOLE_SCRIPT = Path(sys.executable).parent / "portfolio-opt"


def validate(*args: str | Path):
    return CliRunner().invoke(main, ["validate", *map(str, args)])


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_every_problem_is_printed_and_the_exit_code_is_1():
    result = validate(DATA / "many_problems")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    errors = [line for line in lines if line.startswith("ERROR")]
    assert len(errors) == 19  # an unknown prior manager is a warning
    for expected in (
        "ERROR   customers.csv, row 4, column customer_id: duplicate customer_id 'C2'",
        "ERROR   managers.csv, row 2, column management_score: '1200' is not at most 1000",
        "ERROR   relations.csv, row 2, column b: unknown customer 'C7'",
        "ERROR   actuals.csv, row 2, column customer_id: customer 'C9' is not in customers",
        "ERROR   adjustments.csv, row 2, column manager_id: manager 'M7' is not in managers",
        "ERROR   credits.csv, row 3, column share: the shares of customer 'C5' add up to 1.3",
    ):
        assert any(line.startswith(expected) for line in errors), expected
    # Every cell problem says where it is; the hint in brackets says what to do.
    assert all(", row " in line and ", column " in line and line.endswith(")") for line in errors)
    warnings = [line for line in lines if line.startswith("WARNING")]
    assert len(warnings) == 4
    for expected in (
        "WARNING customers.csv, row 4, column interest_income: negative income -5 (",
        # two hard rules collide: solve would explain it and exit 3
        "WARNING customers.csv, row 5, column pinned_manager_id: pinned to manager 'M3'",
        "WARNING actuals.csv, column customer_id: 2 customer(s) have no actuals rows (C2, C5)",
    ):
        assert any(line.startswith(expected) for line in warnings), expected
    assert lines[-1] == "19 error(s), 4 warning(s): fix them and validate again."


def test_policy_problem_is_printed_with_its_line():
    result = validate(DATA / "invalid" / "UnknownPolicyKey")
    assert result.exit_code == 1
    assert "ERROR   scenario.toml, row 7, column span.tolerence: span.tolerence: unknown key" in (
        result.output
    )


def test_valid_scenario_prints_the_summary_and_exits_0():
    result = validate(DATA / "valid_minimal")
    assert result.exit_code == 0, result.output
    assert "Scenario valid_minimal: no errors" in result.output
    assert "ERROR" not in result.output and "WARNING" not in result.output


def test_summary_as_json():
    result = validate(DATA / "valid_all_columns", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["customers"] == 4
    assert (summary["managers"], summary["managers_available"]) == (4, 3)
    assert summary["customers_by_class"] == {"key": 2, "premium": 1, "basic": 1}
    assert (summary["groups"], summary["pinned_customers"]) == (1, 2)
    assert summary["tables"] == ["customers", "managers"]


def test_warnings_are_printed_but_do_not_stop():
    result = validate(DATA / "warning" / "NegativeIncome")
    assert result.exit_code == 0, result.output
    assert (
        "WARNING customers.csv, row 4, column interest_income: negative income -30" in result.output
    )
    assert "no errors" in result.output


def test_missing_folder_exits_1(tmp_path):
    result = validate(tmp_path / "nowhere")
    assert result.exit_code == 1
    assert "no such scenario folder" in result.output


def test_a_table_given_for_the_scenario_names_its_folder():
    result = validate(DATA / "valid_minimal" / "customers.csv")
    assert result.exit_code == 1
    assert "is a file, not a scenario folder" in result.output
    assert f"({DATA / 'valid_minimal'}?)" in result.output


def test_a_folder_given_for_the_plan_names_the_plan_file_in_it(tmp_path):
    (tmp_path / "assignment.csv").write_text("customer_id,manager_id\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", str(DATA / "valid_minimal"), str(tmp_path)])
    assert result.exit_code == 1
    assert "is a folder, not a plan file" in result.output
    assert f"give {tmp_path / 'assignment.csv'}" in result.output


def test_missing_argument_is_bad_usage():
    assert CliRunner().invoke(main, ["validate"]).exit_code == 2


@pytest.mark.parametrize("folder", ["valid_all_columns", "many_problems"])
def test_inputs_are_never_modified(folder):
    before = fingerprint(DATA / folder)
    validate(DATA / folder)
    assert fingerprint(DATA / folder) == before


def test_console_script_exit_codes():
    assert CONSOLE_SCRIPT.exists(), "install the package: pip install -e ."
    bad = subprocess.run(
        [CONSOLE_SCRIPT, "validate", DATA / "invalid" / "DuplicateCustomerId"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert "customers.csv, row 4, column customer_id: duplicate customer_id 'C2'" in bad.stdout


def test_a_console_that_cannot_write_chinese_still_gets_every_problem(tmp_path: Path) -> None:
    """A Latin-1 console (output redirected on a Western Windows): the names print as escapes
    and the list goes on to its end, not a UnicodeEncodeError halfway through."""
    folder = Path(shutil.copytree(DATA / "valid_minimal", tmp_path / "latin"))
    customers = folder / "customers.csv"
    text = customers.read_text(encoding="utf-8").replace("C2,乙公司,key", "C2,乙公司,優質")
    customers.write_text(text, encoding="utf-8")
    bad = subprocess.run(
        [CONSOLE_SCRIPT, "validate", folder],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "latin-1"},
        timeout=60,
        check=False,
    )
    shown = bad.stdout.decode("latin-1") + bad.stderr.decode("latin-1")
    assert bad.returncode == 1, shown
    assert "Traceback" not in shown
    assert "\\u512a\\u8cea" in shown  # 優質, escaped
    assert "fix them and validate again." in shown


def colliding_copy(tmp_path: Path) -> Path:
    """valid_minimal with its premium customer C1 pinned to the B-grade manager M2."""
    folder = tmp_path / "colliding"
    folder.mkdir()
    for name in ("managers.csv", "scenario.toml"):
        (folder / name).write_bytes((DATA / "valid_minimal" / name).read_bytes())
    customers = (DATA / "valid_minimal" / "customers.csv").read_text(encoding="utf-8")
    (folder / "customers.csv").write_text(
        customers.replace(
            "C1,甲公司,premium,钢铁,100,50,M1,", "C1,甲公司,premium,钢铁,100,50,M1,M2"
        ),
        encoding="utf-8",
    )
    return folder


def test_rules_that_cannot_all_hold_exit_3_with_the_explanation(tmp_path):
    result = validate(colliding_copy(tmp_path))
    assert result.exit_code == 3, result.output
    assert "no errors in the files" in result.output
    assert "the hard rules cannot all hold" in result.output
    assert "C1" in result.output and "M2" in result.output


def test_json_carries_warnings_and_collisions(tmp_path):
    result = validate(colliding_copy(tmp_path), "--json")
    assert result.exit_code == 3, result.output
    summary = json.loads(result.output)
    assert summary["warnings"] == []
    assert any("C1" in reason for reason in summary["collisions"])


def test_json_lists_errors_when_the_files_are_bad():
    result = validate(DATA / "many_problems", "--json")
    assert result.exit_code == 1
    problems = json.loads(result.output)
    assert len(problems["errors"]) == 19
    first = problems["errors"][0]
    assert set(first) == {"severity", "file", "row", "column", "message", "hint", "stands_for"}


def test_the_summary_gives_the_chain_weight_that_solve_reports_cut_of(tmp_path):
    folder = tmp_path / "chains"
    shutil.copytree(DATA / "valid_all_columns", folder)
    (folder / "relations.csv").write_text(
        # K3 - K2 repeats a link (weights add up), K1 - K1 links a customer to itself
        "a,b,kind,weight\nK1,K2,chain,2.5\nK2,K3,chain,\nK3,K2,chain,2\nK1,K1,chain,4\n",
        encoding="utf-8",
    )
    with (folder / "scenario.toml").open("a", encoding="utf-8") as toml:
        toml.write('relations = "relations.csv"\n')  # the file ends in [tables]
    result = validate(folder, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["chain_links"], summary["chain_link_weight"]) == (2, 5.5)


def test_validate_lists_every_warning_beside_errors(tmp_path):
    folder = shutil.copytree(DATA / "valid_minimal", tmp_path / "branch")
    rows = [f"M{i},经理{i},B,0.9,true" for i in range(1, 9)] + ["M1,重复,B,900,true"]
    (folder / "managers.csv").write_text(
        "manager_id,name,grade,management_score,available\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    result = validate(folder)
    assert result.exit_code == 1, result.output  # M1 twice
    warned = [line for line in result.output.splitlines() if "column management_score" in line]
    assert len(warned) == 8 and not any("more warnings like these" in w for w in warned)


SMALL_BRANCH = Path(__file__).parent / "model" / "data" / "small_branch"


def test_validate_checks_the_scenario_as_solve_would_run_it_with_set_and_unavailable(tmp_path):
    branch = shutil.copytree(SMALL_BRANCH, tmp_path / "branch")
    before = fingerprint(branch)

    away = validate(branch, "--unavailable", "M2")  # S03 is pinned to M2
    looser = validate(branch, "--set", "span.tolerance=5", "--json")
    partial = validate(branch, "--set", "objective.order=[continuity]")

    assert validate(branch).exit_code == 0
    assert away.exit_code == 3, away.output
    assert "pinned to manager M2, who is not available" in away.output
    assert looser.exit_code == 0, looser.output
    assert (
        json.loads(looser.output)["span_band"]
        != json.loads(validate(branch, "--json").output)["span_band"]
    )
    assert partial.exit_code == 0, partial.output
    assert "WARNING --set" in partial.output and "leaves out span" in partial.output
    assert fingerprint(branch) == before


@pytest.mark.parametrize(
    "options", [("--set", "span.nokey=1"), ("--unavailable", "NOBODY"), ("--set", "x")]
)
def test_validate_refuses_unusable_set_or_unavailable_options(options):
    result = validate(SMALL_BRANCH, *options)
    assert result.exit_code == 2, result.output


def test_the_objective_given_with_set_is_warned_about_once_and_the_files_not_at_all(tmp_path):
    branch = shutil.copytree(SMALL_BRANCH, tmp_path / "branch")
    toml = branch / "scenario.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[objective]\norder = ["continuity"]\n',
        encoding="utf-8",
    )
    full = 'objective.order=["span","balance","chain","industry","continuity"]'

    partial = validate(branch, "--set", "objective.order=[chain]", "--set", "payout.year=2026")
    replaced = validate(branch, "--set", full)

    assert partial.output.count("leaves out") == 1, partial.output
    assert "WARNING --set" in partial.output
    assert "leaves out span, balance, industry" in partial.output
    assert "leaves out" not in replaced.output, replaced.output
    assert "leaves out" in validate(branch).output  # the file's own order


def test_a_goal_given_only_with_set_is_warned_about_as_set():
    result = validate(SMALL_BRANCH, "--set", 'objective.order=["span","affinity"]')
    assert "WARNING --set, column objective: the goal affinity needs an affinity table" in (
        result.output
    )


def test_errors_folded_past_the_first_ones_are_counted_and_get_advice_true_of_each(tmp_path):
    """60 classes typed in capitals: the last 10, folded into one line, are PREMIUM and KEY, so
    the line cannot say "did you mean basic?"; the summary counts every bad cell."""
    import pandas as pd

    folder = Path(shutil.copytree(DATA.parents[2] / "scenarios" / "demo", tmp_path / "demo"))
    customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
    customers["customer_class"] = ["BASIC"] * 50 + ["PREMIUM"] * 5 + ["KEY"] * 5
    customers.to_csv(folder / "customers.csv", index=False)

    result = validate(folder, "--json")
    listed = json.loads(result.output)["errors"]
    text = validate(folder).output

    [folded] = [e for e in listed if e["message"].startswith("... and")]
    assert folded["stands_for"] == 10 and "rows 52-61" in folded["message"]
    assert "did you mean" not in folded["hint"]
    assert folded["hint"].startswith("use one of premium, key, growth, basic, watch, exit")
    assert sum(e["stands_for"] for e in listed) == 60
    assert text.splitlines()[-1].startswith("60 error(s)")


def test_a_table_pasted_twice_folds_its_repeated_ids_past_the_first_50(tmp_path):
    import pandas as pd

    folder = Path(shutil.copytree(DATA.parents[2] / "scenarios" / "demo", tmp_path / "demo"))
    customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
    pd.concat([customers, customers]).to_csv(folder / "customers.csv", index=False)

    listed = json.loads(validate(folder, "--json").output)["errors"]

    repeated = [e for e in listed if e["column"] == "customer_id"]
    assert len(repeated) == 51 and repeated[-1]["message"].startswith("... and 10 more")
    assert sum(e["stands_for"] for e in repeated) == len(customers)
