"""Loss carry-forward of the super-deduction (qhsim.firms.carry_forward): 企业所得税法 art. 18 (five years) and
财税〔2018〕76号 (ten for HTEs and tech-based SMEs), as the ledger books them."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SCENARIOS
from qhsim.config import load_scenario
from qhsim.firms.carry_forward import CarryForward
from qhsim.model import QinghaiModel

UID = np.array([3, 7, 11], dtype=np.int64)
NO = np.zeros(3, dtype=bool)


def book(cf: CarryForward, year: int, deduction, taxable, qualified=NO, uid=UID, years=5, extended=10):
    return cf.use(year, uid, np.asarray(deduction, dtype=float), np.asarray(taxable, dtype=float),
                  np.asarray(qualified, dtype=bool), years, extended)


def test_this_years_deduction_first_then_the_carried_oldest_first():
    cf = CarryForward()
    used, carried = book(cf, 2020, [100.0, 30.0, 0.0], [40.0, 50.0, 10.0])
    assert used.tolist() == [40.0, 30.0, 0.0]  # up to the taxable profit
    assert carried.tolist() == [60.0, 0.0, 0.0]
    book(cf, 2021, [50.0, 0.0, 0.0], [20.0, 0.0, 0.0])  # a second loss year: 30 more carried
    assert cf.year.tolist() == [2020, 2021] and cf.amount.tolist() == [60.0, 30.0]
    used, carried = book(cf, 2022, [10.0, 0.0, 0.0], [80.0, 0.0, 0.0])  # 10 own, then 60 of 2020's and 10 of 2021's
    assert used.tolist() == [80.0, 0.0, 0.0] and carried.tolist() == [20.0, 0.0, 0.0]
    assert cf.year.tolist() == [2021] and cf.amount.tolist() == [20.0]


def test_a_loss_lapses_after_five_years_unless_the_firm_qualifies_within_them():
    for qualified_in, left_in_2026 in ((None, 0.0), (2021, 50.0), (2025, 50.0)):
        cf = CarryForward()
        book(cf, 2020, [50.0, 0.0, 0.0], [0.0, 0.0, 0.0])
        for year in range(2021, 2026):  # usable 2021-2025; no profit to use it
            book(cf, year, [0.0] * 3, [0.0] * 3, qualified=[year == qualified_in, False, False])
        _, carried = book(cf, 2026, [0.0] * 3, [0.0] * 3)
        assert carried[0] == left_in_2026, qualified_in
    # an extended loss lasts ten years: usable in 2030, gone in 2031
    cf = CarryForward()
    book(cf, 2020, [50.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    for year in range(2021, 2031):
        book(cf, year, [0.0] * 3, [0.0] * 3, qualified=[year == 2023, False, False])
    assert book(cf, 2030, [0.0] * 3, [70.0, 0.0, 0.0])[0][0] == 50.0
    cf = CarryForward()
    book(cf, 2020, [50.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    for year in range(2021, 2031):
        book(cf, year, [0.0] * 3, [0.0] * 3, qualified=[year == 2023, False, False])
    assert book(cf, 2031, [0.0] * 3, [70.0, 0.0, 0.0])[0][0] == 0.0


def test_no_extension_before_the_2018_rule_and_the_carried_of_exits_lapse():
    cf = CarryForward()
    book(cf, 2015, [50.0, 20.0, 0.0], [0.0, 0.0, 0.0])
    book(cf, 2016, [0.0] * 3, [0.0] * 3, qualified=[True, True, True], extended=5)  # 2016: five years for all
    assert not cf.extended.any()
    book(cf, 2018, [0.0] * 3, [0.0] * 3, qualified=[True, False, False])  # 2018: the rule in force
    assert cf.extended.tolist() == [True, False]
    # firm 7 has left the population: its carried deduction lapses
    survivors = np.array([3, 11], dtype=np.int64)
    _, carried = book(cf, 2019, [0.0, 0.0], [0.0, 0.0], qualified=[False, False], uid=survivors)
    assert cf.uid.tolist() == [3] and carried.tolist() == [50.0, 0.0]


@pytest.fixture(scope="module")
def pair():
    """The baseline at scale 0.2 to 2030, and the same with nothing carried (both periods 0)."""
    sc = load_scenario(SCENARIOS / "baseline.toml")
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.2, "end_year": 2030})})
    dump = sc.model_dump()
    dump["policy"]["tax"].update(loss_carry_years=0, loss_carry_years_qualified=0)
    runs = []
    for scenario in (sc, sc.model_validate(dump)):
        m = QinghaiModel(scenario, seed=3)
        m.run_to(2030)
        runs.append({(r["year"], r["region"]): r for r in m.rows})
    return runs


def test_the_ledger_counts_carried_deductions_when_used_and_firms_do_not_react(pair):
    carried, none = pair
    gain = 0.0
    for year in range(2016, 2031):
        a, b = carried[year, "province"], none[year, "province"]
        assert a["business_rd"] == b["business_rd"] and a["hte_count"] == b["hte_count"]  # the ledger only
        assert b["super_deduction_carried"] == 0.0 and a["super_deduction_carried"] > 0.0
        gain += a["tax_expenditure_super_deduction"] - b["tax_expenditure_super_deduction"]
        assert a["tax_expenditure_super_deduction"] >= b["tax_expenditure_super_deduction"]
    assert carried[2016, "province"]["tax_expenditure_super_deduction"] == none[2016, "province"][
        "tax_expenditure_super_deduction"]  # nothing carried into the first year
    assert gain > 0.05 * sum(none[y, "province"]["tax_expenditure_super_deduction"] for y in range(2016, 2031))
    assert np.isnan(carried[2015, "province"]["super_deduction_carried"])  # unknown at the start
    regions = [k[1] for k in carried if k[0] == 2030 and k[1] != "province"]
    assert sum(carried[2030, r]["super_deduction_carried"] for r in regions) == pytest.approx(
        carried[2030, "province"]["super_deduction_carried"], rel=1e-12)
