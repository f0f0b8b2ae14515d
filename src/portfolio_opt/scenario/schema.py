"""The columns of every table: name, type, whether required, default.

After loading, each table is a DataFrame with exactly these typed columns (plus any unknown
columns, kept as text); ids are ``str``, missing optional text is ``""``, numbers are ``float``
(integers ``Int64`` with ``pd.NA`` for blank), booleans ``bool``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "text", "number", "integer", "bool"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False  # the column must exist and every row must have a value
    default: float | bool | None = None  # for blank numbers / booleans
    minimum: float | None = None
    maximum: float | None = None
    percent: bool = False  # a rate: ``8%`` reads as 0.08


INCOME_COLUMNS = (
    "interest_income",
    "deposit_income",
    "fee_income",
    "interest_income_fx",
    "deposit_income_fx",
    "fee_income_fx",
)

CUSTOMERS = (
    Column("customer_id", "id", required=True),
    Column("name", "text"),
    Column("customer_class", "text", required=True),
    Column("group_id", "text"),
    Column("industry", "text"),
    Column("separate_ledger", "bool", default=False),
    *(Column(c, "number", default=0.0) for c in INCOME_COLUMNS),
    Column("growth_rate", "number", minimum=-1.0, percent=True),
    Column("prior_manager_id", "text"),
    Column("tenure_years", "integer", minimum=0),
    Column("pinned_manager_id", "text"),
)

MANAGERS = (
    Column("manager_id", "id", required=True),
    Column("name", "text"),
    Column("grade", "text", required=True),
    Column("staff_level", "text"),
    Column("base_salary", "number", minimum=0.0),
    Column("management_score", "number", minimum=0.0, maximum=1000.0),
    Column("premium", "bool", default=False),
    Column("separate_ledger", "bool", default=False),
    Column("min_customers", "integer", minimum=0),
    Column("max_customers", "integer", minimum=0),
    Column("available", "bool", default=True),
    Column("capacity", "number", minimum=0.0),
)

RELATIONS = (
    Column("a", "text", required=True),
    Column("b", "text", required=True),
    Column("kind", "text", required=True),
    Column("weight", "number", default=1.0, minimum=0.0),
)

ACTUALS = (
    Column("customer_id", "text", required=True),
    Column("period", "text", required=True),
    *(Column(c, "number", default=0.0) for c in INCOME_COLUMNS),
)

ADJUSTMENTS = (
    Column("manager_id", "text", required=True),
    Column("period", "text", required=True),
    Column("kind", "text"),
    Column("amount", "number", default=0.0),
    Column("note", "text"),
)

CREDITS = (
    Column("customer_id", "text", required=True),
    Column("manager_id", "text", required=True),
    Column("share", "number", required=True, minimum=0.0, maximum=1.0, percent=True),
)

AFFINITY = (
    Column("customer_id", "text"),
    Column("industry", "text"),
    Column("manager_id", "text", required=True),
    Column("cost", "number"),  # blank: the industry's row, else 0
    Column("workload", "number", minimum=0.0),
)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "customers": CUSTOMERS,
    "managers": MANAGERS,
    "relations": RELATIONS,
    "actuals": ACTUALS,
    "adjustments": ADJUSTMENTS,
    "credits": CREDITS,
    "affinity": AFFINITY,
}

REQUIRED_TABLES = ("customers", "managers")

TRUE_WORDS = {"true", "1", "yes", "y", "是", "t", "1.0"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "f", "0.0"}

# The columns solve writes: portfolios.csv, and those assignment.csv adds to the customer id.
PORTFOLIO_COLUMNS = [
    "manager_id",
    "grade",
    "portfolio_type",
    "n_customers",
    "interest_base",
    "deposit_base",
    "fee_base",
    "stock_target",
    "increment_target",
    "target",
    "n_industries",
    "chain_links_cut",
]
ASSIGNED_COLUMNS = ("manager_id", "portfolio_type", "moved")
# Columns solve writes beside a table's rows in its CSV output (and manager_name, which a plan
# read back is checked by): an own column of the table by such a name is not carried.
WRITTEN_BESIDE: dict[str, tuple[str, frozenset[str]]] = {
    "customers": (
        "assignment.csv and report.xlsx",
        frozenset({*ASSIGNED_COLUMNS, "manager_name"}),
    ),
    "managers": (
        "portfolios.csv and report.xlsx",
        frozenset(set(PORTFOLIO_COLUMNS) - {"manager_id", "grade"}),
    ),
}
# Columns report.xlsx adds beside them, to read by: an own column by such a name is carried to
# the CSV output as it is, and shown in report.xlsx as "target (customers.csv)".
ADDED_IN_REPORT: dict[str, frozenset[str]] = {
    "customers": frozenset({"customer_name", "target"}),
    "managers": frozenset({"manager_name"}),
}
