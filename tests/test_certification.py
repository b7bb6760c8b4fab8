"""The high-tech enterprise rule (国科发火〔2016〕32号 art. 11) on edge cases, certificate life and renewal,
the certification notch and the Haixi R&D-intensity reward tiers (seed 004:L46)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import PREF, SECTOR, default_behaviour, knowledge_columns, make_firms, policy, random_population
from qhsim import data
from qhsim.draws import KeyedDraws
from qhsim.firms import certification as cert
from qhsim.firms import rd as k
from qhsim.firms import reference as ref
from qhsim.firms import rewards
from qhsim.firms import sector_table
from qhsim.firms.ladder import certify as certify_positions, granted

YEAR = 2021
S = sector_table()

# Behavioural parameters the hand numbers below assume, pinned so that recalibration does not move them;
# no relabelling margin, so the high-tech share criterion is the national 60% line itself; relabelling R&D
# expenses priced out (relabel_cost 1e12), so the notch is met by real R&D alone unless a test sets it.
PINNED = {
    "rd_cost_per_fte": 27.0, "st_staff_per_rd_staff": 1.6, "hitech_relabel_margin": 0.0,
    "hte_status_value": 20.0, "notch_horizon_discount": 2.6, "notch_own_value": 0.3,
    "hte_approval_rate": 0.75, "notch_max_stretch": 1.0, "relabel_cost": 1e12,
}


FTE_COST = 27.0  # 万元 per R&D FTE (qhsim.macro.cost_per_fte), pinned like the parameters above


def certify(f, *args, **kwargs) -> np.ndarray:
    """``certify`` with its positions of the firms certified this year as a mask over ``f``."""
    new = np.zeros(len(f), dtype=bool)
    new[certify_positions(f, *args, **kwargs)] = True
    return new


def rule_behaviour(**overrides):
    return default_behaviour(**{**PINNED, **overrides})

# A firm meeting every criterion other than the R&D ratio: 60% high-tech products (edge), one core IP item,
# founded the year before (edge), few employees (S&T staff criterion met with ease).
QUALIFIED = {"hitech_share": 0.6, "ip": 1, "birth": YEAR - 1, "employees": 10.0, "rd_active": True}


def both_criteria(row: dict, pol=None, b=None) -> tuple[bool, bool]:
    """(vectorised, reference) verdict of the full HTE rule on one firm."""
    pol = pol or policy("baseline", YEAR)
    b = b or rule_behaviour()
    f = make_firms(row)
    return 0 in cert.hte_criteria(f, pol, b, FTE_COST), ref.hte_criteria(ref.firm_records(f)[0], pol, b, FTE_COST)


# (latest revenue, revenue 1 and 2 years ago, threshold); the 3-year revenue is 12,000 or 48,000万元 so that
# the threshold R&D is a round number split equally over the three years.
BANDS = [
    (4999.0, 4000.0, 3001.0, 0.05),
    (5000.0, 4000.0, 3000.0, 0.05),  # 5,000万元 itself is in the "≤ 5,000万元" band
    (5001.0, 3999.0, 3000.0, 0.04),
    (20000.0, 16000.0, 12000.0, 0.04),  # 2亿元 itself is in the "5,000万–2亿元" band
    (20001.0, 15999.0, 12000.0, 0.03),
]


@pytest.mark.parametrize("revenue, rev_l1, rev_l2, threshold", BANDS, ids=[str(int(r[0])) for r in BANDS])
def test_revenue_bands(revenue, rev_l1, rev_l2, threshold):
    pol = policy("baseline", YEAR)
    assert cert.hte_threshold(np.array([revenue]), pol)[0] == threshold
    assert ref.hte_threshold(revenue, pol) == threshold
    per_year = threshold * (revenue + rev_l1 + rev_l2) / 3  # 200, 160, 640 or 480万元
    assert per_year == round(per_year)
    firm = {**QUALIFIED, "revenue": revenue, "rev_l1": rev_l1, "rev_l2": rev_l2, "rd_l1": per_year, "rd_l2": per_year}
    assert both_criteria({**firm, "rd": per_year}) == (True, True), "exactly at the threshold ratio meets it"
    assert both_criteria({**firm, "rd": per_year - 0.01}) == (False, False), "just below the threshold fails"
    need = cert.hte_rd_needed(make_firms(firm), pol)[0]
    assert need == pytest.approx(per_year, rel=1e-12)


@pytest.mark.parametrize(
    "revenue, rev_l1, rev_l2, rd_each, meets",
    [
        (5000.0, 4000.0, 3000.0, 160.0, False),  # a 4% ratio is not enough at 5,000万元
        (5001.0, 3999.0, 3000.0, 160.0, True),  # ... but is just above it
        (20000.0, 16000.0, 12000.0, 480.0, False),  # a 3% ratio is not enough at 2亿元
        (20001.0, 15999.0, 12000.0, 480.0, True),  # ... but is just above it
    ],
)
def test_band_decides_with_latest_revenue(revenue, rev_l1, rev_l2, rd_each, meets):
    row = {**QUALIFIED, "employees": 10.0, "revenue": revenue, "rev_l1": rev_l1, "rev_l2": rev_l2,
           "rd": rd_each, "rd_l1": rd_each, "rd_l2": rd_each}
    assert both_criteria(row) == (meets, meets)


def test_ratio_is_over_three_years_not_this_year():
    """R&D of 8% this year does not make up for two years without R&D (3-year ratio 8/3% < 5%)."""
    row = {**QUALIFIED, "revenue": 4000.0, "rev_l1": 4000.0, "rev_l2": 4000.0, "rd": 320.0}
    assert both_criteria(row) == (False, False)
    assert both_criteria({**row, "rd_l1": 140.0, "rd_l2": 140.0}) == (True, True)  # 600 / 12,000 = 5%


# Base firm for the other criteria: 3-year ratio 670 / 12,000 > 5%; R&D 270万 = 10 FTE = 16 S&T staff, which
# is exactly 10% of 160 employees.
OTHER_BASE = {
    **QUALIFIED, "revenue": 4999.0, "rev_l1": 4000.0, "rev_l2": 3001.0,
    "rd": 270.0, "rd_l1": 200.0, "rd_l2": 200.0, "employees": 160.0,
}


@pytest.mark.parametrize(
    "change, meets",
    [
        ({}, True),  # every criterion met, three of them exactly at the edge
        ({"hitech_share": 0.59}, False),  # high-tech products below 60% of revenue
        ({"ip": 0}, False),  # no core IP
        ({"birth": YEAR}, False),  # registered less than a year
        ({"employees": 161.0}, False),  # S&T staff 16 < 10% of 161
        ({"hitech_share": 1.0, "ip": 5, "birth": 1990, "employees": 20.0}, True),
    ],
)
def test_other_criteria_fail_alone(change, meets):
    assert both_criteria({**OTHER_BASE, **change}) == (meets, meets)


@pytest.mark.parametrize("share, meets", [(0.5, True), (0.49, False), (0.7, True)])
def test_relabelling_margin(share, meets):
    """Model convention: a firm at most ``hitech_relabel_margin`` (here 0.1) short of 60% passes."""
    b = rule_behaviour(hitech_relabel_margin=0.1)
    assert both_criteria({**OTHER_BASE, "hitech_share": share}, b=b) == (meets, meets)


# --- certificate life and renewal ------------------------------------------------------------------------


def forced(b: SimpleNamespace, p: float) -> SimpleNamespace:
    """A copy of the behaviour in which every certification draw succeeds (p = 1) or fails (p = 0)."""
    return SimpleNamespace(**{
        **vars(b),
        "hte_apply_probability": p,
        "hte_approval_rate": p,
        "hte_renewal_probability": p,
    })


def hte_candidate(**change):
    """A firm meeting the HTE rule in any year from 2016 on (constant revenue and R&D)."""
    row = {**QUALIFIED, "birth": 2010, "revenue": 4000.0, "rev_l1": 4000.0, "rev_l2": 4000.0,
           "rd": 240.0, "rd_l1": 240.0, "rd_l2": 240.0, "margin": 0.10}
    return {**row, **change}


def test_certificate_lasts_three_years_then_renews():
    b = forced(default_behaviour(), 1.0)
    draws = KeyedDraws(7)
    f = make_firms(hte_candidate(), hte_candidate(ip=0))
    new = certify(f, policy("baseline", 2018), b, draws, giant_quota=0, fte_cost=FTE_COST)
    assert new.tolist() == [True, False]
    assert f.hte_until.tolist() == [2020, 0] and f.hte_since.tolist() == [2018, 0]

    # valid 2018, 2019, 2020; the 15% rate applies while valid, not in 2021 (no renewal yet)
    for year, valid in [(2018, True), (2019, True), (2020, True), (2021, False)]:
        tau, tau_alt = k.tax_rates(f, policy("baseline", year))
        assert (f.hte_until[0] >= year) == valid
        assert tau[0] == (0.15 if valid else 0.25) and tau_alt[0] == 0.25
        assert ref.tax_rates(ref.firm_records(f)[0], policy("baseline", year))[0] == tau[0]

    # renewed in 2021 (expired at end-2020, still meets the rule): valid through 2023; not a first certificate
    new = certify(f, policy("baseline", 2021), b, draws, giant_quota=0, fte_cost=FTE_COST)
    assert f.hte_until[0] == 2023 and f.hte_since[0] == 2018
    assert not new[0]


def test_no_renewal_when_the_rule_is_no_longer_met():
    b = forced(default_behaviour(), 1.0)
    f = make_firms(hte_candidate(hte_until=2020, hte_since=2018, ip=0))
    certify(f, policy("baseline", 2021), b, KeyedDraws(7), giant_quota=0, fte_cost=FTE_COST)
    assert f.hte_until[0] == 2020  # lapsed


def test_no_certificate_when_draws_fail():
    b = forced(default_behaviour(), 0.0)
    f = make_firms(hte_candidate(), hte_candidate(hte_until=2020, hte_since=2018))
    new = certify(f, policy("baseline", 2021), b, KeyedDraws(7), giant_quota=0, fte_cost=FTE_COST)
    assert not new.any() and f.hte_until.tolist() == [0, 2020]


def test_valid_certificate_is_not_reissued():
    b = forced(default_behaviour(), 1.0)
    f = make_firms(hte_candidate(hte_until=2022, hte_since=2020))
    new = certify(f, policy("baseline", 2021), b, KeyedDraws(7), giant_quota=0, fte_cost=FTE_COST)
    assert not new[0] and f.hte_until[0] == 2022


# --- the certification notch -----------------------------------------------------------------------------

# Revenue 4,000万元 each year, R&D 180万 in each of the last two years. A firm aiming at HTE status spends
# 5% of this year's revenue (200万); one whose certificate expired last year (renewal on the 3-year ratio)
# needs 600 - 360 = 240万. S&T staff: 200 / 27 x 1.6 = 11.85 and 240 / 27 x 1.6 = 14.2 >= 10% of 100 employees.
NOTCH = {
    **QUALIFIED, "birth": 2010, "revenue": 4000.0, "rev_l1": 4000.0, "rev_l2": 4000.0,
    "rd_l1": 180.0, "rd_l2": 180.0, "employees": 100.0,
}
RENEWING = {"hte_until": YEAR - 1, "hte_since": YEAR - 3}
UC = 0.75  # 25% taxpayer, 75% super-deduction
# Extra R&D of x万 held for H = 2.6 present-value years costs x x 0.75 x (1 - 0.3) x 2.6 = 1.365 x.


def notch_both(row: dict, plan: float, year: int = YEAR, **overrides: float) -> tuple[float, float]:
    """(vectorised, reference) real R&D after the notch; with relabelling priced out (PINNED) both are the
    real-R&D rule's value up to ~1e-10万."""
    pol, b = policy("baseline", year), rule_behaviour(**overrides)
    f = make_firms(row)
    tau, tau_alt = k.tax_rates(f, pol)
    d = k.deduction_rates(f, pol, S.manufacturing)
    got = cert.hte_notch(f, pol, np.array([plan]), np.array([UC]), tau, tau_alt, d, b, FTE_COST)[0]
    want = ref.hte_notch(ref.firm_records(f)[0], pol, plan, UC, float(tau[0]), float(tau_alt[0]), float(d[0]), b,
                         FTE_COST)
    return pytest.approx((float(got), want), rel=1e-9)


def test_notch_bumps_to_exactly_the_needed_rd_when_it_pays():
    # profit 400万 (too large for the small low-profit rate): benefit ((10% x 400 + 20 status) x 2.6 + 20 first
    # reward) x 0.75 approval = 132 > cost of +40万 = 54.6
    assert notch_both({**NOTCH, "margin": 0.10}, plan=160.0) == (200.0, 200.0)
    # renewal year: the 3-year ratio sets the target, 240; benefit (60 x 2.6) x 0.75 = 117 > 54.6
    assert notch_both({**NOTCH, **RENEWING, "margin": 0.10}, plan=200.0) == (240.0, 240.0)


def test_notch_no_bump_when_cost_exceeds_benefit():
    # no profit: benefit (20 x 2.6 + 20) x 0.75 = 54 < cost of +40万 = 54.6
    assert notch_both({**NOTCH, "margin": 0.0}, plan=160.0) == (160.0, 160.0)
    # the same firm facing a smaller gap bumps: +30万 costs 40.95 < 54
    assert notch_both({**NOTCH, "margin": 0.0}, plan=170.0) == (200.0, 200.0)
    # a former holder gets no first-certificate reward: 20 x 2.6 x 0.75 = 39 < 40.95
    assert notch_both({**NOTCH, "margin": 0.0, "hte_until": 2019, "hte_since": 2017}, plan=170.0) == (170.0, 170.0)


def test_notch_not_beyond_reach_or_when_other_criteria_fail():
    # +110 > 1.0 x plan: out of reach although it would pay (profit 1,200万: benefit 288 > cost 150)
    assert notch_both({**NOTCH, "margin": 0.30}, plan=90.0) == (90.0, 90.0)
    assert notch_both({**NOTCH, "margin": 0.30}, plan=110.0) == (200.0, 200.0)  # +90 <= 110: within reach
    assert notch_both({**NOTCH, "margin": 0.10, "ip": 0}, plan=160.0) == (160.0, 160.0)
    assert notch_both({**NOTCH, "margin": 0.10, "employees": 119.0}, plan=160.0) == (160.0, 160.0)  # 11.85 < 11.9
    assert notch_both({**NOTCH, "margin": 0.10, "rd_active": False}, plan=160.0) == (160.0, 160.0)
    # a holder in mid-certificate aims at 5% of this year's revenue, not at the 3-year catch-up of a renewal
    assert notch_both({**NOTCH, "margin": 0.10, "hte_until": YEAR + 1, "hte_since": 2019}, plan=200.0) == (200.0, 200.0)
    assert notch_both({**NOTCH, "margin": 0.10}, plan=210.0) == (210.0, 210.0)  # already above the target


def test_bumped_renewing_firm_meets_the_rule_hand_case():
    """After the notch and the year-end report, this year's R&D is the needed amount, and the firm meets the rule."""
    pol, b = policy("baseline", YEAR), rule_behaviour()
    f = make_firms({**NOTCH, **RENEWING, "margin": 0.10})
    tau, tau_alt = k.tax_rates(f, pol)
    d = k.deduction_rates(f, pol, S.manufacturing)
    real = cert.hte_notch(f, pol, np.array([200.0]), np.array([UC]), tau, tau_alt, d, b, FTE_COST)
    f.rd[:] = cert.reported_rd(f, pol, real, tau, tau_alt, d, b, FTE_COST)
    assert f.rd[0] == 240.0 and 0 in cert.hte_criteria(f, pol, b, FTE_COST)
    renewed = certify(f, pol, forced(b, 1.0), KeyedDraws(3), giant_quota=0, fte_cost=FTE_COST)
    assert f.hte_until[0] == YEAR + 2 and not renewed[0]


def test_bunching_renewing_firms_meet_the_ratio():
    pol, b = policy("baseline", YEAR), rule_behaviour()
    hand = make_firms({**QUALIFIED, **RENEWING, "margin": 0.2, "revenue": 3000.0, "rev_l1": 900.0,
                       "rev_l2": 800.0, "rd_l1": 40.3, "rd_l2": 44.1, "employees": 5.0})
    f = random_population(np.random.default_rng(5), 20000, YEAR)
    f.hte_until[:] = YEAR - 1
    f.hte_since[:] = YEAR - 3
    failures = []
    for pop in (hand, f):
        tau, tau_alt = k.tax_rates(pop, pol)
        d = k.deduction_rates(pop, pol, S.manufacturing)
        plan = 0.9 * cert.hte_rd_needed(pop, pol)
        real = cert.hte_notch(pop, pol, plan, np.full(len(pop), 0.5), tau, tau_alt, d, b, FTE_COST)
        pop.rd[:] = cert.reported_rd(pop, pol, real, tau, tau_alt, d, b, FTE_COST)
        bumped = real > plan
        assert bumped.any()
        meets = cert.hte_criteria(pop, pol, b, FTE_COST)  # positions
        failures.append(int(np.isin(np.flatnonzero(bumped), meets, invert=True).sum()))
    assert failures == [0, 0], f"bunching firms failing the ratio: hand {failures[0]}, random {failures[1]}"


# --- relabelling at the notch (qhsim.firms.relabel) -------------------------------------------------------
# NOTCH firm in 2021: services, 25% taxpayer when profitable, 75% super-deduction; extra real R&D costs
# k = UC x (1 - 0.3) = 0.525 per yuan and year.


def test_notch_gap_closed_by_relabelling_when_it_is_cheap():
    # no profit (tau = 0): 40 relabelled on 160 real costs 0.4/2 x 40^2 / 160 = 2.0 a year (x 2.6 = 5.2 < 54):
    # the firm raises no real R&D, it relabels the whole gap
    assert notch_both({**NOTCH, "margin": 0.0}, plan=160.0, relabel_cost=0.4) == (160.0, 160.0)


def test_notch_mixes_relabelling_and_real_rd_hand_case():
    # gamma = 2, profit 1,200万 (tau 25%, tau d = 0.1875), plan 100, target 200: routine m_c = 100 x 0.1875 / 2
    # = 9.375; relabelling is cheaper than real R&D up to m = 100 x (0.525 + 0.1875) / 2 = 35.625; the rest,
    # 64.375, is real: yearly cost 64.375 x 0.525 + (35.625^2 - 9.375^2) / 100 - 0.1875 x 26.25 = 40.6875,
    # x 2.6 = 105.8 < benefit ((10% x 1,200 + 20) x 2.6 + 20) x 0.75 = 288
    assert notch_both({**NOTCH, "margin": 0.30}, plan=100.0, relabel_cost=2.0) == (164.375, 164.375)
    # the same firm without the option to relabel raises real R&D by the whole gap
    assert notch_both({**NOTCH, "margin": 0.30}, plan=100.0) == (200.0, 200.0)


def test_year_end_top_up_to_exactly_the_threshold_only_when_it_pays():
    """Reported R&D: routine relabelling, and a top-up to exactly the 3-year need (240 for a renewing firm) when
    the net relabelling cost over H years is below the value of HTE status."""
    pol = policy("baseline", YEAR)

    def report(row: dict, real: float, **overrides: float) -> float:
        f, b = make_firms(row), rule_behaviour(**overrides)
        tau, tau_alt = k.tax_rates(f, pol)
        d = k.deduction_rates(f, pol, S.manufacturing)
        got = float(cert.reported_rd(f, pol, np.array([real]), tau, tau_alt, d, b, FTE_COST)[0])
        want = ref.reported_rd(ref.firm_records(f)[0], pol, real, float(tau[0]), float(tau_alt[0]), float(d[0]), b,
                               FTE_COST)
        assert got == pytest.approx(want, rel=1e-12)
        return got

    renewing = {**NOTCH, **RENEWING, "margin": 0.0}  # no profit: no routine relabelling, benefit 20 x 2.6 x 0.75 = 39
    # 40 short on 200 real: 0.4/2 x 1600 / 200 x 2.6 = 4.16 < 39: topped up
    assert report(renewing, 200.0, relabel_cost=0.4) == 240.0
    # 100 short on 140 real: 0.4/2 x 10,000 / 140 x 2.6 = 37.1 < 39, and 100 <= 1.0 x 140: topped up
    assert report(renewing, 140.0, relabel_cost=0.4) == 240.0
    # with gamma = 0.5 the same top-up costs 46.4 > 39: the firm reports its real R&D
    assert report(renewing, 140.0, relabel_cost=0.5) == 140.0
    # beyond the stretch: 130 short on 110 real
    assert report(renewing, 110.0, relabel_cost=0.01) == 110.0
    # a profitable firm relabels the routine m_c = 200 x 0.25 x 0.75 / 0.4 = 93.75, already above the need
    assert report({**renewing, "margin": 0.10}, 200.0, relabel_cost=0.4) == 293.75
    # a firm failing another criterion (no core IP) gets no top-up
    assert report({**renewing, "ip": 0}, 200.0, relabel_cost=0.4) == 200.0


# --- R&D-intensity reward tiers (Haixi, seed 004:L46: tiers 10% / 15% / 20% -> 20 / 35 / 50万元) ----------

REWARD_YEAR = 2025  # the Haixi fund pays from 2025 in the baseline


@pytest.mark.parametrize(
    "row, amount",
    [
        ({"revenue": 3000.0, "rd": 300.0}, 20.0),  # exactly 10%
        ({"revenue": 3000.0, "rd": 299.0}, 0.0),  # just below the first tier
        ({"revenue": 3000.0, "rd": 450.0}, 35.0),  # exactly 15%
        ({"revenue": 3000.0, "rd": 600.0}, 50.0),  # exactly 20%
        ({"revenue": 3000.0, "rd": 900.0}, 50.0),  # 30%: the top tier is the cap
        ({"revenue": 2000.0, "rd": 400.0}, 50.0),  # revenue floor 2,000万元 met exactly
        ({"revenue": 1999.0, "rd": 400.0}, 0.0),  # below the floor
        ({"revenue": 600.0, "rd": 60.0, "sector": SECTOR["agri_food"]}, 20.0),  # agriculture: floor 500万元
        ({"revenue": 499.0, "rd": 60.0, "sector": SECTOR["agri_food"]}, 0.0),
        ({"revenue": 3000.0, "rd": 600.0, "pref": PREF["xining"]}, 0.0),  # Haixi only in the baseline
    ],
)
def test_reward_amount_tiers(row, amount):
    pol = policy("baseline", REWARD_YEAR)
    assert pol.reward_tiers == ((0.10, 20.0), (0.15, 35.0), (0.20, 50.0))
    firm = {"pref": PREF["haixi"], "sector": SECTOR["salt_lake"], "rd_active": True, **row}
    f = make_firms(firm)
    agri = firm["sector"] == SECTOR["agri_food"]
    assert rewards.reward_amount(f, pol, S.agri)[0] == amount
    assert ref.reward_amount(ref.firm_records(f)[0], pol, agri) == amount
    assert rewards.reward_amount(f, policy("baseline", 2024), S.agri)[0] == 0.0  # no fund yet


def test_reward_province_wide_variant_reaches_xining():
    f = make_firms({"pref": PREF["xining"], "sector": SECTOR["salt_lake"], "revenue": 3000.0, "rd": 600.0})
    assert rewards.reward_amount(f, policy("rd_reward_province_wide", 2026), S.agri)[0] == 50.0
    assert rewards.reward_amount(f, policy("baseline", 2026), S.agri)[0] == 0.0


def test_reward_province_wide_variant_starts_in_2026():
    f = make_firms({"pref": PREF["xining"], "sector": SECTOR["salt_lake"], "revenue": 3000.0, "rd": 600.0})
    assert rewards.reward_amount(f, policy("rd_reward_province_wide", 2025), S.agri)[0] == 0.0


@pytest.mark.parametrize(
    "plan, expected",
    [
        # gains (uc 0.75, omega 0.3: extra R&D costs 0.525 per 万元): 10% tier 20 - 15 x 0.525 = 12.1;
        # 15% tier 35 - 165 x 0.525 < 0; 20% tier out of reach (+315 > plan)
        (285.0, 300.0),
        # 10% tier already met (gain 20); 15% tier 35 - 10 x 0.525 = 29.75 is best; 20% tier 50 - 84 < 0
        (440.0, 450.0),
        # 20% tier 50 - 50 x 0.525 = 23.75 beats the 15% tier already met (gain 35)? no: 35 > 23.75, stay
        (550.0, 550.0),
        # every tier out of reach: the 10% tier needs +200 > 1.0 x plan
        (100.0, 100.0),
    ],
)
def test_reward_notch_chooses_best_tier(plan, expected):
    assert reward_notch_both(plan, UC, rule_behaviour()) == (expected, expected)


def reward_notch_both(plan: float, uc: float, b) -> tuple[float, float]:
    pol = policy("baseline", REWARD_YEAR)
    f = make_firms({"pref": PREF["haixi"], "sector": SECTOR["salt_lake"], "revenue": 3000.0, "rd_active": True})
    got = rewards.reward_notch(f, pol, np.array([plan]), np.array([uc]), S.agri, b)[0]
    return float(got), ref.reward_notch(ref.firm_records(f)[0], pol, plan, uc, False, b)


def test_reward_notch_indifferent_firm_stays():
    """Extra R&D costs 0.5 x (1 - 0.5) = 0.25 per 万元: +80万 to the 10% tier costs exactly its 20万 reward."""
    b = rule_behaviour(notch_own_value=0.5)
    assert reward_notch_both(220.0, 0.5, b) == (220.0, 220.0)  # gain exactly 0: no move
    assert reward_notch_both(221.0, 0.5, b) == (300.0, 300.0)  # gain 0.25 > 0
    assert reward_notch_both(300.0, 0.5, b) == (300.0, 300.0)  # tier already met


def certified_share(year: int, factor: float, n: int = 4000) -> float:
    """Share of ``n`` identical eligible firms newly certified in ``year`` with take-up 0.8, approval 1 and the
    early take-up factor ``factor`` (push year 2018)."""
    b = SimpleNamespace(**{**vars(forced(default_behaviour(), 1.0)), "hte_apply_probability": 0.8,
                           "hte_apply_early_factor": factor, "hte_push_year": 2018})
    f = make_firms(*[hte_candidate()] * n)
    return float(certify(f, policy("baseline", year), b, KeyedDraws(3), giant_quota=0, fte_cost=FTE_COST).mean())


def test_take_up_is_lower_before_the_push_year():
    """Before hte_push_year eligible firms apply with hte_apply_probability x hte_apply_early_factor, from it on
    with hte_apply_probability (binomial shares of 4,000 firms: sd <= 0.008)."""
    assert certified_share(2017, 0.25) == pytest.approx(0.2, abs=0.03)
    assert certified_share(2018, 0.25) == pytest.approx(0.8, abs=0.03)
    assert certified_share(2017, 1.0) == pytest.approx(0.8, abs=0.03)


def test_certificates_granted_counts_this_years_round():
    """The output column hte_certificates_granted counts first certificates and renewals of the year's round
    (certificates running to year + validity - 1), not the stock."""
    from qhsim.indicators import YearFlows, compute

    b = forced(default_behaviour(), 1.0)
    f = make_firms(hte_candidate(), hte_candidate(hte_until=2020, hte_since=2018), hte_candidate(ip=0),
                   hte_candidate(hte_until=2022, hte_since=2019))
    held = f.hte_until >= 2021
    certify(f, policy("baseline", 2021), b, KeyedDraws(7), giant_quota=0, fte_cost=FTE_COST)
    assert f.hte_until.tolist() == [2023, 2023, 0, 2022]  # a first certificate, a renewal, none, one still valid
    assert granted(f, 2021, held).tolist() == [0, 1]
    zero = np.zeros(len(f))
    rows = compute(f, 2021, {"gdp": 3000.0}, YearFlows(*(zero,) * 9), 1.0, knowledge_columns(0.6),
                   hte_granted=granted(f, 2021, held))
    assert rows[0]["hte_certificates_granted"] == 2 and rows[0]["hte_count"] == 3
    assert np.isnan(compute(f, 2021, {"gdp": 3000.0}, YearFlows(*(zero,) * 9), 1.0, knowledge_columns(0.6))[0]
                    ["hte_certificates_granted"])


def recognised(year: int, factor: float, rush_last: int = 2018, n: int = 4000, **firm) -> np.ndarray:
    """Which of ``n`` identical firms eligible for tech-based enterprise recognition (3-year R&D ratio 6%) hold a
    recognition granted in ``year``'s round, with recognition probability 0.2, renewal probability 0.5 and the
    rush factor ``factor`` through ``rush_last``."""
    b = SimpleNamespace(**{**vars(default_behaviour()), "tbe_recognition_probability": 0.2,
                           "hte_renewal_probability": 0.5, "tbe_recognition_early_factor": factor,
                           "tbe_rush_last_year": rush_last})
    f = make_firms(*[hte_candidate(**firm)] * n)
    certify(f, policy("baseline", year), b, KeyedDraws(5), giant_quota=0, fte_cost=FTE_COST)
    return f.tbe_until == year + int(b.tbe_validity_years) - 1


def test_tbe_rush_factor_raises_first_recognitions_in_the_rush_years_only():
    """Through tbe_rush_last_year first recognitions come with tbe_recognition_probability x
    tbe_recognition_early_factor, after it with tbe_recognition_probability; renewals keep their own probability
    (binomial shares of 4,000 firms: sd <= 0.008)."""
    assert recognised(2017, 3.0).mean() == pytest.approx(0.6, abs=0.03)
    assert recognised(2018, 3.0).mean() == pytest.approx(0.6, abs=0.03)  # the last rush year
    assert recognised(2019, 3.0).mean() == pytest.approx(0.2, abs=0.03)
    assert recognised(2017, 3.0, rush_last=2016).mean() == pytest.approx(0.2, abs=0.03)
    assert recognised(2017, 3.0, tbe_until=2016).mean() == pytest.approx(0.5, abs=0.03)  # renewals: unchanged
    assert recognised(2017, 6.0).all()  # a probability above 1 recognises every eligible firm


def test_tbe_rush_factor_is_identity_at_its_default():
    """behaviour.toml's default (1.0) recognises exactly the firms a run without any rush recognises."""
    assert data.values("behaviour")["tbe_recognition_early_factor"] == 1.0
    default = data.values("behaviour")["tbe_recognition_early_factor"]
    np.testing.assert_array_equal(recognised(2017, default), recognised(2017, default, rush_last=2015))
    assert not np.array_equal(recognised(2017, 1.5), recognised(2017, 1.5, rush_last=2015))
