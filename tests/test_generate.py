"""The synthetic scenario generator and the bundled scenarios.

Feasibility is checked independently of the generator: the written files are read back,
a plan is built greedily and every hard rule is checked on it. A plan that passes proves
the scenario admits one.
"""

from __future__ import annotations

import itertools
import math
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from portfolio_opt.generate import (
    CHAINS,
    INDUSTRIES,
    demo_scenario,
    generate_scenario,
    write_scenario,
)
from portfolio_opt.report.folders import WRITTEN_RECORD
from portfolio_opt.scenario.policy import parse_policy
from portfolio_opt.scenario.schema import SCHEMAS

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
CITY_BRANCH = {
    "n_customers": 3000,
    "n_managers": 80,
    "seed": 2026,
    "rebalance": True,
    "name": "city-branch",
}


# ---------------------------------------------------------------- reading back


@dataclass
class Files:
    """A scenario folder read back as plain text tables, as a planner's tool would see it."""

    policy: dict
    customers: pd.DataFrame
    managers: pd.DataFrame
    relations: pd.DataFrame
    actuals: pd.DataFrame
    adjustments: pd.DataFrame
    credits: pd.DataFrame

    @property
    def available(self) -> pd.DataFrame:
        return self.managers[self.managers["available"] == "true"]


def read_files(folder: Path) -> Files:
    policy = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    tables = {
        t: pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
        for t in ("customers", "managers", "relations", "actuals", "adjustments", "credits")
    }
    return Files(policy, **tables)


def written(tmp_path: Path, name: str, **kwargs) -> Files:
    folder = tmp_path / name
    write_scenario(generate_scenario(**kwargs), folder)
    return read_files(folder)


def units(files: Files) -> list[list[int]]:
    """Customer rows that must share a manager: group_id plus kind = group links."""
    ids = files.customers["customer_id"].tolist()
    row = {c: i for i, c in enumerate(ids)}
    graph = nx.Graph()
    graph.add_nodes_from(range(len(ids)))
    for _, members in files.customers[files.customers["group_id"] != ""].groupby("group_id"):
        rows = members.index.tolist()
        graph.add_edges_from(itertools.pairwise(rows))
    links = files.relations[files.relations["kind"] == "group"]
    graph.add_edges_from((row[a], row[b]) for a, b in zip(links["a"], links["b"], strict=True))
    return [sorted(c) for c in nx.connected_components(graph)]


# ---------------------------------------------------------------- an independent plan


@dataclass
class Rules:
    """Everything the hard rules need, taken from the files once, as plain Python values."""

    band: tuple[int, int]
    premium_band: tuple[int, int]
    separate_band: tuple[int, int]
    premium_grade: str
    premium_class: str
    units: list[list[int]]
    pin: list[str]
    away: list[str]  # the manager a customer must leave under the rotation rule, or ""
    personal: dict[str, tuple[int | None, int | None]]

    @classmethod
    def of(cls, files: Files) -> Rules:
        span = files.policy.get("span", {})
        tol = span.get("tolerance", 2)
        n, m = len(files.customers), len(files.available)
        band = (max(0, n // m - tol), -(-n // m) + tol)

        def own(key: str) -> tuple[int, int]:
            given = span.get(key, {})
            return given.get("min", band[0]), given.get("max", band[1])

        c, mgr = files.customers, files.managers
        limit = files.policy.get("rotation", {}).get("max_tenure_years")
        tenure = pd.to_numeric(c["tenure_years"].replace("", np.nan))
        must_move = (tenure >= limit) if limit else pd.Series(False, index=c.index)
        away = c["prior_manager_id"].where(must_move & (c["prior_manager_id"] != ""), "")

        def number(text: str) -> int | None:
            return int(text) if text else None

        classes = files.policy.get("classes", {})
        return cls(
            band,
            own("premium"),
            own("separate_ledger"),
            classes.get("premium_grade", "A"),
            classes.get("premium_class", "premium"),
            units(files),
            c["pinned_manager_id"].tolist(),
            away.tolist(),
            {
                i: (number(lo), number(hi))
                for i, lo, hi in zip(
                    mgr["manager_id"], mgr["min_customers"], mgr["max_customers"], strict=True
                )
            },
        )

    def bounds(self, manager: str, kind: str) -> tuple[int, int]:
        """Personal bounds win, then the portfolio type's band."""
        band = {
            "premium": self.premium_band,
            "separate": self.separate_band,
            "standard": self.band,
        }[kind]
        low, high = self.personal[manager]
        return band[0] if low is None else low, band[1] if high is None else high

    def banned(self, rows: list[int]) -> set[str]:
        return {self.away[r] for r in rows} - {""}

    def pins(self, rows: list[int]) -> set[str]:
        return {self.pin[r] for r in rows} - {""}


def pack(
    rules: Rules, groups: list[list[int]], managers: list[str], kind: str
) -> dict[int, str] | None:
    """Greedy: pinned units first, then rotating ones, then the largest; each to the manager
    furthest below its minimum, else the least full. None if some bound cannot be met."""
    lo_hi = {m: rules.bounds(m, kind) for m in managers}
    load = dict.fromkeys(managers, 0)
    plan: dict[int, str] = {}
    order = sorted(groups, key=lambda u: (not rules.pins(u), not rules.banned(u), -len(u), u[0]))
    for unit in order:
        banned = rules.banned(unit)
        options = [
            m
            for m in (rules.pins(unit) or managers)
            if m in load and m not in banned and load[m] + len(unit) <= lo_hi[m][1]
        ]
        if not options:
            return None
        best = min(options, key=lambda m: (load[m] >= lo_hi[m][0], load[m] / lo_hi[m][1], m))
        load[best] += len(unit)
        plan.update(dict.fromkeys(unit, best))
    if any(load[m] < lo_hi[m][0] for m in managers):
        return None
    return plan


def feasible_plan(files: Files) -> dict[int, str]:
    """A plan keeping every hard rule, or an assertion error saying why none was found."""
    rules = Rules.of(files)
    c, avail = files.customers, files.available
    premium = (c["customer_class"] == rules.premium_class).tolist()
    separate = (c["separate_ledger"] == "true").tolist()
    by_kind: dict[str, list[list[int]]] = {"premium": [], "separate": [], "standard": []}
    for unit in rules.units:
        assert len({premium[r] for r in unit}) == 1, f"group mixes premium and not: {unit}"
        assert len({separate[r] for r in unit}) == 1, f"group mixes separate ledger: {unit}"
        assert len(rules.pins(unit)) <= 1, f"group members pinned to different managers: {unit}"
        assert not (premium[unit[0]] and separate[unit[0]]), "premium and separate ledger"
        kind = "premium" if premium[unit[0]] else "standard"
        by_kind["separate" if separate[unit[0]] else kind].append(unit)
    sep_managers = avail.loc[avail["separate_ledger"] == "true", "manager_id"].tolist()
    designated = avail.loc[avail["premium"] == "true", "manager_id"].tolist()
    pinned_to = set(rules.pin) - {""}
    a_grade = avail[(avail["grade"] == rules.premium_grade) & (avail["separate_ledger"] != "true")]
    candidates = designated or [m for m in a_grade["manager_id"] if m not in pinned_to]
    plan = pack(rules, by_kind["separate"], sep_managers, "separate")
    assert plan is not None, "separate-ledger customers do not fit their managers"
    counts = range(1, len(candidates) + 1) if by_kind["premium"] else [0]
    if designated:
        counts = [len(designated)]
    for k in counts:
        chosen = candidates[:k]
        premium_plan = pack(rules, by_kind["premium"], chosen, "premium")
        others = [m for m in avail["manager_id"] if m not in chosen and m not in sep_managers]
        standard_plan = pack(rules, by_kind["standard"], others, "standard")
        if premium_plan is not None and standard_plan is not None:
            return {**plan, **premium_plan, **standard_plan}
    raise AssertionError("no greedy plan keeps the premium and standard bands")


def violations(files: Files, plan: dict[int, str]) -> list[str]:
    """Every hard rule (1-7) the plan breaks, in words."""
    rules = Rules.of(files)
    c, m = files.customers, files.managers.set_index("manager_id")
    found = []
    available = set(files.available["manager_id"])
    if sorted(plan) != list(range(len(c))) or not set(plan.values()) <= available:
        found.append("1: not every customer has one available manager")
    for unit in rules.units:
        if len({plan[r] for r in unit}) > 1:
            found.append(f"2: group split {unit}")
    holding: dict[str, list[int]] = {mid: [] for mid in available}
    for row, manager in plan.items():
        holding[manager].append(row)
    designated = set(files.available.loc[files.available["premium"] == "true", "manager_id"])
    for manager, rows in holding.items():
        classes = set(c["customer_class"].iloc[rows])
        is_sep = m.loc[manager, "separate_ledger"] == "true"
        if rules.premium_class in classes:
            kind = "premium"
            if classes != {rules.premium_class} or m.loc[manager, "grade"] != rules.premium_grade:
                found.append(f"3: premium portfolio of {manager} breaks the premium rule")
            if designated and manager not in designated:
                found.append(f"3: {manager} holds premium customers but is not designated")
        else:
            kind = "separate" if is_sep else "standard"
        if set(c["separate_ledger"].iloc[rows]) - {"true" if is_sep else "false"}:
            found.append(f"4: {manager} mixes separate-ledger and other customers")
        low, high = rules.bounds(manager, kind)
        if not low <= len(rows) <= high:
            found.append(f"5: {manager} holds {len(rows)}, outside {low}..{high}")
    for row, pin in enumerate(rules.pin):
        if pin and plan[row] != pin:
            found.append(f"6: {c['customer_id'].iloc[row]} not with {pin}")
        if plan[row] == rules.away[row]:
            found.append(f"7: {c['customer_id'].iloc[row]} stays past the tenure limit")
    return found


def assert_feasible(files: Files) -> None:
    plan = feasible_plan(files)
    assert violations(files, plan) == []


def customer_targets(files: Files) -> np.ndarray:
    """Each customer's yearly target: bases (foreign income converted) grown by the forecast,
    separate-ledger customers at their own scheme's growth."""
    c, payout = files.customers, files.policy["payout"]
    base = sum(
        c[k].astype(float) + payout["fx_rate"] * c[f"{k}_fx"].astype(float)
        for k in ("interest_income", "deposit_income", "fee_income")
    )
    by_class = c["customer_class"].map(payout.get("growth", {})).fillna(payout["default_growth"])
    own = payout.get("separate_ledger", {})
    if "default_growth" in own:
        separate = c["customer_class"].map(own.get("growth", {})).fillna(own["default_growth"])
        by_class = by_class.where(c["separate_ledger"] != "true", separate)
    growth = pd.to_numeric(c["growth_rate"].replace("", np.nan)).fillna(by_class)
    return (base * (1 + growth)).to_numpy()


def kinds(files: Files) -> np.ndarray:
    """Each customer's portfolio kind: "standard", "premium" or "separate"."""
    c = files.customers
    premium = c["customer_class"] == files.policy["classes"]["premium_class"]
    return np.where(
        c["separate_ledger"] == "true", "separate", np.where(premium, "premium", "standard")
    )


def portfolio_counts(files: Files) -> dict[str, int]:
    """Portfolios of each kind: one per separate-ledger manager; as few premium ones as the
    premium band allows (the band admits only that many); the other managers standard."""
    kind = kinds(files)
    separate = int((files.available["separate_ledger"] == "true").sum())
    premium_max = files.policy["span"]["premium"]["max"]
    premium = math.ceil((kind == "premium").sum() / premium_max)
    return {
        "standard": len(files.available) - separate - premium,
        "premium": premium,
        "separate": separate,
    }


def chain_links(files: Files) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain links as customer rows (upstream, downstream) and weights."""
    row = {c: i for i, c in enumerate(files.customers["customer_id"])}
    chains = files.relations[files.relations["kind"] == "chain"]
    return (
        chains["a"].map(row).to_numpy(),
        chains["b"].map(row).to_numpy(),
        chains["weight"].astype(float).to_numpy(),
    )


def cluster_plan(files: Files) -> np.ndarray:
    """A portfolio label per customer that follows the chain clusters, as a planner would
    draw it: clusters found in the link graph (Louvain), whole clusters packed into the
    portfolios of their kind where they fit, groups kept whole, equal customer counts."""
    up, down, weight = chain_links(files)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(files.customers)))
    graph.add_weighted_edges_from(zip(up.tolist(), down.tolist(), weight.tolist(), strict=True))
    communities = nx.community.louvain_communities(graph, weight="weight", resolution=2, seed=0)
    cluster = np.empty(len(files.customers), dtype=int)
    for label, members in enumerate(sorted(communities, key=min)):
        cluster[list(members)] = label
    kind, counts = kinds(files), portfolio_counts(files)
    plan = np.empty(len(files.customers), dtype=int)
    offset = 0
    for name, count in counts.items():
        if not count:
            continue
        by_cluster: dict[int, list[list[int]]] = {}
        for unit in (u for u in Rules.of(files).units if kind[u[0]] == name):
            by_cluster.setdefault(int(np.bincount(cluster[unit]).argmax()), []).append(unit)
        total = sum(len(u) for units in by_cluster.values() for u in units)
        room = np.full(count, total // count)
        room[: total % count] += 1
        for label in sorted(by_cluster, key=lambda k: (-sum(map(len, by_cluster[k])), k)):
            size = sum(map(len, by_cluster[label]))
            fits = np.flatnonzero(room >= size)
            here = int(fits[np.argmin(room[fits])]) if len(fits) else int(np.argmax(room))
            for unit in sorted(by_cluster[label], key=len, reverse=True):
                if room[here] < len(unit):
                    here = int(np.argmax(room))
                plan[unit] = offset + here
                room[here] -= len(unit)
        offset += count
    return plan


# ---------------------------------------------------------------- tests


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write_scenario(generate_scenario(400, 12, seed=5, rebalance=True), tmp_path / name)
    write_scenario(generate_scenario(400, 12, seed=6, rebalance=True), tmp_path / "c")
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == [
        ".generated.json",
        "actuals.csv",
        "adjustments.csv",
        "credits.csv",
        "customers.csv",
        "managers.csv",
        "relations.csv",
        "scenario.toml",
    ]
    for file in files:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert (tmp_path / "a" / "customers.csv").read_bytes() != (
        tmp_path / "c" / "customers.csv"
    ).read_bytes()


def test_proportions_are_roughly_those_of_a_real_branch(tmp_path: Path) -> None:
    f = written(tmp_path, "big", n_customers=6000, n_managers=120, seed=3)
    c, m = f.customers, f.managers
    n = len(c)
    assert len(m) == 120 and (m["available"] == "true").all()
    premium = c["customer_class"] == "premium"
    assert 0.07 <= premium.mean() <= 0.09
    assert 0.02 <= (c["separate_ledger"] == "true").mean() <= 0.04
    grouped = sum(len(u) for u in units(f) if len(u) > 1) / n
    assert 0.28 <= grouped <= 0.38
    assert 0.18 <= (m["grade"] == "A").mean() <= 0.28
    assert 0.002 <= (c["pinned_manager_id"] != "").mean() <= 0.01
    income = c["interest_income"].astype(float) + c["deposit_income"].astype(float)
    assert income[premium].median() > 2 * income[~premium].median()
    assert 0.05 <= (c["interest_income_fx"].astype(float) > 0).mean() <= 0.3
    shares = c["industry"].value_counts(normalize=True)
    assert shares.iloc[0] > 3 * shares.iloc[-1]
    assert c["name"].is_unique
    scores = m["management_score"].astype(float)
    assert scores.between(0, 1000).all() and scores.between(850, 1000).mean() > 0.85
    assert set(m["staff_level"]) <= set(f.policy["payout"]["base_salary"])


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """A city branch in a rebalancing year (3,000 customers, 80 managers), read back."""
    folder = tmp_path_factory.mktemp("branch") / "city"
    write_scenario(generate_scenario(3000, 80, seed=0, rebalance=True), folder)
    return read_files(folder)


def test_chain_links_join_related_industries(branch: Files) -> None:
    industry = branch.customers.set_index("customer_id")["industry"]
    chains = branch.relations[branch.relations["kind"] == "chain"]
    pairs = set(zip(industry[chains["a"]], industry[chains["b"]], strict=True))
    assert pairs <= set(CHAINS)
    assert not chains.duplicated(["a", "b"]).any()
    assert set(chains["weight"].astype(float)) == {1.0, 2.0, 3.0}
    assert {name for name, _, _ in INDUSTRIES} >= set(industry)


def test_chain_links_are_dense_clustered_and_partly_across_kinds(branch: Files) -> None:
    """As on real branches: a plan blind to the chains cuts nearly all the weight, about
    15% of it joins a standard customer to one of another kind (every plan cuts those),
    and a plan that follows the clusters keeps well over half."""
    up, down, weight = chain_links(branch)
    assert 1.5 <= len(up) / len(branch.customers) <= 3
    kind = kinds(branch)
    cross = weight[kind[up] != kind[down]].sum() / weight.sum()
    assert 0.1 <= cross <= 0.2
    plan = feasible_plan(branch)
    manager = np.array([plan[row] for row in range(len(branch.customers))])
    assert weight[manager[up] != manager[down]].sum() / weight.sum() > 0.9
    clustered = cluster_plan(branch)
    assert weight[clustered[up] == clustered[down]].sum() / weight.sum() > 0.6
    lo, hi = Rules.of(branch).band
    sizes = np.bincount(clustered[kind == "standard"])
    assert lo <= sizes[sizes > 0].min() and sizes.max() <= hi


@pytest.mark.parametrize("bundled", [False, True])
def test_no_customer_or_group_outweighs_a_portfolio(branch: Files, bundled: bool) -> None:
    """Every kind's portfolios can be balanced: the largest customer is at most 15% of the
    kind's mean portfolio target, the largest group at most 35% (40% for premium)."""
    files = read_files(SCENARIOS / "city-branch") if bundled else branch
    target, kind, counts = customer_targets(files), kinds(files), portfolio_counts(files)
    units = Rules.of(files).units
    for name, one, many in (
        ("standard", 0.15, 0.35),
        ("premium", 0.15, 0.40),
        ("separate", 0.15, 0.35),
    ):
        mean = target[kind == name].sum() / counts[name]
        largest_group = max(target[u].sum() for u in units if kind[u[0]] == name)
        assert target[kind == name].max() <= one * mean, name
        assert largest_group <= many * mean, name
    standard = target[kind == "standard"]
    assert standard.max() > 4 * np.median(standard), "incomes keep a heavy tail"


def test_last_years_plan_was_a_good_plan(branch: Files) -> None:
    """Last year's plan kept the rules and was balanced in customers and in target."""
    c, m = branch.customers, branch.managers.set_index("manager_id")
    held = c[c["prior_manager_id"] != ""]
    was_premium = held["prior_class"] == "premium"
    premium_holders = set(held.loc[was_premium, "prior_manager_id"])
    assert (m.loc[sorted(premium_holders), "grade"] == "A").all()
    assert not premium_holders & set(held.loc[~was_premium, "prior_manager_id"])
    separate = held["separate_ledger"] == "true"
    assert (m.loc[held.loc[separate, "prior_manager_id"], "separate_ledger"] == "true").all()
    assert (m.loc[held.loc[~separate, "prior_manager_id"], "separate_ledger"] == "false").all()
    split = [
        u for u in units(branch) if c["prior_manager_id"].iloc[u].replace("", np.nan).nunique() > 1
    ]
    assert len(split) <= 0.05 * sum(len(u) > 1 for u in units(branch))
    standard = held[~was_premium & ~separate]
    stay = set(branch.available["manager_id"]) & set(standard["prior_manager_id"])
    mine = standard[standard["prior_manager_id"].isin(stay)]
    value = pd.Series(customer_targets(branch), index=c.index)[mine.index]
    totals = value.groupby(mine["prior_manager_id"]).sum()
    assert len(totals) >= 60 and totals.std(ddof=0) / totals.mean() < 0.05
    sizes = mine["prior_manager_id"].value_counts()
    assert sizes.max() - sizes.min() <= 4


def test_columns_follow_the_schema(tmp_path: Path) -> None:
    f = written(tmp_path, "cols", n_customers=300, n_managers=10, seed=1, rebalance=True)
    for table in ("customers", "managers", "relations", "actuals", "adjustments", "credits"):
        columns = list(getattr(f, table).columns)
        schema = [col.name for col in SCHEMAS[table]]
        extra = {"prior_class"} if table == "customers" else set()
        missing = {"capacity"} if table == "managers" else set()
        assert [col for col in columns if col not in extra] == [
            col for col in schema if col not in missing
        ]
        for col in SCHEMAS[table]:
            if col.required:
                assert (getattr(f, table)[col.name] != "").all(), (table, col.name)
    for table, column in (("customers", "separate_ledger"), ("managers", "available")):
        assert set(getattr(f, table)[column]) <= {"true", "false"}


def test_policy_text_is_a_valid_policy() -> None:
    generated = generate_scenario(500, 15, seed=2, rebalance=True, name="north")
    policy, problems = parse_policy(generated.toml)
    assert problems == [] and policy is not None
    assert policy.name == "north"
    assert policy.rotation.max_tenure_years == 8
    assert policy.span.premium.max is not None and policy.span.separate_ledger.max is not None
    assert policy.payout.year == 2026


def test_rebalance_carries_a_year_of_change(tmp_path: Path) -> None:
    f = written(tmp_path, "re", n_customers=2000, n_managers=50, seed=8, rebalance=True)
    c, m = f.customers, f.managers
    new = c["prior_manager_id"] == ""
    assert 0.03 <= new.mean() <= 0.07
    assert (c.loc[new, "tenure_years"] == "").all()
    assert (c.loc[~new, "tenure_years"].astype(int).between(1, 12)).all()
    leaving = m[m["available"] == "false"]
    assert len(leaving) >= 1 and len(m) == 50 + len(leaving)
    assert set(leaving["manager_id"]) <= set(c["prior_manager_id"])
    joined = set(m.loc[m["available"] == "true", "manager_id"]) - set(c["prior_manager_id"])
    assert len(joined) >= 1
    regraded = c[c["prior_class"] != c["customer_class"]]
    assert 0.01 <= len(regraded) / len(c) <= 0.03
    assert (regraded["customer_class"] == "premium").any()
    assert (regraded["prior_class"] == "premium").any()
    rotating = c[~new & (c["tenure_years"].replace("", "0").astype(int) >= 8)]
    assert 0.02 <= len(rotating) / len(c) <= 0.12
    split = [u for u in units(f) if c["prior_manager_id"].iloc[u].replace("", np.nan).nunique() > 1]
    assert split, "some groups were split by last year's plan"
    assert f.policy["rotation"]["max_tenure_years"] == 8


@pytest.mark.parametrize(
    ("n", "m", "seed", "rebalance"),
    [
        (3000, 80, 0, True),  # a city branch
        (1200, 25, 1, False),  # a first allocation, no history
        (1200, 25, 2, True),
        (60, 6, 3, True),  # small: premium and separate ledger take a whole manager each
        (40, 4, 4, True),  # the smallest with every portfolio type
        (25, 3, 5, True),  # premium but no separate ledger
        (9, 2, 6, True),  # no premium, no separate ledger
        (5, 8, 7, False),  # more managers than customers
        (20, 100, 0, False),  # five managers a customer: one separate-ledger portfolio, not five
        (100, 300, 0, True),
        (1, 1, 8, True),
    ],
)
def test_generated_scenarios_admit_a_plan(
    tmp_path: Path, n: int, m: int, seed: int, rebalance: bool
) -> None:
    f = written(tmp_path, "s", n_customers=n, n_managers=m, seed=seed, rebalance=rebalance)
    assert len(f.customers) == n and len(f.available) == m
    assert_feasible(f)


def test_chinese_names_round_trip_through_the_csv(tmp_path: Path) -> None:
    generated = generate_scenario(200, 8, seed=9)
    write_scenario(generated, tmp_path / "zh")
    back = pd.read_csv(tmp_path / "zh" / "customers.csv", dtype=str, keep_default_na=False)
    assert back["name"].tolist() == generated.customers["name"].tolist()
    assert back["name"].str.contains("有限").all()
    managers = pd.read_csv(tmp_path / "zh" / "managers.csv", dtype=str, keep_default_na=False)
    assert managers["name"].tolist() == generated.managers["name"].tolist()


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        generate_scenario(0, 5)


def test_thirty_thousand_customers(tmp_path: Path) -> None:
    start = time.perf_counter()
    generated = generate_scenario(30_000, 600, seed=0, rebalance=True)
    write_scenario(generated, tmp_path / "large")
    elapsed = time.perf_counter() - start
    print(f"30,000 x 600 generated and written in {elapsed:.2f} s")
    assert len(generated.customers) == 30_000
    assert (generated.managers["available"]).sum() == 600


# ---------------------------------------------------------------- bundled scenarios


@pytest.mark.parametrize(
    ("folder", "make"),
    [
        ("demo", demo_scenario),
        ("city-branch", lambda: generate_scenario(**CITY_BRANCH)),
    ],
)
def test_bundled_scenarios_are_what_the_generator_writes(tmp_path: Path, folder: str, make) -> None:
    write_scenario(make(), tmp_path / folder)
    for file in sorted((tmp_path / folder).iterdir()):
        if file.name == WRITTEN_RECORD:  # a bundled scenario is the planner's to edit: no record
            continue
        bundled = SCENARIOS / folder / file.name
        assert bundled.read_bytes() == file.read_bytes(), f"{folder}/{file.name} is out of date"


@pytest.mark.parametrize("folder", ["demo", "city-branch"])
def test_bundled_scenarios_admit_a_plan(folder: str) -> None:
    assert_feasible(read_files(SCENARIOS / folder))


@pytest.mark.slow
def test_city_branch_admits_a_plan_within_two_percent_balance() -> None:
    """Rule 8 at +-2% on top of the others, found by the tool's own solver."""
    from portfolio_opt.model.solve import solve
    from portfolio_opt.scenario.loader import load_scenario

    scenario = load_scenario(SCENARIOS / "city-branch", {"balance.max_deviation": 0.02})
    result = solve(scenario, time_limit_s=8, workers=1, seed=0)
    assert result.has_plan, result.explanation
    files = read_files(SCENARIOS / "city-branch")
    assignment = result.assignment
    manager = dict(zip(assignment["customer_id"], assignment["manager_id"], strict=True))
    plan = {row: manager[c] for row, c in enumerate(files.customers["customer_id"])}
    assert violations(files, plan) == []
    standard = kinds(files) == "standard"
    held = pd.Series(customer_targets(files)[standard])
    totals = held.groupby(np.array([plan[r] for r in np.flatnonzero(standard)])).sum()
    assert len(totals) == portfolio_counts(files)["standard"]
    assert (totals / totals.mean() - 1).abs().max() <= 0.02 + 1e-6


def test_demo_exercises_every_rule_and_table() -> None:
    f = read_files(SCENARIOS / "demo")
    c, m, r = f.customers, f.managers, f.relations
    assert 50 <= len(c) <= 70 and (m["available"] == "true").sum() == 6
    assert (c["group_id"] != "").any()
    grouped_by_id = set(c.loc[c["group_id"] != "", "customer_id"])
    relation_groups = r[r["kind"] == "group"]
    assert len(relation_groups) and not set(relation_groups["a"]) & grouped_by_id
    assert (r["kind"] == "chain").sum() >= 3
    premium = c[c["customer_class"] == "premium"]
    designated = m[m["premium"] == "true"]
    assert len(premium) and len(designated) == 1 and designated["grade"].iloc[0] == "A"
    assert (m.loc[m["premium"] != "true", "grade"] == "A").any()
    assert (c["separate_ledger"] == "true").any() and (m["separate_ledger"] == "true").sum() == 1
    assert (c["pinned_manager_id"] != "").any()
    assert (m["available"] == "false").any()
    assert (c["prior_manager_id"] != "").mean() > 0.9
    tenure = c["tenure_years"].replace("", "0").astype(int)
    assert (tenure >= f.policy["rotation"]["max_tenure_years"]).any()
    assert (m["min_customers"] != "").any() and (m["max_customers"] != "").any()
    assert (m["base_salary"] != "").any() and (m["management_score"] == "").any()
    english = c["name"].str.fullmatch(r"[A-Za-z0-9 .,&'-]+")
    assert 3 <= english.sum() < len(c) / 2
    assert c["name"].str.startswith("=").any()
    assert {"2026", "2026Q1", "2026Q2"} <= set(f.actuals["period"])
    assert {"reward", "penalty", "stop"} <= set(f.adjustments["kind"])
    assert (f.credits["share"].astype(float) < 1).all() and len(f.credits) >= 2
    assert f.policy["solver"]["time_limit_s"] == 10
    policy, problems = parse_policy((SCENARIOS / "demo" / "scenario.toml").read_text("utf-8"))
    assert problems == [] and policy is not None and policy.name == "demo"
    assert "max_deviation" in f.policy["balance"]


def test_demo_admits_a_plan_within_the_balance_rule() -> None:
    """Rule 8 on top of the others: solved exactly on the 60-customer demo with CP-SAT."""
    from ortools.sat.python import cp_model

    f = read_files(SCENARIOS / "demo")
    rules = Rules.of(f)
    c, avail = f.customers, f.available
    deviation = f.policy["balance"]["max_deviation"]
    target = np.round(customer_targets(f)).astype(int)
    designated = avail.loc[avail["premium"] == "true", "manager_id"].tolist()
    sep = avail.loc[avail["separate_ledger"] == "true", "manager_id"].tolist()
    standard = [x for x in avail["manager_id"] if x not in designated + sep]
    model = cp_model.CpModel()
    x = {}
    for unit in rules.units:
        row = unit[0]
        if c["separate_ledger"].iloc[row] == "true":
            options, kind = sep, "separate"
        elif c["customer_class"].iloc[row] == rules.premium_class:
            options, kind = designated, "premium"
        else:
            options, kind = standard, "standard"
        options = [o for o in (rules.pins(unit) or options) if o not in rules.banned(unit)]
        choice = [model.new_bool_var(f"u{row}_{o}") for o in options]
        model.add_exactly_one(choice)
        x.update({(tuple(unit), kind, o): v for o, v in zip(options, choice, strict=True)})
    total = sum(int(target[list(u)].sum()) for u in {u for (u, k, _) in x if k == "standard"})
    for manager in avail["manager_id"]:
        mine = [(u, k, v) for (u, k, o), v in x.items() if o == manager]
        kind = mine[0][1] if mine else "standard"
        low, high = rules.bounds(manager, kind)
        count = sum(len(u) * v for u, _, v in mine)
        model.add(count >= low)
        model.add(count <= high)
        if manager in standard:
            held = sum(int(target[list(u)].sum()) * v for u, _, v in mine)
            model.add(len(standard) * held >= math.ceil((1 - deviation) * total))
            model.add(len(standard) * held <= math.floor((1 + deviation) * total))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 20
    solver.parameters.num_workers = 1
    assert solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def test_generate_never_overwrites_a_planners_scenario(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from portfolio_opt.cli import main

    def generate(out: Path, seed: int) -> int:
        args = ["generate", "--customers", "20", "--managers", "3", "--seed", str(seed), str(out)]
        return CliRunner().invoke(main, args).exit_code

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "customers.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    (mine / "scenario.toml").write_text('[tables]\ncustomers = "customers.csv"\n')

    assert generate(mine, 0) == 2
    assert (mine / "customers.csv").read_text(encoding="utf-8") == "customer_id\nC1\n"
    assert sorted(p.name for p in mine.iterdir()) == ["customers.csv", "scenario.toml"]

    made = tmp_path / "made"
    assert generate(made, 0) == 0
    first = (made / "customers.csv").read_bytes()
    assert generate(made, 1) == 0  # an earlier generated scenario may be replaced
    assert (made / "customers.csv").read_bytes() != first
    (made / "notes.txt").write_text("my notes")
    assert generate(made, 2) == 2
    (made / "notes.txt").unlink()
    assert generate(made, 2) == 0

    # A generated scenario the planner has edited since is the planner's now.
    lines = (made / "customers.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",", ",(renamed) ", 1)
    edited = "\n".join(lines) + "\n"
    (made / "customers.csv").write_text(edited, encoding="utf-8")
    assert generate(made, 3) == 2
    assert (made / "customers.csv").read_text(encoding="utf-8") == edited


@pytest.mark.parametrize("option", ["--customers", "--managers"])
def test_a_size_too_large_to_generate_is_a_usage_error(option: str, tmp_path: Path) -> None:
    """Not a traceback about allocating hundreds of gigabytes."""
    from click.testing import CliRunner

    from portfolio_opt.cli import main

    args = ["generate", "--customers", "20", "--managers", "3", str(tmp_path / "out")]
    args[args.index(option) + 1] = "99999999999"
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "is not in the range" in result.output
