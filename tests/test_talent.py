"""Talent (R&D personnel): vectorised kernels against the per-person reference, the yearly talent market on
hand-built cases, and the talent programmes under common random numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from qhsim import data
from qhsim.config import load_scenario
from qhsim.draws import KnowledgeDraws, binomial_ppf, poisson_ppf
from qhsim.knowledge import reference as ref
from qhsim.knowledge import talent as tl
from qhsim.knowledge.institutions import INSTITUTION_KEY, InstitutionSet
from qhsim.knowledge.params import institution_rows, knowledge_parameters
from qhsim.knowledge.selection import top_n
from qhsim.model import QinghaiModel
from qhsim.policy import knowledge_policy_at

from conftest import SCENARIOS

KP = knowledge_parameters()
N_PREF = len(data.prefectures())
YEAR = 2020


# --- kernels vs the per-person reference -------------------------------------------------------------------------


def random_people(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    oblig_years = rng.integers(1, 5, n)
    return {
        "kind": rng.choice([tl.FIRM, tl.INSTITUTION], n),
        "level": rng.integers(0, 4, n),
        "origin": rng.integers(0, 4, n),
        "age": rng.integers(22, 70, n),
        "factor": np.exp(rng.normal(0, 0.2, n)),
        "living": rng.choice([0.0, 5.0, 40.0], n),
        "support": rng.choice([0.0, 20.0, 110.0, 160.0], n),
        "oblig_years": oblig_years,
        "oblig_until": YEAR + rng.integers(-3, 4, n),
        "amenity": rng.choice(KP.amenity_cost, n),
        "bonus": rng.choice([0.0, 0.0, 2.0], n),
    }


def test_wage_living_clawback_departure_kernels_agree_with_reference():
    """The vectorised talent kernels equal the per-person reference on 2,000 random people."""
    rng = np.random.default_rng(11)
    p = random_people(rng, 2000)
    index = 1.13
    w = tl.wage(p["kind"], p["level"], p["factor"], index, KP)
    w_out = tl.outside_wage(p["level"], p["factor"], index, KP)
    living = tl.annual_living(p["living"], p["oblig_until"], YEAR)
    claw = tl.clawback_due(p["support"], p["oblig_years"], p["oblig_until"], YEAR, 0.8)
    w_eff = w + living + p["bonus"]
    prob = tl.departure_probability(p["level"], p["origin"], p["age"], w_eff, w_out, p["amenity"], claw, KP)
    retire = tl.retiring(p["age"], p["level"], KP)
    attract = tl.attraction_probability(w, w_out, p["amenity"], KP.recruit_intercept, KP)
    for i in range(len(w)):
        assert w[i] == pytest.approx(ref.wage(p["kind"][i], p["level"][i], p["factor"][i], index, KP), rel=1e-12)
        assert w_out[i] == pytest.approx(ref.outside_wage(p["level"][i], p["factor"][i], index, KP), rel=1e-12)
        assert living[i] == ref.annual_living(p["living"][i], p["oblig_until"][i], YEAR)
        assert claw[i] == pytest.approx(
            ref.clawback_due(p["support"][i], p["oblig_years"][i], p["oblig_until"][i], YEAR, 0.8), abs=1e-12)
        assert prob[i] == pytest.approx(ref.departure_probability(
            p["level"][i], p["origin"][i], p["age"][i], w_eff[i], w_out[i], p["amenity"][i], claw[i], KP), rel=1e-12)
        assert retire[i] == ref.retiring(p["age"][i], p["level"][i], KP)
        assert attract[i] == pytest.approx(
            ref.attraction_probability(w[i], w_out[i], p["amenity"][i], KP.recruit_intercept, KP), rel=1e-12)


def test_clawback_counts_unserved_years():
    """A 3-year obligation ending in 2022: leaving in 2020 repays 3/3, in 2021 2/3, in 2022 1/3, in 2023 nothing."""
    support, years, until = np.array([90.0] * 4), np.array([3] * 4), np.array([2022] * 4)
    due = [tl.clawback_due(support[:1], years[:1], until[:1], y, 1.0)[0] for y in (2020, 2021, 2022, 2023)]
    assert due == pytest.approx([90.0, 60.0, 30.0, 0.0])


def test_staff_target_rank_layoff_and_top_n_agree_with_reference():
    """Staff targets, group ranks, layoffs and top-n selection equal the per-person reference."""
    rng = np.random.default_rng(5)
    rd = rng.exponential(40.0, 500)
    u = rng.random(500)
    target = tl.staff_target(rd, 27.0, u)
    assert list(target) == [ref.staff_target(r, 27.0, x) for r, x in zip(rd, u)]

    employer = rng.integers(0, 30, 800)
    releasable = rng.random(800) < 0.7
    priority = rng.random(800)
    priority[:50] = 0.5  # ties are broken by position
    excess_by_emp = {e: int(rng.integers(-2, 6)) for e in range(30)}
    excess = np.array([excess_by_emp[e] for e in employer])
    got = tl.layoff_mask(employer, releasable, excess, priority)
    assert list(got) == ref.layoffs(list(employer), list(releasable), excess_by_emp, list(priority))

    score = np.round(rng.normal(size=300), 1)  # many ties
    tie = rng.permutation(300)
    for n in (0, 1, 17, 300, 400):
        assert list(top_n(score, tie, n)) == ref.top_n(list(score), list(tie), n)


def test_inverse_cdf_draws_match_scipy():
    """The sequential-search Poisson and binomial inverses equal scipy's ppf (exact below the normal cut-over)."""
    rng = np.random.default_rng(2)
    u = rng.random(20000)
    lam = rng.exponential(3.0, 20000)
    assert np.array_equal(poisson_ppf(u, lam), stats.poisson.ppf(u, lam).astype(np.int64))
    n = rng.integers(1, 60, 20000)
    p = rng.random(20000) * 0.6
    assert np.array_equal(binomial_ppf(u, n, p), stats.binom.ppf(u, n, p).astype(np.int64))


# --- the yearly talent market on hand-built cases ----------------------------------------------------------------


def institutions() -> InstitutionSet:
    inst = InstitutionSet(institution_rows(), 1.0, 46400.0, KP)
    inst.graduates[:] = 0.0  # no graduates unless a test asks for them
    return inst


def employers(inst: InstitutionSet, firm_uid=(), firm_target=(), inst_target=None, firm_hte=None) -> tl.EmployerView:
    firm_uid = np.asarray(firm_uid, dtype=np.int64)
    return tl.EmployerView(
        firm_uid=firm_uid, firm_pref=np.zeros(len(firm_uid), dtype=np.int64), firm_rd=np.full(len(firm_uid), 100.0),
        firm_hte=np.zeros(len(firm_uid), dtype=bool) if firm_hte is None else np.asarray(firm_hte),
        firm_knowledge=np.full(len(firm_uid), 500.0), firm_target=np.asarray(firm_target, dtype=np.int64),
        inst=inst, inst_target=np.zeros(inst.n, dtype=np.int64) if inst_target is None else np.asarray(inst_target),
        inst_bonus=np.zeros(inst.n),
    )


def people(n: int, **values) -> tl.TalentPopulation:
    cols = tl.new_columns(n, np.arange(n), **{"age": 40, "since": 2010, "factor": 1.0, **values})
    cols["pid"] = np.arange(n)
    return tl.TalentPopulation(cols)


def quiet_policy(**changes):
    """The baseline's knowledge policy in 2020 without any programme intake (so only the market acts)."""
    kpol = knowledge_policy_at(load_scenario(SCENARIOS / "baseline.toml"), YEAR)
    return kpol.__class__(**{**kpol.__dict__, "tt_introduced": (0, 0, 0), "tt_cultivated": (0, 0, 0), "tt_teams": 0,
                             "kunlun_quota": 0, "flex_quota": 0, **changes})


def _override(**changes):
    """talent.toml / knowledge.toml parameters with some values changed (lists allowed)."""
    values = dict(KP.__dict__)
    values.update(changes)
    return type(KP)(**values)


def test_talent_grant_reduces_departures():
    """Same people, same draws: those holding a running programme obligation (support as income, clawback at
    stake) leave Qinghai less often than those without, and repay the unearned support when they do leave."""
    n = 4000
    inst = institutions()
    emp = employers(inst, inst_target=np.r_[np.full(1, n), np.zeros(inst.n - 1, dtype=np.int64)])
    key = INSTITUTION_KEY
    base = dict(kind=tl.INSTITUTION, employer=key, level=2, origin=tl.RECRUITED, age=45)
    kp = _override(returnees_per_year=0, recruit_intercept=-50.0)
    grant = dict(prog=tl.TT_INTRODUCED, oblig_until=YEAR + 1, oblig_years=3, support=110.0, living=110.0 / 3)
    outflow = {}
    for label, extra, share in (("none", {}, 1.0), ("grant", grant, 1.0), ("grant, no clawback", grant, 0.0)):
        ts = tl.TalentSystem(people(n, **base, **extra), 1.0, N_PREF, kp)
        flows = ts.step(YEAR, quiet_policy(tt_clawback_share=share), kp, KnowledgeDraws(3), emp, 1.0)
        outflow[label] = flows.outflow.sum()
        if label == "grant":
            assert flows.clawback.sum() == pytest.approx(outflow[label] * 110.0 * 2 / 3)
    assert outflow["none"] > 100
    assert outflow["grant"] < outflow["grant, no clawback"] < 0.7 * outflow["none"]


def test_retirement_ages_by_level():
    """Ordinary staff retire at 60, leading talent at 65 (ages are raised by one at the start of the year)."""
    inst = institutions()
    emp = employers(inst, inst_target=np.r_[np.full(1, 10), np.zeros(inst.n - 1, dtype=np.int64)])
    kp = _override(depart_origin_intercept=[-50.0, -50.0, -50.0], recruit_intercept=-50.0, returnees_per_year=0)
    pop = people(4, kind=tl.INSTITUTION, employer=INSTITUTION_KEY, level=np.array([0, 0, 2, 2]),
                 age=np.array([58, 59, 63, 64]))
    ts = tl.TalentSystem(pop, 1.0, N_PREF, kp)
    flows = ts.step(YEAR, quiet_policy(), kp, KnowledgeDraws(1), emp, 1.0)
    assert flows.retired.sum() == 2
    assert sorted(ts.pop.pid) == [0, 2]


def test_vacancies_filled_by_seekers_then_graduates_then_outside():
    """A closed firm's staff are rehired first, graduates next; with no outside attraction the rest stay vacant."""
    inst = institutions()
    inst.graduates[0] = 12.0  # 12 x graduate_rd_share graduates
    n_grad = int(np.floor(12.0 * KP.graduate_rd_share + 1e-9))
    kp = _override(depart_origin_intercept=[-50.0, -50.0, -50.0], recruit_intercept=-50.0, returnees_per_year=0)
    pop = people(3, kind=tl.FIRM, employer=99)  # employer 99 is not in the view: it closed
    emp = employers(inst, firm_uid=[5, 7], firm_target=[4, 6])
    ts = tl.TalentSystem(pop, 1.0, N_PREF, kp)
    flows = ts.step(YEAR, quiet_policy(), kp, KnowledgeDraws(4), emp, 1.0)
    p = ts.pop
    assert set(p.pid[:3]) == {0, 1, 2} and set(p.employer[:3]) <= {5, 7}  # seekers rehired, keep their identity
    assert len(p) == 3 + n_grad and (p.origin[3:] == tl.LOCAL).all()
    assert flows.inflow.sum() == n_grad  # rehired seekers are not new to the province
    assert flows.vacancies.sum() == 10 - 3 - n_grad
    assert ref.fill_order(list(range(10)), 3, n_grad, 0)[:3 + n_grad] == ["seeker"] * 3 + ["graduate"] * n_grad


def test_layoffs_spare_people_under_obligation():
    """When a budget shrinks, people with a running programme obligation are not laid off."""
    inst = institutions()
    kp = _override(depart_origin_intercept=[-50.0, -50.0, -50.0], recruit_intercept=-50.0, returnees_per_year=0)
    prog = np.r_[np.full(3, tl.TT_CULTIVATED), np.zeros(5, dtype=np.int64)]
    pop = people(8, kind=tl.FIRM, employer=5, prog=prog, oblig_until=np.where(prog > 0, YEAR + 2, 0))
    ts = tl.TalentSystem(pop, 1.0, N_PREF, kp)
    flows = ts.step(YEAR, quiet_policy(), kp, KnowledgeDraws(9), employers(inst, firm_uid=[5], firm_target=[2]), 1.0)
    assert len(ts.pop) == 3 and (ts.pop.prog == tl.TT_CULTIVATED).all()  # only the obligated remain
    assert flows.left_rd == 5 and flows.outflow.sum() == 0


def test_introduced_talent_fill_rises_with_the_grant():
    """Under common random numbers, a larger one-off grant fills more introduced-talent places."""
    inst = institutions()
    emp = employers(inst, inst_target=np.r_[np.full(1, 50), np.zeros(inst.n - 1, dtype=np.int64)])
    filled = []
    for grant in (40.0, 80.0, 160.0):
        kpol = quiet_policy(tt_introduced=(0, 0, 1000), tt_grant_introduced=(150.0, 100.0, grant))
        ts = tl.TalentSystem(tl.TalentPopulation(), 1.0, N_PREF, KP)
        flows = ts.step(YEAR, kpol, KP, KnowledgeDraws(7), emp, 1.0)
        filled.append(flows.introduced)
    assert filled[0] < filled[1] < filled[2] <= 1000 * KP.programme_rd_share


def test_initial_population_matches_staff_targets():
    """At end-2015 every employer is staffed exactly at its target; levels and origins come from talent.toml."""
    inst = institutions()
    emp = employers(inst, firm_uid=[1, 2, 3], firm_target=[0, 3, 10],
                    inst_target=np.arange(inst.n, dtype=np.int64))
    pop = tl.initial_population(emp, KP, KnowledgeDraws(1), 2015, 0.8)
    ts = tl.TalentSystem(pop, 1.0, N_PREF, KP)
    firm, ins = ts.headcounts(emp)
    assert list(firm) == [0, 3, 10] and list(ins) == list(range(inst.n))
    youngest, oldest = KP.init_age_range
    assert (pop.age >= youngest).all() and (pop.age <= oldest).all() and pop.resident.all()
    assert (2015 - pop.since <= np.minimum(pop.age - youngest, KP.max_initial_tenure)).all()


def test_ages_are_drawn_between_the_data_files_ends():
    """uniform_age covers [youngest, oldest] of a talent.toml range, both ends included; the programme hosts'
    amenity is the mean of the named prefectures'."""
    u = np.linspace(0.0, 1.0 - 1e-12, 1001)
    for name in ("init_age_range", "graduate_age_range", "recruit_age_range", "introduced_age_range",
                 "flexible_age_range"):
        ages = tl.uniform_age(getattr(KP, name), u)
        assert (ages.min(), ages.max()) == tuple(getattr(KP, name)), name
    amenity = np.arange(N_PREF, dtype=float)
    ids = data.prefecture_ids()
    kp = _override(programme_host_prefectures=["haixi", "yushu"])
    assert tl.programme_host_amenity(amenity, kp) == (ids.index("haixi") + ids.index("yushu")) / 2


# --- the talent programmes in the whole model under common random numbers ---------------------------------------


def small_model(name: str, scale: float = 0.3) -> QinghaiModel:
    sc = load_scenario(SCENARIOS / f"{name}.toml")
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"scale": scale})})
    return QinghaiModel(sc)


def test_doubled_talent_grants_keep_more_programme_talent_under_crn():
    """Same seed: doubling the talent grants from 2026 costs more and leaves more introduced programme talent in
    Qinghai by 2030; nothing differs before 2026."""
    base, doubled = small_model("baseline"), small_model("talent_grants_doubled")
    for m in (base, doubled):
        m.run_to(2030)
    rows = {name: {(r["year"], r["region"]): r for r in m.rows} for name, m in (("base", base), ("doubled", doubled))}
    for year in range(2015, 2026):
        a, b = rows["base"][(year, "province")], rows["doubled"][(year, "province")]
        assert all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a)  # equal, NaN included
    spend = [rows[n][(2028, "province")]["spend_talent_programmes"] for n in ("base", "doubled")]
    assert spend[1] > 1.5 * spend[0]
    kept = [int((m.knowledge.talent.pop.prog == tl.TT_INTRODUCED).sum()) for m in (base, doubled)]
    assert kept[1] > kept[0]
