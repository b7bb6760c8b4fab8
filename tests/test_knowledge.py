"""Knowledge system: institutions, technology market, patents, platforms, literacy on hand-built cases; the
integration into the model (every plan indicator produced); directional policy tests under common random numbers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from qhsim import data
from qhsim.config import load_scenario
from qhsim.draws import KNOWLEDGE_PURPOSES, KnowledgeDraws
from qhsim.indicators import KNOWLEDGE_INDICATORS
from qhsim.knowledge import ResearchInstitute, University
from qhsim.knowledge import market as mk
from qhsim.knowledge import patents as pt
from qhsim.knowledge import platforms as pf
from qhsim.knowledge.institutions import INSTITUTION_KEY, InstitutionSet
from qhsim.knowledge.literacy import Literacy
from qhsim.knowledge.params import institution_rows, knowledge_parameters, population_shares
from qhsim.model import QinghaiModel
from qhsim.policy import knowledge_policy_at
from qhsim.results import PROVINCE
from qhsim.scaling import Carry

from conftest import SCENARIOS, SECTOR

KP = knowledge_parameters()
N_PREF, N_SEC = len(data.prefectures()), len(data.sectors())
YEAR = 2020


def override(**changes) -> SimpleNamespace:
    return SimpleNamespace(**{**KP.__dict__, **changes})


def baseline_policy(year: int = YEAR, **changes):
    kpol = knowledge_policy_at(load_scenario(SCENARIOS / "baseline.toml"), year)
    return kpol.__class__(**{**kpol.__dict__, **changes})


def institutions(scale: float = 1.0) -> InstitutionSet:
    return InstitutionSet(institution_rows(), scale, 46400.0 * scale, KP)


def small_model(name: str = "baseline", scale: float = 0.3) -> QinghaiModel:
    sc = load_scenario(SCENARIOS / f"{name}.toml")
    return QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": scale})}))


@pytest.fixture(scope="module")
def model() -> QinghaiModel:
    m = small_model(scale=0.2)
    m.run_to(2021)
    return m


# --- institutions ------------------------------------------------------------------------------------------------


def test_institutions_are_mesa_agents_from_data(model):
    """Every row of institutions.toml is a University or ResearchInstitute agent of the model; 2015 public R&D is
    the documented 4.64亿元 and each unit's budget sources add up to its R&D."""
    rows = institution_rows()
    agents = model.knowledge.institutions
    assert len(agents) == len(rows)
    assert {a.id for a in model.agents_by_type[University]} == {r.id for r in rows if r.kind == "university"}
    assert {a.id for a in model.agents_by_type[ResearchInstitute]} == {r.id for r in rows if r.kind == "institute"}
    first = {r["region"]: r for r in model.rows if r["year"] == 2015}
    assert first[PROVINCE]["public_rd"] == pytest.approx(data.observed("public_rd")[2015])  # 4.634亿元
    for a in agents:
        assert sum(a.budget_by_source.values()) == pytest.approx(a.rd)
    qhu = next(a for a in agents if a.id == "qhu")
    assert "青海大学" in qhu.label and qhu.researchers > 0 and qhu.prefecture == "xining"
    assert qhu.platforms_hosted["provincial"] > 0 and qhu.transfer_capacity > 0 and qhu.graduates_per_year > 0


def test_research_funding_instruments_reach_the_institutions():
    """The provincial block budget is shared by provincial units in proportion to researchers; the competitive
    budget by merit; doubling either adds exactly that money to public R&D."""
    draws = KnowledgeDraws(1)
    totals = {}
    for label, change in (("base", {}), ("inst", {"institutional_budget": 40000.0}), ("comp", {"competitive_budget": 30000.0})):
        inst = institutions()
        inst.headcount = np.linspace(10, 200, inst.n)
        inst.effective_staff = inst.headcount.copy()
        kpol = baseline_policy(**{"institutional_budget": 20000.0, "competitive_budget": 15000.0, **change})
        inst.budget(YEAR, kpol, 1.2, np.zeros(inst.n), draws, KP)
        totals[label] = inst.rd.sum()
        prov = inst.owner == "provincial"
        shares = inst.provincial_institutional[prov] / inst.provincial_institutional[prov].sum()
        assert shares == pytest.approx(inst.headcount[prov] / inst.headcount[prov].sum())
        assert inst.provincial_institutional[~prov].sum() == 0.0
    assert totals["inst"] - totals["base"] == pytest.approx(20000.0)
    assert totals["comp"] - totals["base"] == pytest.approx(15000.0)


# --- technology market -------------------------------------------------------------------------------------------


def market_case(n_buyers: int = 3000):
    """Buyers: R&D firms in Xining (bio-medicine); suppliers: the institutions plus a few seller firms."""
    inst = institutions()
    inst.tto_capacity[:] = 10_000.0  # no capacity limit in these tests
    n = n_buyers + 20
    firm = SimpleNamespace(
        uid=np.arange(n), pref=np.zeros(n, dtype=np.int64), sector=np.full(n, SECTOR["bio_medicine"]),
        revenue=np.full(n, 3000.0), employees=np.full(n, 100.0), rd=np.r_[np.full(n_buyers, 100.0), np.full(20, 800.0)],
        knowledge=np.r_[np.zeros(n_buyers), np.full(20, 2000.0)], certified=np.r_[np.zeros(n_buyers, bool), np.ones(20, bool)],
    )
    buyers = mk.Buyers(uid=firm.uid, pref=firm.pref, sector=firm.sector, revenue=firm.revenue, employees=firm.employees,
                       rd=firm.rd, last_partner=lambda u: np.full(len(u), -1))
    return inst, firm, buyers


def run_case(kpol, kp, seed: int = 5):
    inst, firm, buyers = market_case()
    sup = mk.build_suppliers(inst, firm.certified, firm.pref, firm.sector, firm.knowledge, N_PREF, N_SEC,
                             kpol.researcher_share, kp)
    sup.capacity[:] = 10_000.0
    return mk.run_market(YEAR, kpol, kp, KnowledgeDraws(seed), buyers, sup, Carry(1.0), N_PREF, inst.n, 1.0)


def test_broker_subsidy_raises_matches():
    """Same searches and draws: a 1% broker subsidy brings in more brokers, and brokered deals close more often."""
    kp = override(market_external_2015=0.0)
    without = run_case(baseline_policy(broker_rate=0.0, market_budget=1e6), kp)
    with_sub = run_case(baseline_policy(broker_rate=0.01, broker_cap=5.0, market_budget=1e6), kp)
    assert with_sub.seekers == without.seekers > 1000
    assert with_sub.brokered > without.brokered
    deals = [o.contracts.sum() + o.outside for o in (without, with_sub)]
    assert deals[1] > deals[0]
    assert with_sub.subsidy_broker.sum() > 0 == without.subsidy_broker.sum()


def test_researchers_income_share_raises_institutions_deals():
    """A higher researchers' share of transfer income (50% -> 70%) makes institutions take on more contracts."""
    kp = override(market_external_2015=0.0)
    low = run_case(baseline_policy(researcher_share=0.5), kp)
    high = run_case(baseline_policy(researcher_share=0.7), kp)
    assert (high.inst_rd_income.sum() + high.inst_transfer_net.sum()) > (low.inst_rd_income.sum() + low.inst_transfer_net.sum())


def test_subsidy_rules_rates_and_caps():
    """Buyer 3% <= 10万 on development / transfer with a Qinghai seller; broker 1% <= 5万 on brokered deals; SME
    patent conversion 2% <= 20万 on transfer contracts of eligible SMEs (seed 001:L2154-2155, 004:L50)."""
    kpol = baseline_policy(buyer_rate=0.03, buyer_cap=10.0, broker_rate=0.01, broker_cap=5.0, sme_rate=0.02, sme_cap=20.0)
    value = np.array([100.0, 1000.0, 100.0, 2000.0, 100.0, 100.0])
    ctype = np.array([mk.DEVELOPMENT, mk.TRANSFER, mk.SERVICES, mk.TRANSFER, mk.DEVELOPMENT, mk.CONSULTING])
    local = np.array([True, True, True, True, False, True])
    broker = np.array([True, True, False, False, True, True])
    sme = np.array([False, True, True, True, True, False])
    b, k, s = mk.subsidies(value, ctype, local, broker, sme, kpol)
    assert list(b) == pytest.approx([3.0, 10.0, 0.0, 10.0, 0.0, 0.0])
    assert list(k) == pytest.approx([1.0, 5.0, 0.0, 0.0, 0.0, 1.0])
    assert list(s) == pytest.approx([0.0, 20.0, 0.0, 20.0, 0.0, 0.0])


def test_buyer_subsidy_raises_demand_and_the_market_respects_its_budget():
    """Expected subsidies raise the search rate; subsidies paid never exceed the budget (pro rata)."""
    rd = np.array([0.0, 50.0, 400.0])
    rev = np.array([5000.0, 500.0, 3000.0])
    assert (mk.demand_rate(rd, rev, np.full(3, 0.03), KP) > mk.demand_rate(rd, rev, np.zeros(3), KP)).all()
    kp = override(market_external_2015=0.0)
    out = run_case(baseline_policy(buyer_rate=0.3, buyer_cap=1e3, market_budget=100.0), kp)
    paid = out.subsidy_buyer.sum() + out.subsidy_broker.sum() + out.subsidy_sme.sum()
    assert paid == pytest.approx(100.0)


# --- patents -----------------------------------------------------------------------------------------------------


def test_patents_are_granted_with_a_lag_and_lapse():
    """Applications are granted 1-4 years later at the grant share; valid patents lapse at the hazard; pending
    applications of owners that exit are abandoned."""
    draws = KnowledgeDraws(2)
    office = pt.PatentOffice()
    owners = np.arange(5000)
    office.file(2020, owners, np.full(5000, 4), draws, KP)
    assert office.pending == pytest.approx(5000 * 4 * KP.patent_grant_share, rel=0.05)
    owner, count = office.grants_due(2020)
    assert len(owner) == 0  # nothing is granted in the year of application
    granted = sum(office.grants_due(y)[1].sum() for y in range(2021, 2025))
    assert granted == pytest.approx(5000 * 4 * KP.patent_grant_share, rel=0.05) and office.pending == 0

    valid = np.full(20000, 10)
    after = pt.lapse(valid, np.arange(20000), 2021, draws, KP)
    assert (after <= valid).all()
    assert after.sum() == pytest.approx(valid.sum() * (1 - KP.patent_lapse_rate), rel=0.02)
    assert (pt.lapse(valid, np.arange(20000), 2021, draws, override(patent_lapse_rate=0.0)) == valid).all()

    office.file(2021, np.array([1, 2]), np.array([50, 50]), draws, KP)
    office.abandon(office.owner != 1)
    assert set(office.owner) == {2}


def test_patent_rates_rise_with_rd_and_staffing():
    rd = np.array([0.0, 50.0, 100.0, 1000.0])
    lam = pt.firm_rate(rd, np.ones(4), KP)
    assert lam[0] == 0.0 and (np.diff(lam) > 0).all()
    assert (pt.firm_rate(rd, np.full(4, 0.5), KP)[1:] < lam[1:]).all()


def test_patent_propensity_trend_until_its_end_year():
    """Applications per R&D yuan change by the trend a year from 2015 (earlier filings reversed) and stay at the
    end year's level afterwards; no trend is exactly 1."""
    kp = override(patent_propensity_trend=-0.1, patent_propensity_trend_end=2025)
    assert pt.propensity(2015, kp) == 1.0
    assert pt.propensity(2020, kp) == pytest.approx(0.9 ** 5)
    assert pt.propensity(2013, kp) == pytest.approx(0.9 ** -2)
    assert pt.propensity(2035, kp) == pt.propensity(2025, kp) == pytest.approx(0.9 ** 10)
    assert all(pt.propensity(y, KP) == 1.0 for y in range(2012, 2036))


def test_falling_patent_propensity_flattens_the_patent_path():
    """Under common random numbers a falling propensity raises the filings before 2016 (more grants in 2016) and
    lowers the later ones (fewer valid patents by 2020)."""
    def patents(trend: float) -> dict[int, float]:
        sc = load_scenario(SCENARIOS / "baseline.toml")
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.3}),
                                   "parameters": {**sc.parameters, "patent_propensity_trend": trend}})
        m = QinghaiModel(sc)
        m.run_to(2020)
        return {r["year"]: r["valid_invention_patents"] for r in m.rows if r["region"] == PROVINCE}

    flat, falling = patents(0.0), patents(-0.1)
    assert falling[2016] > flat[2016]
    assert falling[2020] < flat[2020]


def test_haidong_patent_factor_scales_haidong_firms_only():
    """The prefecture factor multiplies the rate of Haidong's firms and of no other prefecture's; at its default 1
    it is the identity."""
    pref = np.arange(len(data.prefectures()))
    haidong = data.prefecture_ids().index("haidong")
    assert KP.haidong_patent_factor == 1.0 and (pt.prefecture_factor(pref, KP) == 1.0).all()
    factor = pt.prefecture_factor(pref, override(haidong_patent_factor=2.5))
    assert factor[haidong] == 2.5 and (np.delete(factor, haidong) == 1.0).all()


def test_haidong_patent_factor_raises_haidong_patents_and_keeps_the_province_2015_stock():
    """Under common random numbers a factor 3 gives Haidong's firms a larger share of the fixed 2015 firm stock
    (the province's 2015 stock is the same, the other prefectures hold what Haidong gained less) and more grants:
    Haidong's valid patents of 2018 rise by more than the others' change."""
    def patents(factor: float) -> dict[tuple[int, str], float]:
        sc = load_scenario(SCENARIOS / "baseline.toml")
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.3}),
                                   "parameters": {**sc.parameters, "haidong_patent_factor": factor}})
        m = QinghaiModel(sc)
        m.run_to(2018)
        return {(r["year"], r["region"]): r["valid_invention_patents"] for r in m.rows}

    base, more = patents(1.0), patents(3.0)
    gain_2015 = more[2015, "haidong"] - base[2015, "haidong"]
    assert gain_2015 > 0
    assert more[2015, PROVINCE] == pytest.approx(base[2015, PROVINCE])
    others = [p for p in data.prefecture_ids() if p != "haidong"]
    assert sum(more[2015, p] for p in others) == pytest.approx(sum(base[2015, p] for p in others) - gain_2015)
    gain_2018 = more[2018, "haidong"] - base[2018, "haidong"]
    assert gain_2018 > gain_2015
    assert abs(sum(more[2018, p] - base[2018, p] for p in others)) < gain_2018


# --- platforms ---------------------------------------------------------------------------------------------------


def firm_view(rd, certified=True, uid=None) -> SimpleNamespace:
    rd = np.asarray(rd, dtype=float)
    n = len(rd)
    return SimpleNamespace(uid=np.arange(n) if uid is None else np.asarray(uid), pref=np.zeros(n, dtype=np.int64),
                           sector=np.full(n, SECTOR["new_materials"]), rd=rd, certified=np.full(n, certified),
                           platform_money=np.zeros(n))


def platform_step(ps, firms, kp, year=YEAR, **policy):
    inst = institutions()
    inst.rd[:] = 0.0  # institutions host nothing new in these cases
    kpol = baseline_policy(**{"incubator_quota": 0, "prefecture_platform_quota": 0, **policy})
    return ps.step(year, kpol, kp, KnowledgeDraws(3), firms, inst, firms.uid)


def test_a_platform_threshold_is_crossed():
    """A certified firm just below the R&D bar gets no provincial platform; just above it, it does."""
    kp = override(platform_apply_probability=1.0, platform_fail_probability=0.0)
    bar = kp.platform_firm_min_rd
    below, above = pf.PlatformSystem(1.0, N_PREF, N_SEC), pf.PlatformSystem(1.0, N_PREF, N_SEC)
    platform_step(below, firm_view([bar - 1.0]), kp, platform_quota=5)
    flows = platform_step(above, firm_view([bar + 1.0]), kp, platform_quota=5)
    assert len(below.table) == 0
    assert len(above.table) == 1 and above.table.level[0] == pf.PROVINCIAL and flows.new_provincial == 1
    assert flows.subsidy.sum() == pytest.approx(baseline_policy().platform_subsidy_provincial)
    uncertified = pf.PlatformSystem(1.0, N_PREF, N_SEC)
    platform_step(uncertified, firm_view([bar * 3], certified=False), kp, platform_quota=5)
    assert len(uncertified.table) == 0


def test_upgrade_to_national_and_loss_at_evaluation():
    """A provincial platform at a host above the national bar is upgraded; one whose host's R&D collapsed is
    removed at its evaluation (dynamic adjustment); a platform whose host exited disappears."""
    kp = override(platform_upgrade_probability=1.0, platform_apply_probability=0.0, platform_fail_probability=0.0)
    ps = pf.PlatformSystem(1.0, N_PREF, N_SEC)
    for uid in (0, 1, 2):
        ps.table.add(ptype=pf.ERC, level=pf.PROVINCIAL, host_kind=pf.HOST_FIRM, host=uid, pref=0, sector=2,
                     since=2018, eval_next=YEAR + (1 if uid == 0 else 0))
    firms = firm_view([kp.platform_firm_national_rd + 1.0, 1.0, 500.0], uid=[0, 1, 2])
    flows = platform_step(ps, firms, kp, platform_quota=0)
    t = ps.table
    assert list(t.host) == [0, 2] and t.level[t.host == 0][0] == pf.NATIONAL and t.level[t.host == 2][0] == pf.PROVINCIAL
    assert flows.new_national == 1 and flows.removed == 1
    alive = np.array([2])
    inst = institutions()
    inst.rd[:] = 0.0
    ps.step(YEAR + 1, baseline_policy(platform_quota=0, incubator_quota=0), kp, KnowledgeDraws(3), firm_view([500.0], uid=[2]),
            inst, alive)
    assert list(ps.table.host) == [2]


def test_carrier_draw_keys_never_overlap():
    """A year's new incubators and maker spaces draw their prefecture at their key and their type at key + 500: the
    keys of up to 500 carriers are those they always had (year x 1000 + j), and no two draws share a key at any
    count (the schema allows 1,000 a year at full scale)."""
    keys = pf.carrier_keys(2030, 1500)
    assert list(keys[:500]) == list(2030 * 1000 + np.arange(500))
    both = np.concatenate([keys, keys + pf.CARRIER_BLOCK])
    assert len(np.unique(both)) == len(both)


def test_platform_spillovers_rise_with_platforms_and_need_own_rd():
    rd = np.array([0.0, 100.0, 100.0, 100.0])
    strength = np.array([5.0, 0.0, 1.0, 10.0])
    gain = pf.spillover_gain(rd, strength, KP)
    assert gain[0] == 0.0 and gain[1] == 0.0 and 0 < gain[2] < gain[3] <= KP.platform_spill_max * 100.0


# --- literacy ----------------------------------------------------------------------------------------------------


def test_literacy_rises_with_cohorts_and_with_popularisation_spending():
    share = population_shares()
    population = 592.4e4 * share
    runs = {}
    for label, budget in (("none", 0.0), ("base", 7000.0), ("double", 14000.0)):
        lit = Literacy(share, KP, 2015)
        start = lit.province()
        for year in range(2016, 2021):
            lit.step(year, lit.allocate(budget, "population"), population, KP)
        runs[label] = lit.province()
    assert start == pytest.approx(KP.literacy_2015 / 100)
    assert start < runs["none"] < runs["base"] < runs["double"]
    lit = Literacy(share, KP, 2015)
    by_need, by_pop = lit.allocate(1000.0, "need"), lit.allocate(1000.0, "population")
    low = int(np.argmin(lit.level()))
    assert by_need.sum() == pytest.approx(1000.0) and by_need[low] / share[low] > by_pop[low] / share[low]


# --- integration into the model ----------------------------------------------------------------------------------


def test_every_plan_indicator_is_produced(model):
    """No indicator column is left NaN for the province, nothing is marked not yet modelled, every knowledge
    column is defined in indicators.toml, and additive columns add up over prefectures."""
    rows = {(r["year"], r["region"]): r for r in model.rows}
    spec = data.load("indicators")
    assert all(v.get("status") != "not_yet_modelled" for v in spec.values() if isinstance(v, dict))
    for year in (2015, 2020, 2021):
        prov = rows[(year, PROVINCE)]
        for name in KNOWLEDGE_INDICATORS:
            assert np.isfinite(prov[name]), (year, name)
    for name in model.knowledge.columns:
        assert name in spec, name
    additive = ("public_rd", "rd_personnel", "tech_contract_turnover", "valid_invention_patents", "national_platforms",
                "platforms", "talent_inflow", "talent_outflow", "spend_talent_programmes", "spend_platform_subsidies")
    for name in additive:
        total = sum(rows[(2021, p)][name] for p in data.prefecture_ids())
        assert rows[(2021, PROVINCE)][name] == pytest.approx(total), name
    # public R&D is the institutions' R&D
    assert rows[(2021, PROVINCE)]["public_rd"] == pytest.approx(model.knowledge.inst.rd.sum() / model.scale / 1e4)
    assert rows[(2021, PROVINCE)]["rd_personnel_per_10k"] == pytest.approx(
        rows[(2021, PROVINCE)]["rd_personnel"] / model.macro["employment"][2021])


def test_rd_personnel_are_firms_and_institutions_staff(model):
    """R&D personnel are exactly the residents employed by R&D-performing firms and by the institutions."""
    ks = model.knowledge
    pop = ks.talent.pop
    f = model.firms
    employed = pop.resident & (pop.kind != 0)
    performing = np.isin(pop.employer, f.uid[f.rd > 0]) & (pop.kind == 1)
    counted = employed & (performing | (pop.kind == 2))
    assert (pop.employer[employed & (pop.kind == 2)] >= INSTITUTION_KEY).all()
    row = next(r for r in model.rows if r["year"] == model.year and r["region"] == PROVINCE)
    assert row["rd_personnel"] == pytest.approx(counted.sum() / model.scale)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_rd_personnel_invariant_holds_every_year_on_every_seed(seed):
    """Every counted researcher works at an institution or at a firm with R&D this year - also in the year a
    spin-off takes a researcher to a new firm that has no R&D yet (seeds 1 and 4 have such spin-offs)."""
    sc = load_scenario(SCENARIOS / "baseline.toml")
    m = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.1})}), seed=seed)
    while m.year < 2020:
        m.step()
        test_rd_personnel_are_firms_and_institutions_staff(m)


def test_incubators_and_spinoffs_feed_rd_active_entrants(model):
    """Incubator graduates and spin-offs are entrants of the year turned into R&D-active tech start-ups."""
    ks, f = model.knowledge, model.firms
    origin = ks.ledger.get("origin", f.uid)
    started = origin > 0
    assert started.sum() > 0
    assert f.rd_active[started].mean() > 0.7  # a few stop R&D again
    assert (f.tech_orient[started] >= KP.startup_tech_orientation).all()


def test_same_seed_same_knowledge_outputs():
    a, b = small_model(scale=0.1), small_model(scale=0.1)
    for m in (a, b):
        m.run_to(2018)
    for ra, rb in zip(a.rows, b.rows):
        assert all(ra[k] == rb[k] or (ra[k] != ra[k] and rb[k] != rb[k]) for k in ra)


def test_draw_purposes_are_distinct():
    from qhsim.draws import PURPOSES

    assert not set(KNOWLEDGE_PURPOSES.values()) & set(PURPOSES.values())
    assert len(set(KNOWLEDGE_PURPOSES.values())) == len(KNOWLEDGE_PURPOSES)


def test_tech_transfer_subsidy_raises_turnover_under_crn():
    """Same seed: raising the technology-market subsidies from 2026 raises contract turnover over 2026-2030 and
    costs more; the two runs are identical until 2025."""
    runs = {}
    for name in ("baseline", "tech_transfer_subsidy"):
        m = small_model(name, scale=0.3)
        m.run_to(2030)
        runs[name] = {(r["year"], r["region"]): r for r in m.rows}
    base, sub = runs["baseline"], runs["tech_transfer_subsidy"]
    assert base[(2025, PROVINCE)]["tech_contract_turnover"] == sub[(2025, PROVINCE)]["tech_contract_turnover"]
    turnover = [sum(r[(y, PROVINCE)]["tech_contract_turnover"] for y in range(2026, 2031)) for r in (base, sub)]
    spend = [sum(r[(y, PROVINCE)]["spend_tech_market_subsidies"] for y in range(2026, 2031)) for r in (base, sub)]
    assert turnover[1] > turnover[0] and spend[1] > spend[0]


def test_vouchers_buy_rd_services_performed_by_the_institutions():
    """A voucher pays voucher_fee_share of a service's fee: the R&D part of the fee is the providers' R&D (shared by
    transfer capacity) and the holder absorbs the services' knowledge; no voucher, nothing booked."""
    m = small_model(scale=0.1)
    m.run_to(2017)
    ks, f = m.knowledge, m.firms
    vouchers = np.zeros(len(f))
    vouchers[[3, 7]] = [10.0, 20.0]
    before = f.knowledge.copy()
    rd, bought = ks._voucher_services(f, vouchers)
    fees = np.array([10.0, 20.0]) / KP.voucher_fee_share
    q = KP.voucher_rd_service_share
    assert rd.sum() == pytest.approx(q * fees.sum(), rel=1e-12) and rd.sum() > 0
    capacity = ks.inst.tto_capacity
    np.testing.assert_allclose(rd, rd.sum() * capacity / capacity.sum(), rtol=1e-12)
    absorb = np.asarray(KP.market_absorption)
    gain = f.knowledge - before
    np.testing.assert_allclose(gain[[3, 7]], fees * (q * absorb[mk.DEVELOPMENT] + (1 - q) * absorb[mk.SERVICES]))
    assert np.count_nonzero(gain) == 2
    np.testing.assert_array_equal(bought, gain)  # what the step records as last.voucher_knowledge
    assert not any(a.any() for a in ks._voucher_services(f, np.zeros(len(f))))
