"""Directions of mechanisms and policy levers 机制与政策工具的方向: each test compares the same agents (same seed,
same draws) with and without one mechanism or lever, and checks the sign of its effect — the rules that the
kernel-against-reference tests cannot check, since a rule written wrongly in both copies agrees with itself.
benchmarks/mutation_check.py plants the sign errors these tests must catch (code review, finding 2)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from qhsim import data
from qhsim.config import load_scenario
from qhsim.draws import KeyedDraws
from qhsim.firms import sector_table
from qhsim.firms.decision import decide
from qhsim.firms.dynamics import exit_mask
from qhsim.firms.ladder import certify
from qhsim.government.programmes import ex_ante_grants, rd_rewards
from qhsim.knowledge import market as mk
from qhsim.knowledge import platforms as pf
from qhsim.knowledge import talent as tl
from qhsim.knowledge.institutions import InstitutionSet
from qhsim.knowledge.literacy import Literacy
from qhsim.draws import KnowledgeDraws
from qhsim.knowledge.params import SOURCES, institution_rows, knowledge_parameters, population_shares
from qhsim.model import QinghaiModel
from qhsim.policy import knowledge_policy_at, policy_at
from qhsim.runner import as_scenario
from qhsim.scaling import Carry

from conftest import PREF, SCENARIOS, SECTOR, default_behaviour, make_firms, policy

S = sector_table()
KP = knowledge_parameters()
N_PREF, N_SEC = len(data.prefectures()), len(data.sectors())
YEAR = 2020
LEVEL = 1.3  # R&D level factor (the model calibrates it at initialisation)
FTE_COST = 27.0  # 万元 per R&D FTE
NEVER = np.inf  # a switching clock no hazard reaches: nobody starts or stops R&D


def kp_with(**changes) -> SimpleNamespace:
    return SimpleNamespace(**{**vars(KP), **changes})


def knowledge_policy(year: int = YEAR, **changes):
    return replace(knowledge_policy_at(load_scenario(SCENARIOS / "baseline.toml"), year), **changes)


def logit(p):
    return np.log(p / (1.0 - p))


# --- firms: the R&D decision ---------------------------------------------------------------------------------------


def decision(rows: list[dict], pol=None, b=None) -> dict[str, np.ndarray]:
    """``decide`` for the firms ``rows`` with switching clocks that never run out."""
    f = make_firms(*rows)
    return decide(f, pol or policy("baseline", YEAR), b or default_behaviour(), S, LEVEL, np.full(len(f), NEVER),
                  FTE_COST)


def test_a_voucher_raises_the_start_probability_by_its_logit_effect():
    b = default_behaviour()
    out = decision([{"voucher": False}, {"voucher": True}], b=b)
    p = out["p_start"]
    assert p[1] > p[0] > 0
    assert logit(p[1]) - logit(p[0]) == pytest.approx(b.voucher_start_effect, rel=1e-9)


def test_a_two_zeroings_campaign_raises_the_start_probability_of_the_firms_it_targets():
    """A large industrial firm without R&D in Haixi, the year Haixi runs the campaign, against the same year
    without it."""
    b = default_behaviour()
    pol = policy("baseline", 2025)
    assert pol.zeroing_prefectures[PREF["haixi"]]
    firm = {"pref": PREF["haixi"], "sector": SECTOR["salt_lake"], "revenue": pol.zeroing_min_revenue * 2}
    on = decision([firm], pol, b)
    off = decision([firm], replace(pol, zeroing_prefectures=np.zeros(N_PREF, dtype=bool)), b)
    assert on["targeted"][0] and not off["targeted"][0]
    assert on["p_start"][0] > off["p_start"][0]
    assert logit(on["p_start"][0]) - logit(off["p_start"][0]) == pytest.approx(b.campaign_start_effect, rel=1e-9)


def test_a_knowledge_stock_raises_desired_intensity():
    """r* is multiplied by 1 + kappa min(K / revenue, 1): a stock of one year's revenue multiplies it by 1 + kappa."""
    b = default_behaviour()
    active = {"rd_active": True, "rd": 30.0, "rd_l1": 30.0, "rd_int": 0.03}
    out = decision([{**active, "knowledge": 0.0}, {**active, "knowledge": 1000.0}], b=b)
    r = out["r_star"]
    assert 0 < r[0] < r[1] < b.max_rd_intensity
    assert r[1] / r[0] == pytest.approx(1.0 + b.knowledge_effect, rel=1e-9)


@pytest.mark.parametrize("certificate", ["hte_until", "tbe_until", "giant_until"])
def test_a_certified_firm_stops_rd_less_often(certificate):
    b = default_behaviour()
    active = {"rd_active": True, "rd": 30.0, "rd_l1": 30.0, "rd_int": 0.03}
    p = decision([active, {**active, certificate: YEAR + 1}], b=b)["p_stop"]
    assert b.certified_stop_factor < 1.0
    assert p[1] < p[0]
    assert p[1] == pytest.approx(b.certified_stop_factor * p[0], rel=1e-12)


# --- firms: exit ----------------------------------------------------------------------------------------------------


def exits(b, **columns) -> np.ndarray:
    """Exit mask of 4,000 plain firms (conftest) with ``columns`` set: the same uids, so the same draws, in every
    call."""
    n = 4000
    f = make_firms(*({} for _ in range(n)))
    for name, value in columns.items():
        f.cols[name][:] = value
    return exit_mask(f, YEAR, KeyedDraws(3), b)


def test_young_firms_exit_more_often():
    b = default_behaviour()
    assert b.young_exit_factor > 1.0
    young = exits(b, birth=YEAR - 1)
    old = exits(b, birth=YEAR - 10)
    assert young.sum() > old.sum() > 0
    assert not (old & ~young).any()  # the same draws: every old firm that exits would also exit when young


def test_exit_hazard_falls_with_size_above_the_threshold():
    """Above the above-scale threshold the hazard is x (revenue / threshold)^-e (the default e is 0: set to 0.5)."""
    b = default_behaviour(exit_size_elasticity=0.5)
    threshold = data.values("rules")["above_scale_revenue"]
    at_threshold = exits(b, birth=YEAR - 10, revenue=threshold)
    ten_times = exits(b, birth=YEAR - 10, revenue=10 * threshold)
    assert at_threshold.sum() > ten_times.sum() > 0
    assert not (ten_times & ~at_threshold).any()


# --- firms: the little giants --------------------------------------------------------------------------------------


def test_little_giants_are_the_fastest_growers():
    """Three certified firms above the revenue bar growing 12%, 20% and 30% a year: a quota of one takes the 30%
    firm, a quota of two the 30% and 20% firms."""
    b = default_behaviour()
    pol = policy("baseline", YEAR)
    growth = [1.12, 1.2, 1.3]
    rows = [{"revenue": 5000.0, "rev_l1": 5000.0 / g, "rev_l2": 5000.0 / g**2, "hte_until": YEAR + 1} for g in growth]
    assert min(growth) - 1 > b.giant_min_growth and 5000.0 >= b.giant_min_revenue
    for quota, want in ((1, [False, False, True]), (2, [False, True, True])):
        f = make_firms(*rows)
        certify(f, pol, b, KeyedDraws(1), quota, FTE_COST)
        assert list(f.giant_until >= YEAR) == want, quota


# --- government programmes -----------------------------------------------------------------------------------------


def grant_shares(rows: list[dict], group: np.ndarray) -> dict[str, float]:
    """Share of the grant money that goes to ``group`` under each selection rule (the budget pays two of the four grants)."""
    b = default_behaviour(grant_apply_probability=1.0, grant_merit_noise_sd=0.0)
    f = make_firms(*rows)
    out = {}
    for rule in ("merit", "sme_first", "weak_prefecture_first"):
        pol = replace(policy("baseline", YEAR), grant_size=50.0, grant_cofunding=1.0, grant_selection=rule)
        paid = ex_ante_grants(f, pol, f.rd.copy(), 100.0, KeyedDraws(1), b)
        assert paid.sum() == pytest.approx(100.0)
        out[rule] = paid[group].sum() / paid.sum()
    return out


PERFORMER = {"rd_active": True, "rd": 300.0, "revenue": 5000.0}


def test_sme_first_funds_smes_ahead_of_merit():
    """Two large firms with high merit (knowledge) and two SMEs without: merit funds the large firms, sme_first the
    SMEs."""
    sme_cut = data.values("rules")["sme_max_employees"]
    rows = [{**PERFORMER, "employees": 4 * sme_cut, "knowledge": 1e4}] * 2 + [{**PERFORMER, "employees": 10.0}] * 2
    shares = grant_shares(rows, np.array([False, False, True, True]))
    assert shares["merit"] == 0.0
    assert shares["sme_first"] == 1.0


def test_weak_prefecture_first_funds_firms_outside_xining_ahead_of_merit():
    rows = [{**PERFORMER, "pref": PREF["xining"], "knowledge": 1e4}] * 2 + [{**PERFORMER, "pref": PREF["haixi"]}] * 2
    shares = grant_shares(rows, np.array([False, False, True, True]))
    assert shares["merit"] == 0.0
    assert shares["weak_prefecture_first"] == 1.0


def test_rd_rewards_ration_each_prefecture_within_its_own_fund():
    """Claims of 150 in Xining and 60 in Haixi against a fund of 100 each: Xining pays its whole fund pro rata,
    Haixi pays its claims in full (the funds are not pooled)."""
    f = make_firms({"pref": PREF["xining"]}, {"pref": PREF["xining"]}, {"pref": PREF["haixi"]}, {"pref": PREF["haixi"]})
    claims = np.array([100.0, 50.0, 40.0, 20.0])
    paid = rd_rewards(f, claims, 100.0, N_PREF)
    assert list(paid) == pytest.approx([100.0 * 100 / 150, 50.0 * 100 / 150, 40.0, 20.0])
    assert paid[:2].sum() == pytest.approx(100.0)
    assert list(rd_rewards(f, claims, 1000.0, N_PREF)) == list(claims)  # funds that cover every claim pay it


def test_the_new_hte_reward_goes_to_first_certificates_only():
    """Every year the province pays the reward once per firm certified for the first time this year (hte_since); a
    certificate granted to a firm certified before (a renewal, or a new application after a lapse) earns nothing."""
    sc = as_scenario(SCENARIOS / "baseline.toml")
    model = QinghaiModel(sc)
    model.run_to(2017)
    for year in (2018, 2019, 2020):
        model.step()
        pol, f = policy_at(sc, year), model.firms
        first = int((f.hte_since == year).sum())
        granted = int((f.hte_until == year + pol.hte_validity - 1).sum())
        assert pol.hte_reward > 0 and 0 < first < granted, year
        assert model.province.history[-1]["hte_reward"] == pytest.approx(pol.hte_reward * first / model.scale), year


# --- talent ---------------------------------------------------------------------------------------------------------


def person(n: int = 2, **columns) -> dict[str, np.ndarray]:
    """``n`` copies of a researcher (level 1, local origin, aged 40, earning the outside wage, no clawback); columns
    given as lists set one value per copy."""
    p = {"level": 1, "origin": 0, "age": 40, "w_eff": 20.0, "w_out": 20.0, "amenity": 0.2, "clawback": 0.0}
    return {k: np.asarray(columns.get(k, [v] * n)) for k, v in p.items()}


def test_a_younger_researcher_leaves_qinghai_more_often():
    """Under 35 the departure logit rises by depart_young_effect."""
    p = person(age=[34, 35])
    prob = tl.departure_probability(**p, kp=KP)
    assert KP.depart_young_effect > 0
    assert prob[0] > prob[1]
    assert logit(prob[0]) - logit(prob[1]) == pytest.approx(KP.depart_young_effect, rel=1e-9)


def test_a_remote_prefecture_attracts_fewer_and_loses_more_researchers():
    """A higher amenity cost (remoteness, altitude) lowers the probability that an outside candidate takes a post and
    raises the probability that a resident leaves."""
    near, far = min(KP.amenity_cost), max(KP.amenity_cost)
    assert far > near
    w_offer, w_out = np.array([20.0, 20.0]), np.array([20.0, 20.0])
    attract = tl.attraction_probability(w_offer, w_out, np.array([near, far]), KP.recruit_intercept, KP)
    assert attract[1] < attract[0]
    leave = tl.departure_probability(**person(amenity=[near, far]), kp=KP)
    assert leave[1] > leave[0]


# --- institutions ---------------------------------------------------------------------------------------------------


def funded_institutions(kp: SimpleNamespace = KP, **policy_changes) -> InstitutionSet:
    """The institutions of institutions.toml with 50 researchers each, after one year's budget."""
    inst = InstitutionSet(institution_rows(), 1.0, 46400.0, kp)
    inst.headcount = np.full(inst.n, 50.0)
    inst.effective_staff = inst.headcount.copy()
    inst.budget(YEAR, knowledge_policy(**policy_changes), 1.2, np.zeros(inst.n), KnowledgeDraws(1), kp)
    return inst


def test_weak_prefecture_first_moves_competitive_funding_out_of_xining():
    shares = {}
    for rule in ("merit", "weak_prefecture_first"):
        inst = funded_institutions(competitive_selection=rule)
        comp = inst.provincial_competitive
        shares[rule] = comp[inst.pref != PREF["xining"]].sum() / comp.sum()
    assert KP.weak_prefecture_weight > 1.0
    assert shares["weak_prefecture_first"] > shares["merit"] > 0


def test_competitive_funding_rises_with_knowledge_per_researcher():
    """The same staff everywhere, knowledge rising along the rows: merit (no review noise) pays more to more
    knowledge, as (K / E)^merit_knowledge_elasticity."""
    kp = kp_with(merit_noise=0.0)
    inst = InstitutionSet(institution_rows(), 1.0, 46400.0, kp)
    inst.knowledge = np.linspace(100.0, 5000.0, inst.n)
    inst.headcount = np.full(inst.n, 50.0)
    inst.effective_staff = inst.headcount.copy()
    inst.budget(YEAR, knowledge_policy(competitive_selection="merit"), 1.2, np.zeros(inst.n), KnowledgeDraws(1), kp)
    comp = inst.provincial_competitive
    assert kp.merit_knowledge_elasticity > 0
    assert np.all(np.diff(comp) > 0)
    assert comp[-1] / comp[0] == pytest.approx(50.0 ** kp.merit_knowledge_elasticity, rel=1e-9)


def test_central_core_funding_grows_at_the_central_growth_rate():
    growth = 0.05
    inst = funded_institutions(central_growth=growth)
    central = inst.owner == "central"
    assert central.any()
    institutional = inst.sources[:, SOURCES.index("institutional")]
    assert list(institutional[central]) == pytest.approx(list(inst.base_sources[central, 0] * (1.0 + growth)))


# --- technology market ------------------------------------------------------------------------------------------


def test_buyers_return_to_their_past_partner():
    """3,000 R&D firms whose last deal was with the same Qinghai supplier close more deals with it than the same
    firms without a past partner (same searches, same draws): more of them end the year with it as their partner."""
    inst = InstitutionSet(institution_rows(), 1.0, 46400.0, KP)
    inst.tto_capacity[:] = 10_000.0
    n = 3000
    pref, sector = np.zeros(n, dtype=np.int64), np.full(n, SECTOR["bio_medicine"])
    kpol = knowledge_policy()
    sup = mk.build_suppliers(inst, np.zeros(n, bool), pref, sector, np.zeros(n), N_PREF, N_SEC, kpol.researcher_share,
                             KP)
    sup.capacity[:] = 10_000.0

    def partners(last: int) -> np.ndarray:
        """Each buyer's partner in its last Qinghai deal of the year, when every buyer's past partner is ``last``."""
        buyers = mk.Buyers(uid=np.arange(n), pref=pref, sector=sector, revenue=np.full(n, 3000.0),
                           employees=np.full(n, 100.0), rd=np.full(n, 100.0),
                           last_partner=lambda u: np.full(len(u), last))
        out = mk.run_market(YEAR, kpol, KP, KnowledgeDraws(5), buyers, sup, Carry(1.0), N_PREF, inst.n, 1.0)
        return out.partner_code

    without = partners(-1)
    codes, counts = np.unique(without, return_counts=True)
    partner = int(codes[np.argmax(counts)])  # the buyers' most frequent partner without a bonus
    deals = {"none": int((without == partner).sum()), "past": int((partners(partner) == partner).sum())}
    assert KP.market_past_partner_bonus > 0
    assert deals["past"] > deals["none"]


# --- literacy -------------------------------------------------------------------------------------------------------


def test_literacy_forgetting_lowers_literacy():
    share = population_shares()
    population = 592.4e4 * share
    level = {}
    for label, forgetting in (("none", 0.0), ("default", KP.literacy_forgetting)):
        kp = kp_with(literacy_forgetting=forgetting)
        lit = Literacy(share, kp, 2015)
        for year in range(2016, 2021):
            lit.step(year, lit.allocate(7000.0, "population"), population, kp)
        level[label] = lit.province()
    assert KP.literacy_forgetting > 0
    assert level["default"] < level["none"]


# --- platforms and incubators ---------------------------------------------------------------------------------------


def platform_year(ps: pf.PlatformSystem, n_firms: int, rd: float, kp: SimpleNamespace, **policy_changes):
    """One platform year for ``n_firms`` certified firms in Xining with R&D ``rd`` (institutions host nothing new)."""
    firms = SimpleNamespace(uid=np.arange(n_firms), pref=np.zeros(n_firms, dtype=np.int64),
                            sector=np.full(n_firms, SECTOR["new_materials"]), rd=np.full(n_firms, rd),
                            certified=np.ones(n_firms, bool), platform_money=np.zeros(n_firms))
    inst = InstitutionSet(institution_rows(), 1.0, 46400.0, kp)
    inst.rd[:] = 0.0
    kpol = knowledge_policy(**{"incubator_quota": 0, "prefecture_platform_quota": 0, **policy_changes})
    return ps.step(YEAR, kpol, kp, KnowledgeDraws(3), firms, inst, firms.uid)


def test_a_platform_subsidy_raises_applications():
    """400 qualified hosts, a quota above them all: a 100万元 subsidy per new provincial platform raises the
    application probability from p0 to p0 (1 + e_s), so more platforms are recognised."""
    kp = kp_with(platform_fail_probability=0.0)
    assert kp.platform_subsidy_effect > 0 and kp.platform_apply_probability * (1 + kp.platform_subsidy_effect) < 1
    new = {}
    for subsidy in (0.0, 100.0):
        flows = platform_year(pf.PlatformSystem(1.0, N_PREF, N_SEC), 400, 2 * kp.platform_firm_min_rd, kp,
                              platform_quota=1000, platform_subsidy_provincial=subsidy)
        new[subsidy] = flows.new_provincial
    assert new[100.0] > new[0.0] > 0


def test_incubator_support_lowers_incubator_failures():
    """1,000 incubators evaluated this year: with a 100万元 yearly support fewer fail."""
    kp = kp_with(platform_fail_probability=0.0, platform_apply_probability=0.0)
    removed = {}
    for support in (0.0, 100.0):
        ps = pf.PlatformSystem(1.0, N_PREF, N_SEC)
        ps.table.add(ptype=pf.INCUBATOR, level=pf.PROVINCIAL, host_kind=pf.HOST_CARRIER, host=-1, pref=0, sector=-1,
                     since=2015, eval_next=YEAR, key=np.arange(1000))
        removed[support] = platform_year(ps, 1, 0.0, kp, platform_quota=0, incubator_subsidy=support).removed
    assert kp.incubator_support_effect > 0
    assert removed[0.0] > removed[100.0] > 0
