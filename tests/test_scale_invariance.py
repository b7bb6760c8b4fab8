"""Scale invariance 规模不变性: every count and money indicator is reported at full scale (divided by the run's
scale), ratios are scale-free; yearly quotas are scaled to the simulated population."""

from __future__ import annotations

import numpy as np
import pytest

from qhsim import indicators
from qhsim.firms.state import FirmPopulation
from qhsim.indicators import MONEY_COLUMNS, YearFlows
from qhsim.model import QinghaiModel
from qhsim.runner import as_scenario

from conftest import SCENARIOS, knowledge_columns, random_population

def duplicated(f: FirmPopulation) -> FirmPopulation:
    """Each firm twice (the copy with a new uid): the same economy at double scale."""
    cols = {k: np.concatenate([v, v]) for k, v in f.cols.items()}
    cols["uid"] = np.concatenate([f.uid, f.uid + 10**9])
    return FirmPopulation(cols)


def test_firm_indicators_of_a_duplicated_population_at_double_scale_are_unchanged():
    rng = np.random.default_rng(2)
    f = random_population(rng, 300, 2021)
    flows = YearFlows(*(rng.uniform(0.0, 50.0, len(f)) for _ in range(8)), user_cost=rng.uniform(0.5, 1.0, len(f)))
    twice = YearFlows(*(np.concatenate([v, v]) for v in vars(flows).values()))
    macro, knowledge = {"gdp": 3000.0}, knowledge_columns(1.0)
    one = indicators.compute(f, 2021, macro, flows, 0.25, knowledge)
    two = indicators.compute(duplicated(f), 2021, macro, twice, 0.5, knowledge)
    checked = 0
    for a, b in zip(one, two):
        for name, v in a.items():
            if isinstance(v, float) and np.isfinite(v):
                assert b[name] == pytest.approx(v, rel=1e-12), (a["region"], name)
                checked += 1
    assert checked > 8 * 20
    # and the count columns do depend on the population (so the check above is not vacuous)
    half = indicators.compute(f, 2021, macro, flows, 0.5, knowledge)
    for name in ("business_rd", "hte_count", "enterprises", *MONEY_COLUMNS):
        assert half[0][name] == pytest.approx(one[0][name] / 2), name


@pytest.fixture(scope="module")
def knowledge_call():
    """A model at scale 0.1 run to 2017, and the arguments of its knowledge system's last indicator call."""
    sc = as_scenario(SCENARIOS / "baseline.toml")
    model = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.1})}), seed=3)
    ks = model.knowledge
    seen = {}
    original = ks._columns

    def spy(*args):
        seen["args"] = args
        return original(*args)

    ks._columns = spy
    model.run_to(2017)
    ks._columns = original
    return ks, seen["args"]


def test_knowledge_counts_and_money_are_divided_by_the_scale(knowledge_call):
    """The same simulated market, platforms, patents and staff read at twice the scale: every count and money
    column halves (contract turnover, contracts, patents, platforms, personnel ...), and so do the per-10k
    ratios, whose denominators are full-scale macro totals. Only money already booked at full scale (the
    fiscal ledger) and literacy (a share of the resident population) stay."""
    ks, args = knowledge_call
    fiscal = set(args[-1])  # money already converted to full scale where it was booked
    base = ks._columns(*args)
    ks.scale *= 2
    try:
        doubled = ks._columns(*args)
    finally:
        ks.scale /= 2
    halved = []
    for name, values in base.items():
        if name in fiscal or name == "science_literacy":
            np.testing.assert_allclose(doubled[name], values, rtol=1e-12, err_msg=name)
            continue
        np.testing.assert_allclose(doubled[name], values / 2, rtol=1e-12, err_msg=name)
        halved.append(name)
    for name in ("tech_contract_turnover", "tech_contracts", "valid_invention_patents", "national_platforms",
                 "provincial_platforms", "rd_personnel", "public_rd", "rd_personnel_per_10k", "patents_per_10k"):
        assert name in halved and base[name][0] > 0, name


def test_fiscal_ledgers_of_the_knowledge_system_are_at_full_scale(knowledge_call):
    """Knowledge-side spending reported per year equals the governments' full-scale ledgers."""
    ks, args = knowledge_call
    fiscal = args[-1]
    prov = ks.model.province.history[-1]
    assert prov["year"] == 2017
    assert fiscal["spend_research_institutional"].sum() == pytest.approx(prov["research_institutional"])
    pol_budget = as_scenario(SCENARIOS / "baseline.toml").policy.research_funding.institutional_budget.at(2017)
    assert fiscal["spend_research_institutional"].sum() == pytest.approx(pol_budget, rel=0.05)


@pytest.mark.parametrize("scale", [0.05, 0.3, 1.0])
def test_yearly_quota_is_scaled_and_exact_in_the_long_run(scale):
    sc = as_scenario(SCENARIOS / "baseline.toml")
    model = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.02})}), seed=1)
    model._giant_quota.scale = scale
    got = [model._giant_quota("giant", 8) for _ in range(20)]
    assert abs(sum(got) - 8 * scale * 20) < 1.0 + 1e-9  # fractions carry over (up to float rounding)
    assert max(got) <= np.ceil(8 * scale)


def test_the_model_passes_the_scaled_little_giant_quota(monkeypatch):
    import qhsim.model as qm

    quotas = []
    real = qm.certify

    def spy(f, pol, b, draws, quota, fte_cost):
        quotas.append((pol.year, quota, pol.giant_quota))
        return real(f, pol, b, draws, quota, fte_cost)

    monkeypatch.setattr(qm, "certify", spy)
    sc = as_scenario(SCENARIOS / "baseline.toml")
    model = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.1})}), seed=2)
    model.run_to(2020)
    assert len(quotas) == 5
    full = sum(q for _, _, q in quotas)
    assert sum(s for _, s, _ in quotas) == pytest.approx(full * 0.1, abs=1.0)
    assert all(s <= np.ceil(q * 0.1) for _, s, q in quotas)
