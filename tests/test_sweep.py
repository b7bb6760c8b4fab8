"""Policy sweeps: grid, common random numbers, worker-count independence, bad experiment files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qhsim.errors import InputError
from qhsim.sweep import grid, load_experiment, point_scenarios, run_sweep, summarise, write_sweep

from conftest import ROOT, SCENARIOS

TINY = f'''
description = "tiny"
scenario = "{(SCENARIOS / "baseline.toml").as_posix()}"
from_year = 2018
seeds = [1, 2]
scale = 0.05
end_year = 2020
report_years = [2020]
[vary]
"policy.super_deduction.general" = [0.75, 1.5]
"policy.super_deduction.manufacturing" = [0.75, 1.5]
'''


def experiment(tmp_path: Path, text: str = TINY) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    return run_sweep(experiment(tmp_path_factory.mktemp("sweep")), workers=1)


def test_grid_is_every_combination(tmp_path: Path) -> None:
    exp, _ = load_experiment(experiment(tmp_path))
    assert grid(exp) == [
        {"policy.super_deduction.general": g, "policy.super_deduction.manufacturing": m}
        for g in (0.75, 1.5) for m in (0.75, 1.5)
    ]


def test_points_share_draws_and_differ_only_from_from_year(swept: tuple) -> None:
    exp, runs = swept
    prov = runs[runs["region"] == "province"]
    assert prov["point"].nunique() == 4 and prov["seed"].nunique() == 2
    by = prov.set_index(["point", "seed", "year"])["business_rd"]
    for seed in exp.seeds:
        assert by[(0, seed, 2017)] == by[(3, seed, 2017)]  # before from_year: identical draws, identical results
        assert by[(3, seed, 2020)] > by[(0, seed, 2020)]  # both deductions doubled: more business R&D
    summary = summarise(exp, runs)
    assert len(summary) == 4 and "business_rd_mean" in summary.columns
    mean = prov[(prov["point"] == 3) & (prov["year"] == 2020)]["business_rd"].mean()
    assert summary.loc[summary["point"] == 3, "business_rd_mean"].item() == pytest.approx(mean)


def test_workers_do_not_change_results(swept: tuple, tmp_path: Path) -> None:
    _, two = run_sweep(experiment(tmp_path), workers=2)
    pd.testing.assert_frame_equal(swept[1], two, check_exact=True)


def test_write_sweep_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    text = write_sweep(experiment(tmp_path), out)
    assert "2020" in text
    for name in ("runs.parquet", "summary.csv", "summary.txt", "manifest.json"):
        assert (out / name).is_file()


@pytest.mark.parametrize("change,message", [
    ('"policy.super_deduction.general" = [0.75, 1.5]', "no scenario instrument"),
    ("from_year = 2018", "from_year"),
    ('report_years = [2020]', "indicators"),
])
def test_bad_experiment_one_line(tmp_path: Path, change: str, message: str) -> None:
    bad = {
        "no scenario instrument": TINY.replace(change, '"policy.super_deduction.nonexistent" = [1.0]'),
        "from_year": TINY.replace(change, "from_year = 1999"),
        "indicators": TINY.replace(change, 'report_years = [2020]\nindicators = ["not_an_indicator"]'),
    }[message]
    with pytest.raises(InputError, match=message) as info:
        run_sweep(experiment(tmp_path, bad))
    assert "\n" not in str(info.value)


def test_shipped_experiments_validate() -> None:
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        exp, base = load_experiment(path)
        assert exp.description and len(grid(exp)) >= 2
        assert len(point_scenarios(exp, base, str(path))) == len(grid(exp))
