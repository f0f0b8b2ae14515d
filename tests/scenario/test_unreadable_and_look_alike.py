"""Files the system will not hand over, encodings told apart on little text, and columns that
look like the format's but are not read: each reported, never a traceback or a silent zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfolio_opt.problems import Severity
from portfolio_opt.scenario.loader import inspect_scenario
from portfolio_opt.scenario.policy import load_policy
from portfolio_opt.scenario.tables import decode_text, read_table, split_table_spec


def messages(problems, severity=None) -> list[str]:
    return [
        f"{p.file}|{p.column}|{p.message}"
        for p in problems
        if severity is None or p.severity is severity
    ]


def test_a_policy_that_is_a_folder_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "scenario.toml").mkdir()
    policy, problems = load_policy(tmp_path / "scenario.toml")
    assert policy is None
    assert messages(problems) == ["scenario.toml|None|is a folder, not a file"]


def test_an_unreadable_policy_or_table_is_a_problem(minimal: Path, monkeypatch) -> None:
    real = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path.name in ("scenario.toml", "customers.csv"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    _, problems = load_policy(minimal / "scenario.toml")
    assert messages(problems) == ["scenario.toml|None|cannot read the file: permission denied"]
    frame, problems = read_table(minimal, "customers.csv")
    assert frame is None
    assert messages(problems) == ["customers.csv|None|cannot read the file: permission denied"]


def test_a_table_that_is_a_folder_is_named_so(minimal: Path) -> None:
    (minimal / "extra.csv").mkdir()
    _, problems = read_table(minimal, "extra.csv")
    assert messages(problems) == ["extra.csv|None|is a folder, not a file"]


# As small Big5 files hold, and GB18030 ones of a planner writing traditional characters.
TRADITIONAL = [
    "重點,批發零售,鋼鐵,製造業",
    "瀋陽東中鋼鐵股份有限公司",
    "遲到罰款,違紀扣罰",
    "M1,錢進",
]
SIMPLIFIED = ["客户,重点,钢铁,批发零售"]
# Windows-1252, as Excel in Western Europe saves a CSV: GB18030 reads "ül" as one character.
WESTERN = [
    "Müller AG,Société Générale,Grüße",
    "Crédit Agricole,Banco Español,Øresund",
    "Åsa Lindqvist,Ängel Berg,£Sterling",  # a byte and the next letter make a Big5 character
    "ÄÖÜ GmbH,Prämie ——— bestätigt,©®™",  # runs of one kind
]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(t, e) for t in TRADITIONAL for e in ("big5", "gb18030", "utf-16")]
    + [(t, e) for t in SIMPLIFIED for e in ("gb18030", "utf-16")]
    + [(t, "cp1252") for t in WESTERN],
)
def test_short_chinese_text_is_read_in_its_own_encoding(text: str, encoding: str) -> None:
    assert decode_text(text.encode(encoding))[0] == text


# GB18030 bytes that are valid UTF-8 too: read as UTF-8 they turn into Hebrew, Greek, Cyrillic
# and combining marks (郑伟 -> ֣ΰ).
GB18030_VALID_UTF8 = ["manager_id,name\nM1,郑伟\nM2,叶强\n", "煤炭,医药,农业,食品,证券"]


@pytest.mark.parametrize("text", GB18030_VALID_UTF8)
def test_gb18030_that_utf8_also_reads_is_read_as_gb18030(text: str) -> None:
    assert text.encode("gb18030").decode("utf-8")  # the trap: UTF-8 reads these bytes
    assert decode_text(text.encode("gb18030")) == (text, "gb18030")


@pytest.mark.parametrize("text", [*GB18030_VALID_UTF8, *WESTERN, "Łódź Spółka,ООО Газпром"])
def test_utf8_text_stays_utf8(text: str) -> None:
    assert decode_text(text.encode("utf-8")) == (text, "utf-8-sig")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "text", ["customer_id,manager_id\nC001,M1\nC002,M2\n", "customer_id,name\nC001,瀋陽東中鋼鐵\n"]
)
def test_utf16_saved_without_a_byte_order_mark_is_read(text: str, encoding: str) -> None:
    assert decode_text(text.encode(encoding)) == (text, encoding)


def test_a_big5_policy_keeps_its_class_names(minimal: Path) -> None:
    toml = minimal / "scenario.toml"
    classes = '[classes]\nclasses = ["重點", "一般"]\npremium_class = "重點"\n'
    toml.write_bytes((toml.read_text(encoding="utf-8") + classes).encode("big5"))
    policy, problems = load_policy(toml)
    assert policy is not None, problems
    assert policy.classes.classes == ["重點", "一般"]


def test_a_hash_in_a_csv_file_name_is_part_of_the_name() -> None:
    assert split_table_spec("客戶#2026.csv") == ("客戶#2026.csv", None)
    assert split_table_spec("book.XLSX#客戶") == ("book.XLSX", "客戶")
    assert split_table_spec("book.xlsx#客戶#2026") == ("book.xlsx", "客戶#2026")
    assert split_table_spec("2026#1.xlsx#Sheet") == ("2026#1.xlsx", "Sheet")


def test_misspelled_and_spaced_columns_are_named_as_not_read(minimal: Path) -> None:
    path = minimal / "customers.csv"
    text = path.read_text(encoding="utf-8")
    text = text.replace("interest_income", "Interest Income").replace(
        "deposit_income", "depost_income"
    )
    path.write_text(text, encoding="utf-8")
    scenario, problems = inspect_scenario(minimal)
    assert scenario is not None
    warned = messages(problems, Severity.WARNING)
    assert (
        "customers.csv|Interest Income|the column 'Interest Income' is not read: did you mean "
        "'interest_income'?" in warned
    )
    assert (
        "customers.csv|depost_income|the column 'depost_income' is not read: did you mean "
        "'deposit_income'?" in warned
    )


def test_a_managers_column_on_customers_is_named_as_not_read(minimal: Path) -> None:
    path = minimal / "customers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",available,region"] + [line + ",false,north" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, problems = inspect_scenario(minimal)
    warned = messages(problems, Severity.WARNING)
    assert [w for w in warned if "|available|" in w] == [
        "customers.csv|available|customers have no column 'available' (it is a column of "
        "managers): it is not read"
    ]
    assert not [w for w in warned if "region" in w]  # an own column like any other


def test_text_two_encodings_read_as_likely_is_read_with_a_warning_naming_both(tmp_path):
    """高雄 in Big5 is 蔼动 in GB18030: both common words' characters; the planner is told."""
    (tmp_path / "notes.csv").write_bytes("manager_id,note\nM1,高雄\n".encode("cp950"))
    frame, [problem] = read_table(tmp_path, "notes.csv")
    assert frame is not None and problem.severity.value == "warning"
    assert problem.message == (
        "read as GB18030, where Big5 would read it almost as well: 'M1,蔼动' rather than 'M1,高雄'"
    )
    assert "CSV UTF-8" in problem.hint


@pytest.mark.parametrize(("text", "encoding"), [("楊千嬅", "cp950"), ("裝B區", "gb18030")])
def test_a_few_chinese_words_windows_1252_reads_as_well_are_warned_about(tmp_path, text, encoding):
    """One rare character is all that tells these bytes from Windows-1252 signs."""
    (tmp_path / "notes.csv").write_bytes(f"manager_id,note\nM1,{text}\n".encode(encoding))
    _, [problem] = read_table(tmp_path, "notes.csv")
    assert problem.severity.value == "warning"
    assert "Windows-1252" in problem.message and text in problem.message


@pytest.mark.parametrize("text", WESTERN)
def test_western_text_gets_no_encoding_warning(tmp_path, text):
    (tmp_path / "names.csv").write_bytes(f'id,name\n1,"{text}"\n'.encode("cp1252"))
    assert read_table(tmp_path, "names.csv")[1] == []


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("C1,顏塗", "gb18030"),  # valid UTF-8 too: a private-use character and a T
        ("C1,駱化", "gb18030"),  # valid UTF-8 too: an unassigned code point
        ("C1,紀粘白文", "cp950"),  # GB18030 reads a private-use character, Big5 a rare one
    ],
)
def test_a_short_file_no_reading_but_its_own_leaves_clean_is_read_in_its_own(text, encoding):
    assert decode_text(f"customer_id,name\n{text}\n".encode(encoding))[1] == encoding


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_holding_characters_u_xx00_is_read(encoding):
    """一 (U+4E00) and 开 (U+5F00) put a zero byte on the other side of their pair."""
    text = "name\n統一企業\n第一商業銀行\n深圳开发区建设有限公司\n"
    assert decode_text(text.encode(encoding)) == (text, encoding)


@pytest.mark.parametrize("odd", ["« Café »", "n°\xa0Édition", "Café–Élysée"])
def test_a_western_table_with_one_odd_run_of_signs_is_read_as_written(tmp_path, odd):
    rows = ["Müller GmbH", "Société Générale", "Crédit Agricole"] * 60 + [odd]
    text = "name\n" + "".join(f'"{r}"\n' for r in rows)
    (tmp_path / "names.csv").write_bytes(text.encode("cp1252"))
    frame, problems = read_table(tmp_path, "names.csv")
    assert frame is not None and frame["name"].tolist() == rows and problems == []


@pytest.mark.parametrize("name", ["Kaya Yıldırım", "Dương Öztürk", "Žilina Novotný", "Łódź"])
def test_utf8_latin_letters_of_other_languages_stay_utf8(name):
    text = f"customer_id,name\nC1,{name}\n"
    assert decode_text(text.encode("utf-8")) == (text, "utf-8-sig")


def test_big5_names_with_less_common_characters_are_not_read_as_windows_1252_signs():
    """林欣嬅 / 葉德燊: Windows-1252 reads ªLªYå_ (an ordinal sign before a capital), which
    no Western writer types; Big5 wins despite its two less common characters."""
    text = "name\n林欣嬅\n葉德燊\n"
    assert decode_text(text.encode("cp950")) == (text, "cp950")


def test_a_few_big5_names_gb18030_reads_nearly_as_well_are_warned_about(tmp_path):
    """Five names with less common characters (靚 甯 蓁 燊): GB18030's reading has three unlikely
    characters, Big5's five; so few names cannot tell, and the planner is told."""
    names = ["游麗靚", "莊華甯", "黃婷蓁", "廖華燊", "賴偉甯"]
    (tmp_path / "names.csv").write_bytes(("name\n" + "\n".join(names) + "\n").encode("cp950"))
    frame, [problem] = read_table(tmp_path, "names.csv")
    assert problem.severity.value == "warning" and "Big5" in problem.message
    assert names[0] in problem.message or names[0] in frame["name"].tolist()
