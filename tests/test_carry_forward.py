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


def book(cf: CarryForward, year: int, deduction, profit, qualified=NO, uid=UID, years=5, extended=10):
    """``cf.use`` of one year: (used, carried); ``cf.taxable`` keeps the taxable income without the deduction."""
    used, carried, cf.taxable = cf.use(year, uid, np.asarray(deduction, dtype=float), np.asarray(profit, dtype=float),
                                       np.asarray(qualified, dtype=bool), years, extended)
    return used, carried


def test_this_years_deduction_first_then_the_carried_oldest_first():
    cf = CarryForward()
    used, carried = book(cf, 2020, [100.0, 30.0, 0.0], [40.0, 50.0, 10.0])
    assert used.tolist() == [40.0, 30.0, 0.0]  # up to the taxable profit
    assert carried.tolist() == [60.0, 0.0, 0.0]
    book(cf, 2021, [50.0, 0.0, 0.0], [20.0, 0.0, 0.0])  # a second loss year: 30 more carried
    assert cf.year.tolist() == [2020, 2021] and cf.loss.tolist() == [60.0, 30.0]
    used, carried = book(cf, 2022, [10.0, 0.0, 0.0], [80.0, 0.0, 0.0])  # 10 own, then 60 of 2020's and 10 of 2021's
    assert used.tolist() == [80.0, 0.0, 0.0] and carried.tolist() == [20.0, 0.0, 0.0]
    assert cf.year.tolist() == [2021] and cf.loss.tolist() == [20.0]


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


def test_an_older_operating_loss_takes_the_profit_before_a_later_carried_deduction():
    """A tax loss is one amount: a firm that carried a deduction and then lost money uses the older deduction first,
    but the deduction saves tax only where the firm's own operating losses would not have absorbed the profit
    anyway. Before, operating losses were not carried and the deduction was used as soon as there was profit."""
    cf = CarryForward()
    used, carried = book(cf, 2020, [50.0, 0.0, 0.0], [0.0, 0.0, 0.0])  # the deduction carried whole
    assert used.tolist() == [0.0, 0.0, 0.0] and carried.tolist() == [50.0, 0.0, 0.0]
    used, carried = book(cf, 2021, [0.0] * 3, [-100.0, -100.0, 0.0])  # an operating loss of 100
    assert used.tolist() == [0.0, 0.0, 0.0] and carried.tolist() == [50.0, 0.0, 0.0]
    assert cf.uid.tolist() == [3, 3]  # firm 7 never had a deduction: its losses are not kept
    # 120 of profit: the tax rules offset 50 (2020) and 70 of 100 (2021): taxable 0; without the deduction the
    # 100 of 2021 alone: taxable 20. The deduction saved tax on 20 this year, and 30 of it is still carried
    used, carried = book(cf, 2022, [0.0] * 3, [120.0, 120.0, 0.0])
    assert used.tolist() == [20.0, 0.0, 0.0] and carried.tolist() == [30.0, 0.0, 0.0]
    assert cf.taxable.tolist() == [20.0, 120.0, 0.0]  # the HTE rate's base: after the firm's own older loss
    used, carried = book(cf, 2023, [0.0] * 3, [100.0, 0.0, 0.0])
    assert used.tolist() == [30.0, 0.0, 0.0] and carried.tolist() == [0.0, 0.0, 0.0] and len(cf) == 0


def reference_ledger(years_of_rows, carry=5, extended=10):
    """The loss carry-forward firm by firm in plain Python: the tax rules' taxable income and the one without the
    super-deduction, each with its own list of losses (loss year, amount), the oldest first; a firm's losses kept from
    its first deduction on. Per year and firm: (taxable income without - with, carried deduction, taxable without)."""
    books: dict[int, dict[str, list]] = {}
    out = []
    for year, uid, deduction, profit, qualified in years_of_rows:
        books = {u: b for u, b in books.items() if u in set(uid.tolist())}
        row = []
        for u, d, p, q in zip(uid.tolist(), deduction.tolist(), profit.tolist(), qualified.tolist()):
            if d > 0 and u not in books:
                books[u] = {"with": [], "without": [], "extended": {}}
            if u not in books:
                row.append(((min(d, max(p, 0.0))), 0.0, max(p, 0.0)))
                continue
            b = books[u]
            incomes = []
            for key, income in (("with", p - d), ("without", p)):
                b[key] = [[y, a] for y, a in b[key]
                          if year - y <= carry or (b["extended"].get(y, False) and year - y <= extended)]
                room = max(income, 0.0)
                for loss in b[key]:
                    take = min(loss[1], room)
                    loss[1] -= take
                    room -= take
                incomes.append(room)
            if q and year >= 2018:
                for y, _ in b["with"]:
                    if year - y <= carry:
                        b["extended"][y] = True
            if p - d < 0:
                b["with"].append([year, d - p])
                b["without"].append([year, max(-p, 0.0)])
            carried = sum(a for _, a in b["with"]) - sum(a for _, a in b["without"])
            row.append((incomes[1] - incomes[0], carried, incomes[1]))
        out.append(row)
    return out


def test_the_ledger_agrees_with_a_firm_by_firm_reference_over_random_years():
    rng = np.random.default_rng(42)
    uid = np.arange(1, 41, dtype=np.int64) * 3
    years = []
    for year in range(2016, 2036):
        alive = uid[rng.random(len(uid)) > 0.03]  # a few exits
        uid = alive
        n = len(uid)
        deduction = np.where(rng.random(n) < 0.5, rng.gamma(2.0, 30.0, n), 0.0)
        profit = rng.normal(20.0, 60.0, n)
        years.append((year, uid.copy(), deduction, profit, rng.random(n) < 0.2))
    cf = CarryForward()
    expected = reference_ledger(years)
    for (year, u, deduction, profit, qualified), want in zip(years, expected):
        used, carried, taxable = cf.use(year, u, deduction, profit, qualified, 5, 10)
        want = np.array(want)
        assert used == pytest.approx(want[:, 0], abs=1e-9), year
        assert carried == pytest.approx(want[:, 1], abs=1e-9), year
        assert taxable == pytest.approx(want[:, 2], abs=1e-9), year
    assert len(cf) > 0 and np.any(np.array(expected[-1])[:, 1] > 0)  # losses were still carried at the end


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
    moved = 0.0
    for year in range(2016, 2031):
        a, b = carried[year, "province"], none[year, "province"]
        assert a["business_rd"] == b["business_rd"] and a["hte_count"] == b["hte_count"]  # the ledger only
        assert b["super_deduction_carried"] == 0.0 and a["super_deduction_carried"] > 0.0
        moved += abs(a["tax_expenditure_super_deduction"] - b["tax_expenditure_super_deduction"])
        # carried operating losses only lower an HTE's taxable income
        assert a["tax_expenditure_hte_rate"] <= b["tax_expenditure_hte_rate"]
    assert carried[2016, "province"]["tax_expenditure_super_deduction"] == none[2016, "province"][
        "tax_expenditure_super_deduction"]  # nothing carried into the first year
    # carried deductions used later, and older losses that take this year's profit first, in either direction
    assert moved > 0.05 * sum(none[y, "province"]["tax_expenditure_super_deduction"] for y in range(2016, 2031))
    assert sum(carried[y, "province"]["tax_expenditure_hte_rate"] for y in range(2016, 2031)) < sum(
        none[y, "province"]["tax_expenditure_hte_rate"] for y in range(2016, 2031))
    assert np.isnan(carried[2015, "province"]["super_deduction_carried"])  # unknown at the start
    regions = [k[1] for k in carried if k[0] == 2030 and k[1] != "province"]
    assert sum(carried[2030, r]["super_deduction_carried"] for r in regions) == pytest.approx(
        carried[2030, "province"]["super_deduction_carried"], rel=1e-12)
