"""Tax expenditure 税式支出 on hand-worked firms: the super-deduction (profit cap, losses) and the HTE rate, in a
first year (nothing carried from before: the carry-forward's own tests are in test_carry_forward.py)."""

from __future__ import annotations

import pytest

import numpy as np

from qhsim.firms import sector_table
from qhsim.firms.carry_forward import CarryForward
from qhsim.firms.rd import deduction_rates, profit, tax_expenditure, tax_rates

from conftest import make_firms, policy

BIG = {"employees": 500.0, "revenue": 10000.0}  # not a small low-profit enterprise


def ledgers(*rows):
    f = make_firms(*rows)
    pol = policy("baseline", 2020)  # standard 25%, HTE 15%, super-deduction 75% (财税〔2018〕99号)
    tau, tau_alt = tax_rates(f, pol)
    d = deduction_rates(f, pol, sector_table().manufacturing)
    assert list(d) == [0.75] * len(f)
    used, _, taxable = CarryForward().use(pol.year, f.uid, d * f.rd, profit(f), np.zeros(len(f), dtype=bool),
                                          pol.loss_carry_years, pol.loss_carry_years_qualified)
    return tax_expenditure(f, pol.year, tau, tau_alt, used, taxable)


def test_super_deduction_is_tax_rate_times_deduction_up_to_taxable_profit():
    deduct, hte = ledgers(
        {**BIG, "margin": 0.10, "rd": 200.0},   # profit 1,000; deduction 150 -> 25% x 150
        {**BIG, "margin": 0.01, "rd": 400.0},   # profit 100 < deduction 300: capped at profit -> 25% x 100
        {**BIG, "margin": -0.05, "rd": 400.0},  # a loss: no tax, nothing forgone this year (all carried)
        {**BIG, "margin": 0.10, "rd": 0.0},     # no R&D, no deduction
    )
    assert list(deduct) == pytest.approx([37.5, 25.0, 0.0, 0.0], abs=1e-12)
    assert list(hte) == [0.0] * 4


def test_hte_rate_expenditure_is_the_rate_gap_on_profit_and_positive():
    deduct, hte = ledgers(
        {**BIG, "margin": 0.10, "rd": 500.0, "hte_until": 2021},  # 25% -> 15% on 1,000: 100 forgone
        {**BIG, "margin": 0.10, "rd": 500.0, "hte_until": 2019},  # expired certificate: none
        {**BIG, "margin": -0.02, "rd": 500.0, "hte_until": 2021},  # loss-making HTE: none
        {**BIG, "margin": 0.10, "rd": 500.0, "hte_until": 2021, "encouraged": True},  # Western Development 15% anyway
    )
    assert list(hte) == pytest.approx([100.0, 0.0, 0.0, 0.0], abs=1e-12)
    # the HTE pays 15%, so its deduction is worth 15% x 375 (not capped: profit 1,000)
    assert deduct[0] == pytest.approx(0.15 * 375.0)
    assert deduct[1] == pytest.approx(0.25 * 375.0)
    assert deduct[2] == 0.0


def test_decisions_see_only_the_deduction_taxable_profit_can_absorb():
    """The user cost and relabelling use the usable deduction rate: a firm whose extra deduction already exceeds its
    taxable profit gains nothing at the margin (the ledger's cap), so its user cost is that of a firm without it."""
    from qhsim.firms import reference as ref
    from qhsim.firms.rd import capped_deduction, last_year_performers, user_cost

    f = make_firms(
        {**BIG, "margin": 0.10, "rd_l1": 200.0},   # profit 1,000 absorbs 0.75 x 200: the full 75%
        {**BIG, "margin": 0.01, "rd_l1": 400.0},   # profit 100 over last year's 400: at most 25%
        {**BIG, "margin": -0.05, "rd_l1": 400.0},  # a loss: nothing usable
        {**BIG, "margin": 0.10, "rd_l1": 0.0},     # no R&D last year: not capped here (starter_deduction)
    )
    pol = policy("baseline", 2020)
    d = deduction_rates(f, pol, sector_table().manufacturing)
    d_use, had = d.copy(), last_year_performers(f)
    d_use[had] = capped_deduction(f, d[had], had)
    assert list(d_use) == pytest.approx([0.75, 0.25, 0.0, 0.75], abs=1e-12)
    assert [ref.usable_deduction(x, 0.75) for x in ref.firm_records(f)] == pytest.approx(list(d_use), abs=1e-12)
    tau, _ = tax_rates(f, pol)
    uc = user_cost(tau, d_use, 0.0 * d)
    assert uc[1] > uc[0]  # the capped firm faces a higher user cost than the uncapped one


def test_firms_without_rd_weigh_the_deduction_their_first_years_rd_could_use():
    """A firm without R&D last year judges the super-deduction on the R&D it would plan in a first year (the
    adjustment speed x a typical firm's desired intensity of its sector): a loss-making firm can use none of it (its
    user cost that of no deduction), a thin margin part of it, a firm with ample profit all of it; the per-firm
    reference agrees. Before, every such firm weighed the statutory rate."""
    from qhsim.firms import reference as ref
    from qhsim import data
    from qhsim.firms import behaviour
    from qhsim.firms.rd import (CombinationRates, deduction_flags, deduction_rule, starter_deduction,
                                starter_intensity, tax_flags, tax_rule, user_cost)
    from qhsim.soa import flag_code

    b = behaviour(data.values("behaviour"))
    f = make_firms(
        {**BIG, "margin": 0.10, "rd_l1": 0.0},     # ample profit: the statutory rate
        {**BIG, "margin": 0.0005, "rd_l1": 0.0},   # a thin margin: part of it
        {**BIG, "margin": -0.05, "rd_l1": 0.0},    # a loss: nothing
        {**BIG, "margin": -0.05, "rd_l1": 400.0},  # did R&D last year: capped_deduction's business, not this rule
    )
    pol = policy("baseline", 2020)
    sectors = sector_table()
    code, comb = flag_code(*tax_flags(f, pol), *deduction_flags(f, pol, sectors.manufacturing))
    tau_t, _ = tax_rule(pol, *comb[:4])
    d_t = deduction_rule(pol, *comb[4:])
    uc_t = user_cost(tau_t, d_t, 0.0 * d_t)
    level = 1.0
    uc_none = user_cost(tau_t, 0.0 * d_t, 0.0 * d_t)
    # the terms' values only need to be told apart
    rates = CombinationRates(tau_t, tau_t, d_t, uc_t, uc_t + 7.0, uc_none, uc_none + 100.0)
    at, usable, uc_firm, term_firm = starter_deduction(f, rates, code, sectors.rd_intensity, level, b)
    assert list(at) == [1, 2]
    # the loss-maker's user cost and term are its combination's without a deduction; the others' their combination's
    assert uc_firm[2] == uc_none[code[2]] and term_firm[2] == uc_none[code[2]] + 100.0
    assert list(uc_firm[[0, 1, 3]]) == list(uc_t.take(code)[[0, 1, 3]])
    assert list(term_firm[[0, 1, 3]]) == list(uc_t.take(code)[[0, 1, 3]] + 7.0)
    typical = starter_intensity(uc_t, sectors.rd_intensity, level, b)[f.index("sector")[1], code[1]]
    assert 0.0005 < d_t[code[1]] * typical  # the thin margin cannot absorb the statutory rate
    assert usable == pytest.approx([0.0005 / typical, 0.0])
    recs = ref.firm_records(f)
    for i, expected in ((0, d_t[code[0]]), (1, usable[0]), (2, 0.0)):
        got = ref.starter_deduction(recs[i], d_t[code[i]], uc_t[code[i]], sectors.rd_intensity[recs[i]["sector"]], level, b)
        assert got == pytest.approx(expected, rel=1e-12)
    tau, _ = tax_rates(f, pol)
    assert user_cost(tau[2:3], usable[1:], 0.0 * usable[1:])[0] == pytest.approx(1.0)  # the loss-maker: no gain


def test_a_certificate_granted_this_year_sets_this_years_rate_in_the_ledger(monkeypatch):
    """The HTE rate applies from the year the certificate is issued (国科发火〔2016〕32号), first certificates and
    renewals alike: the ledger books this year's new holders at it, although their R&D decisions, taken before the
    round, saw the rate without it. Before, a certificate's first year cost no HTE-rate expenditure."""
    from conftest import SCENARIOS
    from qhsim.config import load_scenario
    from qhsim.model import QinghaiModel
    from qhsim.firms import rd as k

    sc = load_scenario(SCENARIOS / "baseline.toml")
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.5})})
    model = QinghaiModel(sc, seed=2)
    model.run_to(2019)
    booked = []

    def ledger(f, year, tau, tau_alt, used, taxable):
        out = k.tax_expenditure(f, year, tau, tau_alt, used, taxable)
        booked.append((np.asarray(tau), np.asarray(tau_alt), taxable, out[1]))
        return out

    monkeypatch.setattr("qhsim.model.tax_expenditure", ledger)
    model.step()
    f, pol = model.firms, policy("baseline", 2020)
    (tau, tau_alt, taxable, hte), = booked
    new = np.flatnonzero(f.hte_until == 2020 + pol.hte_validity - 1)  # certified in this year's round
    assert len(new) >= 10
    assert (tau[new] <= pol.hte_rate).all()
    paying = new[(tau_alt[new] > pol.hte_rate) & (taxable[new] > 0)]  # would pay more without the certificate
    assert len(paying) >= 1 and (hte[paying] > 0).all()
