"""Policy sweeps: levers (number, string, schedule, tied), designs, CRN, worker independence, bad files, PRIM."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qhsim.errors import InputError
from qhsim.experiments.discovery import discover, format_discovery, prim_boxes
from qhsim.experiments.levers import Lever, points
from qhsim.experiments.store import read_runs
from qhsim import data
from qhsim.experiments.comparison import fiscal_columns
from qhsim.results import ratio_unstable
from qhsim.experiments.sweep import _result_heads, format_sweep, load_sweep, run_sweep, summarise, write_sweep
from qhsim.config.instruments import instrument_label
from qhsim.output.numbers import format_number, format_value, significant
from qhsim.output.report import display_width, reduced_scale_note

from conftest import ROOT, SCENARIOS

TINY = '''
description = "tiny"
scenario = "baseline.toml"
from_year = 2018
seeds = [1, 2]
scale = 0.05
end_year = 2020
report_years = [2020]
[lever.sd]
paths = ["policy.super_deduction.general", "policy.super_deduction.manufacturing"]
values = [0.75, 1.5]
[lever.selection]
path = "policy.ex_ante_grants.selection"
values = ["merit", "lottery"]
'''


def experiment(tmp_path: Path, text: str = TINY) -> Path:
    """An experiment file next to a copy of the scenarios (paths resolve against the experiment file)."""
    for f in SCENARIOS.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    sweep = load_sweep(experiment(tmp_path_factory.mktemp("sweep")))
    runs, _ = run_sweep(sweep, workers=1)
    return sweep, runs


def test_levers_tied_string_and_base_point(swept: tuple) -> None:
    sweep, runs = swept
    assert len(sweep.points) == 5 and sweep.settings[0] == {}  # the base, then 2 x 2 points
    assert sweep.settings[4] == {"sd": 1.5, "selection": "lottery"}
    sc = sweep.points[4].validated()
    assert sc.policy.super_deduction.general.at(2018) == 1.5 == sc.policy.super_deduction.manufacturing.at(2018)
    assert sc.policy.super_deduction.general.at(2017) == sweep.base.validated().policy.super_deduction.general.at(2017)
    assert sc.policy.ex_ante_grants.selection.at(2019) == "lottery"
    prov = runs[runs["region"] == "province"].set_index(["point", "seed", "year"])["business_rd"]
    for seed in (1, 2):
        assert prov[(0, seed, 2017)] == prov[(4, seed, 2017)]  # before from_year: same draws, same results
        assert prov[(3, seed, 2020)] > prov[(1, seed, 2020)]  # both tied rates up: more business R&D


def test_summary_has_cost_and_leverage(swept: tuple) -> None:
    sweep, runs = swept
    summary = summarise(sweep, runs)
    assert len(summary) == 5 and {"public_cost_mean", "rd_per_yuan_mean", "business_rd_p05"} <= set(summary.columns)
    row = summary[summary["point"] == 3].iloc[0]
    prov = runs[(runs["region"] == "province") & (runs["point"] == 3) & (runs["year"] == 2020)]
    assert row["business_rd_mean"] == pytest.approx(prov["business_rd"].mean())
    assert row["rd_per_yuan_mean"] > 0


def test_summary_weighs_runs_by_their_draws_weight(swept: tuple) -> None:
    """With --draws each run carries the weight its draw stands for: the summary's mean is the weighted mean, and
    its band leans towards the heavy runs; equal weights give exactly the unweighted summary."""
    sweep, runs = swept
    plain = summarise(sweep, runs)
    pd.testing.assert_frame_equal(plain, summarise(sweep, runs.assign(weight=0.25)), check_exact=True)
    weighted = summarise(sweep, runs.assign(weight=runs["seed"].map({1: 0.9, 2: 0.1})))
    prov = runs[(runs["region"] == "province") & (runs["year"] == 2020)].set_index(["point", "seed"])["business_rd"]
    for point in range(5):
        row = weighted[weighted["point"] == point].iloc[0]
        assert row["business_rd_mean"] == pytest.approx(0.9 * prov[(point, 1)] + 0.1 * prov[(point, 2)])
        heavy, light = prov[(point, 1)], prov[(point, 2)]
        for q in ("p05", "p95"):  # both ends of the band sit nearer the heavy run (alike: halfway at most)
            assert abs(row[f"business_rd_{q}"] - heavy) <= abs(row[f"business_rd_{q}"] - light)


def test_sweep_legend_names_each_lever_in_both_languages_below_the_tables(tmp_path: Path) -> None:
    text = TINY.replace('[lever.sd]\npaths = ["policy.super_deduction.general", "policy.super_deduction.manufacturing"]\n'
                        'values = [0.75, 1.5]\n', "").replace("[lever.selection]", '[lever."policy.tax.hte_rate"]')
    text = text.replace('path = "policy.ex_ante_grants.selection"\nvalues = ["merit", "lottery"]',
                        'path = "policy.tax.hte_rate"\nvalues = [0.1, 0.15]')
    sweep = load_sweep(experiment(tmp_path, text))
    runs, _ = run_sweep(sweep, workers=1)
    table = format_sweep(sweep, summarise(sweep, runs))
    assert max(display_width(line) for line in table.splitlines()) <= 100
    zh, en = instrument_label("policy.tax.hte_rate")
    assert zh.startswith("企业所得税·") and en.startswith("Enterprise income tax: ")  # section and lever, both languages
    # the columns are headed by the levers' names in the file, named in full below the tables
    legend = " ".join(table.split("杠杆 Levers:", 1)[1].split("\n\n", 1)[0].split())
    assert legend == " ".join(f"policy.tax.hte_rate = {zh} {en}".split()), legend


SCHEDULE_LEVER = '\n[lever.path]\npath = "policy.vouchers.budget"\nvalues = [{ 2019 = 1000 }, { 2019 = 1000, 2020 = 5000 }]\n'


def test_sweep_tables_fit_100_columns_with_bilingual_headers_units_and_readable_values(tmp_path: Path) -> None:
    """The summary was 112 columns wide: schedules printed as JSON over four lines, headers cut mid-word (研发投入强 /
    度), indicators headed by their keys, counts as 644.0. Now: the points' lever settings in a table of their own
    (a schedule as 2019: 1,000 → 2020: 5,000), the results headed by each indicator's Chinese and English names and
    unit, counts whole."""
    sweep = load_sweep(experiment(tmp_path, TINY + SCHEDULE_LEVER))
    runs, _ = run_sweep(sweep, workers=1)
    text = format_sweep(sweep, summarise(sweep, runs))
    lines = text.splitlines()
    assert max(display_width(line) for line in lines) <= 100
    settings, results = text.split("\n\n")[:2]
    lines = settings.split("-----\n", 1)[1].splitlines()
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines if line[:5].strip().isdigit()]
    assert [r[0] for r in rows] == [str(p) for p in range(9)]  # whole point numbers, each once
    assert rows[0][1:4] == ["0.75 (占研发费用比例)", "merit", "2018: 1,000 (万元/年)"]  # the base's own settings
    assert [r[1:4] for r in rows[1:3]] == [["0.75", "merit", "2019: 1,000"], ["0.75", "merit", "2019: 1,000 → 2020: 5,000"]]
    assert '{"' not in text and "2019: 1,000 → 2020: 5,000" in settings
    head, body = results.split("-----\n", 1)
    assert len(head.splitlines()) <= 10, head  # the title and a header of at most 9 lines (seven result columns)
    tokens = {t for line in head.splitlines()[1:] for t in re.split(r"\s{2,}", line.strip()) if t}
    chinese = {t for t in tokens if display_width(t) > len(t)}
    assert all(len(t) >= 2 for t in chinese - {"点"}), chinese  # no one-character sliver (研发投入强 / 度)
    words = " ".join(head.split())
    for key in sweep.exp.indicators:  # bilingual with the unit, not the code key
        spec = data.load("indicators")[key]
        at = 0
        while at < len(spec["zh"]):  # the Chinese name, in pieces of the header
            at += max((len(t) for t in chinese if spec["zh"].startswith(t, at)), default=len(spec["zh"]) + 1)
        assert at == len(spec["zh"]), (spec["zh"], chinese)
        assert all(w in words.split() for w in spec["en"].split()) and f"({spec['unit']})" in tokens
        assert key not in head
    cells = [line.split() for line in body.splitlines() if line.strip()[:1].isdigit()]
    assert [c[0] for c in cells] == [str(p) for p in range(9)]
    hte = sweep.exp.indicators.index("hte_count") + 1
    assert all(re.fullmatch(r"[\d,]+", c[hte]) for c in cells), cells  # a count of firms, whole


def test_result_headers_narrow_to_fit_and_keep_their_words_whole() -> None:
    """Seven result columns in 100 display columns: each header narrowed until they fit, the Chinese in even pieces,
    English words whole."""
    keys = ["rd_intensity", "business_rd", "share_firms_with_rd", "hte_count", "public_cost", "rd_per_yuan",
            "total_rd_per_yuan"]
    room = 100 - 5 - 2 * len(keys)
    heads = _result_heads(keys, [6] * len(keys), room)
    assert sum(max(display_width(line) for line in h.split("\n")) for h in heads) <= room
    share = heads[2].split("\n")
    assert share[:3] == ["规上工业企业", "中有研发活动", "企业占比"] and share[-1] == "(%)"
    assert " ".join(share[3:-1]) == "Above-scale industrial firms with R&D activity"
    assert heads[3] == "高新技术\n企业数量\nHigh-tech\nenterprises\n(firms)"  # narrowed: the Chinese in halves
    assert heads[5:] == ["企业研发/元\nbusiness R&D\nper yuan\n(元/元)", "总研发/元\ntotal R&D\nper yuan\n(元/元)"]
    wide = _result_heads(keys, [6] * len(keys), 1000)  # room enough: each at its widest
    assert wide[3] == "高新技术企业数量\nHigh-tech\nenterprises\n(firms)"


def test_one_rule_for_an_unstable_r_and_d_per_yuan() -> None:
    """R&D per yuan is not read where the extra cost is not positive, is under a quarter of the money the design
    moves (grants cut by 11.5 and a deduction raised: a net 1) or under its own 5%-95% spread across runs."""
    assert not ratio_unstable(10.0, 10.5, 8.0, 12.0)
    assert ratio_unstable(1.0, 11.5, 0.9, 1.1)  # small against the money moved
    assert ratio_unstable(1.0, 1.0, 0.2, 1.4)  # small against its spread
    assert ratio_unstable(-1.0, 11.5, -1.9, -0.1) and ratio_unstable(0.0, 0.0, 0.0, 0.0)  # no extra cost
    assert list(ratio_unstable(pd.Series([3.0, 1.0]), pd.Series([4.0, 5.0]), pd.Series([2.0, 1.0]),
                               pd.Series([4.0, 1.0]))) == [False, True]


def test_sweep_summary_flags_an_unstable_r_and_d_per_yuan_and_the_table_shows_a_dash(swept: tuple) -> None:
    sweep, runs = swept
    summary = summarise(sweep, runs)
    prov = runs[(runs["region"] == "province") & (runs["year"].between(2018, 2020))]
    cost = prov.assign(cost=prov[fiscal_columns(prov)].sum(axis=1) / 1e4).groupby(["point", "seed"])["cost"].sum()
    extra = (cost - cost.xs(0, level="point")).xs(3, level="point")
    row = summary[summary["point"] == 3].iloc[0]
    assert row["extra_cost_mean"] == pytest.approx(extra.mean())  # cumulative from from_year, against point 0
    assert row["gross_cost_mean"] >= abs(row["extra_cost_mean"])
    rule = ratio_unstable(summary["extra_cost_mean"], summary["gross_cost_mean"], summary["extra_cost_p05"],
                          summary["extra_cost_p95"])
    base = (summary["point"] == 0).to_numpy()
    assert list(summary["unstable"][~base]) == list(rule[~base])
    assert rule[base].all() and not summary["unstable"][base].any()  # the base has no ratio: not flagged
    odd = summary.copy()
    odd.loc[odd["point"] == 1, ["extra_cost_mean", "unstable", "rd_per_yuan_mean"]] = [-0.5, True, 61.6]
    odd.loc[odd["point"] == 2, ["extra_cost_mean", "unstable", "rd_per_yuan_mean"]] = [0.1, True, 42.4]
    odd.loc[odd["point"] == 3, "unstable"] = False
    text = format_sweep(sweep, odd)
    results = text.split("\n\n")[1]
    ratios = {line.split()[0]: line.split()[-2:] for line in results.split("-----\n", 1)[1].splitlines()
              if line.strip()[:1].isdigit()}  # business, then total R&D per yuan, to 3 significant digits
    assert ratios["1"] == ratios["2"] == ratios["0"] == ["—", "—"]
    assert ratios["3"] == [significant(row[f"{k}_mean"], 3, signed=False) for k in ("rd_per_yuan", "total_rd_per_yuan")]
    assert "61.60" not in text and "42.40" not in text
    note = " ".join(results.split("-----\n", 1)[1].split("\n", 5)[-1].split())
    assert "点 points 1 无额外成本 no extra cost; 点 points 2 不稳定 unstable" in note
    rule = " ".join(text.split("\n\n")[-1].split())
    assert "under 25% of the money the design moves" in rule and "5%-95% spread across runs" in rule


def test_the_design_points_table_shows_the_bases_own_settings_with_units(swept: tuple) -> None:
    """Point 0's row read "base" under every lever: it now shows what the base scenario sets there from the levers'
    first year, with the lever catalogue's unit (a tied group's paths once where they agree)."""
    from qhsim.experiments.comparison import scenario_setting
    from qhsim.experiments.levers import lever_unit
    from qhsim.output.tidy import lever_text

    sweep, runs = swept
    text = format_sweep(sweep, summarise(sweep, runs))
    row = next(line for line in text.splitlines() if line.split()[:1] == ["0"])
    base = sweep.base.validated()
    rates = {lever_text(scenario_setting(base, p).at(sweep.exp.from_year)) for p in sweep.levers[0].paths}
    assert len(rates) == 1, rates  # the two tied rates agree in the baseline: shown once
    unit = lever_unit(sweep.levers[0].paths[0])
    assert row.split()[1:] == [rates.pop(), f"({unit})", scenario_setting(base, sweep.levers[1].paths[0]).at(2018)]
    assert "base" not in row


def test_the_sweep_table_marks_a_ratio_whose_runs_spread_wider_than_itself(swept: tuple) -> None:
    """A point's R&D per yuan of 3.16 [0.43, 5.89] read like its neighbours' 1.16 [1.05, 1.27]: it carries "‖", a line
    under its year's table names the point, and the note below says what the mark means (``ratio_wide``)."""
    sweep, runs = swept
    summary = summarise(sweep, runs)
    summary.loc[summary["point"] > 0, "unstable"] = False
    at = (summary["point"] == 2) & (summary["year"] == 2020)
    summary.loc[at, ["rd_per_yuan_mean", "rd_per_yuan_p05", "rd_per_yuan_p95"]] = [3.16, 0.43, 5.89]
    summary.loc[at, ["total_rd_per_yuan_mean", "total_rd_per_yuan_p05", "total_rd_per_yuan_p95"]] = [2.68, 2.66, 2.70]
    for p in (1, 3):
        summary.loc[(summary["point"] == p), ["rd_per_yuan_mean", "rd_per_yuan_p05", "rd_per_yuan_p95",
                                               "total_rd_per_yuan_mean", "total_rd_per_yuan_p05",
                                               "total_rd_per_yuan_p95"]] = [1.16, 1.05, 1.27, 1.1, 1.0, 1.2]
    text = format_sweep(sweep, summary)
    row = next(line for line in text.splitlines() if line.split()[:1] == ["2"] and "3.16" in line)
    assert row.split()[-2:] == ["3.16‖", "2.68"]
    flat = " ".join(text.split())
    assert "研发/元“‖” R&D per yuan “‖”: 点 points 2 区间过宽，不宜排名 too wide to rank" in flat
    assert "“‖”: the 5%-95% range of the runs' ratios is wider than the ratio itself" in flat
    assert all(display_width(line) <= 100 for line in text.splitlines())


BUDGETS = TINY.split("[lever.sd]")[0] + '''
[lever.grant_budget]
path = "policy.ex_ante_grants.budget"
values = [15000, 60000]
'''


def test_a_budget_the_points_leave_unspent_is_flagged_in_the_summary_and_its_tables(tmp_path: Path) -> None:
    """A grant budget of 30,000万元 spent about 21,000 (too few firms qualify), and only qhsim compare said when a budget
    is not used up: the sweep's summary now gives each point's share of the budget it sets that was spent
    (``budget_spent_share``, compare's measure ``budget_use``) and flags more than 10% left over (``budget_unspent``);
    the design points table shows the share and names the points, the least spent in compare's words
    (``budget_words``), and the workbook's cost-effectiveness sheet has the share with a note."""
    from openpyxl import load_workbook

    from qhsim.experiments.comparison import budget_use
    from qhsim.output import export

    out = tmp_path / "store"
    text, sweep = write_sweep(experiment(tmp_path, BUDGETS), out)
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig").set_index("point")
    runs = read_runs(out)
    spent = runs[(runs["point"] == 2) & (runs["region"] == "province") & runs["year"].between(2018, 2020)]
    share = spent["spend_ex_ante_grants"].mean() / 60000
    assert share < 0.9  # the point leaves a tenth of its budget or more unspent
    assert summary.at[2, "budget_spent_share"] == pytest.approx(share) and bool(summary.at[2, "budget_unspent"])
    assert pd.isna(summary.at[1, "budget_spent_share"]) and not summary.at[1, "budget_unspent"]  # the base's budget
    [use] = budget_use(runs[runs["point"] == 2], sweep.points[2].validated(), "policy.ex_ante_grants.budget",
                       range(2018, 2021))
    assert use.unspent and use.share == pytest.approx(share)
    row = next(line for line in text.splitlines() if line.split()[:2] == ["2", "60,000"])
    assert row.split()[-1] == f"{share:.0%}"
    flat = " ".join(text.split())
    assert "预算未用足 Budget not used up" in flat and "points 2." in flat
    assert (f"point 2 spends on average {format_number(use.mean)}万元 a year in Qinghai Province over 2018-2020, "
            f"{share:.0%} of its 60,000万元/yr budget") in flat
    assert "A budget lever's value is not money spent" in flat
    wb = load_workbook(export.export(out, "xlsx", tmp_path / "sw.xlsx"))
    ws = wb["成本效益 Cost-effectiveness"]
    heads = [c.value for c in ws[1]]
    column = heads.index("预算支出率 share of the budget spent")
    shares = [r[column].value for r in ws.iter_rows(min_row=2) if str(r[1].value).startswith("p2:")]
    assert shares == [pytest.approx(share)]
    assert any("'Share of the budget spent'" in str(c.value) for r in ws.iter_rows() for c in r)
    found = discover(out, "business_rd", 2020, 0.0)  # discover names the points too: a box over budgets is no spending
    assert found.unspent == (2,) and "Budget not used up" in format_discovery(found)


def test_workers_do_not_change_results(swept: tuple) -> None:
    sweep, one = swept
    two, _ = run_sweep(sweep, workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_schedule_lever_and_sampled_designs() -> None:
    sched = Lever("path", ("policy.vouchers.budget",), 2026, ({"2026": 1000, "2028": 5000},))
    (o,) = sched.overrides(sched.values[0])
    assert o.first_year == 2026 and o.value == {2026: 1000, 2028: 5000}
    levers = [Lever("a", ("x",), 2026, low=0.0, high=10.0), Lever("b", ("y",), 2026, ("p", "q", "r"))]
    lhs = points(levers, "lhs", 12, seed=3)
    assert len(lhs) == 12 and lhs == points(levers, "lhs", 12, seed=3)
    a = sorted(p["a"] for p in lhs)
    assert all(i / 12 * 10 <= v < (i + 1) / 12 * 10 for i, v in enumerate(a))  # one per stratum
    assert {p["b"] for p in lhs} == {"p", "q", "r"}
    sobol = points(levers, "sobol", 16, seed=0)
    assert len(sobol) == 16 and all(0 <= p["a"] <= 10 for p in sobol)


def test_relative_scenario_path_and_shipped_experiments(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    shutil.copy(ROOT / "experiments" / "grant_budget_vs_super_deduction.toml", copy / "exp.toml")
    with pytest.raises(InputError) as info:  # resolved against the experiment file, not the working directory
        load_sweep(copy / "exp.toml")
    assert str(info.value) == (f"{copy / 'exp.toml'}: scenario = '../scenarios/baseline.toml': "
                               f"{tmp_path / 'scenarios' / 'baseline.toml'}: scenario file not found")
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        sweep = load_sweep(path)
        assert sweep.exp.description and len(sweep.points) >= 3
    tied = load_sweep(ROOT / "experiments" / "grant_budget_vs_super_deduction.toml")
    sd = tied.points[-1].validated().policy.super_deduction
    assert sd.general.at(2030) == sd.manufacturing.at(2030) == sd.tech_sme.at(2030) == 2.0


@pytest.mark.parametrize("change,needle", [
    ('values = ["merit", "lottery"]', "lever.selection = 'lotery'"),
    ('path = "policy.ex_ante_grants.selection"', "lever.selection"),
    ("from_year = 2018", "from_year = 1999"),
    ("values = [0.75, 1.5]", "lever.sd"),
    ('report_years = [2020]', "indicators"),
    ("[lever.selection]", "set by two levers"),
])
def test_bad_experiment_one_line_with_file_key_value_allowed(tmp_path: Path, change: str, needle: str) -> None:
    bad = {
        "lever.selection = 'lotery'": TINY.replace(change, 'values = ["merit", "lotery"]'),
        "lever.selection": TINY.replace(change, 'path = "policy.ex_ante_grants.nonexistent"'),
        "from_year = 1999": TINY.replace(change, "from_year = 1999"),
        "lever.sd": TINY.replace(change, "values = [0.75, 9.0]"),
        "indicators": TINY.replace(change, 'report_years = [2020]\nindicators = ["not_an_indicator"]'),
        "set by two levers": TINY.replace(change, '[lever.general]\npath = "policy.super_deduction.general"\n'
                                                  'values = [1.0]\n[lever.selection]'),
    }[needle]
    path = experiment(tmp_path, bad)
    with pytest.raises(InputError) as info:
        load_sweep(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and needle in msg
    if needle == "lever.selection = 'lotery'":
        assert "merit" in msg and "lottery" in msg  # the allowed values
    if needle == "lever.sd":
        assert "9.0" in msg and "3" in msg  # the value and the allowed range [0, 3]


def test_a_scenario_file_given_as_an_experiment_says_so(tmp_path: Path) -> None:
    """``qhsim sweep scenarios/baseline.toml`` said "scenario: Field required" (pydantic's wording)."""
    with pytest.raises(InputError) as info:
        load_sweep(SCENARIOS / "baseline.toml")
    assert str(info.value) == (f"{SCENARIOS / 'baseline.toml'} is a scenario file, not an experiment: run it with qhsim "
                               f"run {SCENARIOS / 'baseline.toml'} (an experiment file names its base scenario, "
                               'scenario = "...", and the levers to vary; experiments/README.md)')


@pytest.mark.parametrize("change,expected", [
    ("from_year = 2018\n", "from_year is required: the first year the levers hold (before it: as in the base scenario), "
                           "e.g. from_year = 2026 (experiments/README.md)"),
    ('scenario = "baseline.toml"\n', 'scenario is required: the base scenario file, relative to the experiment file, '
                                     'e.g. scenario = "../scenarios/baseline.toml" (experiments/README.md)'),
    ("seeds = [1, 2]", "seed: not a key of an experiment file (did you mean seeds?); allowed: description, scenario, "
                       "from_year, lever, vary, design, samples, sample_seed, designs, seeds, draws, scale, end_year, "
                       "report_years, indicators"),
    ("values = [0.75, 1.5]", "lever.sd.value: not a key of a lever (did you mean values?); allowed: path, paths, "
                             "from_year, values, range"),
    # an experiment key written below a [lever.x] heading, which TOML reads as the lever's: "not a key of a lever
    # (did you mean from_year?)" sent the analyst looking for a lever key
    ("report_years = [2020]\n", "lever.selection.report_years: report_years is a key of the experiment, not of a lever: "
                                "write it above the first [lever.*] table (every key below a [table] heading belongs "
                                "to that table)"),
])
def test_a_missing_or_unknown_key_names_what_is_expected(tmp_path: Path, change: str, expected: str) -> None:
    text = {"seeds = [1, 2]": TINY.replace(change, "seed = [1, 2]"),
            "values = [0.75, 1.5]": TINY.replace(change, "value = [0.75, 1.5]"),
            "report_years = [2020]\n": TINY.replace(change, "") + "report_years = [2020]\n"}.get(
        change, TINY.replace(change, ""))
    path = experiment(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert str(info.value) == f"{path}: {expected}"


def test_a_bad_value_names_its_lever_and_point_not_the_whole_point(tmp_path: Path) -> None:
    """A bad value of one lever of a design point named every lever of the point with 16-digit floats."""
    bad = TINY.replace("values = [0.75, 1.5]", "values = [0.75]").replace(
        "report_years = [2020]", 'report_years = [2020]\n[lever.path]\npath = "policy.vouchers.budget"\n'
        "values = [{ 2019 = 1000, 2020 = -5000 }]")
    with pytest.raises(InputError) as info:
        load_sweep(experiment(tmp_path, bad))
    assert "lever.path = {2019: 1,000 → 2020: -5,000} at design point 1: policy.vouchers.budget: [2020] = -5000" \
        in str(info.value)


def sampled(text: str, samples: int, seed: int) -> str:
    """TINY as a Latin hypercube of ``samples`` points drawn with ``sample_seed = seed``, its sd lever ``text``."""
    return TINY.replace("values = [0.75, 1.5]", text).replace(
        "report_years = [2020]", f'report_years = [2020]\ndesign = "lhs"\nsamples = {samples}\nsample_seed = {seed}')


@pytest.mark.parametrize("lever,samples,seed,key,allowed", [
    ("range = [1.0, 3.05]", 4, 1, "lever.sd.range = [1, 3.05]: policy.super_deduction.general", "[0, 3]"),
    ("values = [0.75, 1.5, 9.0]", 2, 4, "lever.sd = 9 (one of its values): policy.super_deduction.general", "[0, 3]"),
    ('path = "policy.ex_ante_grants.budget"\nrange = [-100.0, 60000.0]', 4, 1,
     "lever.sd.range = [-100, 60000]: policy.ex_ante_grants.budget", "[0, 10000000]"),
])
def test_a_lever_range_out_of_bounds_is_refused_before_any_point_is_drawn(tmp_path: Path, lever: str, samples: int,
                                                                          seed: int, key: str, allowed: str) -> None:
    """Lever ranges were checked only through the values sampled from them: a range reaching past the scenario's
    bounds passed whenever no sample fell there. Both ends of a range, and each value of a sampled design, are now
    checked against the scenario schema's bounds at load time: one line naming the file, the key and the allowed
    range; ``qhsim sweep`` exits with 2, no traceback, nothing written."""
    text = sampled(lever, samples, seed)
    if "budget" in lever:
        text = text.replace('paths = ["policy.super_deduction.general", "policy.super_deduction.manufacturing"]\n', "")
    path = experiment(tmp_path, text)
    low, high = (0, 1e7) if "budget" in lever else (0, 3)
    drawn = [p["sd"] for p in points(load_levers(path), "lhs", samples, seed)]
    assert all(low <= v <= high for v in drawn)  # the design points alone would pass: the check is up front
    with pytest.raises(InputError) as info:
        load_sweep(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: {key}") and f"outside allowed range {allowed}" in msg and "\n" not in msg, msg
    out = tmp_path / "store"
    proc = subprocess.run([sys.executable, "-m", "qhsim.cli", "sweep", str(path), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"qhsim: error: {msg}"] and not out.exists()


def load_levers(path: Path) -> list[Lever]:
    """The levers of an experiment file as ``load_sweep`` builds them, without checking their values."""
    import tomllib

    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return [Lever(name, tuple(lv.get("paths") or [lv["path"]]), raw["from_year"], tuple(lv.get("values", ())),
                  *lv.get("range", (None, None))) for name, lv in raw["lever"].items()]


def test_prim_finds_the_box_on_a_known_rule() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.uniform(size=400), "b": rng.uniform(size=400),
                      "c": pd.Categorical(rng.choice(["u", "v"], 400))})
    y = ((x["a"] > 0.6) & (x["b"] < 0.4)).to_numpy()
    traj, box, chosen, coverage, density = prim_boxes(x, y)
    assert density >= 0.8 and coverage >= 0.8
    lims = box.set_index("lever")
    assert set(lims.index) == {"a", "b"}  # the irrelevant lever is not restricted
    assert lims.at["a", "low"] == pytest.approx(0.6, abs=0.1) and lims.at["b", "high"] == pytest.approx(0.4, abs=0.1)
    assert len(traj) > 1 and traj["coverage"].iloc[0] == 1.0


def test_sweep_store_and_discovery(tmp_path: Path) -> None:
    out = tmp_path / "store"
    long = TINY.replace('description = "tiny"', f'description = "{"资助设计 / Grant designs, " * 4}from 2018"')
    text, _ = write_sweep(experiment(tmp_path, long), out)
    assert "2020" in text and (out / "summary.csv").is_file()
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")  # R&D per yuan's flag, named as in leverage.csv
    rule = ratio_unstable(summary["extra_cost_mean"], summary["gross_cost_mean"], summary["extra_cost_p05"],
                          summary["extra_cost_p95"]) & (summary["point"] > 0)  # the base (point 0): no ratio, no flag
    assert summary["unstable"].dtype == bool and list(summary["unstable"]) == list(rule)
    assert max(display_width(line) for line in text.splitlines()) <= 100  # the heading with a long description too
    assert (out / "summary.txt").read_text(encoding="utf-8") == text
    runs = read_runs(out)
    best = runs[(runs["region"] == "province") & (runs["year"] == 2020) & (runs["point"] > 0)].groupby("point")[
        "business_rd"].max().sort_values(ascending=False)
    threshold = float(best.iloc[1] + best.iloc[2]) / 2  # with P >= 0.5 of 2 seeds: the top two points succeed
    res = discover(out, "business_rd", 2020, threshold, probability=0.5)
    assert res.points["success"].sum() == 2
    assert res.chosen is not None and 0 < res.coverage <= 1 and 0 < res.density <= 1
    assert "sd" in set(res.box["lever"])  # the tied super-deduction lever is what separates the points
    # the text names the runs each P(reach) rests on and lists the points with their P(reach)
    assert set(res.points["runs"]) == {2}
    text = format_discovery(res)
    undecided = int(((res.points["p_reach"] > 0) & (res.points["p_reach"] < 1)).sum())
    flat = " ".join(text.split())
    assert undecided and (f"每点2次运行，{len(res.points)}个点中{undecided}个点只有部分运行达到阈值" in flat
                          and f"2 runs per point; at {undecided} of {len(res.points)} points only some runs" in flat)
    table = text.split("各设计点 Design points", 1)[1].split("\n\n", 1)[0]  # the scale's note follows
    rows = [line.split() for line in table.splitlines()[4:] if line.strip()]
    assert [(int(r[0]), r[-2]) for r in rows] == [(p, "是" if ok else "否") for p, ok in
                                                   zip(res.points["point"], res.points["success"])]


def test_sweep_region_prints_the_prefectures_summary_and_keeps_the_provinces_files(tmp_path: Path) -> None:
    """qhsim sweep had no --region: a Haidong analyst had only discover's P(reach) and the workbook's medians. With it
    the printed tables are Haidong's (its indicators, the public cost located there), the store's summary the
    province's."""
    out = tmp_path / "store"
    province, _ = write_sweep(experiment(tmp_path), out)
    said = (out / "summary.txt").read_text(encoding="utf-8")
    haidong, sweep = write_sweep(experiment(tmp_path), out, region="haidong")  # the finished store, resumed
    assert (out / "summary.txt").read_text(encoding="utf-8") == said == province
    flat = " ".join(haidong.split())
    assert "地区 region: 海东市 Haidong" in flat and "海东市 Haidong | 2020年" in flat
    assert ("The public cost is Haidong's; this summary is kept in summary_haidong.txt, summary.csv and summary.txt "
            "are the province's.") in flat
    assert (out / "summary_haidong.txt").read_text(encoding="utf-8") == haidong
    assert max(display_width(line) for line in haidong.splitlines()) <= 100
    table = summarise(sweep, read_runs(out), "haidong")
    runs = read_runs(out)
    mean = runs[(runs["region"] == "haidong") & (runs["year"] == 2020)].groupby("point")["rd_intensity"].mean()
    assert table.set_index("point")["rd_intensity_mean"].to_dict() == pytest.approx(mean.to_dict())
    rows = haidong.split("海东市 Haidong | 2020年", 1)[1].split("-----\n", 1)[1].splitlines()
    shown = {int(r.split()[0]): r.split()[1] for r in rows if r[:5].strip().isdigit()}
    assert shown == {p: format_value(v, "rd_intensity") for p, v in mean.items()}  # the prefecture's values
    bad = subprocess.run([sys.executable, "-m", "qhsim.cli", "sweep", str(experiment(tmp_path)), "--out",
                          str(tmp_path / "other"), "--region", "haidon"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("qhsim: error: --region haidon: not a region (did you mean "
                                                         "haidong?)")
    assert not (tmp_path / "other").exists()  # refused before anything ran


def test_sweep_legend_names_a_lever_tied_across_sections_by_its_paths(tmp_path: Path) -> None:
    """A lever whose paths lie in several [policy.*] sections has no one catalogue name: the legend gives its paths."""
    text = TINY.replace('paths = ["policy.super_deduction.general", "policy.super_deduction.manufacturing"]',
                        'paths = ["policy.ex_ante_grants.budget", "policy.vouchers.budget"]')
    text = text.replace("values = [0.75, 1.5]", "values = [1000, 2000]")
    sweep = load_sweep(experiment(tmp_path, text))
    runs, _ = run_sweep(sweep, workers=1)
    legend = format_sweep(sweep, summarise(sweep, runs)).split("杠杆 Levers:", 1)[1]
    assert "sd = policy.ex_ante_grants.budget, policy.vouchers.budget" in " ".join(legend.split())
    zh, en = instrument_label("policy.ex_ante_grants.selection")
    assert " ".join(f"selection = {zh} {en}".split()) in " ".join(legend.split())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep store with a tied number lever, a string lever and a year-table lever."""
    folder = tmp_path_factory.mktemp("store")
    write_sweep(experiment(folder, TINY + SCHEDULE_LEVER), folder / "store")
    return folder / "store"


def test_sweep_exports_carry_the_point_and_one_column_per_lever(store: Path) -> None:
    """The CSV export had no point or lever columns, only a ~120-character design label on each of its rows (121 MB
    for 66 runs): now the point's short id (as in the run files), the point and each lever, numbers as numbers."""
    from qhsim.output.export import export
    from qhsim.output.tidy import load_results

    results = load_results(store)
    runs = read_runs(store)
    csv = pd.read_csv(export(store, "csv", store / "long.csv"), encoding="utf-8-sig")
    assert list(csv.columns[:13]) == ["year", "region", "indicator", "value", "unit", "draw", "seed", "design", "point",
                                      "sd", "selection", "path", "weight"]
    assert len(csv) == len(results.long)  # every run x year x region x indicator, as before
    assert set(csv["design"]) == set(runs["design"]) == {"base", *(f"p{i}" for i in range(1, 9))}
    assert csv["point"].dtype.kind == "i" and csv["sd"].dtype.kind == "f"  # numbers as numbers: filterable
    one = csv[csv["point"] == 2].iloc[0]
    assert (one["design"], one["sd"], one["selection"], one["path"]) == ("p2", 0.75, "merit", "2019: 1,000 → 2020: 5,000")
    assert csv.loc[csv["point"] == 0, ["sd", "selection", "path"]].isna().all().all()  # the base sets no lever
    assert csv["design"].str.len().max() <= 4
    pq = pd.read_parquet(export(store, "parquet", store / "long.parquet"))
    assert list(pq.columns) == list(csv.columns[:13]) and pq["sd"].dtype.kind == "f"
    first = runs.groupby("point")[["sd", "selection"]].first()
    assert pq.groupby("point")["sd"].first().dropna().to_dict() == first["sd"].dropna().to_dict()  # exact values


def test_sweep_levers_in_the_reports_are_sorted_by_value_and_formatted() -> None:
    """The HTML levers table listed 11175.763356254618 among values sorted as text."""
    from qhsim.output.tidy import from_sweep

    points = [{}, {"budget": 11175.763356254618, "path": '{"2026": 1000, "2028": 5000}'},
              {"budget": 672.5, "path": '{"2026": 1000}'}, {"budget": 2790.3, "path": '{"2026": 1000}'}]
    runs = pd.DataFrame({"point": [0, 1, 2, 3], "design": ["base", "p1", "p2", "p3"], "draw": 0, "seed": 1,
                         "year": 2026, "region": "province", "rd_intensity": 1.0})
    results = from_sweep({"levers": ["budget", "path"], "points": points, "seeds": [1]}, runs)
    levers = {lv["key"]: lv["value"] for lv in results.meta["levers"]}
    assert levers == {"budget": "672.5; 2,790.3; 11,175.8", "path": "2026: 1,000; 2026: 1,000 → 2028: 5,000"}
    assert results.designs == ["base", "p1: budget=11,175.8; path=2026: 1,000 → 2028: 5,000",
                               "p2: budget=672.5; path=2026: 1,000", "p3: budget=2,790.3; path=2026: 1,000"]


def test_discovery_text_and_chart_name_the_target_in_both_languages_and_the_box_by_its_step(store: Path) -> None:
    """The PRIM chart was English-only with the raw key (rd_intensity) and no unit, its count of restricted levers a
    continuous colour bar (ticks 0.25, 0.75); "PRIM框 box 11" was not explained."""
    from fontTools.ttLib import TTFont
    from matplotlib.text import Text

    from qhsim.experiments.discovery import discovery_figure
    from qhsim.output import charts
    from qhsim.output.report import indicator_label

    runs = read_runs(store)
    best = runs[(runs["region"] == "province") & (runs["year"] == 2020) & (runs["point"] > 0)].groupby("point")[
        "business_rd"].max().sort_values(ascending=False)
    res = discover(store, "business_rd", 2020, float(best.iloc[2] + best.iloc[3]) / 2, probability=0.5)
    assert res.chosen is not None
    text = " ".join(format_discovery(res).split())
    label = " ".join(indicator_label("business_rd").split())
    assert f"{label} >=" in text and "business_rd" not in text
    steps = len(res.trajectory) - 1
    assert f"step {res.chosen} of the {steps} steps of PRIM's peeling trajectory (step 0: all points)" in text
    assert f"剥离轨迹第{res.chosen}步（共{steps}步" in text
    fig = discovery_figure(res)
    assert len(fig.axes) == 1  # no colour bar
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    counts = sorted(int(n) for n in res.trajectory["res_dim"].unique())
    assert legend == [f"{n}个杠杆受限 {n} lever{'' if n == 1 else 's'} restricted" for n in counts] + [
        f"选中的框：第{res.chosen}步 chosen box: step {res.chosen}"]
    title = " ".join(fig.axes[0].get_title().split())
    assert label in title and "(亿元)" in title
    cmap = TTFont(str(Path(charts.__file__).parent / "fonts" / charts.SHIPPED_FONT)).getBestCmap()
    drawn = "".join(t.get_text() for t in fig.findobj(Text))
    assert "覆盖率" in drawn and "密度" in drawn and not {c for c in drawn if ord(c) > 0x7F and ord(c) not in cmap}
    if "path" in set(res.box["lever"]):  # a year-table lever's kept levels read as in the sweep's tables
        assert "{" not in res.box.set_index("lever").at["path", "levels"]


def test_a_range_in_a_factorial_design_names_its_lever(tmp_path: Path) -> None:
    """A ``range`` lever in a factorial design was refused as "(top level): a lever with range ... needs design =
    "lhs"" without saying which lever: the line now names it, with its range."""
    path = experiment(tmp_path, TINY.replace("values = [0.75, 1.5]", "range = [0.75, 1.5]"))
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert str(info.value) == (f'{path}: lever.sd.range = [0.75, 1.5]: a lever with a range needs design = "lhs" or '
                               '"sobol" (a factorial design needs values = [...])')


def test_a_sweep_at_reduced_scale_says_so_in_its_summary(store: Path) -> None:
    """``qhsim run`` says below scale 1 that each firm stands for several and the small prefectures swing; the sweep
    summary (scale 0.05 here) said nothing: it now carries the same note."""
    from qhsim.output.report import reduced_scale_note

    text = (store / "summary.txt").read_text(encoding="utf-8")
    assert "".join(reduced_scale_note(0.05).split()) in "".join(text.split())  # wrapped Chinese has no spaces
    assert all(display_width(line) <= 100 for line in text.splitlines())


def test_prim_box_limits_are_tested_values_not_cut_points_between_them() -> None:
    """On a factorial sweep (grant_budget 0 / 30,000; super_deduction 1.0 / 1.5) the box read "grant_budget
    15,000-30,000; super_deduction 1.25-1.50", midpoints PRIM cut between levels that read as tested settings. Each
    limit is now the tested value inside the cut: 30,000-30,000 and 1.5-1.5, the box holding the same points."""
    from qhsim.experiments.discovery import DiscoveryResult

    grid = pd.DataFrame([(g, s) for g in (0.0, 30000.0) for s in (1.0, 1.5) for _ in range(5)],
                        columns=["grant_budget", "super_deduction"])
    y = ((grid["grant_budget"] == 30000) & (grid["super_deduction"] == 1.5)).to_numpy()
    traj, box, chosen, coverage, density = prim_boxes(grid, y)
    lims = box.set_index("lever")
    assert (lims.at["grant_budget", "low"], lims.at["grant_budget", "high"]) == (30000.0, 30000.0)
    assert (lims.at["super_deduction", "low"], lims.at["super_deduction", "high"]) == (1.5, 1.5)
    assert coverage == 1.0 and density == 1.0
    points = grid.assign(point=range(1, len(grid) + 1), p_reach=y.astype(float), runs=1, success=y)
    text = format_discovery(DiscoveryResult("rd_intensity", 2030, 1.0, 0.8, "province", points, traj, box, chosen,
                                            coverage, density))
    assert "15,000" not in text and "1.25" not in text and "30,000" in text and "1.50" in text
    # a lever kept at one value reads as that value once, never "1.50 ... 1.50"
    box_rows = text.split("Lever limits of the box", 1)[1].split("\n\n", 1)[0].splitlines()
    row = next(line for line in box_rows if line.startswith("super_deduction"))
    assert "单一取值 one value" in row and row.split().count("1.50") == 1 and "—" in row


def test_prim_takes_the_densest_of_the_boxes_of_highest_coverage() -> None:
    """On grant_design_lhs, every step of the trajectory kept all 12 successful points and the density rose to 100%
    at step 14, yet step 11 (density 80%: 3 of its 15 points fail) was chosen: the first of the boxes of highest
    coverage. Among equal coverage the densest is now chosen."""
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.uniform(size=200), "b": rng.uniform(size=200)})
    y = (x["a"] > 0.5).to_numpy()
    traj, box, chosen, coverage, density = prim_boxes(x, y)
    top = traj[traj["coverage"] == traj["coverage"].max()]
    assert coverage == 1.0 == top["coverage"].max() and density == top["density"].max()
    assert density > top.loc[top["density"] >= 0.8, "density"].min()  # the first such box was less dense
    assert chosen == top["density"].idxmax() and set(box["lever"]) == {"a"}


def test_the_runs_per_point_are_a_range_when_the_points_differ() -> None:
    from qhsim.experiments.discovery import DiscoveryResult, points_block

    points = pd.DataFrame({"point": [1, 2, 3], "lever": [1.0, 2.0, 3.0], "p_reach": [0.5, 1.0, 0.0],
                           "runs": [2, 3, 3], "success": [False, True, False]})
    empty = pd.DataFrame(columns=["coverage", "density", "mass", "res_dim"])
    res = DiscoveryResult("rd_intensity", 2030, 1.0, 0.8, "province", points, empty, empty, None, 1.0, 1.0)
    text = " ".join(points_block(res, ["lever"]).split())
    assert "每点2–3次运行" in text and "2–3 runs per point" in text


@pytest.mark.parametrize("change,message", [
    ("report_years = [2020]", "report_years = [2021]: 2021 is not simulated; allowed years in [2015, 2020] (end_year)"),
    ("end_year = 2020", "from_year = 2018, end_year = 2017: the levers would never act; allowed from_year in "
                        "[2016, 2017] (end_year), or end_year in [2018, 2060]"),
    ("from_year = 2018", "from_year = 2025, end_year = 2020: the levers would never act"),
    ('report_years = [2020]', "indicators = ['rd_intensity', 'rd_intensity']: 'rd_intensity' is listed twice; "
                              "give each indicator once"),
    ("values = [0.75, 1.5]", "lever.sd: values: 1.5 is listed twice; give each value once"),
    ("seeds = [1, 2]", "seeds = []: allowed at least 1 value"),
    ("scale = 0.05", "scale = 1.5: allowed range (0, 1]"),
    ("sample_seed", 'samples = -4: design = "lhs" needs samples in [2, 20000]'),
    ("from_year = 2018", "lever.sd.from_year = 2017: allowed range [2018, 2020]"),
    ("[lever.selection]", "lever.path = {2017: 1,000}: its year table starts in 2017, before from_year = 2018; allowed "
                          "first years [2018, 2020]"),
])
def test_inconsistent_years_and_repeated_entries_are_refused_before_anything_runs(tmp_path: Path, change: str,
                                                                                   message: str) -> None:
    """A report year after end_year, a from_year after end_year, a repeated indicator and a year table acting before
    from_year ran every run (a repeated indicator then crashed, the others gave empty tables, or a ratio missing six
    years of cost); pydantic's "Input should be less than or equal to 1" named no range. Each is now one line naming
    the file and the key with its allowed range, before any run."""
    text = {
        "report_years = [2021]": TINY.replace(change, "report_years = [2021]"),
        "from_year = 2018, end_year = 2017": TINY.replace(change, "end_year = 2017"),
        "from_year = 2025, end_year = 2020": TINY.replace(change, "from_year = 2025"),
        "indicators = ['rd_intensity', 'rd_intensity']": TINY.replace(
            change, 'report_years = [2020]\nindicators = ["rd_intensity", "rd_intensity"]'),
        "lever.sd: values": TINY.replace(change, "values = [1.5, 0.75, 1.5]"),
        "seeds = []": TINY.replace(change, "seeds = []"),
        "scale = 1.5": TINY.replace(change, "scale = 1.5"),
        "samples = -4": TINY.replace("values = [0.75, 1.5]", "range = [0.75, 1.5]").replace(
            "report_years = [2020]", 'report_years = [2020]\ndesign = "lhs"\nsamples = -4'),
        "lever.sd.from_year": TINY.replace("values = [0.75, 1.5]", "values = [0.75, 1.5]\nfrom_year = 2017"),
        "lever.path = {2017": TINY + SCHEDULE_LEVER.replace("2019 = 1000 }, { 2019", "2017 = 1000 }, { 2019"),
    }[next(k for k in ("report_years = [2021]", "from_year = 2018, end_year = 2017", "from_year = 2025, end_year = 2020",
                       "indicators = ['rd_intensity', 'rd_intensity']", "lever.sd: values", "seeds = []", "scale = 1.5",
                       "samples = -4", "lever.sd.from_year", "lever.path = {2017") if message.startswith(k))]
    path = experiment(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert str(info.value).startswith(f"{path}: {message}") and "\n" not in str(info.value), str(info.value)


def test_a_bad_file_or_several_files_exit_2_with_one_line_and_nothing_written(tmp_path: Path, capsys) -> None:
    from qhsim.cli import main

    path = experiment(tmp_path, TINY.replace("report_years = [2020]", "report_years = [2040]"))
    out = tmp_path / "store"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"qhsim: error: {path}: report_years = [2040]: 2040 is not simulated; allowed years in [2015, 2020] "
                   "(end_year)"] and not out.exists()
    assert main(["sweep", str(path), str(path), "--out", str(out)]) == 2
    assert "qhsim sweep takes one experiment file (got 2)" in capsys.readouterr().err and not out.exists()


def test_a_repeated_design_point_names_both_points(tmp_path: Path) -> None:
    """A design whose points repeat a run was refused by the store as "sweep: the design repeats a run", naming no
    file, lever or value."""
    text = TINY.replace('[lever.selection]\npath = "policy.ex_ante_grants.selection"\nvalues = ["merit", "lottery"]',
                        '[designs.a]\n"policy.vouchers.budget" = 1000\n[designs.b]\n"policy.vouchers.budget" = 1000')
    path = experiment(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert str(info.value).startswith(f"{path}: design points 1 (design=a; sd=0.75) and 3 (design=b; sd=0.75) are the "
                                      "same run"), info.value


def test_total_r_and_d_per_yuan_and_the_runs_each_ratio_rests_on(swept: tuple) -> None:
    """The sweep had business R&D per yuan only (a talent quota, which acts at the universities, looked worthless at
    0.00), and its mean dropped the runs whose extra cost was not positive without a word (61.6 from 1 of 2 runs)."""
    from qhsim.experiments.comparison import PUBLIC_RD, RD, rd_per_yuan

    sweep, runs = swept
    summary = summarise(sweep, runs)
    prov = runs[(runs["region"] == "province") & runs["year"].between(2018, 2020)]
    per_run = prov.assign(cost=prov[fiscal_columns(prov)].sum(axis=1) / 1e4).groupby(["point", "seed"])[
        ["cost", RD, PUBLIC_RD]].sum()
    extra = per_run - per_run.xs(0, level="point")
    three = extra.xs(3, level="point")
    ratios = rd_per_yuan((three[RD] + three[PUBLIC_RD]).to_numpy(), three["cost"].to_numpy())
    row = summary[summary["point"] == 3].iloc[0]
    assert row["total_rd_per_yuan_mean"] == pytest.approx(ratios.mean()) and row["rd_per_yuan_runs"] == 2
    assert list(summary.columns[summary.columns.get_loc("total_rd_per_yuan_p95") + 1:][:1]) == ["rd_per_yuan_runs"]
    assert summary.loc[summary["point"] == 0, "rd_per_yuan_runs"].eq(0).all()
    # one run of point 3 costs what the base costs: its ratio is undefined, and the point's means are not shown
    fiscal = fiscal_columns(runs)
    odd = runs.copy()
    same = (odd["point"] == 3) & (odd["seed"] == 2)
    odd.loc[same, fiscal] = odd.loc[(odd["point"] == 0) & (odd["seed"] == 2), fiscal].to_numpy()
    part = summarise(sweep, odd)
    row = part[part["point"] == 3].iloc[0]
    assert row["rd_per_yuan_runs"] == 1 and row[["rd_per_yuan_mean", "total_rd_per_yuan_p95"]].isna().all()
    text = format_sweep(sweep, part.assign(unstable=part["unstable"] & (part["point"] != 3)))
    cells = [line.split() for line in text.split("\n\n")[1].split("-----\n", 1)[1].splitlines() if line[:5].strip() == "3"]
    assert cells[0][-2:] == ["—", "—"]
    assert re.search(r"点 points (\d, )*3 部分运行无额外成本 some runs without extra cost: summary.csv rd_per_yuan_runs",
                     " ".join(text.split()))


def test_ratios_keep_their_significant_digits() -> None:
    assert [significant(x, 3, signed=False) for x in (0.0038, 61.6, 1.2345, 12345.6)] == ["0.0038", "61.6", "1.23",
                                                                                          "12,346"]
    # a value that rounds up across a power of ten keeps 3 digits (the summary printed point 10's 0.9996 as "1.000")
    assert [significant(x, 3, signed=False) for x in (0.9996, 9.9996, 99.96, 0.0099996, 0.9994)] == \
        ["1.00", "10.0", "100", "0.0100", "0.999"]


def test_an_unfinished_store_is_refused_by_discover_and_export_and_its_stale_files_go(tmp_path: Path) -> None:
    """An interrupted store was analysed as it stood: discover gave "2 runs per point" over points of 2 and 3 runs,
    export --to xlsx crashed with a traceback, csv wrote 11 of 39 runs without a word; their files stayed beside
    the finished store after the resume."""
    import json

    from qhsim.output.export import export

    path = experiment(tmp_path)
    out = tmp_path / "store"
    write_sweep(path, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (out / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}), encoding="utf-8")
    (out / "runs" / f"{manifest['runs'][-1]['run_key']}.parquet").unlink()
    said = (f"{out}: the sweep is not finished (9 of 10 runs in the store); run qhsim sweep {path} --out {out} "
            "--seeds 1,2 --scale 0.05 to finish it")
    with pytest.raises(InputError) as info:
        discover(out, "business_rd", 2020, 1.0)
    assert str(info.value) == said
    for to in ("xlsx", "csv"):
        with pytest.raises(InputError) as info:
            export(out, to)
        assert str(info.value) == said
    stale = [out / "prim_business_rd_2020.txt", out / "indicators_long.csv", out / "report.xlsx"]
    for f in stale:  # as an older qhsim left them
        f.write_text("from 9 runs")
    (out / "notes.txt").write_text("mine")
    write_sweep(path, out)
    assert not any(f.exists() for f in stale) and (out / "notes.txt").is_file()
    assert discover(out, "business_rd", 2020, 1.0).points["runs"].eq(2).all()


def test_discover_gives_the_base_and_the_scale_and_refuses_a_year_before_the_levers(store: Path) -> None:
    """Haidong at scale 0.25: "every design point reaches the target: no restriction needed" for a target the base
    reached too, with no word that the sweep's scale reads Haidong high; asked for 2025, before from_year, it ranked
    points that were all the base."""
    runs = read_runs(store)
    base = runs[(runs["region"] == "province") & (runs["year"] == 2020) & (runs["point"] == 0)]["business_rd"]
    res = discover(store, "business_rd", 2020, float(base.min()) * 0.5)  # below every run: the base reaches it too
    assert res.base_reach == 1.0 and res.points["success"].all()
    flat = " ".join(format_discovery(res).split())
    assert "基准（点0，不调整杠杆）达到概率100%，也达到所需概率：达标不靠所扫描的杠杆" in flat
    assert "The base (point 0, no lever changed): P(reach) 100%, which meets the required probability too" in flat
    assert "".join(reduced_scale_note(0.05).split()) in "".join(flat.split())  # the store's scale, 0.05 (CJK wraps)
    high = discover(store, "business_rd", 2020, float(base.max()) * 2)  # above every run: the base does not
    assert high.base_reach == 0.0
    flat = " ".join(format_discovery(high).split())
    assert "P(reach) of the base" not in flat and "The base (point 0, no lever changed): P(reach) 0%." in flat
    assert "not the levers' doing" not in flat
    for year in (2017, 2021):  # TINY: from_year 2018, end_year 2020
        with pytest.raises(InputError) as info:
            discover(store, "business_rd", year, 1.0)
        assert str(info.value).startswith(f"--year {year}: allowed years [2018, 2020]: the sweep's levers hold from "
                                          "from_year = 2018 (before it every point is the base)")


def test_a_prefectures_discovery_files_do_not_overwrite_the_provinces(store: Path) -> None:
    """discover --region haidong wrote prim_<indicator>_<year>.*, the province's files; and a chart of an earlier
    answer stayed beside a new answer that has none."""
    from qhsim.experiments.discovery import write_discovery

    runs = read_runs(store)
    best = runs[(runs["region"] == "province") & (runs["year"] == 2020) & (runs["point"] > 0)].groupby("point")[
        "business_rd"].max().sort_values(ascending=False)
    res = discover(store, "business_rd", 2020, float(best.iloc[2] + best.iloc[3]) / 2, probability=0.5)
    assert res.chosen is not None
    write_discovery(res, store)
    province = store / "prim_business_rd_2020.txt"
    said = province.read_text(encoding="utf-8")
    assert (store / "prim_business_rd_2020.png").is_file()
    haidong = discover(store, "business_rd", 2020, 0.0, region="haidong")  # every point reaches 0: no box, no chart
    write_discovery(haidong, store)
    assert province.read_text(encoding="utf-8") == said
    assert "海东市 Haidong" in (store / "prim_business_rd_2020_haidong.txt").read_text(encoding="utf-8")
    assert (store / "prim_business_rd_2020_haidong_points.csv").is_file()
    assert (store / "prim_business_rd_2020.png").is_file()  # the province's chart stays
    none = discover(store, "business_rd", 2020, 0.0)  # the province's answer now has no box: its old chart goes
    write_discovery(none, store)
    assert none.chosen is None and not (store / "prim_business_rd_2020.png").exists()


def test_discover_refuses_an_unknown_region_and_a_threshold_that_is_not_a_number(store: Path) -> None:
    with pytest.raises(InputError) as info:
        discover(store, "business_rd", 2020, 1.0, region="xinning")
    assert str(info.value) == ("--region xinning: not a region (did you mean xining?); allowed: province, "
                               f"{', '.join(data.prefecture_ids())}")
    with pytest.raises(InputError, match=r"^--threshold nan: allowed a finite number"):
        discover(store, "business_rd", 2020, float("nan"))
    with pytest.raises(InputError) as info:  # a typo of the key got no hint
        discover(store, "rd_intensty", 2020, 1.0)
    assert str(info.value) == ("--indicator rd_intensty: not an indicator of qhsim/data/indicators.toml (did you mean "
                               "rd_intensity?)")


@pytest.mark.parametrize("given", ["Haidong", "HAIDONG", "海东", "海东市"])
def test_a_region_is_named_in_any_case_or_in_chinese_and_discover_answers_for_its_id(store: Path, given: str) -> None:
    """--region Haidong was refused with "did you mean haidong?": ids are taken in any case, and the Chinese names of
    qhsim/data/geography.toml with or without 市/州, by the one check every --region goes through (compare, sweep,
    discover); discover answers for the id (its files are named with it)."""
    from qhsim.experiments.comparison import check_region
    from qhsim.experiments.discovery import discovery_stem

    assert check_region(given) == "haidong"
    assert [check_region(r) for r in ("Province", "青海省", "海西", "Golog", "果洛州")] == [
        "province", "province", "haixi", "golog", "golog"]
    res = discover(store, "business_rd", 2020, 0.0, region=given)
    assert res.region == "haidong" and discovery_stem(res) == "prim_business_rd_2020_haidong"


def test_an_unreachable_scheduler_leaves_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--scheduler tcp://127.0.0.1:1 was refused after 20 s, with the store's manifest and runs folder written."""
    from qhsim.experiments.engine import Engine

    def unreachable(self):
        raise InputError(f"--scheduler {self.scheduler}: cannot reach a Dask scheduler there")

    monkeypatch.setattr(Engine, "_dask", unreachable)
    sweep = load_sweep(experiment(tmp_path))
    with pytest.raises(InputError, match="cannot reach"):
        run_sweep(sweep, tmp_path / "store", scheduler="tcp://127.0.0.1:1")
    assert not (tmp_path / "store").exists()


def test_the_exported_draw_is_the_parameter_draw_as_in_the_store() -> None:
    """The export numbered a point's runs as draws ((draw, seed) = (0, 1), (1, 2), (2, 1), (3, 2) for draws 0 and 1 x
    seeds 1 and 2): a filter on draw 0 kept seed 1 only. It now writes the store's draw, as tidy() does."""
    from qhsim.output.export import readable_long, write_parquet
    from qhsim.output.tidy import from_sweep

    runs = pd.DataFrame([{"point": p, "design": "base" if p == 0 else "p1", "draw": d, "seed": s, "weight": 0.25,
                          "lever": None if p == 0 else 1.0, "year": 2026, "region": "province", "rd_intensity": 1.0}
                         for p in (0, 1) for d in (0, 1) for s in (1, 2)])
    results = from_sweep({"levers": ["lever"], "points": [{}, {"lever": 1.0}], "seeds": [1, 2]}, runs)
    pairs = sorted(set(zip(runs["draw"], runs["seed"])))
    assert sorted(set(zip(readable_long(results)["draw"], readable_long(results)["seed"]))) == pairs
    assert results.long["draw"].nunique() == 4  # the reports keep one id per run within a design
    with tempfile.TemporaryDirectory() as folder:
        table = pd.read_parquet(write_parquet(results, Path(folder) / "long.parquet"))
    assert sorted(set(zip(table["draw"], table["seed"]))) == pairs and "param_draw" not in table


def test_the_exported_long_table_agrees_with_tidy(store: Path, tmp_path: Path) -> None:
    from qhsim.experiments.store import tidy
    from qhsim.output.export import export

    exported = pd.read_parquet(export(store, "parquet", tmp_path / "long.parquet"))
    stored = tidy(store)
    keys = ["design", "point", "draw", "seed", "weight", "year", "region", "indicator"]
    merged = exported.merge(stored, on=keys, suffixes=("", "_tidy"), validate="one_to_one")
    assert len(merged) == len(exported) == len(stored)
    assert np.array_equal(merged["value"].to_numpy(), merged["value_tidy"].to_numpy(), equal_nan=True)


def test_sampled_lever_values_are_shown_rounded_and_run_exactly() -> None:
    """LHS values were printed to 6 significant digits (2,790.33 万元, 1.21425): money now in whole 万元, rates to 3
    significant digits, in the tables only."""
    money = Lever("g", ("policy.ex_ante_grants.budget",), 2026, low=0.0, high=60000.0)
    rate = Lever("s", ("policy.super_deduction.general", "policy.super_deduction.manufacturing"), 2026, low=1.0, high=2.0)
    listed = Lever("v", ("policy.vouchers.budget",), 2026, (2790.33, 1000))
    assert [money.shown(2790.33), rate.shown(1.21425), rate.shown(1.0), listed.shown(2790.33)] == [
        "2,790", "1.21", "1.00", "2,790.33"]
    assert money.overrides(2790.33)[0].value == 2790.33  # the run keeps the sampled value


def test_progress_shows_no_empty_bar_before_it_knows_its_runs(capsys) -> None:
    """A sweep's bar flashed "sweep: 0run [00:00, ?run/s]" before its total was known."""
    from qhsim.experiments.engine import Progress

    prog = Progress(0, "sweep", bar=True)
    assert capsys.readouterr().err == ""
    prog.grow(3)
    prog.update(2)
    prog.close()
    err = capsys.readouterr().err
    assert "sweep:   0%|" in err and "/3 [" in err and "0run" not in err  # a bar with its total from the start


def test_progress_without_a_terminal_is_plain_lines_every_tenth_with_count_elapsed_and_eta(capsys) -> None:
    """With stderr not a terminal (setsid nohup qhsim sweep ... > log 2>&1) the tqdm bar was disabled and a log showed
    nothing for many minutes: the commands now print a plain line each time another tenth of the runs is done (runs
    done of the total, elapsed time, ETA); runs a resumed store already held count as done but not in the ETA."""
    from qhsim.experiments.engine import LINES, Progress, progress_display

    assert progress_display() == LINES  # pytest's captured stderr is no terminal
    prog = Progress(0, "sweep", bar=LINES)
    prog.grow(40)
    prog.update(8, reused=True)  # a resumed store's runs
    for _ in range(32):
        prog.update()
    prog.close()
    lines = capsys.readouterr().err.splitlines()
    pattern = r"qhsim: sweep: (\d+)/40 次运行 runs \((\d+)%\), 用时 elapsed \d:\d\d:\d\d, 预计剩余 ETA (\d:\d\d:\d\d|\?)"
    said = [re.fullmatch(pattern, line) for line in lines]
    assert all(said), lines
    assert [int(m.group(1)) for m in said] == [8, 12, 16, 20, 24, 28, 32, 36, 40]
    assert said[0].group(3) == "?" and said[-1].group(3) == "0:00:00"  # no rate from reused runs alone


def test_result_headers_of_seven_columns_with_long_units_fit() -> None:
    """talent_grant_scale's seven result columns looped for ever: the header of R&D personnel per 10,000 employed
    stayed 14 columns wide at a limit of 13 (its Chinese in two pieces of 7 characters), and the loop set 13 again.
    The widest limit that narrows a column is taken (a column none narrows is left), and a unit wraps like the
    names."""
    keys = ["rd_personnel_per_10k", "talent_outflow", "rd_intensity", "spend_talent_programmes", "public_cost",
            "rd_per_yuan", "total_rd_per_yuan"]
    room = 100 - 5 - 2 * len(keys)
    heads = _result_heads(keys, [6] * len(keys), room)
    assert sum(max(display_width(line) for line in h.split("\n")) for h in heads) <= room
    assert heads[3].split("\n")[-1] == "(万元)" and heads[-1].split("\n")[-1] == "(元/元)"


def test_default_report_years_stop_at_the_end_year(tmp_path):
    """Without report_years the default years the run reaches are reported; given ones after end_year are refused."""
    base = (f'scenario = "{(SCENARIOS / "baseline.toml").as_posix()}"\nfrom_year = 2021\nend_year = 2027\n'
            '[lever.grant_budget]\npath = "policy.ex_ante_grants.budget"\nvalues = [0, 60000]\n')
    short = tmp_path / "short.toml"
    short.write_text(base, encoding="utf-8")
    assert load_sweep(short).exp.report_years == [2025]
    given = tmp_path / "given.toml"
    given.write_text(base.replace("end_year = 2027\n", "end_year = 2027\nreport_years = [2025, 2030]\n"),
                     encoding="utf-8")
    with pytest.raises(InputError, match="2030 is not simulated"):
        load_sweep(given)
