"""Indicators 指标 (MODEL.md §2, §4 step 12): the plan indicators computed from the agent population as
the statistics define them, for the province and each prefecture. The statistics count reported R&D (real R&D
plus relabelled spending, qhsim.firms.relabel); ``business_rd_real`` and ``rd_intensity_real`` show real R&D.

Counts and money are reported at full scale (divided by the run's ``scale``); ratios are scale-free.
Definitions and labels: qhsim/data/indicators.toml.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from qhsim import data
from qhsim.firms import sector_table
from qhsim.firms.state import FirmPopulation
from qhsim.results import PROVINCE
from qhsim.soa import code_counts, flag_code
from qhsim.units import ABOVE_SCALE_REVENUE, WAN_PER_YI


# Plan indicators produced by the knowledge system (qhsim.knowledge: universities, institutes, talent, technology
# market, patents, platforms, literacy); NaN only when ``compute`` is given knowledge columns without them
# (hand-built test populations).
KNOWLEDGE_INDICATORS = (
    "rd_personnel_per_10k",
    "tech_contract_turnover",
    "patents_per_10k",
    "national_platforms",
    "science_literacy",
    "platforms",
    "st_talent",
)


def rd_performers(f: FirmPopulation) -> np.ndarray:
    """Uids of the above-scale industrial firms with R&D (reported R&D > 0): whose R&D exit ``compute`` counts a
    year later."""
    at = _above_scale_industrial_positions(f)
    return f.uid[at[f.rd[at] > 0]]


def above_scale_industrial(f: FirmPopulation) -> np.ndarray:
    """Mask of the above-scale industrial firms 规模以上工业企业 (an industrial sector, revenue at least the
    above-scale line): the population of the share of firms with R&D."""
    above = np.zeros(len(f), dtype=bool)
    above[_above_scale_industrial_positions(f)] = True
    return above


def _above_scale_industrial_positions(f: FirmPopulation) -> np.ndarray:
    """Positions (ascending) of the above-scale industrial firms: found among the few firms above the revenue
    line."""
    large = np.flatnonzero(f.revenue >= ABOVE_SCALE_REVENUE)
    return large[sector_table().industrial[f.sector[large]]]


@dataclass
class YearFlows:
    """Money paid to each firm this year (万元, simulated population), the tax forgone and the super-deduction
    carried forward."""

    grants: np.ndarray
    expost: np.ndarray
    hte_reward: np.ndarray
    rd_reward: np.ndarray
    vouchers: np.ndarray
    tax_super_deduction: np.ndarray
    tax_hte_rate: np.ndarray
    super_deduction_carried: np.ndarray  # deduction carried into next year (qhsim.firms.carry_forward), not yet tax
    user_cost: np.ndarray  # after-tax user cost of one yuan of R&D per firm (not money; NaN before the first year)


# indicator column -> YearFlows field: the columns summed over firms
MONEY_COLUMNS = {
    "spend_ex_ante_grants": "grants",
    "spend_ex_post_subsidy": "expost",
    "spend_hte_reward": "hte_reward",
    "spend_rd_reward": "rd_reward",
    "spend_vouchers": "vouchers",
    "tax_expenditure_super_deduction": "tax_super_deduction",
    "tax_expenditure_hte_rate": "tax_hte_rate",
    "super_deduction_carried": "super_deduction_carried",
}


def count_combinations(code: np.ndarray, k: int, *flags: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Rows per (code, combination of the m boolean ``flags``) as a (k, 2^m) table of counts (``code``: np.intp in
    [0, k)), and per flag the boolean array over the 2^m combinations that says where it holds: the rows with
    ``code == c`` where a rule of the flags holds number ``table[c, rule(*combinations)].sum()``."""
    m = len(flags)
    # the combinations only for the rows with some flag (a few per cent); the others are the rest of each code's rows
    some = flags[0].copy()
    for flag in flags[1:]:
        some |= flag
    rows = np.flatnonzero(some)
    bits, combinations = flag_code(*(flag[rows] for flag in flags))
    table = np.bincount(code[rows] * (1 << m) + bits, minlength=k << m).reshape(k, 1 << m)
    table[:, 0] += code_counts(code, k) - table.sum(axis=1)
    return table, combinations


def _summed_rows(rd: np.ndarray, rd_real: np.ndarray, user_cost: np.ndarray, flowing: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the firms with reported or real R&D, a non-zero R&D-weighted user cost (rd x
    user_cost; NaN counts) or a money flow (``flowing``), in one compiled pass: without the whole-population
    product, comparisons and mask numpy would build first."""
    columns = tuple(np.ascontiguousarray(c, dtype=np.float64) for c in (rd, rd_real, user_cost))
    flowing = np.ascontiguousarray(flowing, dtype=bool)
    if any(len(c) != len(flowing) for c in columns):
        raise ValueError(f"_summed_rows: columns of lengths {[len(c) for c in (*columns, flowing)]}")
    out = np.empty(len(flowing), dtype=np.intp)
    return out[:_summed_rows_kernel(*columns, flowing.view(np.uint8), out)].copy()  # the copy frees the buffer


@numba.njit(cache=True, nogil=True)
def _summed_rows_kernel(rd, rd_real, user_cost, flowing, out):
    n = 0
    for i in range(len(rd)):  # branch-free: every position written, the summed ones counted
        out[n] = i
        n += (flowing[i] != 0) | (rd[i] != 0.0) | (rd_real[i] != 0.0) | (rd[i] * user_cost[i] != 0.0)
    return n


def compute(
    f: FirmPopulation, year: int, macro: dict[str, float], flows: YearFlows, scale: float,
    knowledge: dict[str, np.ndarray], flow_firms: np.ndarray | None = None,
    hte_granted: np.ndarray | None = None, rd_before: np.ndarray | None = None, initial: bool = False,
) -> list[dict[str, float | int | str]]:
    """One row per region (province first, then prefectures in geography.toml order).

    ``knowledge``: the knowledge system's columns (province first, full scale), e.g. ``KnowledgeSystem.columns``;
    its ``public_rd`` (universities' and institutes' R&D, 亿元) is the public part of the R&D indicators.
    ``flow_firms``: positions of the firms with a non-zero money flow in ``flows`` (repeats allowed; None: found
    here).
    ``hte_granted``: positions of the HTE certificates granted in this year's round (``qhsim.firms.ladder.granted``);
    None (the initial state) leaves the count unknown.
    ``rd_before``: ``rd_performers`` of the year before; the R&D exit rate is the share of those alive this year
    that no longer do R&D (None, the initial state: unknown).
    ``initial``: the initial state (end-2015), with no simulated year behind it: its yearly flows (``flow = true`` in
    indicators.toml) are NaN.
    """
    prefs = data.prefectures()
    k = len(prefs)

    pref = f.index("pref")

    # money flows are zero for most firms: summing only the firms with some non-zero flow gives the same sums bit
    # for bit (each bin still adds its values in firm order; adding a zero never changes a sum that starts at +0.0)
    spend = [getattr(flows, attr) for attr in MONEY_COLUMNS.values()]
    flowing = np.zeros(len(f), dtype=bool)
    if flow_firms is None:
        for weights in spend:
            flowing |= weights != 0.0
    else:
        flowing[flow_firms] = True
    # once: on a few per cent of the firms, finding the positions costs more than the sums
    paid = _summed_rows(f.rd, f.rd_real, flows.user_cost, flowing)
    pref_paid = pref[paid]

    def by_pref(weights: np.ndarray) -> np.ndarray:
        return np.bincount(pref_paid, weights=weights[paid], minlength=k)

    def with_province(per_pref: np.ndarray) -> np.ndarray:
        return np.concatenate([[per_pref.sum()], per_pref])

    gdp_share = np.array([p.gdp_share for p in prefs])
    gdp = with_province(macro["gdp"] * gdp_share)
    public_rd = knowledge["public_rd"]  # universities' and institutes' R&D (the knowledge system)
    rd_sum = with_province(by_pref(f.rd))
    business_rd = rd_sum / scale / WAN_PER_YI  # reported: what the statistics count
    business_rd_real = with_province(by_pref(f.rd_real)) / scale / WAN_PER_YI
    total_rd = business_rd + public_rd

    above = above_scale_industrial(f)
    # every firm count is a count of firms per prefecture with some combination of six conditions: one bincount
    # of (prefecture, combination), then sums over the combinations each count takes
    table, (hte, tbe, sme, giant, above, rd) = count_combinations(
        pref, k, f.hte_until >= year, f.tbe_until >= year, f.sme_year >= year, f.giant_until >= year, above, f.rd > 0)

    def count(combinations: np.ndarray) -> np.ndarray:
        return table[:, combinations].sum(axis=1).astype(float)

    n_above = with_province(count(above))
    n_above_rd = with_province(count(above & rd))
    firms = with_province(table.sum(axis=1).astype(float))
    counts = {
        "hte_count": hte,
        "tech_based_enterprises": tbe,
        "tech_smes": sme,
        "little_giants": giant,
        "tech_firms_three_types": hte | tbe | giant,
        "above_scale_industrial": above,
        "rd_active_firms": rd,
    }
    columns: dict[str, np.ndarray] = {
        "gdp": gdp,
        "business_rd": business_rd,
        "public_rd": public_rd,
        "rd_intensity": 100.0 * total_rd / gdp,
        "business_rd_real": business_rd_real,
        "rd_intensity_real": 100.0 * (business_rd_real + public_rd) / gdp,
        "relabelled_rd_share": 100.0 * np.divide(business_rd - business_rd_real, business_rd,
                                                 out=np.full(k + 1, np.nan), where=business_rd > 0),
        "enterprise_rd_share": 100.0 * np.divide(business_rd, total_rd, out=np.full(k + 1, np.nan), where=total_rd > 0),
        "share_firms_with_rd": 100.0 * np.divide(n_above_rd, n_above, out=np.full(k + 1, np.nan), where=n_above > 0),
        "enterprises": firms / scale,
    }
    for name, mask in counts.items():
        columns[name] = with_province(count(mask)) / scale
    columns["hte_per_10k_enterprises"] = 1e4 * columns["hte_count"] / np.maximum(columns["enterprises"], 1.0)
    if hte_granted is None:
        columns["hte_certificates_granted"] = np.full(k + 1, np.nan)
    else:
        granted = np.bincount(pref[hte_granted], minlength=k).astype(float)
        columns["hte_certificates_granted"] = with_province(granted) / scale
    if rd_before is None:
        columns["rd_exit_rate"] = np.full(k + 1, np.nan)
    else:
        performers, stopped = (with_province(x) for x in _rd_exits(f, pref, k, rd_before))
        columns["rd_exit_rate"] = 100.0 * np.divide(stopped, performers, out=np.full(k + 1, np.nan),
                                                    where=performers > 0)
    # the R&D-weighted user cost, rd x user_cost, on the summed rows only
    rd_cost = with_province(np.bincount(pref_paid, weights=f.rd[paid] * flows.user_cost[paid], minlength=k))
    columns["rd_user_cost"] = np.divide(rd_cost, rd_sum, out=np.full(k + 1, np.nan), where=rd_sum > 0)
    for column, weights in zip(MONEY_COLUMNS, spend):
        columns[column] = with_province(by_pref(weights)) / scale
    for name, values in knowledge.items():
        columns.setdefault(name, values)
    for name in KNOWLEDGE_INDICATORS:
        columns.setdefault(name, np.full(k + 1, np.nan))
    if initial:
        for name, spec in data.load("indicators").items():
            if spec.get("flow") or spec.get("after_start"):
                columns[name] = np.full(k + 1, np.nan)

    regions = (PROVINCE, *data.prefecture_ids())
    # one conversion of the whole (region, indicator) table to Python floats (the values float() gives one by one)
    table = np.array([np.asarray(values, dtype=float) for values in columns.values()]).T.tolist()
    return [{"year": year, "region": region, **dict(zip(columns, row))} for region, row in zip(regions, table)]


def _rd_exits(f: FirmPopulation, pref: np.ndarray, k: int, rd_before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per prefecture: last year's above-scale industrial R&D performers (``rd_before``, uids) alive this year, and
    those of them without R&D this year."""
    at = np.searchsorted(f.uid, rd_before)  # the population is sorted by uid (entrant_uids)
    found = at < len(f)
    found[found] = f.uid[at[found]] == rd_before[found]
    alive = at[found]
    performers = np.bincount(pref[alive], minlength=k).astype(float)
    return performers, np.bincount(pref[alive], weights=(f.rd[alive] <= 0).astype(float), minlength=k)
