"""The vectorised firm kernels agree with the per-firm reference (qhsim.firms.reference), firm by firm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import SECTOR, default_behaviour, make_firms, policy, random_population
from qhsim import data
from qhsim.firms import certification as cert
from qhsim.firms import rd as k
from qhsim.firms import reference as ref
from qhsim.firms import rewards
from qhsim.firms import sector_table
from qhsim.firms.decision import MODEL_FIELDS, STEP_FIELDS, decide

RTOL = 1e-12
N_FIRMS = 3000
LEVEL = 1.3  # R&D level factor L (the model calibrates it at initialisation)
FTE_COST = 27.0  # 万元 per R&D FTE (the model takes the year's qhsim.macro.cost_per_fte)

# (scenario, year): the super-deduction steps (2018 general 75%, 2021 manufacturing 100%, 2022 SMEs,
# 2023 all), the start of Haixi's reward and "two zeroings" (2025), and the variants from 2026.
CASES = [
    ("baseline", 2016),
    ("baseline", 2018),
    ("baseline", 2021),
    ("baseline", 2022),
    ("baseline", 2023),
    ("baseline", 2025),
    ("super_deduction_120", 2026),
    ("rd_reward_province_wide", 2026),
]
IDS = [f"{s}-{y}" for s, y in CASES]


def close(vectorised, expected, what: str) -> None:
    """Element-wise agreement to RTOL relative (exact where the reference is 0 or a boolean)."""
    vectorised, expected = np.asarray(vectorised), np.asarray(expected)
    assert vectorised.shape == expected.shape, what
    if expected.dtype == bool:
        bad = np.flatnonzero(vectorised != expected)
    else:
        both_inf = np.isinf(expected) & (vectorised == expected)
        bad = np.flatnonzero(~both_inf & ~(np.abs(vectorised - expected) <= RTOL * np.abs(expected)))
    assert not len(bad), (
        f"{what}: {len(bad)} firms disagree, first at {bad[0]}: vectorised {vectorised[bad[0]]!r}, "
        f"reference {expected[bad[0]]!r}"
    )


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def case(request):
    scenario, year = request.param
    seed = 1000 * year + CASES.index(request.param)
    rng = np.random.default_rng(seed)
    f = random_population(rng, N_FIRMS, year)
    return {
        "pol": policy(scenario, year),
        "f": f,
        "firms": ref.firm_records(f),
        "b": default_behaviour(),
        "clock": rng.exponential(size=N_FIRMS),
        "scenario": scenario,
    }


SECTORS = data.sectors()
S = sector_table()


def sector_of(firm):
    return SECTORS[firm["sector"]]


# --- hand-computed cases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tau, d, s, expected",
    [
        (0.25, 0.75, 0.0, 0.75),  # (1 - 0.25 x 1.75) / 0.75
        (0.25, 0.50, 0.0, 0.625 / 0.75),  # the 2015 reference user cost 0.8333
        (0.25, 1.00, 0.0, 0.5 / 0.75),  # 2023 rule, standard rate: 0.6667
        (0.15, 1.00, 0.0, 0.70 / 0.85),  # HTE with 100% deduction: 0.8235
        (0.25, 0.75, 0.20, 0.3625 / 0.75),  # with an expected 20% subsidy: 0.4833
        (0.00, 1.00, 0.0, 1.0),  # loss-making firm: no tax relief at the margin
        (0.00, 0.75, 0.30, 0.70),  # loss-making firm, subsidy only
        (0.25, 1.00, 0.90, 0.05),  # would be negative: floored at 5 fen per yuan
    ],
)
def test_user_cost_hand_cases(tau, d, s, expected):
    assert ref.user_cost(tau, d, s) == pytest.approx(expected, rel=1e-14)
    got = k.user_cost(np.array([tau]), np.array([d]), np.array([s]))
    assert got[0] == pytest.approx(expected, rel=1e-14)


def test_tax_rates_hand_cases():
    pol = policy("baseline", 2021)  # standard 25%, HTE 15%, WD 15%, small 4% up to 300万 profit and 300 staff
    firms = [
        ({"margin": 0.10, "revenue": 10000.0, "employees": 400.0}, (0.25, 0.25)),  # 1,000万 profit, large
        ({"margin": 0.10, "revenue": 10000.0, "employees": 400.0, "hte_until": 2021}, (0.15, 0.25)),
        ({"margin": 0.10, "revenue": 10000.0, "employees": 400.0, "hte_until": 2020}, (0.25, 0.25)),  # expired
        ({"margin": 0.10, "revenue": 10000.0, "employees": 400.0, "encouraged": True}, (0.15, 0.15)),
        ({"margin": 0.10, "revenue": 1000.0, "employees": 50.0}, (0.04, 0.04)),  # 100万 profit: small
        ({"margin": 0.10, "revenue": 3000.0, "employees": 50.0, "hte_until": 2023}, (0.04, 0.04)),  # 300万 edge
        ({"margin": 0.10, "revenue": 3000.0, "employees": 301.0}, (0.25, 0.25)),  # too many staff
        ({"margin": -0.05, "revenue": 10000.0, "employees": 400.0, "hte_until": 2022}, (0.0, 0.25)),  # loss
        ({"margin": 0.0, "revenue": 10000.0, "employees": 100.0}, (0.0, 0.04)),  # zero profit
    ]
    f = make_firms(*(row for row, _ in firms))
    tau, tau_alt = k.tax_rates(f, pol)
    for i, (row, (want_tau, want_alt)) in enumerate(firms):
        assert (tau[i], tau_alt[i]) == (want_tau, want_alt), row
        assert ref.tax_rates(ref.firm_records(f)[i], pol) == (want_tau, want_alt), row


@pytest.mark.parametrize(
    "year, sector, extra, expected",
    [
        (2016, "equipment", {}, 0.50),
        (2017, "services", {"sme_year": 2016}, 0.75),  # SMEs 75% from 2017
        (2017, "services", {"sme_year": 2015}, 0.50),  # registration too old
        (2018, "services", {}, 0.75),
        (2021, "equipment", {}, 1.00),  # manufacturing 100% from 2021
        (2021, "digital", {}, 0.75),
        (2022, "digital", {"sme_year": 2022}, 1.00),  # SMEs 100% from 2022
        (2022, "digital", {"sme_year": 2021}, 1.00),
        (2023, "services", {}, 1.00),  # everyone 100% from 2023
        (2023, "equipment", {"deduct_excluded": True}, 0.0),  # negative list
    ],
)
def test_deduction_rate_hand_cases(year, sector, extra, expected):
    pol = policy("baseline", year)
    f = make_firms({"sector": SECTOR[sector], **extra})
    manufacturing = data.sectors()[SECTOR[sector]].manufacturing
    assert k.deduction_rates(f, pol, S.manufacturing)[0] == expected
    assert ref.deduction_rate(ref.firm_records(f)[0], pol, manufacturing) == expected


def test_expected_subsidy_rate_hand_cases(b):
    f = make_firms(
        {"subsidy_l1": 10.0, "rd_l1": 100.0},  # 0.5 x 10% = 5%
        {"subsidy_l1": 10.0, "rd_l1": 0.0},  # no R&D last year: no expectation
        {"subsidy_l1": 500.0, "rd_l1": 100.0},  # 0.5 x 500% capped at 90%
    )
    want = [0.05, 0.0, 0.9]
    np.testing.assert_allclose(k.expected_subsidy_rate(f, b), want, rtol=1e-15)
    assert [ref.expected_subsidy_rate(x, b) for x in ref.firm_records(f)] == pytest.approx(want, rel=1e-15)


# --- element-wise agreement on random populations --------------------------------------------------------


def test_tax_deduction_subsidy_user_cost(case):
    f, firms, pol, b = case["f"], case["firms"], case["pol"], case["b"]
    tau, tau_alt = k.tax_rates(f, pol)
    ref_tax = [ref.tax_rates(x, pol) for x in firms]
    close(tau, [t for t, _ in ref_tax], "tau")
    close(tau_alt, [a for _, a in ref_tax], "tau_alt")
    d = k.deduction_rates(f, pol, S.manufacturing)
    close(d, [ref.deduction_rate(x, pol, sector_of(x).manufacturing) for x in firms], "deduction rate")
    s = k.expected_subsidy_rate(f, b)
    close(s, [ref.expected_subsidy_rate(x, b) for x in firms], "expected subsidy rate")
    uc = k.user_cost(tau, d, s)
    close(uc, [ref.user_cost(t, dd, ss) for (t, _), dd, ss in zip(ref_tax, d.tolist(), s.tolist())], "user cost")
    # the population exercises every branch
    assert len(np.unique(tau)) >= 3 and (tau == 0).any() and (d == 0).any()
    assert (uc == ref.USER_COST_FLOOR).any() and (s == 0.9).any()


def test_intensive_margin(case):
    f, firms, pol, b = case["f"], case["firms"], case["pol"], case["b"]
    tau, _ = k.tax_rates(f, pol)
    uc = k.user_cost(tau, k.deduction_rates(f, pol, S.manufacturing), k.expected_subsidy_rate(f, b))
    r_star = k.desired_intensity(f, uc, S.rd_intensity, LEVEL, b)
    ref_star = [
        ref.desired_intensity(x, u, sector_of(x).rd_intensity, LEVEL, b) for x, u in zip(firms, uc.tolist())
    ]
    close(r_star, ref_star, "desired intensity")
    close(k.cash_limit(f, b), [ref.cash_limit(x, b) for x in firms], "cash limit")
    plan = k.planned_rd(f, r_star, b)
    close(plan, [ref.planned_rd(x, r, b) for x, r in zip(firms, ref_star)], "planned R&D")
    assert (r_star == b.max_rd_intensity).any(), "cap never reached"
    assert (plan == k.cash_limit(f, b))[f.rd_active].any(), "cash limit never binds"


def test_extensive_margin(case):
    f, firms, pol, b = case["f"], case["firms"], case["pol"], case["b"]
    tau, _ = k.tax_rates(f, pol)
    uc = k.user_cost(tau, k.deduction_rates(f, pol, S.manufacturing), k.expected_subsidy_rate(f, b))
    targeted = k.campaign_targets(f, pol, S.industrial)
    ref_targeted = [ref.campaign_target(x, pol, sector_of(x).industrial) for x in firms]
    close(targeted, ref_targeted, "two-zeroings targets")
    if pol.zeroing_prefectures.any():
        assert targeted.any()
    logit = k.start_logit(f, uc, S.rd_logit, targeted, b)
    ref_logit = [
        ref.start_logit(x, u, sector_of(x).rd_logit, t, b) for x, u, t in zip(firms, uc.tolist(), ref_targeted)
    ]
    close(logit, ref_logit, "start logit")
    close(k.sigmoid(logit), [ref.logistic(v) for v in ref_logit], "start probability")
    close(k.stop_probability(f, pol.year, b), [ref.stop_probability(x, pol.year, b) for x in firms], "stop probability")


def test_hte_rule(case):
    f, firms, pol, b = case["f"], case["firms"], case["pol"], case["b"]
    close(cert.hte_threshold(f.revenue, pol), [ref.hte_threshold(x["revenue"], pol) for x in firms], "threshold")
    need = cert.hte_rd_needed(f, pol)
    close(need, [ref.hte_rd_needed(x, pol) for x in firms], "R&D needed")
    close(
        cert.hte_other_criteria(f, pol, need, b, FTE_COST),
        [ref.hte_other_criteria(x, pol, n, b, FTE_COST) for x, n in zip(firms, need.tolist())],
        "other criteria at the needed R&D",
    )
    meets = np.isin(np.arange(len(f)), cert.hte_criteria(f, pol, b, FTE_COST))  # positions -> mask
    close(meets, [ref.hte_criteria(x, pol, b, FTE_COST) for x in firms], "HTE criteria")
    assert 0 < meets.sum() < len(f)


def test_notches(case):
    f, firms, pol, b = case["f"], case["firms"], case["pol"], case["b"]
    tau, tau_alt = k.tax_rates(f, pol)
    d = k.deduction_rates(f, pol, S.manufacturing)
    uc = k.user_cost(tau, d, k.expected_subsidy_rate(f, b))
    plan = k.planned_rd(f, k.desired_intensity(f, uc, S.rd_intensity, LEVEL, b), b)
    rows = list(zip(firms, plan.tolist(), uc.tolist(), tau_alt.tolist()))
    taxes = list(zip(tau.tolist(), d.tolist()))

    after_hte = cert.hte_notch(f, pol, plan, uc, tau, tau_alt, d, b, FTE_COST)
    close(after_hte, [ref.hte_notch(x, pol, p, u, t, ta, dd, b, FTE_COST) for (x, p, u, ta), (t, dd) in zip(rows, taxes)],
          "HTE notch")
    assert (after_hte > plan).sum() >= 5, "too few firms bunch at the HTE threshold for a meaningful check"

    after_reward = rewards.reward_notch(f, pol, plan, uc, S.agri, b)
    ref_reward = [ref.reward_notch(x, pol, p, u, sector_of(x).id == "agri_food", b) for x, p, u, _ in rows]
    close(after_reward, ref_reward, "reward notch")
    amount = rewards.reward_amount(f, pol, S.agri)
    close(amount, [ref.reward_amount(x, pol, sector_of(x).id == "agri_food") for x in firms], "reward amount")
    if pol.reward_budget > 0:
        assert (after_reward > plan).sum() >= 3 and len(np.unique(amount)) == 1 + len(pol.reward_tiers)
    else:
        assert not amount.any() and np.array_equal(after_reward, plan)


def test_reported_rd(case):
    """Reported R&D (real plus relabelled spending, qhsim.firms.relabel) agrees with the reference firm by firm;
    some firms top their books up to exactly the HTE threshold, and no firm reports less than its real R&D."""
    f, firms, pol, b = case["f"], case["firms"], case["pol"], case["b"]
    tau, tau_alt = k.tax_rates(f, pol)
    d = k.deduction_rates(f, pol, S.manufacturing)
    real = f.rd_real
    got = cert.reported_rd(f, pol, real, tau, tau_alt, d, b, FTE_COST)
    want = [ref.reported_rd(x, pol, x["rd_real"], t, ta, dd, b, FTE_COST)
            for x, t, ta, dd in zip(firms, tau.tolist(), tau_alt.tolist(), d.tolist())]
    close(got, want, "reported R&D")
    assert (got >= real).all() and (got > real).any()
    topped = got == cert.hte_rd_needed(f, pol)
    assert (topped & (real > 0)).sum() >= 3, "too few firms top up to the HTE threshold for a meaningful check"


def test_full_decision_step(case):
    f, firms, pol, b = case["f"], case["firms"], case["pol"], case["b"]
    clock = case["clock"]
    before = {name: col.copy() for name, col in f.cols.items()}
    got = decide(f, pol, b, sector_table(), LEVEL, clock, FTE_COST)
    want = [ref.reference_firm_step(x, pol, b, LEVEL, c, FTE_COST) for x, c in zip(firms, clock.tolist())]
    for field in STEP_FIELDS:
        close(got[field], [w[field] for w in want], f"step: {field}")
    assert all(np.array_equal(before[name], f.cols[name]) for name in before), "the step modified the population"
    active = got["rd_active"]
    assert (active & ~f.rd_active).any() and (~active & f.rd_active).any(), "no starts or no stops"
    assert (got["rd_plan"][~active] == 0).all() and (got["rd_plan"][active] > 0).any()


def test_decision_without_probabilities_is_the_same(case):
    """The model's step (``probabilities=False``: stop probabilities for the active firms only, the model's fields
    only, tax rates looked up where read) takes the same decisions bit for bit: with the case's clocks, and with
    every firm's clock at its own hazard (all switch) and just above it (none does)."""
    f, pol, b = case["f"], case["pol"], case["b"]
    full = decide(f, pol, b, S, LEVEL, case["clock"], FTE_COST)
    edges = ((full["hazard"], True), (np.nextafter(full["hazard"], np.inf), False))
    for clock, switched in ((case["clock"], None), *edges):
        want = decide(f, pol, b, S, LEVEL, clock, FTE_COST)
        got = decide(f, pol, b, S, LEVEL, clock, FTE_COST, probabilities=False)
        assert sorted(got) == sorted(MODEL_FIELDS)
        some = np.concatenate([np.random.default_rng(1).permutation(len(f))[:300], np.flatnonzero(f.rd_l1 > 0)])
        for field in MODEL_FIELDS:  # whole (np.asarray) and read at positions (a Lookup's own gather)
            assert np.array_equal(got[field], want[field]), field
            assert np.array_equal(got[field][some], want[field][some]), field
        if switched is not None:
            assert ((got["rd_active"] != f.rd_active) == switched).all()


def test_switching_clock_gives_the_yearly_probabilities(case):
    """A firm switches when its Exp(1) clock is at most the year's hazard: over many clocks, starts with the
    frequency p_start and stops with p_stop, firm by firm (the same chances as a yearly uniform draw)."""
    f, pol, b = case["f"], case["pol"], case["b"]
    full = decide(f, pol, b, S, LEVEL, case["clock"], FTE_COST)
    p = np.where(f.rd_active, full["p_stop"], full["p_start"])
    np.testing.assert_allclose(1.0 - np.exp(-full["hazard"]), p, rtol=1e-12, atol=1e-15)
    rng = np.random.default_rng(7)
    draws = 400
    freq = np.mean([decide(f, pol, b, S, LEVEL, rng.exponential(size=len(f)), FTE_COST, probabilities=False)
                    ["rd_active"] != f.rd_active for _ in range(draws)], axis=0)
    assert (np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / draws) + 2 / draws).all()
    switches, expected = freq.sum() * draws, p.sum() * draws  # all switches: a count of sd sqrt(draws sum p(1-p))
    assert abs(switches - expected) <= 4 * np.sqrt(draws * (p * (1 - p)).sum())


def test_reference_step_matches_model_step_order():
    """A firm that stops R&D this year plans nothing and cannot bunch; one that starts plans from scratch."""
    b = default_behaviour()
    pol = policy("baseline", 2021)
    base = {
        "sector": SECTOR["equipment"], "revenue": 4000.0, "rev_l1": 4000.0, "rev_l2": 4000.0,
        "employees": 40.0, "hitech_share": 0.8, "ip": 1, "rd_int": 0.04, "rd_l1": 160.0, "rd_l2": 160.0,
    }
    f = make_firms({**base, "rd_active": True}, {**base, "rd_active": False, "rd_l1": 0.0, "rd_l2": 0.0, "rd_int": 0.0})
    stopper, starter = ref.firm_records(f)
    res_stop = ref.reference_firm_step(stopper, pol, b, LEVEL, clock=0.0, fte_cost=FTE_COST)
    assert not res_stop["rd_active"] and res_stop["rd_plan"] == 0.0
    res_start = ref.reference_firm_step(starter, pol, b, LEVEL, clock=0.0, fte_cost=FTE_COST)
    assert res_start["rd_active"]
    assert res_start["rd_planned"] == pytest.approx(b.adjustment_speed * res_start["r_star"] * 4000.0, rel=1e-14)
    got = decide(f, pol, b, sector_table(), LEVEL, np.array([0.0, 0.0]), FTE_COST)
    assert got["rd_active"].tolist() == [False, True]
    assert got["rd_plan"][0] == 0.0 and got["rd_plan"][1] == pytest.approx(res_start["rd_plan"], rel=RTOL)
    assert math.isfinite(res_start["uc"])


def test_compiled_growth_is_the_numpy_formula_bit_for_bit(b):
    """``grow`` (compiled passes around numpy's log and exp) gives bit for bit what the formula in its docstring
    gives as numpy array expressions, NaN-free revenue floored at 1, sector demand rescaling included."""
    from qhsim.draws import KeyedDraws
    from qhsim.firms.dynamics import grow

    rng = np.random.default_rng(21)
    f = random_population(rng, N_FIRMS, 2030)
    f.revenue[:5] = 1.0  # at the floor
    f.innovated[:] = rng.random(N_FIRMS) < 0.3
    old = {name: col.copy() for name, col in f.cols.items()}
    premium = rng.normal(0.0, 0.03, len(data.sectors()))
    draws = KeyedDraws(4)
    grow(f, 2031, 0.06, premium, draws, b)

    sector = old["sector"].astype(np.intp)
    n_sec = len(premium)
    gap = (np.log(old["revenue"]) - old["anchor"]) * b.size_reversion
    noise = draws.normal(2031, "growth", old["uid"]) * b.growth_noise
    log_g = b.innovation_growth_premium * old["innovated"] - gap + noise
    drawn = np.exp(log_g) * old["revenue"]
    demand_growth = 1.06 * np.exp(premium)
    demand = np.bincount(sector, weights=old["revenue"], minlength=n_sec) * demand_growth
    supplied = np.bincount(sector, weights=drawn, minlength=n_sec)
    share = np.divide(demand, supplied, out=np.ones(n_sec), where=supplied > 0)
    rho = b.margin_persistence
    want = {
        "revenue": np.maximum(drawn * share[sector], 1.0),
        "anchor": old["anchor"] + np.log(demand_growth)[sector],
        "margin": old["margin"] * rho + (1 - rho) * b.margin_mean
        + draws.normal(2031, "margin", old["uid"]) * (b.margin_sd * np.sqrt(1 - rho**2)),
        "rev_l1": old["revenue"], "rev_l2": old["rev_l1"], "rd_l1": old["rd"], "rd_l2": old["rd_l1"],
        "subsidy_l1": old["subsidy"],
    }
    for name, values in want.items():
        assert f.cols[name].tobytes() == values.tobytes(), name
    assert (f.revenue == 1.0).any() and not np.array_equal(f.revenue, old["revenue"])


def test_compiled_employees_are_the_numpy_formula_bit_for_bit():
    """``set_employees`` gives bit for bit np.maximum(revenue / revenue per employee of the sector, 1): small firms
    at the floor, NaN revenue stays NaN."""
    from qhsim.firms.dynamics import set_employees

    rng = np.random.default_rng(22)
    f = random_population(rng, N_FIRMS, 2030)
    f.revenue[:3] = [0.5, 0.0, np.nan]
    S = sector_table()
    want = np.maximum(f.revenue / S.revenue_per_employee[f.sector.astype(np.intp)], 1.0)
    set_employees(f, S.revenue_per_employee)
    assert f.employees.tobytes() == want.tobytes()
    assert f.employees[1] == 1.0 and np.isnan(f.employees[2]) and (f.employees > 1.0).any()


def test_compiled_innovation_is_the_numpy_formula_bit_for_bit(b):
    """``innovate`` (compiled knowledge and high-tech share passes) gives bit for bit what its docstring's rules give
    as numpy array expressions: knowledge, core-IP clocks of the R&D performers (an item when the clock is at most
    the hazard, which it otherwise spends; a new clock keyed by the item count after one), the share drift, the
    innovators' gain and the cap at 1."""
    from qhsim.draws import KeyedDraws
    from qhsim.firms.dynamics import innovate

    rng = np.random.default_rng(22)
    f = random_population(rng, N_FIRMS, 2030)
    f.rd_real[:] = np.where(rng.random(N_FIRMS) < 0.4, rng.gamma(1.0, 300.0, N_FIRMS), 0.0)
    f.hitech_share[:5] = 0.999  # capped after a gain
    f.ip_clock[:] = rng.exponential(size=N_FIRMS)
    old = {name: col.copy() for name, col in f.cols.items()}
    draws = KeyedDraws(5)
    innovate(f, 2031, draws, b)

    doing = old["rd_real"] > 0
    hazard = np.where(doing, b.ip_probability_scale * np.sqrt(old["rd_real"] / 100.0), 0.0)
    innovated = doing & (old["ip_clock"] <= hazard)
    ip = old["ip"] + innovated
    next_clock = np.array([draws.exponential(int(n), "ip_clock", np.array([u]))[0] for u, n in zip(old["uid"], ip)])
    clock = np.where(innovated, next_clock, np.where(doing, old["ip_clock"] - hazard, old["ip_clock"]))
    target = np.where(old["rd_active"], old["tech_orient"], b.non_rd_hitech_factor * old["tech_orient"])
    share = (target - old["hitech_share"]) * b.hitech_share_drift + old["hitech_share"]
    want = {
        "knowledge": old["knowledge"] * (1.0 - b.knowledge_depreciation) + old["rd_real"],
        "innovated": innovated,
        "ip": ip,
        "ip_clock": clock,
        "hitech_share": np.minimum(np.where(innovated, share + b.innovation_hitech_gain, share), 1.0),
    }
    for name, values in want.items():
        assert f.cols[name].tobytes() == values.astype(f.cols[name].dtype).tobytes(), name
    assert innovated.any() and (f.hitech_share == 1.0).any()


def test_compiled_start_logit_is_the_numpy_formula_bit_for_bit(b):
    """``start_logit`` (one compiled pass after numpy's log) gives bit for bit the numpy array expression of its
    docstring, voucher and campaign flags, and a NaN user-cost term, included."""
    rng = np.random.default_rng(23)
    f = random_population(rng, N_FIRMS, 2030)
    f.voucher[:] = rng.random(N_FIRMS) < 0.3
    targeted = rng.random(N_FIRMS) < 0.2
    uc = rng.uniform(0.5, 1.2, N_FIRMS)
    uc[:2] = (np.nan, 0.75)
    S = sector_table()
    want = ((b.start_intercept + S.rd_logit)[f.sector.astype(np.intp)]
            + b.rd_size_slope * np.log(f.revenue / 1000.0)
            - k.user_cost_term(uc, b)
            + b.voucher_start_effect * f.voucher
            + b.campaign_start_effect * targeted)
    got = k.start_logit(f, uc, S.rd_logit, targeted, b)
    assert got.tobytes() == want.tobytes()
    assert np.isnan(got[0]) and (f.voucher & targeted).any()


def test_rd_in_three_years_is_the_numpy_mask_positions():
    """``rd_in_three_years`` (one compiled pass) finds the positions numpy finds for (rd + rd_l1 + rd_l2) > 0, with
    sums that round to zero or below, NaN and negative values among them."""
    rng = np.random.default_rng(24)
    f = random_population(rng, N_FIRMS, 2030)
    for name in ("rd", "rd_l1", "rd_l2"):
        f.cols[name][:] = np.where(rng.random(N_FIRMS) < 0.3, rng.normal(0.0, 100.0, N_FIRMS), 0.0)
    f.rd[:4], f.rd_l1[:4], f.rd_l2[:4] = [1e-300, np.nan, 1.0, 0.1], [-1e-300, 1.0, -1.0, 0.2], [0.0, 1.0, 0.0, -0.3]
    got = cert.rd_in_three_years(f)
    want = np.flatnonzero((f.rd + f.rd_l1 + f.rd_l2) > 0)
    assert got.dtype == np.intp and got.tolist() == want.tolist()
    assert 0 < len(got) < N_FIRMS


def test_compiled_tax_conditions_are_the_numpy_masks():
    """``tax_flags`` (one compiled pass) gives the numpy masks of its conditions: profit at the small-enterprise
    limit, employees at theirs, a certificate valid through exactly the year, a zero and a NaN profit."""
    rng = np.random.default_rng(26)
    f = random_population(rng, N_FIRMS, 2030)
    pol = policy("baseline", 2030)
    f.margin[:4] = (pol.small_max_income / f.revenue[0], 0.0, np.nan, -0.1)
    f.employees[:2] = (pol.small_max_employees, pol.small_max_employees + 1)
    f.hte_until[:2] = (2030, 2029)
    prof = f.margin * f.revenue
    want = ((prof <= pol.small_max_income) & (f.employees <= pol.small_max_employees), f.encouraged,
            f.hte_until >= pol.year, prof > 0)
    got = k.tax_flags(f, pol)
    for g, w in zip(got, want):
        assert g.dtype == bool and g.tolist() == w.tolist()
    assert got[0].any() and not got[0].all() and got[2].any() and not got[3][1:4].any()
