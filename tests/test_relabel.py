"""Reported versus real R&D 报告研发与实际研发 (qhsim.firms.relabel; issue #8 item 2).

Relabelling pays only where the super-deduction or the HTE notch pays for it; the plan indicators count reported R&D,
knowledge and core IP follow real R&D.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from conftest import SCENARIOS, default_behaviour, policy, random_population
from qhsim import data
from qhsim.config import load_scenario
from qhsim.draws import KeyedDraws
from qhsim.firms import sector_table
from qhsim.firms import certification as cert
from qhsim.firms import rd as k
from qhsim.firms.dynamics import innovate
from qhsim.firms.relabel import net_relabel_cost, notch_relabel_plan, routine_relabel
from qhsim.model import QinghaiModel

S = sector_table()
SCALE = 1.0  # full scale: Qinghai has about a thousand R&D performers, a tenth is too few for the notch


def _run(scenario_path, end_year: int, **parameters: float) -> QinghaiModel:
    sc = load_scenario(scenario_path)
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"scale": SCALE}),
                               "parameters": {**sc.parameters, **parameters}})
    model = QinghaiModel(sc)
    model.run_to(end_year)
    return model


def _province(model: QinghaiModel) -> pd.DataFrame:
    t = pd.DataFrame(model.rows)
    return t[t["region"] == "province"].set_index("year")


@pytest.fixture(scope="module")
def baseline() -> QinghaiModel:
    return _run(SCENARIOS / "baseline.toml", 2020)


def test_routine_relabelling_equates_marginal_cost_and_tax_saving():
    b = default_behaviour(relabel_cost=0.5, notch_max_stretch=2.0)
    real, tau, d = np.array([100.0, 100.0, 100.0]), np.array([0.25, 0.0, 0.25]), np.array([1.0, 1.0, 0.0])
    m = routine_relabel(real, tau, d, b)
    assert m == pytest.approx([50.0, 0.0, 0.0])  # 100 x 0.25 x 1.0 / 0.5; nothing without tax or deduction
    # the routine amount minimises the net cost: any other amount costs more
    for delta in (-5.0, 5.0):
        assert (net_relabel_cost(m[:1] + delta, real[:1], tau[:1], d[:1], b) > 0).all()
    # at the notch a firm relabels more, up to where relabelling costs as much as real R&D (0.4 per yuan)
    plan = notch_relabel_plan(real[:1], np.array([1000.0]), np.array([0.4]), tau[:1], d[:1], b)
    assert plan == pytest.approx(100.0 * (0.4 + 0.25) / 0.5)
    # ... never more than notch_max_stretch x real R&D, never less than the routine amount
    b.notch_max_stretch = 1.0
    assert notch_relabel_plan(real[:1], np.array([1000.0]), np.array([0.4]), tau[:1], d[:1], b) == pytest.approx(100.0)
    assert notch_relabel_plan(real[:1], np.array([110.0]), np.array([0.4]), tau[:1], d[:1], b) == pytest.approx(50.0)


def test_no_relabelling_without_super_deduction_or_notch(tmp_path):
    """With the super-deduction at 0 and an HTE certificate worth nothing (HTE rate = standard rate, no reward, no
    status value), reported R&D equals real R&D for every firm in every year; with them, it exceeds it."""
    off = tmp_path / "no_relabelling_incentive.toml"
    off.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        '[run]\nname = "no_relabelling_incentive"\n'
        "[policy.tax]\nhte_rate = 0.25\n"
        "[policy.hte]\nreward_new = 0\n"
        "[policy.super_deduction]\ngeneral = 0.0\nmanufacturing = 0.0\ntech_sme = 0.0\n",
        encoding="utf-8",
    )
    model = _run(off, 2017, hte_status_value=0.0)
    f = model.firms
    assert np.array_equal(f.rd, f.rd_real) and (f.rd_real > 0).any()
    p = _province(model)
    assert (p["business_rd"] == p["business_rd_real"]).all() and (p["relabelled_rd_share"] == 0).all()


def test_real_never_exceeds_reported_and_plan_indicators_count_reported(baseline):
    f, p = baseline.firms, _province(baseline)
    assert (f.rd_real <= f.rd).all() and (f.rd > f.rd_real).any()
    assert ((f.rd > 0) == (f.rd_real > 0)).all(), "relabelling alone never makes a firm an R&D performer"
    assert (p["business_rd_real"] < p["business_rd"]).all()
    assert (p["rd_intensity_real"] < p["rd_intensity"]).all()
    # the plan indicator is the reported one: business R&D is the sum of the firms' reported R&D
    assert p.at[2020, "business_rd"] == pytest.approx(f.rd.sum() / SCALE / 1e4, rel=1e-12)
    assert p.at[2020, "business_rd_real"] == pytest.approx(f.rd_real.sum() / SCALE / 1e4, rel=1e-12)
    share = 100.0 * (1.0 - f.rd_real.sum() / f.rd.sum())
    assert p.at[2020, "relabelled_rd_share"] == pytest.approx(share, rel=1e-9)
    # the 2015 statistics are reported R&D: the synthetic population reports exactly the 2015 value
    assert p.at[2015, "business_rd"] == pytest.approx(data.observed("business_rd")[2015], rel=1e-9)


def test_hte_certification_and_super_deduction_count_reported_rd(baseline, monkeypatch):
    """Some HTE holders pass the 3-year ratio only thanks to relabelled spending (books topped up to exactly the
    threshold), and the super-deduction's tax expenditure is computed on reported R&D: the year's ledger replayed
    from the losses carried into it, on reported R&D, gives the ledger's figure; on real R&D, less."""
    f, year = baseline.firms, baseline.year
    pol = policy("baseline", year)
    real3 = f.rd_real + f.rd_l1 + f.rd_l2  # lags are reported: a lower bound on what real R&D alone would give
    threshold = cert.hte_threshold(f.revenue, pol) * (f.revenue + f.rev_l1 + f.rev_l2)
    topped = np.isclose(f.rd, cert.hte_rd_needed(f, pol), rtol=1e-12) & (f.rd > f.rd_real)
    assert topped.sum() >= 3
    assert (real3[topped] < threshold[topped]).all()
    ledger = baseline.rows[-1 - len(data.prefecture_ids())]  # the last year's province row
    assert (ledger["year"], ledger["region"]) == (year, "province")
    model = _run(SCENARIOS / "baseline.toml", year - 1)  # the same run a year earlier: the losses carried into year
    carried = copy.deepcopy(model.carried)
    rates = []  # the tax rates the step's ledger applies (the decision's: before this year's certificates)

    def ledger_rates(f, year, tau, tau_alt, used, taxable):
        rates.append((tau, tau_alt))
        return k.tax_expenditure(f, year, tau, tau_alt, used, taxable)

    monkeypatch.setattr("qhsim.model.tax_expenditure", ledger_rates)
    model.step()
    f = model.firms
    (tau, tau_alt), = rates
    d = k.deduction_rates(f, pol, S.manufacturing)
    qualified = (f.hte_until >= year) | k.tech_sme(f, year)
    replay = {}
    for name, rd in (("reported", f.rd), ("real", f.rd_real)):
        used, _, taxable = copy.deepcopy(carried).use(year, f.uid, d * rd, k.profit(f), qualified,
                                                      pol.loss_carry_years, pol.loss_carry_years_qualified)
        replay[name] = k.tax_expenditure(f, year, tau, tau_alt, used, taxable)[0].sum() / SCALE
    assert ledger["tax_expenditure_super_deduction"] == pytest.approx(replay["reported"], rel=1e-12)
    assert replay["real"] < replay["reported"]


def test_knowledge_and_core_ip_follow_real_rd():
    """innovate() accumulates real R&D into the knowledge stock and draws core IP on real R&D only: a firm that
    reports R&D without any real R&D learns nothing."""
    rng = np.random.default_rng(8)
    f = random_population(rng, 2000, 2020)
    f.rd[:] = np.where(f.rd_real > 0, 2.0 * f.rd_real, 0.0)
    f.rd[:200] = 50.0  # reported R&D without real R&D
    f.rd_real[:200] = 0.0
    b = default_behaviour()
    k0 = f.knowledge.copy()
    innovate(f, 2020, KeyedDraws(1), b)
    assert f.knowledge == pytest.approx((1.0 - b.knowledge_depreciation) * k0 + f.rd_real, rel=1e-12)
    assert not f.innovated[:200].any()
    assert f.innovated[200:].any()
