"""Chinese column headers a bank's own sheets use, and the column of the format each one is.

The tool reads the format's English column names only; a sheet exported from a bank's system
often carries its own headers (客戶編號 for customer_id). Such a column is named in a warning
with the column it stands for, so that renaming it is the whole fix. Traditional and
Simplified forms are both listed; a header is compared after NFKC (full-width letters) and
without spaces.
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
        "group_id": ("集團", "集团", "集團編號", "集团编号", "控股公司", "集團客戶", "集团客户"),
        "industry": ("行業", "行业", "所屬行業", "所属行业"),
        "separate_ledger": ("單獨建賬", "单独建账", "單獨核算", "单独核算"),
        "interest_income": ("利息收入", "貸款利息收入", "贷款利息收入"),
        "deposit_income": ("存款收益", "存款收入"),
        "fee_income": ("業務費收入", "业务费收入", "中間業務收入", "中间业务收入", "手續費收入"),
        "growth_rate": ("增長率", "增长率", "預計增長率", "预计增长率"),
        "prior_manager_id": ("原客戶經理", "原客户经理", "上年客戶經理", "上年客户经理"),
        "pinned_manager_id": ("指定客戶經理", "指定客户经理"),
        "tenure_years": ("服務年限", "服务年限", "管戶年限", "管户年限"),
    },
    "managers": {
        "manager_id": ("客戶經理編號", "客户经理编号", "經理編號", "经理编号", "工號", "工号"),
        "name": ("姓名", "客戶經理", "客户经理"),
        "grade": ("等級", "等级", "級別", "级别", "評級", "评级"),
        "staff_level": ("職級", "职级", "崗位等級", "岗位等级"),
        "base_salary": ("基礎工資", "基础工资", "底薪"),
        "management_score": ("管理考核得分", "考核得分", "管理得分"),
        "available": ("在崗", "在岗"),
    },
}


def _plain(header: str) -> str:
    return "".join(unicodedata.normalize("NFKC", header).split())


_COLUMN_OF = {
    table: {_plain(h): column for column, headers in names.items() for h in headers}
    for table, names in _HEADERS.items()
}


def column_for_header(table: str, header: str) -> str | None:
    """The column of ``table`` that a Chinese ``header`` stands for, if it is a known one."""
    return _COLUMN_OF.get(table, {}).get(_plain(header))
