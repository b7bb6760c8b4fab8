"""Plan indicators (MODEL.md §2) computed on hand-built populations, checked against hand arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import PREF, SECTOR, knowledge_columns, make_firms
from qhsim import data
from qhsim.indicators import MONEY_COLUMNS, YearFlows, compute, rd_performers
from qhsim.results import PROVINCE

YEAR = 2020
MACRO = {"gdp": 1000.0}  # 亿元
XINING, HAIXI = PREF["xining"], PREF["haixi"]
SHARE = {p.id: p for p in data.prefectures()}
PUBLIC_RD = np.array([4.3, 0.2, 0.3, 0.05, 0.05, 0.05, 0.025, 0.025])  # 亿元 by prefecture (geography.toml order)
KNOWLEDGE = knowledge_columns(PUBLIC_RD)

# Six firms in two prefectures (money in 万元).
FIRMS = [
    # Xining
    {"pref": XINING, "sector": SECTOR["equipment"], "revenue": 2000.0, "rd": 100.0},  # above-scale exactly at the edge
    {"pref": XINING, "sector": SECTOR["equipment"], "revenue": 1999.99, "rd": 50.0},  # just below the edge
    {"pref": XINING, "sector": SECTOR["digital"], "revenue": 50000.0, "rd": 300.0, "hte_until": YEAR},  # not industrial
    # Haixi
    {"pref": HAIXI, "sector": SECTOR["salt_lake"], "revenue": 10000.0, "rd": 0.0, "tbe_until": YEAR + 1},
    {"pref": HAIXI, "sector": SECTOR["salt_lake"], "revenue": 3000.0, "rd": 200.0, "hte_until": YEAR + 2,
     "giant_until": YEAR},
    {"pref": HAIXI, "sector": SECTOR["services"], "revenue": 100.0, "rd": 0.0, "hte_until": YEAR - 1},  # expired
]
GRANTS = np.array([10.0, 0.0, 30.0, 0.0, 25.0, 0.0])


def flows(n: int, grants: np.ndarray | None = None) -> YearFlows:
    zero = np.zeros(n)
    return YearFlows(grants=zero if grants is None else grants, expost=zero, hte_reward=zero, rd_reward=zero,
                     vouchers=zero, tax_super_deduction=zero, tax_hte_rate=zero, super_deduction_carried=zero,
                     user_cost=np.full(n, 0.6))


def rows(scale: float = 1.0, firms=FIRMS, grants=GRANTS) -> dict[str, dict]:
    out = compute(make_firms(*firms), YEAR, MACRO, flows(len(firms), grants), scale, KNOWLEDGE)
    return {row["region"]: row for row in out}


def test_one_row_per_region_province_first():
    out = compute(make_firms(*FIRMS), YEAR, MACRO, flows(len(FIRMS), GRANTS), 1.0, KNOWLEDGE)
    assert [r["region"] for r in out] == [PROVINCE, *data.prefecture_ids()]
    assert all(r["year"] == YEAR for r in out)


def test_rd_intensity_by_hand():
    r = rows()
    # business R&D: Xining 100 + 50 + 300 = 450万 = 0.045亿; Haixi 200万 = 0.02亿
    gdp_x, gdp_h = 1000.0 * SHARE["xining"].gdp_share, 1000.0 * SHARE["haixi"].gdp_share
    pub_x, pub_h = PUBLIC_RD[XINING], PUBLIC_RD[HAIXI]
    assert r["xining"]["business_rd"] == pytest.approx(0.045, rel=1e-12)
    assert r["haixi"]["business_rd"] == pytest.approx(0.02, rel=1e-12)
    assert r["xining"]["gdp"] == pytest.approx(gdp_x, rel=1e-12)
    assert r["xining"]["rd_intensity"] == pytest.approx(100 * (0.045 + pub_x) / gdp_x, rel=1e-12)
    assert r["haixi"]["rd_intensity"] == pytest.approx(100 * (0.02 + pub_h) / gdp_h, rel=1e-12)
    # a prefecture without firms: public R&D only
    gdp_d, pub_d = 1000.0 * SHARE["haidong"].gdp_share, PUBLIC_RD[PREF["haidong"]]
    assert r["haidong"]["business_rd"] == 0.0
    assert r["haidong"]["rd_intensity"] == pytest.approx(100 * pub_d / gdp_d, rel=1e-12)
    # province: all business R&D 0.065亿 and all public R&D over all GDP
    total_gdp = 1000.0 * sum(p.gdp_share for p in data.prefectures())
    total_pub = PUBLIC_RD.sum()
    assert r[PROVINCE]["rd_intensity"] == pytest.approx(100 * (0.065 + total_pub) / total_gdp, rel=1e-12)


def test_enterprise_share_of_rd():
    r = rows()
    pub_x = PUBLIC_RD[XINING]
    assert r["xining"]["enterprise_rd_share"] == pytest.approx(100 * 0.045 / (0.045 + pub_x), rel=1e-12)
    total_pub = PUBLIC_RD.sum()
    assert r[PROVINCE]["enterprise_rd_share"] == pytest.approx(100 * 0.065 / (0.065 + total_pub), rel=1e-12)
    # firms without R&D: 0%; without public R&D: 100%; no R&D at all in a region: undefined, not 0
    assert rows(firms=[{**f, "rd": 0.0} for f in FIRMS])["xining"]["enterprise_rd_share"] == 0.0
    no_public = {r["region"]: r for r in compute(make_firms(*FIRMS), YEAR, MACRO, flows(6), 1.0,
                                                 knowledge_columns(0.0))}
    assert no_public["xining"]["enterprise_rd_share"] == 100.0
    assert math.isnan(no_public["haidong"]["enterprise_rd_share"])


def test_share_of_above_scale_industrial_firms_with_rd():
    r = rows()
    # Xining: above-scale industrial = {equipment at exactly 2,000万}; it does R&D -> 100%.
    # The 1,999.99万 equipment firm and the 5亿 digital firm do not count.
    assert r["xining"]["above_scale_industrial"] == 1.0
    assert r["xining"]["share_firms_with_rd"] == 100.0
    # Haixi: two salt-lake firms above scale, one with R&D -> 50%; the services firm does not count.
    assert r["haixi"]["above_scale_industrial"] == 2.0
    assert r["haixi"]["share_firms_with_rd"] == 50.0
    assert r[PROVINCE]["share_firms_with_rd"] == pytest.approx(100 * 2 / 3, rel=1e-12)
    assert math.isnan(r["haidong"]["share_firms_with_rd"])  # no above-scale firms: undefined


def test_rd_exit_rate_counts_last_years_performers_alive_now():
    """The performers are the above-scale industrial firms with R&D (here uids 0 and 4: not the 1,999.99万 firm, the
    digital firm or the salt-lake firm without R&D). Of last year's performers (uids 0, 3, 4, 9) uid 9 died and does
    not count, and uid 3 does no R&D now: it stopped."""
    assert rd_performers(make_firms(*FIRMS)).tolist() == [0, 4]
    before = np.array([0, 3, 4, 9])
    out = compute(make_firms(*FIRMS), YEAR, MACRO, flows(len(FIRMS), GRANTS), 1.0, KNOWLEDGE, rd_before=before)
    r = {row["region"]: row for row in out}
    assert r["xining"]["rd_exit_rate"] == 0.0
    assert r["haixi"]["rd_exit_rate"] == 50.0
    assert r[PROVINCE]["rd_exit_rate"] == pytest.approx(100 / 3, rel=1e-12)
    assert math.isnan(r["haidong"]["rd_exit_rate"])  # no performers last year: undefined
    assert math.isnan(rows()[PROVINCE]["rd_exit_rate"])  # the initial state has no year before


def test_certification_counts_and_hte_per_10k():
    r = rows()
    assert (r["xining"]["hte_count"], r["haixi"]["hte_count"], r[PROVINCE]["hte_count"]) == (1.0, 1.0, 2.0)
    assert r[PROVINCE]["tech_based_enterprises"] == 1.0 and r[PROVINCE]["little_giants"] == 1.0
    assert r["haixi"]["tech_firms_three_types"] == 2.0  # the TBE and the HTE (also a giant), not the expired one
    assert r[PROVINCE]["rd_active_firms"] == 4.0
    assert r["xining"]["enterprises"] == 3.0 and r[PROVINCE]["enterprises"] == 6.0
    assert r["xining"]["hte_per_10k_enterprises"] == pytest.approx(1e4 / 3, rel=1e-12)
    assert r[PROVINCE]["hte_per_10k_enterprises"] == pytest.approx(1e4 * 2 / 6, rel=1e-12)
    assert r["haidong"]["hte_per_10k_enterprises"] == 0.0


def test_scale_divides_counts_and_money_not_ratios():
    full, half = rows(1.0), rows(0.5)
    for region in (PROVINCE, "xining", "haixi"):
        for name in ("hte_count", "enterprises", "above_scale_industrial", "tech_firms_three_types",
                     "spend_ex_ante_grants"):
            assert half[region][name] == pytest.approx(2 * full[region][name], rel=1e-12), (region, name)
        assert half[region]["business_rd"] == pytest.approx(2 * full[region]["business_rd"], rel=1e-12)
        for name in ("share_firms_with_rd", "hte_per_10k_enterprises"):
            assert half[region][name] == pytest.approx(full[region][name], rel=1e-12), (region, name)
        assert half[region]["gdp"] == full[region]["gdp"] and half[region]["public_rd"] == full[region]["public_rd"]
    assert half[PROVINCE]["hte_count"] == 4.0
    # R&D intensity at scale 0.5: business R&D (scaled up) 0.09 + 0.04亿 over unchanged GDP
    gdp_h, pub_h = 1000.0 * SHARE["haixi"].gdp_share, PUBLIC_RD[HAIXI]
    assert half["haixi"]["rd_intensity"] == pytest.approx(100 * (0.04 + pub_h) / gdp_h, rel=1e-12)


def test_spending_by_prefecture():
    r = rows()
    assert r["xining"]["spend_ex_ante_grants"] == 40.0 and r["haixi"]["spend_ex_ante_grants"] == 25.0
    assert r[PROVINCE]["spend_ex_ante_grants"] == 65.0
    assert set(MONEY_COLUMNS) <= set(r[PROVINCE])


ADDITIVE = ("gdp", "business_rd", "public_rd", "enterprises", "hte_count", "tech_based_enterprises", "tech_smes",
            "little_giants", "tech_firms_three_types", "above_scale_industrial", "rd_active_firms",
            *MONEY_COLUMNS)


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.1])
def test_province_row_is_sum_of_prefectures(scale):
    rng = np.random.default_rng(3)
    firms = [
        {"pref": int(rng.integers(0, 8)), "sector": int(rng.integers(0, 9)), "revenue": float(rng.uniform(100, 9000)),
         "rd": float(rng.choice([0.0, rng.uniform(1, 500)])), "hte_until": int(rng.choice([0, YEAR])),
         "tbe_until": int(rng.choice([0, YEAR])), "sme_year": int(rng.choice([0, YEAR]))}
        for _ in range(40)
    ]
    out = compute(make_firms(*firms), YEAR, MACRO, flows(40, rng.uniform(0, 50, 40)), scale, KNOWLEDGE)
    province, prefectures = out[0], out[1:]
    for name in ADDITIVE:
        assert province[name] == pytest.approx(sum(p[name] for p in prefectures), rel=1e-12, abs=1e-12), name
    # ratios are recomputed from the sums, not summed
    assert province["rd_intensity"] == pytest.approx(
        100 * (province["business_rd"] + province["public_rd"]) / province["gdp"], rel=1e-12)
    assert province["hte_per_10k_enterprises"] == pytest.approx(1e4 * province["hte_count"] / province["enterprises"],
                                                                rel=1e-12)
    assert province["enterprises"] == pytest.approx(40 / scale, rel=1e-12)


def test_given_flow_firms_give_the_same_rows():
    """The model passes the positions of the firms with a money flow (``flow_firms``, repeats allowed); the rows are
    the same as when compute finds them, and a position missing from them changes the sums (the argument is used)."""
    f = make_firms(*FIRMS)
    money = flows(len(FIRMS), GRANTS)
    money.tax_hte_rate = np.array([0.0, 0.0, 0.0, 7.5, 0.0, 0.0])  # firms 3 and 5: no R&D, a flow
    money.vouchers = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 10.0])
    given = np.array([0, 2, 4, 3, 5, 3])  # grants, tax, voucher (3 twice)
    want = pd.DataFrame(compute(f, YEAR, MACRO, money, 1.0, KNOWLEDGE))
    assert pd.DataFrame(compute(f, YEAR, MACRO, money, 1.0, KNOWLEDGE, flow_firms=given)).equals(want)  # NaN where NaN
    missing = pd.DataFrame(compute(f, YEAR, MACRO, money, 1.0, KNOWLEDGE, flow_firms=np.array([0, 2, 4, 5])))
    assert not missing.equals(want)


def test_the_initial_state_has_no_yearly_flows():
    """End-2015 has no simulated year behind it: its flows (spending, tax expenditure, talent moves: ``flow = true``
    in indicators.toml) are missing, not 0; its stocks are there."""
    flows_ = [k for k, spec in data.load("indicators").items() if spec.get("flow")]
    assert {"spend_ex_ante_grants", "tax_expenditure_super_deduction", "talent_inflow"} <= set(flows_)
    first = {r["region"]: r for r in compute(make_firms(*FIRMS), YEAR, MACRO, flows(len(FIRMS), GRANTS), 1.0,
                                             KNOWLEDGE, initial=True)}
    later = rows()
    assert all(math.isnan(first[PROVINCE][k]) for k in flows_ if k in first[PROVINCE])
    assert later[PROVINCE]["spend_ex_ante_grants"] > 0 and first[PROVINCE]["hte_count"] == later[PROVINCE]["hte_count"]


def test_summed_rows_are_the_numpy_mask_positions():
    """The rows ``compute`` sums (one compiled pass) are those of the numpy mask: reported or real R&D, a non-zero
    R&D-weighted user cost (NaN counts, 0 x inf is NaN) or a money flow."""
    from qhsim.indicators import _summed_rows

    rng = np.random.default_rng(25)
    n = 2000
    rd = np.where(rng.random(n) < 0.1, rng.gamma(1.0, 100.0, n), 0.0)
    rd_real = np.where(rng.random(n) < 0.1, rng.gamma(1.0, 100.0, n), 0.0)
    uc = rng.uniform(0.5, 1.0, n)
    uc[:3], rd[:3], rd_real[:3] = (np.nan, np.inf, 1.0), (0.0, 0.0, -0.0), (0.0, 0.0, 0.0)
    flowing = rng.random(n) < 0.05
    with np.errstate(invalid="ignore"):  # 0 x inf
        want = np.flatnonzero(flowing | (rd != 0.0) | (rd_real != 0.0) | (rd * uc != 0.0))
    got = _summed_rows(rd, rd_real, uc, flowing)
    assert got.tolist() == want.tolist() and {0, 1} <= set(got.tolist()) and 0 < len(got) < n
    with pytest.raises(ValueError, match="lengths"):
        _summed_rows(rd[:-1], rd_real, uc, flowing)
