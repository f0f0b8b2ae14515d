"""Headers a bank's own sheets use, and the column of the format each one is.

The tool reads the format's English column names only; a sheet exported from a bank's system
often carries its own headers (客戶編號 for customer_id), and a planner's own sheet shorter
English ones (group for group_id, active for available). Such a column is named in a warning
with the column it stands for, so that renaming it is the whole fix. Traditional and
Simplified forms are both listed; a header is compared after NFKC (full-width letters),
lower-cased and without spaces, underscores or hyphens.
"""

from __future__ import annotations

import unicodedata

_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "customer_id": (
            "客戶編號",
            "客户编号",
            "客戶號",
            "客户号",
            "客戶代碼",
            "客户代码",
            "客戶ID",
        ),
        "name": ("名稱", "名称", "客戶名稱", "客户名称", "企業名稱", "企业名称"),
        "customer_class": ("客戶分類", "客户分类", "客戶類別", "客户类别", "分類", "分类"),
        "group_id": (
            "集團",
            "集团",
            "集團編號",
            "集团编号",
            "控股公司",
            "集團客戶",
            "集团客户",
            "group",
            "group_no",
            "group_code",
            "holding",
            "holding_company",
            "holding_id",
        ),
        "industry": ("行業", "行业", "所屬行業", "所属行业"),
        "separate_ledger": ("單獨建賬", "单独建账", "單獨核算", "单独核算", "separate", "ledger"),
        "interest_income": ("利息收入", "貸款利息收入", "贷款利息收入"),
        "deposit_income": ("存款收益", "存款收入"),
        "fee_income": ("業務費收入", "业务费收入", "中間業務收入", "中间业务收入", "手續費收入"),
        "growth_rate": ("增長率", "增长率", "預計增長率", "预计增长率"),
        "prior_manager_id": (
            "原客戶經理",
            "原客户经理",
            "上年客戶經理",
            "上年客户经理",
            "prior_manager",
            "previous_manager",
            "previous_manager_id",
            "last_manager",
            "last_year_manager",
            "current_manager",
            "manager_id",
        ),
        "pinned_manager_id": (
            "指定客戶經理",
            "指定客户经理",
            "pinned",
            "pinned_to",
            "pin",
            "pinned_manager",
            "fixed_manager",
        ),
        "tenure_years": ("服務年限", "服务年限", "管戶年限", "管户年限", "tenure", "years_held"),
    },
    "managers": {
        "manager_id": ("客戶經理編號", "客户经理编号", "經理編號", "经理编号", "工號", "工号"),
        "name": ("姓名", "客戶經理", "客户经理"),
        "grade": ("等級", "等级", "級別", "级别", "評級", "评级"),
        "staff_level": ("職級", "职级", "崗位等級", "岗位等级"),
        "base_salary": ("基礎工資", "基础工资", "底薪"),
        "management_score": ("管理考核得分", "考核得分", "管理得分"),
        "available": ("在崗", "在岗", "active", "at_work", "is_available", "availability"),
        "min_customers": ("min_clients", "minimum_customers", "min_span", "least_customers"),
        "max_customers": ("max_clients", "maximum_customers", "max_span", "most_customers"),
    },
}


# Headers that say the opposite of a column of the format: renaming them is not the fix.
_OPPOSITES: dict[str, dict[str, tuple[str, ...]]] = {
    "managers": {
        "available": ("on_leave", "leave", "absent", "unavailable", "inactive", "leaving", "away"),
    },
}


def _plain(header: str) -> str:
    folded = unicodedata.normalize("NFKC", header).lower()
    return "".join(folded.replace("_", " ").replace("-", " ").split())


_COLUMN_OF = {
    table: {_plain(h): column for column, headers in names.items() for h in headers}
    for table, names in _HEADERS.items()
}


_OPPOSITE_OF = {
    table: {_plain(h): column for column, headers in names.items() for h in headers}
    for table, names in _OPPOSITES.items()
}


def column_for_header(table: str, header: str) -> str | None:
    """The column of ``table`` that ``header`` stands for, if it is a known one."""
    return _COLUMN_OF.get(table, {}).get(_plain(header))


def column_opposed_by(table: str, header: str) -> str | None:
    """The column of ``table`` whose opposite ``header`` says (on_leave for available)."""
    return _OPPOSITE_OF.get(table, {}).get(_plain(header))
