"""Tax expenditure 税式支出 on hand-worked firms: the super-deduction (profit cap, losses) and the HTE rate."""

from __future__ import annotations

import pytest

from qhsim.firms import sector_table
from qhsim.firms.rd import deduction_rates, tax_expenditure, tax_rates

from conftest import make_firms, policy

BIG = {"employees": 500.0, "revenue": 10000.0}  # not a small low-profit enterprise


def ledgers(*rows):
    f = make_firms(*rows)
    pol = policy("baseline", 2020)  # standard 25%, HTE 15%, super-deduction 75% (财税〔2018〕99号)
    tau, tau_alt = tax_rates(f, pol)
    d = deduction_rates(f, pol, sector_table().manufacturing)
    assert list(d) == [0.75] * len(f)
    return tax_expenditure(f, pol.year, tau, tau_alt, d)


def test_super_deduction_is_tax_rate_times_deduction_up_to_taxable_profit():
    deduct, hte = ledgers(
        {**BIG, "margin": 0.10, "rd": 200.0},   # profit 1,000; deduction 150 -> 25% x 150
        {**BIG, "margin": 0.01, "rd": 400.0},   # profit 100 < deduction 300: capped at profit -> 25% x 100
        {**BIG, "margin": -0.05, "rd": 400.0},  # a loss: no tax, nothing forgone this year
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
