"""Sensitivity around the calibrated model (calibration/sensitivity.toml ``base``, ``morris_ranges``, ``sobol_ranges``):
posterior ranges are the intervals of calibrated.toml, the base point reaches the runs, bad keys are one-line errors.
(The index computation itself is checked on a function with known indices in test_calibration_checks.py.)"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import qhsim.calibration.sensitivity as sens
from qhsim.cli import main
from qhsim.config import resolve_raw, scenario_from_dict
from qhsim.errors import InputError
from qhsim.experiments.engine import extract_cells
from qhsim.runner import run

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHIPPED_CALIBRATION = ROOT / "calibration" / "calibrated.toml"

CALIBRATION = """
[meta]
created = "2030-01-02T03:04:05Z"
config = "test"
model_commit = "0123456789abcdef"

[point]
start_intercept = -3.3
hte_apply_probability = 0.5

[interval.start_intercept]
p05 = -5.5
median = -4.0
p95 = -3.2

[interval.hte_apply_probability]
p05 = 0.3
median = 0.5
p95 = 0.7
"""


def write_spec(tmp: Path, base: str = "calibrated", sobol_ranges: str = "posterior", morris_ranges: str = "prior",
               morris_behaviour: str = '["start_intercept", "hte_apply_probability"]') -> Path:
    path = tmp / "sensitivity.toml"
    lines = [
        "[common]", f'scenario = "{BASELINE}"', "year = 2018", 'region = "province"',
        'outputs = ["rd_intensity", "hte_count"]', f"morris_behaviour = {morris_behaviour}",
        'sobol_behaviour = ["hte_apply_probability"]', "morris_levels = 4", "random_seed = 1",
        f'base = "{base}"' if base else "", f'morris_ranges = "{morris_ranges}"', f'sobol_ranges = "{sobol_ranges}"',
        "", "[t]", "scale = 0.05", "seeds = [1, 2]", "morris_trajectories = 2", "sobol_n = 4", f'out = "{tmp / "out"}"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def calibration(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "calibrated.toml"
    path.write_text(CALIBRATION, encoding="utf-8")
    monkeypatch.setenv("QHSIM_CALIBRATED", str(path))
    return path


def test_posterior_ranges_are_the_intervals_of_the_calibration_and_morris_keeps_the_prior(tmp_path, calibration):
    spec = sens.load_spec("t", write_spec(tmp_path))
    (sobol,) = spec.sobol_factors
    assert (sobol.name, sobol.low, sobol.high) == ("hte_apply_probability", 0.3, 0.7)
    morris = {f.name: (f.low, f.high) for f in spec.morris_factors}
    assert morris == {"start_intercept": (-8.0, -3.0), "hte_apply_probability": (0.1, 1.0)}  # behaviour.toml ranges
    assert spec.base_parameters == {"start_intercept": -3.3, "hte_apply_probability": 0.5}
    assert spec.calibration.path == calibration
    prior = sens.load_spec("t", write_spec(tmp_path, sobol_ranges="prior"))
    assert (prior.sobol_factors[0].low, prior.sobol_factors[0].high) == (0.1, 1.0)
    data = sens.load_spec("t", write_spec(tmp_path, base="data"))
    assert data.base_parameters == {}


def test_shipped_full_design_varies_the_free_parameters_over_their_posterior_intervals(monkeypatch):
    monkeypatch.setenv("QHSIM_CALIBRATED", str(SHIPPED_CALIBRATION))
    spec = sens.load_spec("full")
    shipped = tomllib.loads(SHIPPED_CALIBRATION.read_text(encoding="utf-8"))
    behaviour = [f for f in spec.sobol_factors if f.kind == "behaviour"]
    assert behaviour and {f.name for f in behaviour} <= set(shipped["interval"])
    for f in behaviour:
        assert (f.low, f.high) == (shipped["interval"][f.name]["p05"], shipped["interval"][f.name]["p95"]), f.name
    # instruments keep their sensitivity.toml ranges in both methods
    ranges = {row["key"]: tuple(map(float, row["range"])) for row in tomllib.loads(sens.SPEC_FILE.read_text(encoding="utf-8"))["instrument"]}
    for factors in (spec.sobol_factors, spec.morris_factors):
        assert {f.name: (f.low, f.high) for f in factors if f.kind == "instrument"} == ranges
    assert spec.base == "calibrated" and spec.base_parameters.keys() == shipped["point"].keys()


def bare_cells(spec: sens.SensitivitySpec, parameters: dict[str, float]) -> np.ndarray:
    """The spec's output cells, seed mean, of plain runs of the scenario with these [parameters] (no calibration)."""
    raw = resolve_raw(BASELINE)
    scenario = scenario_from_dict({**raw, "parameters": {**raw.get("parameters", {}), **parameters}}, "by hand")
    cells = [sens.cell_key(*o) for o in spec.outputs]
    per_seed = [extract_cells(run(scenario, seed=s, scale=spec.scale, end_year=spec.end_year).indicators, cells) for s in spec.seeds]
    return np.array([np.mean([d[c] for d in per_seed]) for c in cells])


def test_the_calibrated_base_point_reaches_the_runs(tmp_path, calibration, monkeypatch):
    """A Sobol sample varies hte_apply_probability; start_intercept is not varied and must stand at the calibrated
    point (-3.3), not at its behaviour.toml value (-4.6). The point travels in the runs' parameters, so the runs give
    the same numbers with the calibration switched off in the workers."""
    on = sens.load_spec("t", write_spec(tmp_path))
    off = sens.load_spec("t", write_spec(tmp_path, base="data"))
    monkeypatch.setenv("QHSIM_CALIBRATED", "off")
    X = np.array([[0.6]])
    y_on = sens._evaluate(on, on.sobol_factors, X, 1, False, "test")[0]
    y_off = sens._evaluate(off, off.sobol_factors, X, 1, False, "test")[0]
    np.testing.assert_array_equal(y_on, bare_cells(on, {"start_intercept": -3.3, "hte_apply_probability": 0.6}))
    np.testing.assert_array_equal(y_off, bare_cells(off, {"hte_apply_probability": 0.6}))
    assert y_on[0] != y_off[0]  # the base point moves 2018 R&D intensity


def test_report_states_the_base_and_the_ranges(tmp_path, calibration, monkeypatch):
    import pandas as pd

    spec = sens.load_spec("t", write_spec(tmp_path))
    rows = [{"output": "rd_intensity|province|2018", "factor": f.name, "kind": f.kind, "status": "ok", "ST": 0.5,
             "ST_conf": 0.1, "S1": 0.4, "S1_conf": 0.1, "low": f.low, "high": f.high, "range_source": f.source}
            for f in spec.sobol_factors]
    report = sens.write_sensitivity_report(spec, {"sobol": pd.DataFrame(rows)})["report"].read_text(encoding="utf-8")
    assert "created 2030-01-02T03:04:05Z" in report and "calibrated point" in report
    assert "Sobol ranges 取值范围: posterior" in report and "start_intercept = -3.3" in report
    assert "held at the point: start_intercept" in report
    assert "| hte_apply_probability | behaviour | [0.3, 0.7] posterior |" in report
    assert "outside the posterior" not in report
    moved = replace(spec, base_parameters={**spec.base_parameters, "start_intercept": -3.1})
    report = sens.write_sensitivity_report(moved, {"sobol": pd.DataFrame(rows)})["report"].read_text(encoding="utf-8")
    assert "outside the posterior 5-95% interval for start_intercept = -3.1 (interval [-5.5, -3.2])" in report


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"base": "posterior"}, None, 'base = "posterior": allowed "calibrated" or "data"'),
        ({"base": ""}, None, 'base = missing: allowed "calibrated" or "data"'),
        ({"sobol_ranges": "wide"}, None, 'sobol_ranges = "wide": allowed "prior" or "posterior"'),
        ({"base": "data"}, "off", 'sobol_ranges = "posterior" needs a calibration, but QHSIM_CALIBRATED=off'),
        ({"sobol_ranges": "prior"}, "missing", 'base = "calibrated" needs a calibration, but'),
        ({"morris_ranges": "posterior", "morris_behaviour": '["exit_rate"]'}, None,
         "exit_rate has no posterior interval in"),
    ],
)
def test_bad_base_or_ranges_are_one_line_errors(tmp_path, calibration, monkeypatch, capsys, kwargs, env, message):
    if env == "off":
        monkeypatch.setenv("QHSIM_CALIBRATED", "off")
    elif env == "missing":
        monkeypatch.setenv("QHSIM_CALIBRATED", str(tmp_path / "no_such.toml"))
    path = write_spec(tmp_path, **kwargs)
    with pytest.raises(InputError) as err:
        sens.load_spec("t", path)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)
    assert main(["sensitivity", "--config", "t", "--settings", str(path), "--quiet"]) == 2
    out = capsys.readouterr()
    assert message in out.err and "Traceback" not in out.err
    assert not (tmp_path / "out").exists()  # nothing half-written
