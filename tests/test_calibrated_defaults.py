"""The shipped configuration 默认校准配置: key behaviour tests again with the calibrated defaults users get
(calibration/calibrated.toml in force, as without QHSIM_CALIBRATED), and calibrated values reaching every
part of the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import test_knowledge
import test_model
from qhsim.calibrated import DEFAULT_FILE, calibrated_parameters
from qhsim.calibration.ensemble import write_calibration
from qhsim.model import QinghaiModel
from qhsim.runner import as_scenario, run

from conftest import SCENARIOS

SCALE = test_model.SCALE


@pytest.fixture(autouse=True)
def shipped(monkeypatch):
    """What a user gets: no QHSIM_CALIBRATED, so calibration/calibrated.toml is the default."""
    monkeypatch.delenv("QHSIM_CALIBRATED", raising=False)
    point = calibrated_parameters()
    assert point and point == calibrated_parameters(DEFAULT_FILE)
    return point


@pytest.fixture(scope="module")
def baseline_shipped() -> pd.DataFrame:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("QHSIM_CALIBRATED", raising=False)
        return run(SCENARIOS / "baseline.toml", scale=SCALE, end_year=2030).indicators


def test_the_shipped_defaults_differ_from_behaviour_toml(baseline_shipped, monkeypatch):
    monkeypatch.setenv("QHSIM_CALIBRATED", "off")
    off = run(SCENARIOS / "baseline.toml", scale=SCALE, end_year=2020).indicators
    assert not off["business_rd"].equals(baseline_shipped[baseline_shipped.year <= 2020]["business_rd"].reset_index(drop=True))


def test_same_seed_bit_identical(baseline_shipped):
    test_model.test_same_seed_bit_identical(baseline_shipped)


def test_lower_user_cost_raises_business_rd_under_crn(baseline_shipped):
    test_model.test_lower_user_cost_raises_business_rd_under_crn(baseline_shipped)


@pytest.mark.parametrize("scenario,column", [("more_ex_ante_grants", "spend_ex_ante_grants"),
                                             ("vouchers_expanded", "spend_vouchers")])
def test_programme_spending_within_budget(scenario, column):
    test_model.test_programme_spending_within_budget(scenario, column)


def test_tech_transfer_subsidy_raises_turnover_under_crn():
    test_knowledge.test_tech_transfer_subsidy_raises_turnover_under_crn()


def test_rd_personnel_are_firms_and_institutions_staff():
    sc = as_scenario(SCENARIOS / "baseline.toml")
    model = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.1})}), seed=4)
    model.run_to(2020)
    test_knowledge.test_rd_personnel_are_firms_and_institutions_staff(model)


def test_a_scenarios_own_parameters_beat_the_calibrated_defaults(shipped):
    name, value = "start_intercept", -7.5
    assert shipped[name] != value
    sc = as_scenario(SCENARIOS / "baseline.toml")
    sc = sc.model_copy(update={"parameters": {name: value}})
    assert QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.02})})).b.start_intercept == value


def test_calibrated_knowledge_parameters_reach_the_knowledge_system(tmp_path, monkeypatch):
    """A free parameter of knowledge.toml / talent.toml in calibrated.toml is what the knowledge system uses."""
    path = tmp_path / "calibrated.toml"
    point = {"market_demand_scale": 3.3, "rd_cost_per_fte": 31.0, "start_intercept": -4.4}
    names = list(point)
    write_calibration(path, point, names, np.array([list(point.values())]), np.array([1.0]), np.array([1.0]),
                      {"config": "test"}, {})
    monkeypatch.setenv("QHSIM_CALIBRATED", str(path))
    sc = as_scenario(SCENARIOS / "baseline.toml")
    model = QinghaiModel(sc.model_copy(update={"run": sc.run.model_copy(update={"scale": 0.02})}))
    assert model.knowledge.kp.market_demand_scale == 3.3
    assert model.b.rd_cost_per_fte == 31.0 and model.b.start_intercept == -4.4


def test_a_run_from_another_population_says_its_levels_are_not_calibrated(tmp_path, capsys, monkeypatch):
    """The calibration was fitted on the default 2015 population: a run from another one names it in its header
    and warns on stderr; the default population, or no calibration in force, gives no warning."""
    from qhsim.cli import main

    args = ["run", str(SCENARIOS / "baseline.toml"), "--scale", "0.02", "--end-year", "2016", "--no-charts"]
    assert main([*args, "--population-seed", "7", "--out", str(tmp_path / "a")]) == 0
    out, err = capsys.readouterr()
    assert "population seed 7" in out and "人口种子 7" in out
    assert "qhsim: warning: population seed 7: the calibration was fitted on the default 2015 population" in err
    html = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")  # the handed-on reports say it too
    assert "人口种子 Population seed" in html and "not the 2015 population the calibration was fitted on" in html
    meta = dict(pd.read_excel(tmp_path / "a" / "report.xlsx", sheet_name="元数据 Metadata").iloc[:, :2].values)
    assert meta["人口种子 population seed (the end-2015 population)"] == 7
    assert main([*args, "--population-seed", "2015", "--out", str(tmp_path / "b")]) == 0
    out, err = capsys.readouterr()
    assert "population seed" not in out and "population seed" not in err  # (err: --end-year 2016 cuts the run)
    assert "人口种子 Population seed" not in (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    monkeypatch.setenv("QHSIM_CALIBRATED", "off")
    assert main([*args, "--population-seed", "7", "--out", str(tmp_path / "c")]) == 0
    out, err = capsys.readouterr()
    assert "population seed 7" in out and "population seed" not in err


def test_a_calibration_path_that_does_not_exist_is_an_error_not_an_uncalibrated_run(tmp_path, capsys, monkeypatch):
    """QHSIM_CALIBRATED naming no file (a typo, or "on") stops with one line and exit 2, and writes nothing: it used to
    run the model uncalibrated without a word."""
    from qhsim.cli import main

    monkeypatch.setenv("QHSIM_CALIBRATED", str(tmp_path / "calibrated.tmol"))
    out = tmp_path / "run"
    args = ["run", str(SCENARIOS / "baseline.toml"), "--scale", "0.02", "--end-year", "2016", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "calibrated.tmol: no such calibration file" in err and "=off" in err
    assert not out.exists()
