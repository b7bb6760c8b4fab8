"""Sensitivity around the calibrated model (calibration/sensitivity.toml ``base``, ``morris_ranges``, ``sobol_ranges``):
posterior ranges are the intervals of calibrated.toml, the base point reaches the runs, bad keys are one-line errors.
(The index computation itself is checked on a function with known indices in test_calibration_checks.py.)"""

from __future__ import annotations

import re
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


def test_a_posterior_range_is_widened_to_take_in_a_point_outside_it(tmp_path, monkeypatch):
    """A level re-fit after the ABC-SMC can leave the point outside the interval of the draws: the range the
    methods vary over must still hold the point the projections run from, and the report says it was widened."""
    import pandas as pd

    path = tmp_path / "calibrated.toml"
    path.write_text(CALIBRATION.replace("hte_apply_probability = 0.5", "hte_apply_probability = 0.9"), encoding="utf-8")
    monkeypatch.setenv("QHSIM_CALIBRATED", str(path))
    spec = sens.load_spec("t", write_spec(tmp_path))
    (sobol,) = spec.sobol_factors
    assert (sobol.low, sobol.high, sobol.source) == (0.3, 0.9, "posterior 5-95%, widened to the point")
    rows = [{"output": "rd_intensity|province|2018", "factor": f.name, "kind": f.kind, "status": "ok", "ST": 0.5,
             "ST_conf": 0.1, "S1": 0.4, "S1_conf": 0.1, "low": f.low, "high": f.high, "range_source": f.source}
            for f in spec.sobol_factors]
    report = sens.write_sensitivity_report(spec, {"sobol": pd.DataFrame(rows)})["report"].read_text(encoding="utf-8")
    assert "[0.3, 0.9] posterior, widened to the point |" in report
    assert "hte_apply_probability = 0.9 (interval [0.3, 0.7]). A method with posterior ranges widens" in report


def test_shipped_full_design_varies_the_free_parameters_over_their_posterior_intervals(monkeypatch):
    monkeypatch.setenv("QHSIM_CALIBRATED", str(SHIPPED_CALIBRATION))
    spec = sens.load_spec("full")
    shipped = tomllib.loads(SHIPPED_CALIBRATION.read_text(encoding="utf-8"))
    behaviour = [f for f in spec.sobol_factors if f.kind == "behaviour"]
    assert behaviour and {f.name for f in behaviour} <= set(shipped["interval"])
    for f in behaviour:
        iv, v = shipped["interval"][f.name], shipped["point"][f.name]
        assert (f.low, f.high) == (min(iv["p05"], v), max(iv["p95"], v)), f.name
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
    assert "| 高企申报概率 HTE application probability `hte_apply_probability` | 行为参数 behavioural parameter | [0.3, 0.7] posterior |" in report
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


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_factor_has_a_chinese_and_an_english_name_from_the_data_files(monkeypatch):
    """Every parameter of behaviour.toml (Morris "all", or a list of them), every free parameter (Sobol "free") and every
    instrument of the shipped design is named in Chinese and English where it is defined, not in code."""
    from qhsim import data
    from qhsim.calibrated import model_parameters

    monkeypatch.setenv("QHSIM_CALIBRATED", str(SHIPPED_CALIBRATION))
    spec = sens.load_spec("full")
    free = tomllib.loads((ROOT / "calibration" / "free_parameters.toml").read_text(encoding="utf-8"))
    factors = {(f.name, f.kind) for f in spec.morris_factors + spec.sobol_factors}
    factors |= {(name, "behaviour") for name in [*data.load("behaviour"), *free]}
    assert len(factors) > 80
    for name, kind in factors:
        zh, en = sens.factor_names(name, kind)
        assert CJK.search(zh) and en.isascii() and CJK.search(en) is None, name
        assert sens.factor_label(name, kind) == f"{zh} {en}" != name
    assert sens.factor_label("start_intercept", "behaviour") == "{zh} {en}".format(**model_parameters()["start_intercept"])
    assert sens.factor_label("no_such_parameter", "behaviour") == "no_such_parameter"  # a stored name since removed
    from qhsim.dashboard.levers import levers  # instruments: the dashboard's own labels

    for name, kind in factors:
        if kind == "instrument":
            assert sens.factor_names(name, kind) == (levers()[name].zh, levers()[name].en)


def synthetic_tables(spec: sens.SensitivitySpec) -> dict:
    import pandas as pd

    rows = {"morris": [], "sobol": []}
    for o in spec.outputs:
        cell = sens.cell_key(*o)
        for j, f in enumerate(spec.morris_factors):
            rows["morris"].append({"output": cell, "factor": f.name, "kind": f.kind, "status": "ok", "mu_star": 1.0 + j,
                                   "mu": 0.5, "sigma": 0.2, "mu_star_conf": 0.1, "low": f.low, "high": f.high,
                                   "range_source": f.source})
        for j, f in enumerate(spec.sobol_factors):
            rows["sobol"].append({"output": cell, "factor": f.name, "kind": f.kind, "status": "ok", "S1": 0.1, "S1_conf": 0.05,
                                  "ST": 0.2 + j, "ST_conf": 0.05, "low": f.low, "high": f.high, "range_source": f.source})
    return {m: pd.DataFrame(r) for m, r in rows.items()}


def test_charts_name_factors_and_outputs_in_chinese_and_english(tmp_path, calibration):
    spec = sens.load_spec("t", write_spec(tmp_path))
    tables = synthetic_tables(spec)
    outputs = [sens.cell_key(*o) for o in spec.outputs]
    for method, table in tables.items():
        with sens.chart_style():
            fig = sens.sensitivity_figure(method, table, outputs)
        for ax, o in zip(fig.axes, outputs):
            ticks = [t.get_text() for t in ax.get_yticklabels()]
            assert ticks and all(CJK.search(t) and re.search("[A-Za-z]{3}", t) for t in ticks), ticks
            assert "_" not in " ".join(ticks)  # no code names
            assert ax.get_title() == sens.output_label(o, sep="\n", name_sep="\n") and CJK.search(ax.get_title())
            assert max(map(len, ax.get_title().splitlines())) <= 50  # a one-line title was cut off at the figure edge
            assert CJK.search(ax.get_xlabel())
        assert [t.get_text() for t in fig.legends[0].get_texts()] == ["行为参数 behavioural parameter", "政策工具 policy instrument"]
        sens.plt.close(fig)


def test_report_only_redraws_charts_and_tables_from_the_stored_results_without_runs(tmp_path, calibration, monkeypatch):
    path = write_spec(tmp_path)
    spec = sens.load_spec("t", path)
    files = sens.write_sensitivity_report(spec, synthetic_tables(spec))
    stored = {m: files[f"{m}_csv"].read_bytes() for m in sens.METHODS}
    for m in sens.METHODS:
        files[f"{m}_png"].unlink()
    files["report"].unlink()

    def no_runs(*args, **kwargs):
        raise AssertionError("the model ran")

    monkeypatch.setattr(sens, "run_sensitivity", no_runs)
    assert main(["sensitivity", "--config", "t", "--settings", str(path), "--report-only"]) == 0
    assert all(files[f"{m}_png"].read_bytes()[:4] == b"\x89PNG" for m in sens.METHODS)
    assert {m: files[f"{m}_csv"].read_bytes() for m in sens.METHODS} == stored  # the tables are not rewritten differently
    report = files["report"].read_text(encoding="utf-8")
    assert "### 研发投入强度 R&D expenditure / GDP (%), 青海省 Qinghai Province 2018" in report
    assert "| 1 | 高企申报概率 HTE application probability `hte_apply_probability` |" in report
    files["morris_csv"].unlink()
    assert main(["sensitivity", "--config", "t", "--settings", str(path), "--report-only"]) == 2  # one-line error
