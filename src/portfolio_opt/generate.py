"""Synthetic scenarios: realistic branches, feasible by construction, the same files per seed.

A scenario is built in three steps. The layout fixes how many premium and separate-ledger
customers and portfolios there are, and their bands, so that every hard rule can hold. The
population draws managers and customers (groups, industries, incomes, names), with incomes
capped so that every kind's portfolios can be balanced, and chain links clustered in local
supply networks. For a rebalancing year, last year's plan (a good, balanced plan, as this
tool makes them) is drawn first and a year of change is put on top of it.
Everything comes from one ``numpy`` generator seeded once, so a seed always gives the same
files, byte for byte.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from portfolio_opt.report.folders import record_written
from portfolio_opt.scenario.policy import Classes
from portfolio_opt.scenario.schema import SCHEMAS

YEAR = 2026
FX_RATE = 7.1
TOLERANCE = 2
MAX_TENURE_YEARS = 8

PREMIUM_SHARE = 0.08
SEPARATE_SHARE = 0.03
GROUPED_SHARE = 1 / 3
SEPARATE_GROUPED_SHARE = 0.2
RELATION_GROUP_SHARE = 0.15  # groups known only from relations.csv, not from group_id
GROUP_SHARE_INDUSTRY = 0.6  # members of a group mostly work in the group's industry
GROUP_SHARE_BRAND = 0.7  # ... and mostly carry the group's name
PIN_SHARE = 0.005
NETWORK_SIZE = 20  # mean customers of one local supply network (a cluster of chain links)
NETWORK_SPREAD = 6.0  # Dirichlet concentration of network sizes: lower, more uneven
SUPPLIER_LINKS = ((1, 2, 3), (0.2, 0.4, 0.4))  # links to suppliers per customer, and odds
MAIN_TIE_WEIGHTS = ((1.0, 2.0, 3.0), (0.2, 0.45, 0.35))  # a customer's main supplier
OTHER_TIE_WEIGHTS = ((1.0, 2.0), (0.6, 0.4))  # further suppliers, and buyers
STRAY_LINK_SHARE = 0.08  # customers with one more link outside their network (weight 1)
OTHER_KIND_ODDS = 0.6  # a partner of another portfolio kind is kept with these odds
FX_SHARE = 0.12
EXPLICIT_GROWTH_SHARE = 0.1
NEW_CUSTOMER_SHARE = 0.05
LEAVER_SHARE = 0.03
JOINER_SHARE = 0.03
REGRADE_SHARE = 0.02
SPLIT_GROUP_SHARE = 0.03
TENURE_P = 0.33  # geometric: about 6% of customers reach the rotation limit
PRIOR_VALUE_NOISE = 0.06  # last year's customer values: this year's, lognormally perturbed
VALUE_MARGIN = 0.9  # aim this far below the limits: rounding and later draws stay inside
SEPARATE_GROWTH = 0.03  # the generated policy's [payout.separate_ledger] default_growth

_CLASSES = Classes()
CLASSES: list[str] = list(_CLASSES.classes)
PREMIUM: str = _CLASSES.premium_class
GRADES: list[str] = list(_CLASSES.grades)
PREMIUM_GRADE: str = _CLASSES.premium_grade
STANDARD_CLASSES: list[str] = [c for c in CLASSES if c != PREMIUM]

_CLASS_SHARE = {"key": 0.22, "growth": 0.28, "basic": 0.32, "watch": 0.12, "exit": 0.06}
_CLASS_INCOME = {PREMIUM: 3.0, "key": 1.6, "growth": 1.0, "basic": 0.7, "watch": 0.6, "exit": 0.4}
CLASS_GROWTH = {
    PREMIUM: 0.08,
    "key": 0.07,
    "growth": 0.12,
    "basic": 0.05,
    "watch": 0.0,
    "exit": -0.15,
}
GRADE_SHARES = (0.22, 0.28, 0.25, 0.15, 0.10)
BASE_SALARY = {"L1": 120000, "L2": 160000, "L3": 210000, "L4": 260000}

# (industry, word in Chinese company names, word in English ones), most common first
INDUSTRIES: tuple[tuple[str, str, str], ...] = (
    ("批發零售", "商貿", "Trading"),
    ("建築工程", "建設", "Construction"),
    ("房地產", "置業", "Properties"),
    ("機械設備", "機械", "Machinery"),
    ("鋼鐵", "鋼鐵", "Steel"),
    ("汽車零部件", "汽車配件", "Auto Parts"),
    ("化工", "化工", "Chemicals"),
    ("電子元器件", "電子", "Electronics"),
    ("紡織", "紡織", "Textiles"),
    ("塑料製品", "塑膠", "Plastics"),
    ("物流", "物流", "Logistics"),
    ("食品加工", "食品", "Foods"),
    ("建材", "建材", "Building Materials"),
    ("服裝", "服飾", "Apparel"),
    ("軟件信息", "科技", "Software"),
    ("醫藥", "醫藥", "Pharmaceuticals"),
    ("包裝印刷", "包裝", "Packaging"),
    ("汽車製造", "汽車", "Motors"),
    ("電力", "電力", "Power"),
    ("糧油", "糧油", "Grain & Oils"),
    ("通信設備", "通信", "Telecom Equipment"),
    ("煤炭", "煤業", "Coal"),
    ("有色金屬", "有色金屬", "Nonferrous Metals"),
    ("港口航運", "港務", "Shipping"),
)
ENGLISH_WORD = {name: english for name, _, english in INDUSTRIES}
# Supply chains (行業鏈), upstream first. Each customer belongs to one local network of one
# chain, and buys from a few customers of the industry just upstream in the same network.
SUPPLY_CHAINS: tuple[tuple[str, ...], ...] = (
    ("煤炭", "鋼鐵", "汽車零部件", "汽車製造", "批發零售"),  # ... to the car dealers
    ("鋼鐵", "機械設備", "建築工程", "房地產"),
    ("建材", "建築工程", "房地產"),
    ("化工", "塑料製品", "包裝印刷", "食品加工", "批發零售"),
    ("化工", "紡織", "服裝", "批發零售"),
    ("化工", "醫藥", "批發零售"),
    ("糧油", "食品加工", "批發零售"),
    ("有色金屬", "電子元器件", "通信設備", "軟件信息"),
    ("煤炭", "電力"),
    ("港口航運", "物流", "批發零售"),
)
# upstream -> downstream links between industries (行業鏈的上、下游)
CHAINS: tuple[tuple[str, str], ...] = tuple(
    dict.fromkeys(pair for chain in SUPPLY_CHAINS for pair in itertools.pairwise(chain))
)
# fmt: off
_CITIES = (
    "上海", "北京", "廣州", "深圳", "天津", "重慶", "蘇州", "杭州", "南京", "寧波",
    "無錫", "青島", "廈門", "福州", "武漢", "長沙", "成都", "西安", "鄭州", "濟南",
    "合肥", "南昌", "昆明", "瀋陽", "大連", "長春", "太原", "南寧", "貴陽", "蘭州",
    "佛山", "東莞", "溫州", "常州", "紹興", "嘉興", "泉州", "煙台", "唐山", "徐州",
    "珠海", "中山", "惠州", "台州", "金華", "揚州", "哈爾濱", "石家莊",
)
# fmt: on
_BRAND_CHARS = list(
    "宏達恒昌盛興華瑞鑫泰豐源祥隆遠博創新凱嘉德信誠匯金安康寶通海天中東南順利富永明光輝"
    "聯眾合和美佳益億萬騰飛龍鳳星陽潤澤景成立正方圓寰宇環球晶航程長江山峰雲冠威特偉力"
)
_SUFFIXES = ("有限公司", "股份有限公司", "有限責任公司", "集團有限公司")
_SUFFIX_P = (0.6, 0.25, 0.1, 0.05)
_SURNAMES = list(
    "王李張劉陳楊黃趙吳周徐孫馬朱胡郭何高林羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董袁潘蔣蔡余杜葉"
    "程蘇魏呂丁任沈姚盧姜崔鍾譚陸汪范金石廖賈夏韋方白鄒孟熊秦邱江尹薛段雷侯龍史陶黎賀顧毛"
)
_GIVEN_CHARS = list(
    "偉芳娜敏靜麗強磊軍洋勇艷傑娟濤明超秀霞平剛桂英華玉蘭萍紅建文輝鵬飛俊峰斌志國慧琳穎"
    "婷欣怡晨宇浩然子涵思遠嘉誠立新海波雪梅春曉東升永康"
)
_REWARD_NOTES = ("聯動營銷獎勵", "新增優質客戶獎勵", "客戶滿意度評比第一")
_PENALTY_NOTES = ("客戶投訴經查屬實", "因工作疏忽導致客戶流失", "欠費催收不力")
_STOP_NOTE = "未及時發現風險形成不良資產"

STANDARD, PREMIUM_KIND, SEPARATE = 0, 1, 2
# The largest customer and the largest group, as a share of the mean portfolio target of
# their kind, so that every kind's portfolios can be balanced: (customer, group) per kind.
VALUE_LIMITS = {STANDARD: (0.15, 0.35), PREMIUM_KIND: (0.15, 0.40), SEPARATE: (0.15, 0.35)}
TABLES = ("customers", "managers", "relations", "actuals", "adjustments", "credits")


@dataclass
class GeneratedScenario:
    """A generated scenario: its tables (typed, in schema column order) and its policy text."""

    customers: pd.DataFrame
    managers: pd.DataFrame
    relations: pd.DataFrame
    actuals: pd.DataFrame
    adjustments: pd.DataFrame
    credits: pd.DataFrame
    toml: str

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, as ``write_scenario`` writes them (``<name>.csv``)."""
        return {table: getattr(self, table) for table in TABLES}


@dataclass(frozen=True)
class Layout:
    """Counts and bands that make the hard rules satisfiable.

    ``n`` customers, ``m`` available managers; ``k_premium`` premium and ``k_separate``
    separate-ledger portfolios fit their bands, and the standard customers fit the
    remaining managers within the span band.
    """

    n: int
    m: int
    n_premium: int
    n_separate: int
    k_premium: int
    k_separate: int
    tolerance: int = TOLERANCE

    @property
    def span(self) -> float:
        return self.n / self.m

    @property
    def band(self) -> tuple[int, int]:
        return max(0, self.n // self.m - self.tolerance), -(-self.n // self.m) + self.tolerance

    @property
    def premium_band(self) -> tuple[int, int] | None:
        return self._own_band(self.n_premium, self.k_premium)

    @property
    def separate_band(self) -> tuple[int, int] | None:
        return self._own_band(self.n_separate, self.k_separate)

    @property
    def k_standard(self) -> int:
        return self.m - self.k_premium - self.k_separate

    def _own_band(self, count: int, portfolios: int) -> tuple[int, int] | None:
        if not portfolios:
            return None
        mean = count / portfolios
        return max(1, math.floor(mean) - self.tolerance), math.ceil(mean) + self.tolerance


def plan_layout(n: int, m: int) -> Layout:
    """The layout for ``n`` customers and ``m`` available managers.

    Premium and separate-ledger portfolios hold at most a span's worth each; where they come
    out too light for the standard portfolios to stay inside the band, the small types take
    the excess, so small branches get a larger share of premium and separate-ledger customers.
    """
    span = n / m
    hi = -(-n // m) + TOLERANCE
    n_sep = round(SEPARATE_SHARE * n) if m >= 4 else 0
    n_prem = round(PREMIUM_SHARE * n) if m >= 3 else 0
    # A portfolio of its own kind holds at least one customer: no more of them than customers.
    k_sep = min(math.ceil(n_sep / span), n_sep)
    k_prem = min(math.ceil(n_prem / span), n_prem)
    room = (m - k_sep - k_prem) * (hi - 1)  # one below the band max leaves room to pack groups
    excess = n - n_prem - n_sep - room
    if excess > 0:
        to_premium = round(excess * n_prem / (n_prem + n_sep))
        n_prem += to_premium
        n_sep += excess - to_premium
    return Layout(n, m, n_prem, n_sep, k_prem, k_sep)


def generate_scenario(
    n_customers: int,
    n_managers: int,
    seed: int = 0,
    rebalance: bool = False,
    name: str | None = None,
) -> GeneratedScenario:
    """A synthetic branch of ``n_customers`` customers and ``n_managers`` available managers.

    With ``rebalance``, last year's plan (``prior_manager_id``, ``tenure_years``) and a year of
    change: new customers, managers leaving (extra rows, ``available = false``) and joining,
    re-graded customers (``prior_class`` shows last year's class) and the rotation rule.
    The same arguments always give the same tables and policy text.
    """
    if n_customers < 1 or n_managers < 1:
        raise ValueError("a scenario needs at least one customer and one manager")
    rng = np.random.default_rng(seed)
    lay = plan_layout(n_customers, n_managers)
    kind, group = _kinds_and_groups(rng, lay)
    n_new = round(NEW_CUSTOMER_SHARE * lay.n) if rebalance else 0
    new = np.arange(lay.n) >= lay.n - n_new
    cls = _classes(rng, kind)
    industry = _industries(rng, group)
    money = _money(rng, lay, kind, group, cls)
    managers, roles = _managers(rng, lay, rebalance)
    history = _history(rng, lay, kind, group, cls, new, roles, money) if rebalance else None
    pinned = _pins(rng, kind, group, roles)
    tenure = _tenure(rng, lay, kind, group, pinned, history) if history is not None else None
    relation_only = _relation_only_groups(rng, group)
    customers = _customers_frame(
        rng, lay, kind, group, relation_only, cls, industry, money, roles, history, pinned, tenure
    )
    relations = _relations_frame(rng, customers, kind, group, relation_only, industry)
    available = managers.loc[managers["available"], "manager_id"].to_numpy()
    toml = _policy_toml(lay, seed=seed, rebalance=rebalance, name=name)
    return GeneratedScenario(
        customers=customers,
        managers=managers,
        relations=relations,
        actuals=_actuals_frame(rng, customers, [str(YEAR)]),
        adjustments=_adjustments_frame(rng, available),
        credits=_credits_frame(rng, customers, managers),
        toml=toml,
    )


MARK = "# Written by `portfolio-opt generate`"


def write_scenario(generated: GeneratedScenario, out: Path) -> None:
    """Write ``scenario.toml`` and one UTF-8 CSV per table into ``out`` (created if needed),
    then the record of what was written (see ``folders.untouched_since_written``).

    Booleans are written ``true``/``false``, blanks as empty cells, lines end with ``\\n``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scenario.toml").write_text(generated.toml, encoding="utf-8", newline="\n")
    written = ["scenario.toml"]
    for table, frame in generated.tables().items():
        (out / f"{table}.csv").write_bytes(_csv_text(frame).encode("utf-8"))
        written.append(f"{table}.csv")
    record_written(out, written)


def _numbered(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Ids such as ``C0042``: the prefix and the number padded with zeros."""
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)


def _csv_text(frame: pd.DataFrame) -> str:
    text = frame.copy()
    for column in text.columns:
        if text[column].dtype == bool:
            text[column] = np.where(text[column].to_numpy(), "true", "false")
    return text.to_csv(index=False, lineterminator="\n")


# ---------------------------------------------------------------- customers


def _group_cap(customers: int, portfolios: int, band: tuple[int, int]) -> int:
    """The largest group allowed: half a portfolio, so groups always pack (1: no groups)."""
    if band[1] < 4:
        return 1
    return max(2, int(customers / portfolios // 2))


def _segment_groups(rng: np.random.Generator, count: int, share: float, cap: int) -> np.ndarray:
    """Group labels (-1: none) for ``count`` customers, ``share`` of them in groups of
    heavy-tailed sizes 2 .. ``cap``."""
    labels = np.full(count, -1, dtype=np.int64)
    if cap < 2 or count < 2:
        return labels
    sizes = np.minimum(rng.zipf(2.2, size=count // 2 + 1), cap - 1) + 1
    sizes = sizes[np.cumsum(sizes) <= round(share * count)]
    labels[: sizes.sum()] = np.repeat(np.arange(len(sizes)), sizes)
    return labels


def _kinds_and_groups(rng: np.random.Generator, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's kind (standard, premium, separate) and group (-1: none), rows shuffled.

    Groups stay inside one kind and below half the span, so every group fits a portfolio.
    """
    n_std = lay.n - lay.n_premium - lay.n_separate
    segments = [(STANDARD, n_std, GROUPED_SHARE, _group_cap(lay.n, lay.m, lay.band))]
    if lay.premium_band:
        cap = _group_cap(lay.n_premium, lay.k_premium, lay.premium_band)
        segments.append((PREMIUM_KIND, lay.n_premium, GROUPED_SHARE, cap))
    if lay.separate_band:
        cap = min(3, _group_cap(lay.n_separate, lay.k_separate, lay.separate_band))
        segments.append((SEPARATE, lay.n_separate, SEPARATE_GROUPED_SHARE, cap))
    kinds, groups, offset = [], [], 0
    for segment, count, share, cap in segments:
        labels = _segment_groups(rng, count, share, cap)
        kinds.append(np.full(count, segment, dtype=np.int8))
        groups.append(np.where(labels >= 0, labels + offset, -1))
        offset += int(labels.max(initial=-1)) + 1
    order = rng.permutation(lay.n)
    kind, group = np.concatenate(kinds)[order], np.concatenate(groups)[order]
    return kind, _relabel(group)


def _relabel(group: np.ndarray) -> np.ndarray:
    """Group labels 0, 1, 2 ... in order of first appearance down the rows."""
    grouped = group >= 0
    labels, first = np.unique(group[grouped], return_index=True)
    rank = np.empty(len(labels), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(labels))
    out = np.full(len(group), -1, dtype=np.int64)
    out[grouped] = rank[np.searchsorted(labels, group[grouped])]
    return out


def _leaders(group: np.ndarray) -> np.ndarray:
    """The first row of each group, by label."""
    grouped = np.flatnonzero(group >= 0)
    _, first = np.unique(group[grouped], return_index=True)
    return grouped[first]


def _follow_leader(
    rng: np.random.Generator, values: np.ndarray, group: np.ndarray, share: float
) -> np.ndarray:
    """Give ``share`` of each group's members the value of the group's first member."""
    out = values.copy()
    if (group >= 0).any():
        leader_value = values[_leaders(group)]
        follow = (group >= 0) & (rng.random(len(group)) < share)
        out[follow] = leader_value[group[follow]]
    return out


def _classes(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    shares = np.array([_CLASS_SHARE.get(c, 1.0) for c in STANDARD_CLASSES])
    cls = rng.choice(
        np.array(STANDARD_CLASSES, dtype=object), size=len(kind), p=shares / shares.sum()
    )
    cls[kind == PREMIUM_KIND] = PREMIUM
    return cls


def _industries(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """Industry index per customer: Zipf-like shares, members mostly in the group's industry."""
    weights = 1.0 / np.arange(1, len(INDUSTRIES) + 1) ** 0.9
    drawn = rng.choice(len(INDUSTRIES), size=len(group), p=weights / weights.sum())
    return _follow_leader(rng, drawn, group, GROUP_SHARE_INDUSTRY)


def _company_names(rng: np.random.Generator, industry: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Chinese company names: city + brand + industry word + legal form."""
    n = len(industry)
    brand_index = rng.integers(0, len(_CITIES) * len(_BRAND_CHARS) ** 2, size=n)
    brand_index = _follow_leader(rng, brand_index, group, GROUP_SHARE_BRAND)
    chars = np.array(_BRAND_CHARS, dtype=object)
    city = np.array(_CITIES, dtype=object)[brand_index // len(_BRAND_CHARS) ** 2]
    first = chars[(brand_index // len(_BRAND_CHARS)) % len(_BRAND_CHARS)]
    second = chars[brand_index % len(_BRAND_CHARS)]
    word = np.array([word for _, word, _ in INDUSTRIES], dtype=object)[industry]
    suffix = rng.choice(np.array(_SUFFIXES, dtype=object), size=n, p=_SUFFIX_P)
    return _distinct(rng, city + first + second + word + suffix)


def _distinct(rng: np.random.Generator, names: np.ndarray) -> np.ndarray:
    """Repeated names become branch offices (分公司) of the first, numbered where needed."""
    series = pd.Series(names, dtype=object)
    repeat = series.duplicated().to_numpy()
    branch = rng.choice(np.array(_CITIES, dtype=object), size=len(names))
    series[repeat] = series[repeat] + branch[repeat] + "分公司"
    count = series.groupby(series).cumcount().to_numpy()
    again = count > 0
    series[again] = series[again] + "第" + pd.Series(count[again] + 1).astype(str).to_numpy() + "號"
    return series.to_numpy()


def _person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    given = np.array(_GIVEN_CHARS, dtype=object)
    surname = rng.choice(np.array(_SURNAMES, dtype=object), size=n)
    one, two = rng.choice(given, size=n), rng.choice(given, size=n)
    return np.where(rng.random(n) < 0.6, surname + one + two, surname + one)


def _incomes(rng: np.random.Generator, cls: np.ndarray) -> dict[str, np.ndarray]:
    """Last year's income by type: lognormal, scaled by class (premium about three times)."""
    n = len(cls)
    scale = pd.Series(cls).map(_CLASS_INCOME).fillna(1.0).to_numpy(float)
    premium = cls == PREMIUM

    def draw(median: float, sigma: float, zero_share: float) -> np.ndarray:
        value = rng.lognormal(math.log(median), sigma, size=n) * scale
        return np.round(np.where(rng.random(n) < zero_share, 0.0, value), 2)

    has_fx = rng.random(n) < np.where(premium, 2.5 * FX_SHARE, FX_SHARE)
    incomes = {
        "interest_income": draw(150_000, 1.1, 0.15),
        "deposit_income": draw(60_000, 1.0, 0.0),
        "fee_income": draw(20_000, 1.2, 0.1),
    }
    for column, median in (("interest_income", 15_000), ("deposit_income", 6_000)):
        incomes[f"{column}_fx"] = np.where(has_fx, draw(median, 1.0, 0.2), 0.0)
    incomes["fee_income_fx"] = np.where(has_fx, draw(3_000, 1.0, 0.3), 0.0)
    return incomes


@dataclass
class _Money:
    """Each customer's incomes, own growth rate (NaN: the class default) and target."""

    incomes: dict[str, np.ndarray]
    growth_rate: np.ndarray
    value: np.ndarray


def _money(
    rng: np.random.Generator, lay: Layout, kind: np.ndarray, group: np.ndarray, cls: np.ndarray
) -> _Money:
    """Incomes and growth, with the largest customers and groups of each kind shrunk to fit
    a balanced portfolio (see ``VALUE_LIMITS``)."""
    n = len(cls)
    incomes = _incomes(rng, cls)
    explicit = rng.random(n) < EXPLICIT_GROWTH_SHARE
    growth = _class_growth(cls, kind) + rng.normal(0, 0.03, size=n)
    growth_rate = np.where(explicit, np.round(growth, 3), np.nan)
    scale = _value_caps(lay, kind, group, _targets(incomes, growth_rate, cls, kind))
    incomes = {column: np.round(value * scale, 2) for column, value in incomes.items()}
    return _Money(incomes, growth_rate, _targets(incomes, growth_rate, cls, kind))


def _class_growth(cls: np.ndarray, kind: np.ndarray) -> np.ndarray:
    growth = pd.Series(cls).map(CLASS_GROWTH).fillna(0.05).to_numpy(float)
    return np.where(kind == SEPARATE, SEPARATE_GROWTH, growth)


def _targets(
    incomes: Mapping[str, np.ndarray], growth_rate: np.ndarray, cls: np.ndarray, kind: np.ndarray
) -> np.ndarray:
    """Each customer's target as the generated policy sets it: bases grown by the forecast."""
    base = sum(
        incomes[column] + FX_RATE * incomes[f"{column}_fx"]
        for column in ("interest_income", "deposit_income", "fee_income")
    )
    growth = np.where(np.isnan(growth_rate), _class_growth(cls, kind), growth_rate)
    return np.asarray(base * (1 + growth), dtype=float)


def _squash(value: np.ndarray, cap: float) -> np.ndarray:
    """Values above 60% of the cap bent smoothly below the cap; the rest unchanged."""
    knee = 0.6 * cap
    over = value > knee
    out = value.astype(float)
    out[over] = knee + (cap - knee) * -np.expm1(-(value[over] - knee) / (cap - knee))
    return out


def _value_caps(lay: Layout, kind: np.ndarray, group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """A factor per customer that keeps each customer and each group well below its limit
    share of the mean portfolio target of its kind.

    In small branches a portfolio holds few customers, and the limits widen to two customers'
    and four customers' worth.
    """
    scale = np.ones(len(value))
    portfolios = {STANDARD: lay.k_standard, PREMIUM_KIND: lay.k_premium, SEPARATE: lay.k_separate}
    for _ in range(3):  # shrinking lowers the mean: settle the caps on it
        for segment, count in portfolios.items():
            rows = np.flatnonzero(kind == segment)
            if not count or not len(rows):
                continue
            per_portfolio = len(rows) / count
            one, many = VALUE_LIMITS[segment]
            current = value[rows] * scale[rows]
            mean = current.sum() / count
            cap = VALUE_MARGIN * max(one, 2 / per_portfolio) * mean
            scale[rows] *= np.divide(
                _squash(current, cap), current, out=np.ones(len(rows)), where=current > 0
            )
            grouped = rows[group[rows] >= 0]
            if not len(grouped):
                continue
            labels, inverse = np.unique(group[grouped], return_inverse=True)
            totals = np.bincount(inverse, weights=value[grouped] * scale[grouped])
            cap = VALUE_MARGIN * max(many, 4 / per_portfolio) * mean
            factor = np.divide(
                _squash(totals, cap), totals, out=np.ones(len(labels)), where=totals > 0
            )
            scale[grouped] *= factor[inverse]
    return scale


# ---------------------------------------------------------------- managers


@dataclass
class _Roles:
    """Who is who among the manager rows."""

    ids: np.ndarray
    grade: np.ndarray
    available: np.ndarray
    joiner: np.ndarray
    separate: np.ndarray

    @property
    def last_year(self) -> np.ndarray:
        return ~self.joiner


def _managers(
    rng: np.random.Generator, lay: Layout, rebalance: bool
) -> tuple[pd.DataFrame, _Roles]:
    """Manager rows: ``lay.m`` available (joiners last) plus, when rebalancing, leavers."""
    n_leave = max(1, round(LEAVER_SHARE * lay.m)) if rebalance else 0
    n_join = max(1, round(JOINER_SHARE * lay.m)) if rebalance and lay.m >= 2 else 0
    rows = lay.m + n_leave
    width = max(3, len(str(rows)))
    ids = _numbered("M", np.arange(1, rows + 1), width)
    joiner = np.arange(rows) >= rows - n_join
    available = np.ones(rows, dtype=bool)
    available[rng.choice(rows - n_join, size=n_leave, replace=False)] = False
    grade = rng.permutation(_quota(np.array(GRADES, dtype=object), _grade_shares(), rows))
    separate = np.zeros(rows, dtype=bool)
    candidates = np.flatnonzero(available & ~joiner)
    separate[rng.choice(candidates, size=lay.k_separate, replace=False)] = True
    grade[separate & (grade == PREMIUM_GRADE)] = GRADES[1 % len(GRADES)]
    _enough_premium_grade(rng, lay, grade, available, joiner, separate)
    level = _staff_levels(rng, grade)
    score = np.clip(np.round(rng.normal(930, 45, size=rows)), 700, 1000).astype(np.int64)
    frame = pd.DataFrame(
        {
            "manager_id": ids,
            "name": _person_names(rng, rows),
            "grade": grade,
            "staff_level": level,
            "base_salary": np.full(rows, np.nan),
            "management_score": score,
            "premium": np.zeros(rows, dtype=bool),
            "separate_ledger": separate,
            "min_customers": pd.array([pd.NA] * rows, dtype="Int64"),
            "max_customers": pd.array([pd.NA] * rows, dtype="Int64"),
            "available": available,
        }
    )
    return frame, _Roles(ids, grade, available, joiner, separate)


def _quota(values: np.ndarray, shares: np.ndarray, count: int) -> np.ndarray:
    """``count`` values in the given shares exactly (largest remainders), in value order."""
    exact = shares * count
    whole = np.floor(exact).astype(np.int64)
    whole[np.argsort(-(exact - whole), kind="stable")[: count - whole.sum()]] += 1
    return np.repeat(values, whole)


def _grade_shares() -> np.ndarray:
    shares = np.array(GRADE_SHARES[: len(GRADES)] + (0.1,) * (len(GRADES) - len(GRADE_SHARES)))
    return shares / shares.sum()


def _enough_premium_grade(
    rng: np.random.Generator,
    lay: Layout,
    grade: np.ndarray,
    available: np.ndarray,
    joiner: np.ndarray,
    separate: np.ndarray,
) -> None:
    """Promote managers until premium-grade managers outnumber premium portfolios.

    One more than needed leaves the optimiser a choice; last year's staff come first so that
    last year's premium portfolios had premium-grade holders too.
    """
    if not lay.k_premium:
        return
    usable = available & ~separate
    missing = lay.k_premium + 1 - int((usable & (grade == PREMIUM_GRADE)).sum())
    if missing <= 0:
        return
    pool = np.flatnonzero(usable & (grade != PREMIUM_GRADE))
    pool = pool[np.argsort(joiner[pool], kind="stable")]
    grade[pool[:missing]] = PREMIUM_GRADE


def _staff_levels(rng: np.random.Generator, grade: np.ndarray) -> np.ndarray:
    """L4 for most A-grade managers, down to L1 for the lowest grades."""
    levels = sorted(BASE_SALARY)
    rank = np.array([GRADES.index(g) for g in grade])
    base = len(levels) - 1 - np.minimum(rank, len(levels) - 1)
    jitter = rng.choice([-1, 0, 0, 0, 1], size=len(grade))
    return np.array(levels, dtype=object)[np.clip(base + jitter, 0, len(levels) - 1)]


# ---------------------------------------------------------------- last year


@dataclass
class _History:
    prior: np.ndarray  # manager row per customer, -1 for new customers
    prior_class: np.ndarray
    split: np.ndarray  # customers moved off their group's manager last year


def _balanced(
    rng: np.random.Generator, unit: np.ndarray, value: np.ndarray, bins: int
) -> np.ndarray:
    """A bin 0..bins-1 per item, as this tool would have planned it: items of one unit share
    a bin, bin sizes within one of each other whenever the units allow, bin values close.

    Units of several items go first, most valuable first, each to the poorest bin with room.
    Single items then go, most valuable first, to the bin that misses the most value per
    free place, so the small items at the end even out what the large ones left.
    """
    labels, inverse, sizes = np.unique(unit, return_inverse=True, return_counts=True)
    worth = np.bincount(inverse, weights=value)
    bin_of = np.empty(len(labels), dtype=np.int64)
    load, held = np.zeros(bins, dtype=np.int64), np.zeros(bins)
    quota = np.full(bins, len(unit) // bins)
    quota[rng.permutation(bins)[: len(unit) % bins]] += 1
    tie = rng.random(len(labels))
    order = np.lexsort((tie, -worth))
    for u in order[sizes[order] > 1]:
        room = load + sizes[u] <= quota
        pool = np.flatnonzero(room) if room.any() else np.arange(bins)
        b = int(pool[np.argmin(held[pool] if room.any() else load[pool])])
        bin_of[u] = b
        load[b] += sizes[u]
        held[b] += worth[u]
    single = order[sizes[order] == 1]
    free = _free_places(rng, load, quota, len(single))
    mean = worth.sum() / bins
    heap = [(-(mean - held[b]) / free[b], int(b)) for b in np.flatnonzero(free)]
    heapq.heapify(heap)
    for u in single:
        _, b = heapq.heappop(heap)
        bin_of[u] = b
        held[b] += worth[u]
        free[b] -= 1
        if free[b]:
            heapq.heappush(heap, (-(mean - held[b]) / free[b], b))
    return bin_of[inverse]


def _free_places(
    rng: np.random.Generator, load: np.ndarray, quota: np.ndarray, count: int
) -> np.ndarray:
    """How many of ``count`` single items each bin takes: up to its quota, and where groups
    overfilled a bin, the places left are taken lowest level first, so sizes stay even."""
    free = np.maximum(quota - load, 0)
    slot_bin = np.repeat(np.arange(len(load)), free)
    level = load[slot_bin] + np.arange(len(slot_bin)) - np.repeat(np.cumsum(free) - free, free)
    pick = np.lexsort((rng.random(len(slot_bin)), level))[:count]
    return np.bincount(slot_bin[pick], minlength=len(load))


def _units(group: np.ndarray) -> np.ndarray:
    """A unit label per customer: its group, or a label of its own."""
    return np.where(group >= 0, group, group.max(initial=-1) + 1 + np.arange(len(group)))


def _history(
    rng: np.random.Generator,
    lay: Layout,
    kind: np.ndarray,
    group: np.ndarray,
    cls: np.ndarray,
    new: np.ndarray,
    roles: _Roles,
    money: _Money,
) -> _History:
    """Last year's plan over last year's staff, and last year's classes.

    The bank made last year's plan with this tool, so it kept the rules and was balanced in
    customers and in target (last year's targets: this year's, slightly perturbed).
    """
    prior_class = _regrade(rng, lay, kind, group, cls, new)
    was_premium = prior_class == PREMIUM
    staff = np.flatnonzero(roles.last_year)
    separate = np.flatnonzero(roles.separate)
    a_grade = staff[(roles.grade[staff] == PREMIUM_GRADE) & ~roles.separate[staff]]
    if not len(a_grade):  # every premium-grade manager is new: last year others held premium
        a_grade = staff[~roles.separate[staff]]
    n0 = int((~new).sum())
    n_was_premium = int((was_premium & ~new).sum())
    k0 = min(len(a_grade), max(1, round(n_was_premium * len(staff) / n0))) if n_was_premium else 0
    holders = rng.choice(a_grade, size=k0, replace=False)
    rest = np.setdiff1d(staff, np.concatenate([holders, separate]))
    prior = np.full(lay.n, -1, dtype=np.int64)
    unit = _units(group)
    value = money.value * rng.lognormal(0.0, PRIOR_VALUE_NOISE, size=lay.n)
    for rows, bins in (
        (~new & was_premium, holders),
        (~new & (kind == SEPARATE), separate),
        (~new & ~was_premium & (kind != SEPARATE), rest),
    ):
        if rows.any():
            prior[rows] = bins[_balanced(rng, unit[rows], value[rows], len(bins))]
    split = _split_groups(rng, prior, group, kind, rest)
    return _History(prior, prior_class, split)


def _regrade(
    rng: np.random.Generator,
    lay: Layout,
    kind: np.ndarray,
    group: np.ndarray,
    cls: np.ndarray,
    new: np.ndarray,
) -> np.ndarray:
    """Last year's class: a few ungrouped customers became or stopped being premium, a few
    others moved between the standard classes."""
    prior_class = cls.copy()
    n_regrade = round(REGRADE_SHARE * lay.n)
    n_flip = max(1, round(0.15 * n_regrade)) if lay.n_premium and n_regrade else 0
    single_old = (group < 0) & ~new
    up = _pick(rng, single_old & (kind == PREMIUM_KIND), n_flip)
    down = _pick(rng, single_old & (kind == STANDARD), n_flip)
    prior_class[up] = rng.choice(np.array(STANDARD_CLASSES, dtype=object), size=len(up))
    prior_class[down] = PREMIUM
    free = ~new & (kind != PREMIUM_KIND)
    free[down] = False
    other = _pick(rng, free, max(0, n_regrade - len(up) - len(down)))
    index = np.array([STANDARD_CLASSES.index(c) for c in cls[other]], dtype=np.int64)
    shift = rng.integers(1, len(STANDARD_CLASSES), size=len(other))
    prior_class[other] = np.array(STANDARD_CLASSES, dtype=object)[
        (index + shift) % len(STANDARD_CLASSES)
    ]
    return prior_class


def _pick(rng: np.random.Generator, mask: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` random rows where ``mask`` holds, in row order."""
    rows = np.flatnonzero(mask)
    return np.sort(rng.choice(rows, size=min(count, len(rows)), replace=False))


def _split_groups(
    rng: np.random.Generator,
    prior: np.ndarray,
    group: np.ndarray,
    kind: np.ndarray,
    managers: np.ndarray,
) -> np.ndarray:
    """Move one member of a few standard groups to another manager (last year's plan split
    them; this year they must be reunited)."""
    split = np.zeros(len(prior), dtype=bool)
    if len(managers) < 2:
        return split
    eligible = (group >= 0) & (prior >= 0) & (kind == STANDARD)
    labels, first, counts = np.unique(group[eligible], return_index=True, return_counts=True)
    labels, first = labels[counts >= 2], first[counts >= 2]
    if not len(labels):
        return split
    chosen = rng.choice(
        len(labels), size=max(1, round(SPLIT_GROUP_SHARE * len(labels))), replace=False
    )
    rows = np.flatnonzero(eligible)[first[chosen]]
    offset = rng.integers(1, len(managers), size=len(rows))
    position = np.searchsorted(managers, prior[rows])
    prior[rows] = managers[(position + offset) % len(managers)]
    split[rows] = True
    return split


def _tenure(
    rng: np.random.Generator,
    lay: Layout,
    kind: np.ndarray,
    group: np.ndarray,
    pinned: np.ndarray,
    history: _History,
) -> pd.arrays.IntegerArray:
    """Years with the prior manager: one draw per group (members came together), capped below
    the rotation limit wherever rotating would leave the customer nowhere to go."""
    unit = _units(group)
    _, inverse = np.unique(unit, return_inverse=True)
    per_unit = np.minimum(rng.geometric(TENURE_P, size=inverse.max() + 1), 12)
    years = per_unit[inverse]
    years[history.split] = np.minimum(rng.geometric(TENURE_P, size=int(history.split.sum())), 12)
    no_alternative = (kind == SEPARATE) | ((pinned >= 0) & (pinned == history.prior))
    if lay.k_premium < 2:
        no_alternative |= kind == PREMIUM_KIND
    if lay.k_standard < 2:
        no_alternative |= kind == STANDARD
    years = np.where(no_alternative, np.minimum(years, MAX_TENURE_YEARS - 1), years)
    tenure = pd.array(years, dtype="Int64")
    tenure[history.prior < 0] = pd.NA
    return tenure


# ---------------------------------------------------------------- pins and relations


def _pins(
    rng: np.random.Generator, kind: np.ndarray, group: np.ndarray, roles: _Roles
) -> np.ndarray:
    """Manager row per pinned customer (-1: not pinned): a few ungrouped standard customers,
    each pinned to an available standard manager below the premium grade."""
    pinned = np.full(len(kind), -1, dtype=np.int64)
    targets = np.flatnonzero(roles.available & ~roles.separate & (roles.grade != PREMIUM_GRADE))
    if not len(targets):
        return pinned
    rows = _pick(rng, (kind == STANDARD) & (group < 0), max(1, round(PIN_SHARE * len(kind))))
    pinned[rows] = rng.choice(targets, size=len(rows))
    return pinned


def _relation_only_groups(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """Labels of the groups written as relations.csv links instead of a group_id."""
    n_groups = int(group.max(initial=-1)) + 1
    if not n_groups:
        return np.zeros(0, dtype=np.int64)
    count = max(1, round(RELATION_GROUP_SHARE * n_groups))
    return np.sort(rng.choice(n_groups, size=count, replace=False))


def _chain_positions() -> np.ndarray:
    """Position of each industry in each supply chain (chain x industry), -1 where absent."""
    names = [name for name, _, _ in INDUSTRIES]
    position = np.full((len(SUPPLY_CHAINS), len(names)), -1, dtype=np.int64)
    for c, chain in enumerate(SUPPLY_CHAINS):
        position[c, [names.index(name) for name in chain]] = np.arange(len(chain))
    return position


def _networks(
    rng: np.random.Generator, industry: np.ndarray, group: np.ndarray, position: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's supply chain and local network within it.

    A customer joins one chain holding its industry, and one of that chain's networks
    (about ``NETWORK_SIZE`` customers, uneven). A group member whose industry is on its
    group's chain joins the network of the group's first member.
    """
    n = len(industry)
    holds = (position >= 0).T[industry]
    chain = np.argmax(rng.random(holds.shape) * holds, axis=1)
    lead = np.arange(n)
    lead[group >= 0] = _leaders(group)[group[group >= 0]]
    follow = (group >= 0) & (position[chain[lead], industry] >= 0)
    chain[follow] = chain[lead[follow]]
    members = np.bincount(chain, minlength=len(SUPPLY_CHAINS))
    count = np.maximum(1, np.round(members / NETWORK_SIZE)).astype(np.int64)
    offset = np.concatenate([[0], np.cumsum(count)[:-1]])
    network = np.empty(n, dtype=np.int64)
    for c in range(len(SUPPLY_CHAINS)):
        rows = np.flatnonzero(chain == c)
        share = rng.dirichlet(np.full(count[c], NETWORK_SPREAD))
        network[rows] = offset[c] + rng.choice(count[c], size=len(rows), p=share)
    network[follow] = network[lead[follow]]
    return chain, network


def _partners(
    rng: np.random.Generator,
    rows: np.ndarray,
    block: np.ndarray,
    sorted_block: np.ndarray,
    order: np.ndarray,
    kind: np.ndarray,
) -> np.ndarray:
    """One partner per row, drawn from the customers of ``block`` (a key per row).

    A partner of another portfolio kind is redrawn (a few times) unless kept with the odds
    ``OTHER_KIND_ODDS``: ties run mostly, not only, within a kind. Rows whose block is
    empty get -1.
    """
    start = np.searchsorted(sorted_block, block, side="left")
    size = np.searchsorted(sorted_block, block, side="right") - start
    found = np.flatnonzero(size > 0)
    partner = np.full(len(rows), -1, dtype=np.int64)
    start, size, own = start[found], size[found], kind[rows[found]]
    pick = order[start + (rng.random(len(found)) * size).astype(np.int64)]
    for _ in range(3):
        redraw = (kind[pick] != own) & (rng.random(len(found)) >= OTHER_KIND_ODDS)
        fresh = order[start + (rng.random(len(found)) * size).astype(np.int64)]
        pick = np.where(redraw, fresh, pick)
    partner[found] = pick
    return partner


def _weights(
    rng: np.random.Generator, table: tuple[tuple[float, ...], tuple[float, ...]], n: int
) -> np.ndarray:
    """``n`` link weights drawn from a (weights, odds) table."""
    return rng.choice(np.array(table[0]), size=n, p=np.array(table[1]))


def _chain_links(
    rng: np.random.Generator, industry: np.ndarray, group: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted (upstream row, downstream row) links along the supply chains, without repeats.

    Within each local network, every customer buys from one to three customers of the
    industry just upstream (the first its main supplier, a strong tie) and sells to one of
    the industry just downstream. A few customers also trade with one customer of an
    adjacent industry anywhere in the branch (weight 1).
    """
    n = len(industry)
    position = _chain_positions()
    chain, network = _networks(rng, industry, group, position)
    depth = position.shape[1]
    place = position[chain, industry]
    key = network * depth + place
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    ups, downs, weights = [], [], []
    wanted = rng.choice(np.array(SUPPLIER_LINKS[0]), size=n, p=np.array(SUPPLIER_LINKS[1]))
    for nth in range(max(SUPPLIER_LINKS[0])):
        rows = np.flatnonzero((wanted > nth) & (place > 0))
        supplier = _partners(rng, rows, key[rows] - 1, sorted_key, order, kind)
        rows, supplier = rows[supplier >= 0], supplier[supplier >= 0]
        ups.append(supplier)
        downs.append(rows)
        weights.append(_weights(rng, OTHER_TIE_WEIGHTS if nth else MAIN_TIE_WEIGHTS, len(rows)))
    last = np.array([len(c) - 1 for c in SUPPLY_CHAINS])[chain]
    rows = np.flatnonzero(place < last)
    buyer = _partners(rng, rows, key[rows] + 1, sorted_key, order, kind)
    rows, buyer = rows[buyer >= 0], buyer[buyer >= 0]
    ups.append(rows)
    downs.append(buyer)
    weights.append(_weights(rng, OTHER_TIE_WEIGHTS, len(rows)))
    stray_up, stray_down = _stray_links(rng, industry)
    ups.append(stray_up)
    downs.append(stray_down)
    weights.append(np.ones(len(stray_up)))
    up, down, weight = np.concatenate(ups), np.concatenate(downs), np.concatenate(weights)
    strongest = np.lexsort((-weight, down, up))
    up, down, weight = up[strongest], down[strongest], weight[strongest]
    first = np.ones(len(up), dtype=bool)
    first[1:] = (up[1:] != up[:-1]) | (down[1:] != down[:-1])
    return up[first], down[first], weight[first]


def _stray_links(rng: np.random.Generator, industry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``STRAY_LINK_SHARE`` of customers trade with a random customer of an adjacent industry."""
    names = [name for name, _, _ in INDUSTRIES]
    pairs = np.array([(names.index(u), names.index(d)) for u, d in CHAINS])
    ends = np.concatenate([pairs, pairs[:, ::-1]])  # (own industry, other industry)
    rows = np.flatnonzero(rng.random(len(industry)) < STRAY_LINK_SHARE)
    mine = ends[:, 0][None, :] == industry[rows][:, None]
    pick = np.argmax(rng.random(mine.shape) * mine, axis=1)
    order = np.argsort(industry, kind="stable")
    same = np.zeros(len(industry), dtype=np.int64)
    partner = _partners(rng, rows, ends[pick, 1], industry[order], order, same)
    upstream = pick < len(pairs)  # the first half of ``ends`` has the row upstream
    keep = mine.any(axis=1) & (partner >= 0)
    rows, partner, upstream = rows[keep], partner[keep], upstream[keep]
    return np.where(upstream, rows, partner), np.where(upstream, partner, rows)


def _relations_frame(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    kind: np.ndarray,
    group: np.ndarray,
    relation_only: np.ndarray,
    industry: np.ndarray,
) -> pd.DataFrame:
    ids = customers["customer_id"].to_numpy()
    linked = np.flatnonzero(np.isin(group, relation_only))
    leader = _leaders(group)[group[linked]]
    star = linked[linked != leader]
    star_leader = leader[linked != leader]
    up, down, weight = _chain_links(rng, industry, group, kind)
    return pd.DataFrame(
        {
            "a": np.concatenate([ids[star_leader], ids[up]]),
            "b": np.concatenate([ids[star], ids[down]]),
            "kind": ["group"] * len(star) + ["chain"] * len(up),
            "weight": np.concatenate([np.full(len(star), np.nan), weight]),
        }
    )


# ---------------------------------------------------------------- tables


def _customers_frame(
    rng: np.random.Generator,
    lay: Layout,
    kind: np.ndarray,
    group: np.ndarray,
    relation_only: np.ndarray,
    cls: np.ndarray,
    industry: np.ndarray,
    money: _Money,
    roles: _Roles,
    history: _History | None,
    pinned: np.ndarray,
    tenure: pd.arrays.IntegerArray | None,
) -> pd.DataFrame:
    n = lay.n
    width = max(4, len(str(n)))
    ids = _numbered("C", np.arange(1, n + 1), width)
    written = (group >= 0) & ~np.isin(group, relation_only)
    g_width = max(4, len(str(int(group.max(initial=0)) + 1)))
    group_ids = _numbered("G", group + 1, g_width)
    manager_ids = np.append(roles.ids, "")  # index -1 -> blank
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "name": _company_names(rng, industry, group),
            "customer_class": cls,
            "group_id": np.where(written, group_ids, ""),
            "industry": np.array([name for name, _, _ in INDUSTRIES], dtype=object)[industry],
            "separate_ledger": kind == SEPARATE,
            **money.incomes,
            "growth_rate": money.growth_rate,
            "prior_manager_id": manager_ids[history.prior] if history else "",
            "tenure_years": tenure if tenure is not None else pd.array([pd.NA] * n, "Int64"),
            "pinned_manager_id": manager_ids[pinned],
        }
    )
    if history is not None:
        frame["prior_class"] = history.prior_class
    return frame


def _income_growth(customers: pd.DataFrame) -> np.ndarray:
    default = customers["customer_class"].map(CLASS_GROWTH).fillna(0.05).to_numpy(float)
    return customers["growth_rate"].fillna(pd.Series(default, index=customers.index)).to_numpy()


def _actuals_frame(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    periods: list[str],
    shares: list[float] | None = None,
) -> pd.DataFrame:
    """Realised income per customer and period: last year's grown by the forecast, with noise.

    ``shares`` gives each period's part of the year (1 for a whole year).
    """
    columns = [c.name for c in SCHEMAS["actuals"]][2:]
    growth = _income_growth(customers)
    frames = []
    for period, share in zip(periods, shares or [1.0] * len(periods), strict=True):
        frame = pd.DataFrame({"customer_id": customers["customer_id"], "period": period})
        for column in columns:
            noise = rng.lognormal(0.0, 0.15, size=len(customers))
            value = customers[column].to_numpy() * (1 + growth) * noise * share
            frame[column] = np.round(np.maximum(value, 0.0), 2)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _adjustments_frame(rng: np.random.Generator, available: np.ndarray) -> pd.DataFrame:
    """A few rewards and penalties, and one stopped performance pay."""
    count = min(len(available), max(3, round(0.02 * len(available))))
    who = rng.choice(available, size=count, replace=False)
    reward = rng.random(count) < 0.5
    reward[0] = False
    amount = np.where(
        reward,
        np.round(rng.uniform(5_000, 30_000, size=count), -2),
        -np.round(rng.uniform(2_000, 20_000, size=count), -2),
    )
    amount[0] = 0.0
    note = np.where(
        reward,
        rng.choice(np.array(_REWARD_NOTES, dtype=object), size=count),
        rng.choice(np.array(_PENALTY_NOTES, dtype=object), size=count),
    )
    note[0] = _STOP_NOTE
    kinds = np.where(reward, "reward", "penalty").astype(object)
    kinds[0] = "stop"
    return pd.DataFrame(
        {"manager_id": who, "period": str(YEAR), "kind": kinds, "amount": amount, "note": note}
    )


def _credits_frame(
    rng: np.random.Generator, customers: pd.DataFrame, managers: pd.DataFrame
) -> pd.DataFrame:
    """A few joint-marketing shares, credited to an available standard manager."""
    count = min(len(customers), max(2, round(0.005 * len(customers))))
    rows = np.sort(rng.choice(len(customers), size=count, replace=False))
    pool = managers.loc[managers["available"] & ~managers["separate_ledger"], "manager_id"]
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[rows],
            "manager_id": rng.choice(pool.to_numpy(), size=count),
            "share": np.round(rng.uniform(0.1, 0.4, size=count), 2),
        }
    )


# ---------------------------------------------------------------- policy


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _toml_section(header: str, values: Mapping[str, object]) -> list[str]:
    return [f"[{header}]", *(f"{k} = {_toml_value(v)}" for k, v in values.items()), ""]


def _policy_toml(lay: Layout, *, seed: int, rebalance: bool, name: str | None) -> str:
    kind = "a rebalancing year" if rebalance else "a first allocation"
    lines = [
        f"# Synthetic branch, {kind}: {lay.n} customers, {lay.m} available managers, seed {seed}.",
        f"{MARK}; every hard rule can hold with this policy.",
        "",
    ]
    if name is not None:
        lines += [f"name = {_toml_value(name)}", ""]
    lines += _toml_section("tables", _TABLE_FILES)
    lines += _toml_section(
        "classes",
        {
            "classes": CLASSES,
            "premium_class": PREMIUM,
            "grades": GRADES,
            "premium_grade": PREMIUM_GRADE,
        },
    )
    lines += _toml_section("span", {"tolerance": lay.tolerance})
    for header, band in (
        ("span.premium", lay.premium_band),
        ("span.separate_ledger", lay.separate_band),
    ):
        if band:
            lines += _toml_section(header, {"min": band[0], "max": band[1]})
    if rebalance:
        lines += _toml_section("rotation", {"max_tenure_years": MAX_TENURE_YEARS})
        # A rebalancing year keeps last year's relationships first; the other goals follow.
        lines += _toml_section("objective", {"order": REBALANCE_ORDER})
    lines += _toml_section(
        "payout",
        {"year": YEAR, "fx_rate": FX_RATE, "default_growth": 0.05, "default_score": 900},
    )
    lines += _toml_section("payout.growth", dict(CLASS_GROWTH))
    lines += _toml_section("payout.rates", {"target": 0.01, "increment": 0.03, "excess": 0.05})
    lines += _toml_section("payout.base_salary", dict(BASE_SALARY))
    lines += _toml_section("payout.separate_ledger", {"default_growth": 0.03})
    lines += _toml_section(
        "payout.separate_ledger.rates", {"target": 0.008, "increment": 0.02, "excess": 0.03}
    )
    return "\n".join(lines).rstrip("\n") + "\n"


REBALANCE_ORDER = ["continuity", "span", "balance", "chain", "industry"]
_TABLE_FILES = {
    t: f"{t}.csv"
    for t in ("customers", "managers", "relations", "actuals", "adjustments", "credits")
}


# ---------------------------------------------------------------- the bundled demo

DEMO_SEED = 47
DEMO_MAX_DEVIATION = 0.1
_ENGLISH_BRANDS = (
    "Pacific Rim",
    "Golden Harvest",
    "Orient",
    "Harbour View",
    "Silverline",
    "Evergreen",
    "Summit",
    "Blue Ocean",
)
FORMULA_NAME = "=SUM 貿易有限公司"


def demo_scenario() -> GeneratedScenario:
    """The bundled ``scenarios/demo``: small enough to check by hand, every rule and table used.

    The plain draw for 60 customers and 6 available managers (a rebalancing year), then tuned:
    one designated premium manager, personal bounds on two managers, English names beside the
    Chinese ones (and one a spreadsheet would read as a formula), a newcomer with their own
    salary and no score yet, quarterly actuals, one adjustment of each kind, the balance rule,
    and a policy file that explains every key.
    """
    lay = plan_layout(60, 6)
    base = generate_scenario(lay.n, lay.m, seed=DEMO_SEED, rebalance=True)
    rng = np.random.default_rng(DEMO_SEED + 1)
    customers, managers = base.customers.copy(), base.managers.copy()
    _demo_managers(customers, managers, lay)
    _demo_names(rng, customers)
    periods = [str(YEAR), f"{YEAR}Q1", f"{YEAR}Q2"]
    return GeneratedScenario(
        customers=customers,
        managers=managers,
        relations=base.relations,
        actuals=_actuals_frame(rng, customers, periods, [1.0, 0.22, 0.26]),
        adjustments=_demo_adjustments(managers),
        credits=base.credits,
        toml=_demo_toml(lay),
    )


def _demo_managers(customers: pd.DataFrame, managers: pd.DataFrame, lay: Layout) -> None:
    """Designate last year's main premium holder; bound two standard managers; the newcomer
    gets a salary of their own and no score yet."""
    usable = managers["available"] & ~managers["separate_ledger"]
    a_grade = managers.loc[usable & (managers["grade"] == PREMIUM_GRADE), "manager_id"]
    held = customers.loc[customers["customer_class"] == PREMIUM, "prior_manager_id"]
    counts = held.value_counts().reindex(a_grade, fill_value=0)
    designated = counts.index[np.argmax(counts.to_numpy())]
    managers.loc[managers["manager_id"] == designated, "premium"] = True
    standard = managers[usable & (managers["grade"] != PREMIUM_GRADE)].index
    lo, hi = lay.band
    managers.loc[standard[0], "max_customers"] = hi - 1
    managers.loc[standard[1], "min_customers"] = lo + 1
    newcomer = managers.index[
        managers["available"] & ~managers["manager_id"].isin(customers["prior_manager_id"])
    ][-1]
    managers["base_salary"] = managers["base_salary"].astype(float)
    managers.loc[newcomer, "base_salary"] = 150_000.0
    managers["management_score"] = managers["management_score"].astype("Int64")
    managers.loc[newcomer, "management_score"] = pd.NA


def _demo_names(rng: np.random.Generator, customers: pd.DataFrame) -> None:
    """A few English names, and one that starts like a spreadsheet formula."""
    plain = customers["group_id"].eq("") & customers["pinned_manager_id"].eq("")
    chosen = _pick(rng, plain.to_numpy(), len(_ENGLISH_BRANDS) + 1)
    english = [
        f"{brand} {ENGLISH_WORD[ind]} Co., Ltd."
        for brand, ind in zip(_ENGLISH_BRANDS, customers["industry"].iloc[chosen[1:]], strict=True)
    ]
    customers.loc[customers.index[chosen[1:]], "name"] = english
    customers.loc[customers.index[chosen[0]], "name"] = FORMULA_NAME


def _demo_adjustments(managers: pd.DataFrame) -> pd.DataFrame:
    """One reward, one penalty and one stopped quarter, on three available managers."""
    who = managers.loc[managers["available"], "manager_id"].to_numpy()
    return pd.DataFrame(
        {
            "manager_id": [who[0], who[1], who[2]],
            "period": [str(YEAR), f"{YEAR}Q1", f"{YEAR}Q2"],
            "kind": ["reward", "penalty", "stop"],
            "amount": [20_000.0, -5_000.0, 0.0],
            "note": [_REWARD_NOTES[0], _PENALTY_NOTES[0], _STOP_NOTE],
        }
    )


_DEMO_TOML = """\
# The demo branch: {n} customers, {m} available managers (and one who is leaving).
# Small enough to check by hand; every rule and every table is used. This file is also the
# reference example of the policy: every key is shown, with its meaning. A minimal
# scenario.toml needs only [tables]; every other key has a default.
# Rebuilt by portfolio_opt.generate.demo_scenario() (see scenarios/README.md).

name = "demo"

# The tables, relative to this folder (an .xlsx file, or file.xlsx#Sheet, works too).
[tables]
customers = "customers.csv"
managers = "managers.csv"
relations = "relations.csv"      # group links (hard) and industry-chain links (soft)
actuals = "actuals.csv"          # realised income, for the payout model
adjustments = "adjustments.csv"  # rewards, penalties, stopped performance pay
credits = "credits.csv"          # joint-marketing shares credited to other managers
# affinity = "affinity.csv"      # manager-customer suitability and workload (not used here)

# Six customer classes, one of them premium; manager grades, one of which may hold premium.
[classes]
classes = ["premium", "key", "growth", "basic", "watch", "exit"]
premium_class = "premium"  # premium customers form portfolios of their own ...
grades = ["A", "B", "C", "D", "E"]
premium_grade = "A"        # ... held by managers of this grade (managers.csv flags which)

# Span: each manager holds floor(N/M) - tolerance .. ceil(N/M) + tolerance customers;
# here N = {n} customers and M = {m} available managers, so {lo} .. {hi}.
# Personal bounds in managers.csv (min_customers, max_customers) win over any band.
[span]
tolerance = {tolerance}

# Premium portfolios have their own band ...
[span.premium]
min = {premium_min}
max = {premium_max}

# ... and so do separate-ledger portfolios (held by managers with separate_ledger = true).
[span.separate_ledger]
min = {separate_min}
max = {separate_max}

# Soft goals, most important first (lexicographic). For one weighted sum instead, write
# weights = {{ span = 100, balance = 10, chain = 3, industry = 2, continuity = 1 }}
[objective]
order = ["span", "balance", "chain", "industry", "continuity"]

# Hard: every standard portfolio's total target within +-{deviation_pct}% of their mean.
# With this bound, the goal "balance" is solved last: the goals after it use the freedom it leaves.
[balance]
max_deviation = {deviation}

# Hard: a customer held by the same manager for this many years or more changes manager.
[rotation]
max_tenure_years = {max_tenure}

[solver]
time_limit_s = 10      # stop searching after this many seconds
workers = 0            # 0: every core
seed = 0
deterministic = false  # true: the same plan, byte for byte, for the same seed and workers

[payout]
year = {year}              # the year settled; actuals periods are {year} and {year}Q1 .. {year}Q4
fx_rate = {fx_rate}            # the _fx income columns, in local currency
default_growth = 0.05    # forecast growth for a class missing from [payout.growth]
default_score = 900      # management score where managers.csv leaves it blank
default_base_salary = 0  # for a staff level missing from [payout.base_salary]
# unit_target = 60000000  # the unit's profit task: increments are scaled to add up to it
quarter_weights = [0.22, 0.26, 0.24, 0.28]  # share of the year's target due each quarter

# Forecast growth by customer class, where the customer's growth_rate is blank.
[payout.growth]
{growth}

# Tier rates: the target tier (up to the stock), the increment tier, and beyond the target.
# Each is one number, or one per income type as for increment here.
[payout.rates]
target = 0.01
increment = {{ interest = 0.03, deposit = 0.025, fee = 0.04 }}
excess = 0.05

# Yearly base salary by staff level (a manager's own base_salary column wins).
[payout.base_salary]
{salaries}

# Separate-ledger portfolios follow their own assessment scheme (客戶二部的考核方案).
[payout.separate_ledger]
default_growth = 0.03
growth = {{ key = 0.04, exit = -0.1 }}

[payout.separate_ledger.rates]
target = 0.008
increment = 0.02
excess = 0.03

# With an affinity table: the workload of a customer by class, where the table gives none.
# [affinity]
# default_workload = {{ premium = 2.0, key = 1.5, basic = 1.0 }}
"""


def _demo_toml(lay: Layout) -> str:
    premium, separate = lay.premium_band, lay.separate_band
    assert premium is not None and separate is not None
    return _DEMO_TOML.format(
        n=lay.n,
        m=lay.m,
        lo=lay.band[0],
        hi=lay.band[1],
        tolerance=lay.tolerance,
        premium_min=premium[0],
        premium_max=premium[1],
        separate_min=separate[0],
        separate_max=separate[1],
        deviation=DEMO_MAX_DEVIATION,
        deviation_pct=round(100 * DEMO_MAX_DEVIATION),
        max_tenure=MAX_TENURE_YEARS,
        year=YEAR,
        fx_rate=FX_RATE,
        growth="\n".join(f"{k} = {_toml_value(v)}" for k, v in CLASS_GROWTH.items()),
        salaries="\n".join(f"{k} = {v}" for k, v in BASE_SALARY.items()),
    )
