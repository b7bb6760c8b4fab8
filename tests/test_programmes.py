"""Programmes and firm dynamics on hand-worked cases: budgets bind pro rata or down the ranking, ledgers are
kept at full scale, and knowledge accumulates R&D."""

from __future__ import annotations

import pytest

from qhsim.draws import KeyedDraws
from qhsim.firms.dynamics import innovate
from qhsim.government.programmes import ex_ante_grants, ex_post_subsidy
from qhsim.model import QinghaiModel
from qhsim.runner import as_scenario

from conftest import SCENARIOS, make_firms, policy

# three R&D performers: 100, 300 and 600万元 of R&D
FIRMS = [{"rd_active": True, "rd": rd, "revenue": 5000.0, "employees": 100.0} for rd in (100.0, 300.0, 600.0)]


def with_(pol, **changes):
    return pol.__class__(**{**pol.__dict__, **changes})


def test_ex_post_subsidy_is_rate_times_rd_capped_and_cut_pro_rata(b):
    f = make_firms(*FIRMS)
    pol = with_(policy("baseline", 2020), expost_rate=0.2, expost_cap=100.0)
    always = type(b)(**{**vars(b), "expost_apply_probability": 1.0})
    full = ex_post_subsidy(f, pol, 1e6, KeyedDraws(1), always)
    assert list(full) == pytest.approx([20.0, 60.0, 100.0])  # 20% of R&D, the third capped at 100
    short = ex_post_subsidy(f, pol, 90.0, KeyedDraws(1), always)  # claims 180 against a budget of 90
    assert list(short) == pytest.approx([10.0, 30.0, 50.0])
    assert short.sum() == pytest.approx(90.0)


def test_ex_ante_grants_go_down_the_ranking_within_the_budget(b):
    f = make_firms(*FIRMS)
    pol = with_(policy("baseline", 2020), grant_size=50.0, grant_cofunding=1.0, grant_selection="merit")
    sure = type(b)(**{**vars(b), "grant_apply_probability": 1.0, "grant_merit_noise_sd": 0.0})
    plan = f.rd.copy()
    paid = ex_ante_grants(f, pol, plan, 120.0, KeyedDraws(1), sure)  # room for two grants of 50
    assert sorted(paid) == [0.0, 50.0, 50.0] and paid.sum() <= 120.0
    assert paid[0] == 0.0  # the lowest planned intensity ranks last on merit


def test_knowledge_stock_adds_this_years_rd(b):
    f = make_firms(*FIRMS)
    f.knowledge[:] = [1000.0, 0.0, 50.0]
    f.rd_real[:] = f.rd  # real R&D enters the stock (tests/test_relabel.py: reported R&D does not)
    innovate(f, 2020, KeyedDraws(1), b)
    d = b.knowledge_depreciation
    assert list(f.knowledge) == pytest.approx([(1 - d) * 1000.0 + 100.0, 300.0, (1 - d) * 50.0 + 600.0])


def test_government_ledgers_are_full_scale_and_match_the_indicators():
    sc = as_scenario(SCENARIOS / "more_ex_ante_grants.toml")
    model = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.1})}), seed=2)
    model.run_to(2018)
    rows = {r["year"]: r for r in model.rows if r["region"] == "province"}
    for entry in model.province.history:
        year = entry["year"]
        assert entry["grants"] == pytest.approx(rows[year]["spend_ex_ante_grants"]), year
        assert entry["expost"] == pytest.approx(rows[year]["spend_ex_post_subsidy"]), year
    budget = sc.policy.ex_ante_grants.budget.at(2018)
    assert 0.5 * budget < model.province.history[-1]["grants"] <= budget * (1 + 1e-9)
