"""The model end to end: reproducibility, common random numbers across policy variants, budgets, structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qhsim.government.agents import Government
from qhsim.knowledge.institutions import Institution
from qhsim.model import QinghaiModel
from qhsim.results import PROVINCE
from qhsim.runner import as_scenario, run
from qhsim import data

from conftest import SCENARIOS

SCALE = 0.1


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return run(SCENARIOS / "baseline.toml", scale=SCALE, end_year=2030).indicators


def test_same_seed_bit_identical(baseline: pd.DataFrame) -> None:
    again = run(SCENARIOS / "baseline.toml", scale=SCALE, end_year=2030).indicators
    pd.testing.assert_frame_equal(baseline, again, check_exact=True)


def test_other_seed_differs(baseline: pd.DataFrame) -> None:
    other = run(SCENARIOS / "baseline.toml", scale=SCALE, end_year=2030, seed=7).indicators
    assert not np.array_equal(baseline["business_rd"].to_numpy(), other["business_rd"].to_numpy())


def test_rows_per_year_and_region(baseline: pd.DataFrame) -> None:
    regions = [PROVINCE, *data.prefecture_ids()]
    assert list(baseline["region"].unique()) == regions
    assert list(baseline["year"].unique()) == list(range(2015, 2031))
    prov = baseline[baseline.region == PROVINCE].set_index("year")
    prefs = baseline[baseline.region != PROVINCE].groupby("year")
    for column in ("business_rd", "hte_count", "enterprises", "spend_ex_ante_grants"):
        np.testing.assert_allclose(prefs[column].sum(min_count=1), prov[column], rtol=1e-9)  # 2015 flows: NaN


def test_initial_state_matches_documented_2015_stocks(baseline: pd.DataFrame) -> None:
    y2015 = baseline[(baseline.region == PROVINCE) & (baseline.year == 2015)].iloc[0]
    init = data.values("initial_state")
    assert y2015["business_rd"] == pytest.approx(data.observed("business_rd")[2015], rel=1e-6)
    assert y2015["hte_count"] == pytest.approx(init["hte"], abs=1 / SCALE)
    assert y2015["enterprises"] == pytest.approx(data.observed("enterprises")[2015], abs=1 / SCALE)


def test_population_seed_fixes_2015_and_seed_drives_dynamics(baseline: pd.DataFrame) -> None:
    """By default every dynamics seed starts from the same 2015 population; the population seed varies it."""
    other_dynamics = run(SCENARIOS / "baseline.toml", scale=SCALE, end_year=2017, seed=7).indicators
    other_population = run(SCENARIOS / "baseline.toml", scale=SCALE, end_year=2017, population_seed=8).indicators
    first = baseline.year == 2015
    pd.testing.assert_frame_equal(baseline[first], other_dynamics[other_dynamics.year == 2015], check_exact=True)
    assert not other_dynamics[other_dynamics.year == 2017]["business_rd"].equals(
        baseline[baseline.year == 2017]["business_rd"].reset_index(drop=True))
    assert not np.array_equal(baseline.loc[first, "hte_count"].to_numpy(),
                              other_population.loc[other_population.year == 2015, "hte_count"].to_numpy())


def test_reduced_scale_population_is_the_first_part_of_the_full_one() -> None:
    sc = as_scenario(SCENARIOS / "baseline.toml")
    small, full = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.05})})), QinghaiModel(sc)
    n = len(small.firms)
    for column in ("pref", "sector", "revenue", "margin", "eta", "birth", "encouraged"):  # (certificates differ)
        np.testing.assert_array_equal(small.firms.cols[column], full.firms.cols[column][:n], err_msg=column)


FIXED = ("pref", "sector", "birth", "eta", "tech_orient", "encouraged", "deduct_excluded")


def test_entrants_are_keyed_per_firm_so_variants_share_them() -> None:
    """Entrant j of a year is the same firm (uid and attributes) in a variant and its base, although the
    variant's exits, and so its number of entrants, differ."""
    models = {}
    for name in ("baseline", "super_deduction_120"):
        sc = as_scenario(SCENARIOS / f"{name}.toml")
        m = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": SCALE})}))
        m.run_to(2029)
        models[name] = m.firms
    base, variant = models["baseline"], models["super_deduction_120"]
    common, i, j = np.intersect1d(base.uid, variant.uid, return_indices=True)
    late = base.birth[i] >= 2026  # entrants after the variant's policy change
    assert late.sum() > 100
    for column in FIXED:
        np.testing.assert_array_equal(base.cols[column][i], variant.cols[column][j], err_msg=column)
    assert (np.diff(base.uid) > 0).all() and (np.diff(variant.uid) > 0).all(), "uids must stay sorted"


def test_switching_clocks_are_spent_and_redrawn_by_switch_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each year a firm that does not start or stop R&D spends the year's hazard of its clock; one that does counts
    the switch and draws the clock its switch number keys; an entrant starts with its first clock (docs/ODD.md §7.3).
    The same bookkeeping for the core-IP clocks of the R&D performers (§7.6)."""
    import qhsim.model as model_module
    from qhsim.firms.dynamics import first_clocks

    sc = as_scenario(SCENARIOS / "baseline.toml")
    m = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.05})}))
    first = first_clocks(m.draws, m.year, m.firms.uid)
    assert np.array_equal(m.firms.switch_clock, first["switch_clock"])
    seen = {}

    def spy(f, *args, **kwargs):
        seen.update(clock=f.switch_clock.copy(), switches=f.switches.copy(), active=f.rd_active.copy(),
                    uid=f.uid.copy(), birth=f.birth.copy())
        seen["decision"] = out = decide(f, *args, **kwargs)
        return out

    decide = model_module.decide
    monkeypatch.setattr(model_module, "decide", spy)
    for _ in range(3):
        m.step()
        f, hazard = m.firms, seen["decision"]["hazard"]
        assert np.array_equal(f.uid, seen["uid"])
        switched = seen["decision"]["rd_active"] != seen["active"]
        assert switched.any() and (~switched).any()
        entrants = np.flatnonzero(seen["birth"] == m.year)
        # after the decision only the knowledge system's start-ups (this year's entrants) turn R&D-active
        assert set(np.flatnonzero(f.rd_active != seen["decision"]["rd_active"])) <= set(entrants)
        assert len(entrants) and np.array_equal(seen["clock"][entrants],
                                                first_clocks(m.draws, m.year, f.uid[entrants])["switch_clock"])
        stay = np.flatnonzero(~switched)
        assert np.array_equal(f.switch_clock[stay], seen["clock"][stay] - hazard[stay])
        assert (seen["clock"][stay] > hazard[stay]).all() and (seen["clock"][switched] <= hazard[switched]).all()
        at = np.flatnonzero(switched)
        assert np.array_equal(f.switches, seen["switches"] + switched)
        assert np.array_equal(f.switch_clock[at], m.draws.counted_exponential("switch", f.uid, at, f.switches[at]))
        assert (f.switch_clock > 0).all() and (f.ip_clock > 0).all()


def test_programme_and_platform_money_at_a_host_firm_is_its_r_and_d_next_year(monkeypatch: pytest.MonkeyPatch) -> None:
    """Talent-programme research money paid to a host firm (the cultivated talent's non-living share, Kunlun project
    funds) and platform money (new-platform subsidies, hosts' support) are R&D the firm performs the next year, with a
    project grant's additionality, as the same money at an institution is the institution's R&D (docs/ODD.md
    §7.10.2, §7.10.5): real R&D = plan + a_g (grants + last year's research funds)."""
    import qhsim.model as model_module
    from qhsim.knowledge.platforms import PlatformSystem
    from qhsim.knowledge.talent import TalentSystem

    sc = as_scenario(SCENARIOS / "baseline.toml")
    m = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.25})}))
    a_g = m.b.grant_additionality
    seen = {}

    def spy_decide(f, *args, **kwargs):
        seen.update(funds=f.research_funds.copy(), uid=f.uid.copy())
        seen["decision"] = out = decide(f, *args, **kwargs)
        return out

    def spy_grants(*args, **kwargs):
        seen["grants"] = out = grants(*args, **kwargs)
        return out

    def spy_talent(self, *args, **kwargs):
        seen["flows"] = out = talent_step(self, *args, **kwargs)
        return out

    def spy_platforms(self, year, kpol, kp, draws, fv, *args, **kwargs):
        out = platform_step(self, year, kpol, kp, draws, fv, *args, **kwargs)
        seen["platform"] = dict(zip(fv.uid[fv.platform_money > 0].tolist(), fv.platform_money[fv.platform_money > 0]))
        return out

    decide, grants = model_module.decide, model_module.ex_ante_grants
    talent_step, platform_step = TalentSystem.step, PlatformSystem.step
    monkeypatch.setattr(model_module, "decide", spy_decide)
    monkeypatch.setattr(model_module, "ex_ante_grants", spy_grants)
    monkeypatch.setattr(TalentSystem, "step", spy_talent)
    monkeypatch.setattr(PlatformSystem, "step", spy_platforms)
    performed, platform_years = 0.0, 0
    for _ in range(4):
        m.step()
        f, d = m.firms, seen["decision"]
        assert np.array_equal(f.uid, seen["uid"])
        active = f.rd_active & d["rd_active"]  # not a start-up the knowledge system made this year
        expected = d["rd_plan"] + a_g * (seen["grants"] + seen["funds"] * d["rd_active"])
        assert np.allclose(f.rd_real[active], expected[active], rtol=1e-12, atol=1e-9)
        performed += float((seen["funds"] * d["rd_active"]).sum())
        booked = dict(seen["flows"].research_to_firms)  # this year's money waits for next year
        for uid, money in seen["platform"].items():
            booked[uid] = booked.get(uid, 0.0) + money
        rows = np.searchsorted(f.uid, np.fromiter(booked, dtype=np.int64))
        assert seen["flows"].research_to_firms and np.allclose(f.research_funds[rows], list(booked.values()))
        assert np.count_nonzero(f.research_funds) == len(booked)
        platform_years += bool(seen["platform"])
    assert performed > 0 and platform_years > 0


def test_one_cost_per_fte_for_talent_and_hte_staff_criterion() -> None:
    """The HTE S&T-staff criterion and the talent system's staff targets use qhsim.macro.cost_per_fte, which is
    behaviour.toml's 2020 value in 2020, grows with wages (GDP per employed person) after, and before 2020 sits
    below the wage path by ``rd_cost_catchup`` a year."""
    from qhsim.firms import behaviour
    from qhsim.firms.certification import st_staff
    from qhsim.macro import cost_per_fte, macro_paths, wage_index

    sc = as_scenario(SCENARIOS / "baseline.toml")
    b = behaviour(sc.behaviour())
    macro = macro_paths(sc)
    assert b.rd_cost_catchup > 0
    assert cost_per_fte(macro, 2020, b) == pytest.approx(b.rd_cost_per_fte, rel=1e-12)
    assert cost_per_fte(macro, 2030, b) == pytest.approx(b.rd_cost_per_fte * wage_index(macro, 2030), rel=1e-12)
    assert cost_per_fte(macro, 2030, b) > 1.3 * b.rd_cost_per_fte
    wages_2015 = b.rd_cost_per_fte * wage_index(macro, 2015)
    assert cost_per_fte(macro, 2015, b) == pytest.approx(wages_2015 / (1 + b.rd_cost_catchup) ** 5, rel=1e-12)
    later = cost_per_fte(macro, 2030, b)
    staff = st_staff(np.array([1000.0]), later, b)[0]
    assert staff == pytest.approx(1000.0 / later * b.st_staff_per_rd_staff)


def test_lower_user_cost_raises_business_rd_under_crn(baseline: pd.DataFrame) -> None:
    """super_deduction_120 changes nothing before 2026 (same draws), then raises business R&D."""
    variant = run(SCENARIOS / "super_deduction_120.toml", scale=SCALE, end_year=2030).indicators
    before = baseline.year < 2026
    pd.testing.assert_frame_equal(baseline[before], variant[before], check_exact=True)
    prov = (baseline.region == PROVINCE) & (baseline.year == 2030)
    assert variant.loc[prov, "business_rd"].item() > baseline.loc[prov, "business_rd"].item()
    assert variant.loc[prov, "tax_expenditure_super_deduction"].item() > baseline.loc[prov, "tax_expenditure_super_deduction"].item()


def test_vouchers_raise_the_providers_rd_not_their_holders(baseline: pd.DataFrame) -> None:
    """vouchers_expanded: the extra voucher money buys services whose R&D part is R&D of universities and institutes
    (voucher_rd_service_share / voucher_fee_share per voucher yuan), not R&D of the SMEs holding the vouchers."""
    from qhsim.knowledge.params import knowledge_parameters

    kp = knowledge_parameters()
    variant = run(SCENARIOS / "vouchers_expanded.toml", scale=SCALE, end_year=2026).indicators
    cell = lambda t, col: t.loc[(t.region == PROVINCE) & (t.year == 2026), col].item()  # noqa: E731
    extra_spend = (cell(variant, "spend_vouchers") - cell(baseline, "spend_vouchers")) / 1e4  # 亿元
    assert extra_spend == pytest.approx(0.4)
    extra_public = cell(variant, "public_rd") - cell(baseline, "public_rd")
    # the booked services, give or take what the year's extra R&D starters buy in the technology market
    assert extra_public == pytest.approx(extra_spend * kp.voucher_rd_service_share / kp.voucher_fee_share, rel=0.1)
    # the holders start R&D more often, but the vouchers themselves add nothing to business R&D in the year
    assert abs(cell(variant, "business_rd") - cell(baseline, "business_rd")) < 0.25 * extra_spend


@pytest.mark.parametrize(
    "scenario,column",
    [
        ("more_ex_ante_grants", "spend_ex_ante_grants"),
        ("rd_reward_province_wide", "spend_rd_reward"),
        ("vouchers_expanded", "spend_vouchers"),
    ],
)
def test_programme_spending_within_budget(scenario: str, column: str) -> None:
    """Province programmes within their budget; R&D-intensity rewards within each prefecture's own fund."""
    sc = as_scenario(SCENARIOS / f"{scenario}.toml")
    result = run(sc, scale=SCALE, end_year=2028)
    section = {"spend_ex_ante_grants": "ex_ante_grants", "spend_rd_reward": "rd_reward",
               "spend_vouchers": "vouchers"}[column]
    budget = getattr(sc.policy, section).budget
    regions = data.prefecture_ids() if section == "rd_reward" else [PROVINCE]
    for region in regions:
        rows = result.region(region)
        for year in range(2016, 2029):
            assert rows.loc[year, column] <= budget.at(year) * (1 + 1e-9), (region, year)
    assert result.province().loc[2028, column] > 0


def test_rd_reward_funds_ration_each_prefecture(tmp_path) -> None:
    """With a fund of 450万元 from 2026, below Xining's claims (some 700-950万元 at this scale and seed): every
    prefecture pays at most its own fund, and some prefecture pays exactly its fund (its claims are cut pro rata)."""
    tight = tmp_path / "tight_reward.toml"
    tight.write_text(f'extends = "{(SCENARIOS / "rd_reward_province_wide.toml").as_posix()}"\n'
                     "[policy.rd_reward]\nbudget = { 2026 = 450 }\n", encoding="utf-8")
    result = run(tight, scale=SCALE, end_year=2028)
    spend = {p: result.region(p).loc[2026:2028, "spend_rd_reward"] for p in data.prefecture_ids()}
    assert all((s <= 450.0 * (1 + 1e-9)).all() for s in spend.values()), spend
    assert any(np.isclose(s, 450.0, rtol=1e-9).any() for s in spend.values()), spend


def test_mesa_model_structure() -> None:
    model = QinghaiModel(as_scenario(SCENARIOS / "baseline.toml").model_copy(
        update={"run": as_scenario(SCENARIOS / "baseline.toml").run.model_copy(update={"scale": 0.02})}))
    n_govs = 1 + len(data.prefecture_ids())
    governments = [a for a in model.agents if isinstance(a, Government)]
    institutions = [a for a in model.agents if isinstance(a, Institution)]
    assert len(governments) == n_govs
    assert len(institutions) == len(data.load("institutions")["institution"])
    assert len(model.agents) == len(governments) + len(institutions)
    model.step()
    assert model.year == 2016
    assert model.province.history[-1]["year"] == 2016
    firm = model.firms[0]
    assert firm.uid == model.firms.uid[0] and " " in firm.prefecture



def test_a_finished_run_frees_its_populations_without_the_garbage_collector() -> None:
    """Mesa's agents refer back to the model, so only ``QinghaiModel.close`` (called by ``run``, also when
    ``on_step`` stops the run) frees the firm columns and the personnel before Python's cyclic collector runs."""
    import gc
    import weakref

    class Stop(Exception):
        pass

    held: list[weakref.ref] = []

    def on_step(model: QinghaiModel) -> None:
        held[:] = [weakref.ref(model.firms.revenue), weakref.ref(model.knowledge.talent.pop.wage)]
        if model.year == 2017:
            raise Stop  # a run stopped from outside (the dashboard's cancel)

    gc.disable()
    try:
        run(SCENARIOS / "baseline.toml", scale=0.02, end_year=2016, on_step=on_step)
        assert held and all(ref() is None for ref in held)
        with pytest.raises(Stop):
            run(SCENARIOS / "baseline.toml", scale=0.02, end_year=2019, on_step=on_step)
        assert held and all(ref() is None for ref in held)
    finally:
        gc.enable()

def test_ensemble_stacks_runs_and_reproduces_single_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a calibration, an ensemble of 1 parameter set x 2 seeds is exactly the two single runs."""
    from qhsim.experiments.ensemble import run_ensemble

    monkeypatch.setenv("QHSIM_CALIBRATED", "off")
    ens = run_ensemble(SCENARIOS / "baseline.toml", draws=1, seeds=(3, 4), scale=0.05, end_year=2020).indicators
    assert sorted(ens["draw"].unique()) == [0, 1] and set(ens["weight"]) == {0.5}  # the two runs weigh alike
    for draw, seed in ((0, 3), (1, 4)):
        single = run(SCENARIOS / "baseline.toml", seed=seed, scale=0.05, end_year=2020).indicators
        part = ens[ens["draw"] == draw].drop(columns=["draw", "param_draw", "seed", "weight"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(part, single, check_exact=True)


def test_seeds_without_draws_run_the_calibrated_point_estimate() -> None:
    """``qhsim run --seeds 3,4`` (no --draws) is the point estimate with each seed, as a comparison's seeds are: its
    runs are the single runs, and it names no parameter draws but the point estimate."""
    from qhsim.experiments.ensemble import run_ensemble

    result = run_ensemble(SCENARIOS / "baseline.toml", draws=None, seeds=(3, 4), scale=0.05, end_year=2018)
    ens = result.indicators
    assert result.meta["parameter_draws"] == [] and result.meta["parameter_source"] == "calibrated point estimate"
    for draw, seed in ((0, 3), (1, 4)):
        single = run(SCENARIOS / "baseline.toml", seed=seed, scale=0.05, end_year=2018).indicators
        part = ens[ens["draw"] == draw].drop(columns=["draw", "param_draw", "seed", "weight"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(part, single, check_exact=True)


def test_calibrated_parameters_are_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from qhsim.calibration import calibrated_parameters
    from qhsim.config import load_scenario

    monkeypatch.setenv("QHSIM_CALIBRATED", str(SCENARIOS.parent / "calibration" / "calibrated.toml"))
    point = calibrated_parameters()
    assert point, "calibration/calibrated.toml holds a point estimate"
    behaviour = load_scenario(SCENARIOS / "baseline.toml").behaviour()
    for name, value in point.items():
        assert behaviour[name] == value
    assert any(data.values("behaviour")[name] != value for name, value in point.items())
    monkeypatch.setenv("QHSIM_CALIBRATED", "off")
    assert load_scenario(SCENARIOS / "baseline.toml").behaviour() == data.values("behaviour")
