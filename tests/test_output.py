"""Targets, reference paths, summary tables, charts and run folders (qhsim.targets, qhsim.output).

Model output changes as the model is developed: these tests check arithmetic on hand-built frames and the
structure of real runs, never the values the model produces.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from qhsim import data
from qhsim.errors import InputError
from conftest import SCENARIOS
from qhsim.output import charts, report, store
from qhsim.output.numbers import indicator_unit, unit_of
from qhsim.output.observed import (assumed_points, assumed_years, comparable_points, incomparable_points,
                                   observed_indicators, observed_points, observed_source, out_of_sample_skill,
                                   OutOfSampleSkill, persistence_sensitivity)
from qhsim.calibrated import target_rows
from qhsim.output.report import (band_caveat, display_width, format_summary, indicator_label, outside_side,
                                 persistence_note, prefecture_anchor_note, reduced_scale_note, summary_report,
                                 summary_table)
from qhsim.runner import run
from qhsim.targets import (COLUMNS, KINDS, base_year_check, load_targets, reference_paths_2035, target_met,
                           validate_target)

YEARS = (2015, 2020, 2024, 2025, 2027, 2035)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    return run(SCENARIOS / "baseline.toml", scale=0.05, end_year=2021)


@pytest.fixture(scope="module")
def result_2035():
    """A run that reaches 2035: its terminal summary has the 2035 reference paths' table."""
    return run(SCENARIOS / "baseline.toml", scale=0.05)


def hand_frame(draw_values: dict[int, dict[str, dict[int, float]]]) -> pd.DataFrame:
    """Indicators frame with province and Haixi rows: ``{draw: {"region:indicator": {year: value}}}``."""
    rows = []
    for draw, series in draw_values.items():
        for region in ("province", "haixi"):
            for year in YEARS:
                row = {"year": year, "region": region, "draw": draw}
                for name, path in series.items():
                    where, key = name.split(":")
                    row[key] = path.get(year, np.nan) if where == region else np.nan
                rows.append(row)
    return pd.DataFrame(rows)


def row_of(table: pd.DataFrame, key: str) -> pd.Series:
    (index,) = np.flatnonzero(table["indicator"] == key)
    return table.iloc[index]


# --- targets -----------------------------------------------------------------------------------------


def test_targets_load_with_known_indicators_regions_and_kinds():
    targets = load_targets()
    assert tuple(targets.columns) == COLUMNS
    assert len(targets) >= 20
    assert set(targets["indicator"]) <= set(data.load("indicators"))
    assert set(targets["region"]) <= {"province", *data.prefecture_ids()}
    assert set(targets["kind"]) <= set(KINDS)
    growth = targets[targets["kind"] == "growth"]
    assert (growth["base_year"] < growth["year"]).all()
    assert targets.loc[targets["kind"] != "growth", "base_year"].isna().all()


GOOD_ROW = {"indicator": "rd_intensity", "region": "province", "year": 2025, "kind": "level",
            "value": 1.0, "unit": "%", "source": "seed 003:L573"}


@pytest.mark.parametrize(
    ("change", "key", "bad"),
    [
        ({"kind": "maximum"}, "kind", "'maximum'"),
        ({"region": "lhasa"}, "region", "'lhasa'"),
        ({"indicator": "gdp_per_capita"}, "indicator", "'gdp_per_capita'"),
        ({"year": "2025"}, "year", "'2025'"),
        ({"value": True}, "value", "True"),
        ({"kind": "growth"}, "base_year", "None"),
        ({"base_year": 2020}, "base_year", "2020"),
        ({"base_yr": 2020}, "base_yr", "2020"),
        ({"source": ""}, "source", "''"),
    ],
)
def test_validator_names_file_key_bad_value_and_allowed(change, key, bad):
    with pytest.raises(InputError) as err:
        validate_target({**GOOD_ROW, **change}, 3)
    message = str(err.value)
    assert "\n" not in message
    assert "targets.toml" in message and f"target[3].{key} = {bad}" in message and "allowed" in message


def test_load_targets_rejects_a_malformed_file(monkeypatch):
    real = data.load
    bad = {"target": [GOOD_ROW, {**GOOD_ROW, "kind": "at_least"}]}
    monkeypatch.setattr(data, "load", lambda name: bad if name == "targets" else real(name))
    with pytest.raises(InputError, match=r"target\[1\]\.kind = 'at_least': allowed level, min_level, growth"):
        load_targets()


def test_reference_paths_on_a_hand_made_case():
    targets = pd.DataFrame([
        {**GOOD_ROW, "indicator": "x", "value": 2.0, "base_year": None},
        {**GOOD_ROW, "indicator": "x", "region": "haixi", "value": 9.0, "base_year": None},  # not province
        {**GOOD_ROW, "indicator": "y", "kind": "growth", "value": 0.1, "base_year": 2020},  # not a level
    ])
    indicators = {
        "x": {"value_2020": {"value": 1.0}, "national_2020": {"value": 3.0, "unit": "u", "source": "s"}},
        "y": {"value_2020": {"value": 1.0}},
        "z": {"national_2020": {"value": 5.0, "unit": "u", "source": "s"}},  # no 2020 value to start from
    }
    paths = reference_paths_2035(targets, indicators)
    assert list(paths["indicator"]) == ["x", "x"]
    assert (paths["kind"] == "reference_path").all() and (paths["year"] == 2035).all()
    assert (paths["base_year"] == 2020).all() and (paths["region"] == "province").all()
    extrapolated, parity = paths.itertuples()
    assert extrapolated.value == pytest.approx(8.0)  # 1 -> 2 in five years: doubling every five years to 2035
    assert parity.value == 3.0
    assert "extrapolated" in extrapolated.label and "规划" in extrapolated.label
    assert "national parity" in parity.label and "全国" in parity.label


def test_reference_paths_from_the_package_data():
    paths = reference_paths_2035().set_index(["indicator", "label"])["value"]
    rd = paths["rd_intensity"]
    assert rd.filter(like="extrapolated").item() == pytest.approx(1.0 * (1.0 / 0.71) ** 2)
    assert rd.filter(like="parity").item() == 2.40
    assert paths["science_literacy"].filter(like="parity").item() == 10.56


def target(kind: str, value: float, year: int = 2027, base_year: int | None = None) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, value=value, year=year, base_year=base_year)


@pytest.mark.parametrize("kind", ["level", "min_level", "reference_path"])
def test_target_met_for_levels(kind):
    t = target(kind, 1.0)
    assert target_met(0.99, t) is False
    assert target_met(1.0, t) is True
    assert target_met(0.1 + 0.9, t) is True  # at target up to float rounding
    assert target_met(1.2, t) is True
    assert target_met(pd.Series({2025: 5.0, 2027: 0.9}), t) is False  # judged in the target year
    assert target_met(math.nan, t) is None
    assert target_met(pd.Series({2025: 5.0}), t) is None  # run ends before the target year


def test_target_met_for_growth():
    t = target("growth", 0.05, year=2027, base_year=2024)
    exactly = pd.Series({2024: 100.0, 2025: 0.0, 2027: 100.0 * 1.05**3})
    assert target_met(exactly, t) is True
    assert target_met(exactly * pd.Series({2024: 1.0, 2025: 1.0, 2027: 0.999}), t) is False
    assert target_met(pd.Series({2024: 100.0, 2027: 200.0}), t) is True
    assert target_met(pd.Series({2024: 100.0, 2027: 80.0}), t) is False
    assert target_met(pd.Series({2024: 0.0, 2027: 80.0}), t) is None  # no growth rate from zero
    assert target_met(pd.Series({2027: 80.0}), t) is None


def test_base_year_check_flags_a_level_target_already_met_in_the_plans_base_year():
    """A plan sets its targets to be reached: a run already at a prefecture's level target in that plan's base year
    (Haixi 2024, the base of its growth targets; Haidong 2020) overstates that indicator there."""
    values = {("haixi", "share_firms_with_rd", 2024): np.float64(18.0),  # a frame's value: numpy, not float
              ("haixi", "rd_intensity", 2024): 0.5, ("haidong", "platforms", 2020): 18.0}  # target 17
    values[("province", "hte_per_10k_enterprises", 2020)] = 18.08  # the province's plan: 2025 targets from 2020
    values[("province", "hte_count", 2020)] = 218.0
    check = base_year_check(load_targets(), lambda region, key, year: values.get((region, key, year), math.nan))
    assert set(check["region"]) == {"province", "haidong", "haixi"} and set(check["kind"]) <= {"level", "min_level"}
    assert set(check.loc[check["region"] == "haixi", "base_year"]) == {2024}
    assert set(check.loc[check["region"] == "haidong", "base_year"]) == {2020}
    assert set(check.loc[check["region"] == "province", "base_year"]) == {2020}
    reached = check[check["reached"]]
    assert sorted(zip(reached["region"], reached["indicator"])) == [("haidong", "platforms"),
                                                                    ("haixi", "share_firms_with_rd"),
                                                                    ("province", "hte_per_10k_enterprises")]
    assert not check.loc[check["indicator"] == "rd_intensity", "reached"].any()  # 0.5 < 0.7; NaN never counts


def test_base_year_notes_name_the_run_median_against_the_target():
    """Below the tables: one note per target the run (median over its runs) already meets in the base year."""
    over = hand_frame({0: {"haixi:share_firms_with_rd": {2024: 16.0}}, 1: {"haixi:share_firms_with_rd": {2024: 20.0}},
                       2: {"haixi:share_firms_with_rd": {2024: 9.0}}})
    (note,) = report.base_year_notes(over, "en")
    assert note.startswith("Haixi, ")
    assert "the runs' median is 16.00% in 2024, already at the 2027 target of 12.00%" in note
    single = hand_frame({0: {"haixi:share_firms_with_rd": {2024: 12.0}}}).drop(columns="draw")
    assert "this run has 12.00% in 2024" in report.base_year_notes(single, "en")[0]  # exactly at the target counts
    assert report.base_year_notes(over, "zh")[0].startswith("海西州")
    assert len(report.base_year_notes(over, from_year=2027)) == 1  # a table from 2027 on shows the 2027 target
    assert report.base_year_notes(over, from_year=2028) == []  # one from 2028 on does not
    under = hand_frame({0: {"haixi:share_firms_with_rd": {2024: 11.0}}})
    assert report.base_year_notes(under) == []
    assert report.base_year_notes(hand_frame({0: {"haixi:share_firms_with_rd": {2020: 30.0}}})) == []  # no 2024


def test_base_year_notes_cover_the_province_and_say_what_the_plan_gives_for_the_base_year(result_2035):
    """The province's plan sets its 2025 targets from 2020: a run already at one in 2020 gets the same note, with
    the observed 2020 value (the plan's base) where the data have one, in the terminal and summary.txt."""
    over = hand_frame({0: {"province:hte_per_10k_enterprises": {2020: 18.08}, "province:hte_count": {2020: 270.0}}})
    count, density = report.base_year_notes(over, "en")  # targets.toml order
    assert density.startswith("Qinghai Province, High-tech enterprises per 10,000 enterprise legal persons: this "
                              "run has 18.08 in 2020, already at the 2025 target of 17.55")
    assert "upper estimate" in density and "no observed or plan base value for 2020" in density  # the plan has none
    label = observed_source("hte_count").label("en")
    assert count.startswith("Qinghai Province, High-tech enterprises: this run has 270 in 2020")
    assert count.endswith(f"Observed 2020: 218 ({label}).")  # the plan's table's 2020 value
    zh = report.base_year_notes(over, "zh")
    assert zh[1].startswith("青海省每万家企业法人中高新技术企业数：本次运行2020年已为18.08，达到2025年目标17.55")
    assert zh[0].endswith(f"2020年观测值为218（{observed_source('hte_count').label('zh')}）。")
    # the terminal summary (summary.txt is the same text without a width) carries the note
    frame = result_2035.indicators.copy()
    at = (frame["region"] == "province") & (frame["year"] == 2020)
    frame.loc[at, "hte_per_10k_enterprises"] = 18.08
    for width in (100, None):
        text = " ".join(summary_report(frame, lang="en", wide=False, width=width).split())
        assert "Qinghai Province, High-tech enterprises per 10,000 enterprise legal persons: this run has 18.08" in text
    frame.loc[at, "hte_per_10k_enterprises"] = 17.0
    assert "this run has 17.00" not in summary_report(frame, lang="en", wide=False, width=100)


# --- summary table -------------------------------------------------------------------------------------


def test_summary_table_single_run():
    frame = hand_frame({0: {
        "province:rd_intensity": {2020: 0.7, 2025: 0.9, 2027: 1.0, 2035: 1.5},
        "province:hte_count": {2020: 200, 2025: 260, 2035: 300},
        "haixi:tech_firms_three_types": {2024: 100.0, 2027: 120.0},
    }}).drop(columns="draw")
    table = summary_table(frame)
    keys = list(table["indicator"])
    assert keys == [k for k in data.load("indicators") if k in keys]  # indicators.toml order
    assert {"rd_intensity", "science_literacy", "hte_per_10k_enterprises", "little_giants", "business_rd",
            "spend_vouchers", "tax_expenditure_super_deduction"} <= set(keys)
    assert not {"gdp", "enterprises", "tech_smes", "platforms"} & set(keys)
    assert "p_met" not in table and "sim_2025_lo" not in table

    rd = row_of(table, "rd_intensity")
    assert rd["label"] == "研发投入强度 R&D expenditure / GDP (%)"
    assert rd["status"] == "已建模 modelled"
    cells = ("observed_2020", "sim_2020", "sim_2025", "sim_2027", "sim_2035")
    assert tuple(rd[c] for c in cells) == (0.71, 0.7, 0.9, 1.0, 1.5)
    assert (rd["target"], rd["target_year"], rd["target_kind"]) == (1.0, 2025, "level")
    assert rd["gap"] == pytest.approx(-0.1)
    assert rd["met"] == "否 no"

    hte = row_of(table, "hte_count")
    assert (hte["gap"], hte["met"]) == (0.0, "是 yes")  # exactly at target
    assert math.isnan(hte["sim_2027"])
    literacy = row_of(table, "science_literacy")
    assert literacy["status"] == report.STATUS[data.load("indicators")["science_literacy"]["status"]]
    assert pd.isna(literacy["met"]) and math.isnan(literacy["gap"])
    assert math.isnan(row_of(table, "business_rd")["target"])

    haixi = summary_table(frame, "haixi")
    three = row_of(haixi, "tech_firms_three_types")
    assert (three["target_kind"], three["base_year"]) == ("growth", 2024)
    assert three["gap"] == pytest.approx(1.2 ** (1 / 3) - 1 - 0.05)
    assert three["met"] == "是 yes"
    assert math.isnan(row_of(haixi, "rd_intensity")["observed_2020"])  # observed values are province-level
    assert row_of(haixi, "rd_intensity")["target_year"] == 2027


def test_summary_table_ensemble_median_band_and_probability():
    frame = hand_frame({
        draw: {"province:rd_intensity": {2025: v}, "haixi:tech_firms_three_types": {2024: 100.0, 2027: end}}
        for draw, v, end in [(7, 1.3, 110.0), (8, 0.9, 116.0), (9, 1.1, 120.0)]
    })
    rd = row_of(summary_table(frame), "rd_intensity")
    assert rd["sim_2025"] == pytest.approx(1.1)
    assert rd["sim_2025_lo"] == pytest.approx(0.9 + 0.1 * 0.2)  # 5% quantile, linear between order statistics
    assert rd["sim_2025_hi"] == pytest.approx(1.1 + 0.9 * 0.2)
    assert rd["gap"] == pytest.approx(0.1)
    assert rd["met"] == "是 yes"
    assert rd["p_met"] == pytest.approx(2 / 3)
    assert math.isnan(rd["sim_2035"]) and math.isnan(rd["sim_2035_lo"])

    three = row_of(summary_table(frame, "haixi"), "tech_firms_three_types")
    assert three["p_met"] == pytest.approx(2 / 3)  # CAGR 3.2%, 5.1%, 6.3% against 5%
    assert three["gap"] == pytest.approx(1.16 ** (1 / 3) - 1 - 0.05)
    assert math.isnan(row_of(summary_table(frame), "science_literacy")["p_met"])


def test_a_prefectures_table_shows_where_its_plan_starts():
    """Haixi's plan sets end-2027 targets on an assumed 2024 base: its own-target table shows the simulated 2024
    value, as the province's shows its start (observed 2020), and keeps it in the terminal's 100 columns."""
    frame = hand_frame({
        draw: {"province:rd_intensity": {2020: 0.7, 2025: 1.0},
               "haixi:tech_firms_three_types": {2024: 100.0, 2027: end}, "haixi:rd_intensity": {2024: 0.5, 2027: 0.8}}
        for draw, end in [(7, 110.0), (8, 116.0), (9, 120.0)]
    })
    haixi = summary_table(frame, "haixi")
    assert row_of(haixi, "tech_firms_three_types")["sim_2024"] == pytest.approx(100.0)
    compact = report.summary_columns(haixi[haixi["target"].notna()], wide=False)
    assert compact.index("sim_2024") < compact.index("sim_2027")
    text = format_summary(haixi[haixi["target"].notna()], "海西州 Haixi", wide=False, width=100)
    head = text.splitlines()[1:3]
    assert "2024模拟" in head[0] and "sim 2024" in head[1]
    line = next(line for line in text.splitlines() if line.startswith("科技“三型”企业数"))
    assert line.split()[1:4] == ["100", "116", "+5.0%/yr"]
    assert max(map(display_width, text.splitlines())) <= 100
    province = summary_table(frame)
    assert "sim_2024" not in province  # the province starts in 2020, shown as observed 2020 beside sim 2020
    # a table cut from all regions' rows (the HTML report's): the province's rows without a target show every
    # milestone year but not Haixi's start, which none of them has
    both = pd.concat([province, haixi], ignore_index=True)
    untargeted = both[(both["region"] == "province") & both["target"].isna()]
    assert len(untargeted) and "sim_2024" in untargeted
    assert "sim_2024" not in report.summary_columns(untargeted, wide=False)


def test_a_growth_target_shows_its_simulated_rate_beside_the_target_rate():
    """Haixi's +5%/yr target for its three-type firms 2024-2027: the table gives the simulated average growth rate over
    that period (the median over runs, with its 5%-95% band, what the gap is taken on) beside the target; a level
    target has none, and a table without a growth target (the province's) no rate column."""
    ends = (110.0, 116.0, 120.0)
    frame = hand_frame({
        draw: {"province:rd_intensity": {2020: 0.7, 2025: 1.0},
               "haixi:tech_firms_three_types": {2024: 100.0, 2027: end}, "haixi:rd_intensity": {2024: 0.5, 2027: 0.8}}
        for draw, end in zip((7, 8, 9), ends)
    })
    haixi = summary_table(frame, "haixi")
    three = row_of(haixi, "tech_firms_three_types")
    rates = [(end / 100.0) ** (1 / 3) - 1 for end in ends]
    assert three["rate"] == pytest.approx(rates[1]) and three["rate"] - three["target"] == pytest.approx(three["gap"])
    assert three["rate_lo"] == pytest.approx(rates[0] + 0.1 * (rates[1] - rates[0]))  # 5%, as the sim bands are
    assert math.isnan(row_of(haixi, "rd_intensity")["rate"])  # a level target's value is its year's
    assert report.cell_text(row_of(haixi, "rd_intensity"), "rate") == ""
    targeted = haixi[haixi["target"].notna()]
    compact = report.summary_columns(targeted, wide=False)
    assert compact.index("target") + 1 == compact.index("rate")
    text = format_summary(targeted, "海西州 Haixi", wide=False, width=100)
    lines = text.splitlines()
    assert "模拟年均增速" in lines[1] and "growth/yr" in " ".join(lines[2:4])
    at = next(i for i, line in enumerate(lines) if line.startswith("科技“三型”企业数"))
    assert lines[at].split()[3:5] == ["+5.0%/yr", f"+{100 * rates[1]:.1f}%/yr"]
    assert max(map(display_width, lines)) <= 100  # at 100 columns the rate's band goes before a name is cut
    band = f"[+{100 * three['rate_lo']:.1f}, +{100 * three['rate_hi']:.1f}]"
    assert report.cell_text(three, "rate", stacked=True) == f"+{100 * rates[1]:.1f}%/yr\n{band}"  # HTML, dashboard
    assert band in format_summary(targeted, wide=False, width=120)
    province = summary_table(frame)
    for wide in (True, False):
        assert "rate" not in report.summary_columns(province[province["target"].notna()], wide=wide)
    single = row_of(summary_table(frame[frame["draw"] == 8].drop(columns="draw"), "haixi"), "tech_firms_three_types")
    assert report.cell_text(single, "rate") == f"+{100 * rates[1]:.1f}%/yr" and "rate_lo" not in single
    assert report.cell_text(single, "rate", lang="zh") == f"+{100 * rates[1]:.1f}%/年"


def test_summary_table_refuses_a_region_without_rows():
    frame = hand_frame({0: {"province:rd_intensity": {2025: 1.0}}})
    with pytest.raises(InputError, match="no rows for region 'haidong'; regions present: province, haixi"):
        summary_table(frame, "haidong")


def test_display_width_counts_cjk_double():
    assert display_width("研发a") == 5
    assert display_width("目标（年份）") == 12
    assert display_width("—") == 1


def test_wrap_cuts_a_long_key_after_an_underscore_not_a_sliver():
    assert report.wrap("talent_grants_doubled", 20) == ["talent_grants_", "doubled"]
    assert report.wrap("a_bcdefghij", 8) == ["a_bcdefg", "hij"]  # "a_" alone would be a sliver
    assert report.wrap("rd_intensity", 11) == ["rd_", "intensity"]  # ... unless the rest then fits
    assert report.wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert report.wrap("研发 投入强度", 4) == ["研发", "投入", "强度"]
    # Chinese has no spaces: the cut moves back so as not to split a number, nor begin a line with "。"
    assert report.wrap("研发1.16%强度", 6) == ["研发", "1.16%", "强度"]
    assert report.wrap("研发。强度", 4) == ["研", "发。", "强度"]
    assert report.wrap("研12345678", 6) == ["研1234", "5678"]  # no place in the second half of the line: the width
    # before a bracket or after punctuation where the rest then fits (a header, a label); prose fills its lines
    assert report.wrap("目标（年份）", 10) == ["目标", "（年份）"]
    assert report.wrap("研发人员流出（离开青海）", 20) == ["研发人员流出", "（离开青海）"]
    assert report.wrap("研发，投入强度很高", 8) == ["研发，投", "入强度很", "高"]


def test_units_are_in_the_language_of_the_label(result_2035):
    """``--lang zh`` writes every unit in Chinese (人, 家, 件, 个 ...), ``--lang en`` in English (亿元 as 100 mn yuan)
    and both languages as the English name they follow, money in 亿元 and 万元: one mapping,
    ``qhsim.output.numbers.unit_of``."""
    specs = data.load("indicators")
    for key, spec in specs.items():
        assert not re.search(r"[A-Za-z]", unit_of(key, "zh")), (key, spec["unit"])  # a new unit needs UNIT_ZH
        assert not re.search(r"[\u4e00-\u9fff]", unit_of(key, "en")), (key, spec["unit"])  # a new one needs UNIT_EN
        assert unit_of(key, "both") == indicator_unit(key)
        # a chart's axis says the unit the table's label says, in both languages (one table of units)
        assert charts.axis_unit(key) in (unit_of(key, "zh"), f"{unit_of(key, 'zh')} {unit_of(key, 'en')}",
                                         f"{unit_of(key, 'zh')} ({unit_of(key, 'en')})"), key
    assert unit_of("business_rd", "en") == "100 mn yuan" and unit_of("business_rd") == "亿元"
    # a ratio per 10,000 names its denominator (indicators.toml has the numerator's unit, "firms")
    assert specs["hte_per_10k_enterprises"]["unit"] == "firms"
    density = indicator_label("hte_per_10k_enterprises")
    assert density.endswith("(firms per 10k enterprises)")
    assert indicator_label("hte_per_10k_enterprises", lang="zh").endswith("(家/万家企业)")
    assert charts.axis_unit("hte_per_10k_enterprises") == "家/万家企业 firms per 10k enterprises"
    assert indicator_label("talent_inflow", lang="zh") == f"{specs['talent_inflow']['zh']} (人)"
    assert indicator_label("hte_count", lang="en") == f"{specs['hte_count']['en']} (firms)"
    assert indicator_label("hte_count") == f"{specs['hte_count']['zh']} {specs['hte_count']['en']} (firms)"
    english_units = {f"({spec['unit']})" for spec in specs.values() if re.search(r"[A-Za-z]", spec["unit"])}
    chinese = summary_report(result_2035.indicators, lang="zh", wide=False, width=100)
    assert "(人)" in chinese and "(家)" in chinese and "(件/万人)" in chinese and "(个)" in chinese
    assert not [u for u in english_units if u in chinese]
    english = summary_report(result_2035.indicators, lang="en", wide=False, width=200)
    assert "(persons)" in english and "(firms)" in english and not re.search(r"\((人|家|件|个|亿元|万元)\)", english)
    assert "(100 mn yuan)" in english
    # growth targets too: %/年 in Chinese, %/yr in English (their gaps stay in pp, percentage points, in both)
    assert "%/年" in chinese and "%/yr" not in chinese
    assert "%/yr" in english and "%/年" not in english


def test_target_values_print_as_the_summary_table_prints_them():
    assert report.target_value(0.05, "growth", "tech_firms_three_types") == "+5.0%/yr"
    assert report.target_value(12.0, "min_level", "share_firms_with_rd") == "≥12.00"
    assert report.target_value(170.0, "min_level", "platforms") == "≥170"
    assert report.target_value(1.0, "level", "rd_intensity") == "1.00"


@pytest.mark.parametrize("draws", [1, 3])
def test_format_summary_lines_have_equal_display_width(draws):
    frame = hand_frame({d: {"province:rd_intensity": {2020: 0.7 + d, 2025: 0.9}} for d in range(draws)})
    text = format_summary(summary_table(frame), "青海省 Qinghai Province")
    lines = text.splitlines()
    assert len({display_width(line) for line in lines}) == 1
    assert lines[0].startswith("青海省") and "指标" in lines[1] and "indicator" in lines[2]
    assert set(lines[3]) == {"-"}
    rd_line = next(line for line in lines if line.startswith("研发投入强度"))
    assert "—" in rd_line and "1.00 (2025)" in rd_line
    assert ("P(met)" in lines[2]) == (draws > 1)
    label_width = max(display_width(label) for label in [*summary_table(frame)["label"], "indicator"])
    notes = next(i for i, line in enumerate(lines) if line.startswith("* "))  # below the table: restated values
    assert "the plan prints 3.04" in " ".join(lines[notes:])
    for line in lines[1:3] + lines[4:notes]:  # the status column starts at the same display column in every line
        head, tail = split_at_width(line, label_width)
        assert display_width(head) == label_width and tail.startswith("  ") and tail[2] != " "


def split_at_width(text: str, width: int) -> tuple[str, str]:
    """Split ``text`` after its first ``width`` display columns."""
    for i in range(len(text) + 1):
        if display_width(text[:i]) >= width:
            return text[:i], text[i:]
    return text, ""


def test_summary_report_has_province_haidong_and_haixi_sections(result_2035):
    text = summary_report(result_2035.indicators)
    sections = text.removesuffix("\n").split("\n\n")
    assert [s.splitlines()[0].split(" |")[0] for s in sections[:-1]] == [
        "青海省 Qinghai Province", "2035年参考路径（非规划目标） 2035 reference paths (not plan targets)",
        "海东市 Haidong", "海西州 Haixi"]
    assert "report.xlsx" in sections[-1] and "observed source" in sections[-1]  # where the sources are
    references = sections[1]
    assert "2.40 (2035)" in references and "national parity" in references  # R&D intensity at the national level
    haidong = sections[2]
    assert "60 (2025)" in haidong  # tech-based firms
    assert "+14.9%/yr 2020-2025" in haidong  # S&T talent: the plan's doubling, its level is on another definition
    assert "+5.0%/yr 2024-2027" in sections[3]
    for section in sections:
        assert len({display_width(line) for line in section.splitlines()}) == 1


def test_reports_say_which_prefectures_are_fitted_to_observed_data_and_which_are_estimates(result):
    fitted = {row["region"] for row in target_rows()} - {"province"}
    assert fitted == {"haidong"}  # the note below is derived from calibration/targets.toml, not written for it
    en = prefecture_anchor_note("en")
    assert en.startswith("Prefecture values: Haidong's 2020 values are fitted to observed data; Xining, Haixi, Hainan")
    assert "Golog, Yushu have no observed value and are model estimates" in en
    zh = prefecture_anchor_note("zh")
    assert zh.startswith("市州数值：海东市的2020年值按观测值校准；西宁市、海西州") and "Haidong" not in zh
    assert prefecture_anchor_note() == f"{zh} {en}"
    text = summary_report(result.indicators, lang="en", wide=False, width=100)
    assert all(display_width(line) <= 100 for line in text.splitlines())
    assert en in " ".join(text.split("\n\n")[-1].split())  # the last section, wrapped at spaces


def test_out_of_sample_skill_is_read_from_the_check_table(tmp_path):
    table = tmp_path / "oos_prediction.csv"
    table.write_text("target,year,status,observed,p05,p95,rel_error,in_band\n"
                     "a_2019,2019,predicted,1.0,0.9,1.2,0.10,True\n"
                     "b_2020,2020,predicted,1.0,1.1,1.5,-0.30,False\n"
                     "c_2020,2020,predicted,1.0,1.05,1.3,0.20,False\n"
                     "d_2020,2020,not_yet_modelled,1.0,,,,\n", encoding="utf-8")
    skill = out_of_sample_skill(table)
    assert (skill.targets, skill.first_year, skill.last_year) == (3, 2019, 2020)
    assert (skill.below, skill.above) == (2, 0)  # both misses: observed under the band
    assert skill.coverage == pytest.approx(1 / 3) and skill.median_error == pytest.approx(0.20)
    assert out_of_sample_skill(tmp_path / "missing.csv") is None
    shipped = out_of_sample_skill()  # the shipped check: every held-out value predicted
    assert shipped is not None and shipped.targets >= 20 and 0 <= shipped.coverage <= 1


def test_band_caveat_says_on_which_side_the_out_of_sample_misses_lay():
    skill = OutOfSampleSkill(24, 20 / 24, 0.24, 2019, 2020, below=4, above=0)
    assert outside_side(skill)[1] == "; the 4 values outside it all lay below it: the model projected too high"
    assert "预测偏高" in outside_side(skill)[0]
    assert "too low" in outside_side(replace(skill, below=0, above=3))[1]
    assert outside_side(replace(skill, below=3, above=1))[1] == "; of the values outside it, 3 lay below it and 1 above"
    assert outside_side(replace(skill, below=0, above=0)) == ("", "")
    shipped = out_of_sample_skill()
    assert shipped is not None and outside_side(shipped)[1] in band_caveat("en")


def test_ensemble_reports_say_their_band_is_a_lower_bound_with_the_out_of_sample_coverage(result, monkeypatch):
    skill = out_of_sample_skill()
    en = band_caveat("en")
    assert f"the 90% band held {100 * skill.coverage:.0f}% of the observed {skill.first_year}" in en
    assert "lower bound" in en and "下限" in band_caveat("zh") and band_caveat() == f"{band_caveat('zh')} {en}"
    single = summary_report(result.indicators, lang="en", wide=False, width=100)
    two = pd.concat([result.indicators.assign(draw=d) for d in (0, 1)], ignore_index=True)
    ensemble = summary_report(two, lang="en", wide=False, width=100)
    assert "lower bound" not in single and en in " ".join(ensemble.split("\n\n")[-1].split())
    monkeypatch.setattr("qhsim.output.observed.OOS_PREDICTION", Path("/nonexistent/oos_prediction.csv"))
    assert "held" not in band_caveat("en") and "lower bound" in band_caveat("en")  # without the check: no figures


def _persistence_table(path: Path, a_distance: float = 0.523, shipped_exit: float = 0.022,
                       a_intensity: float = 0.974) -> Path:
    """A what-if table as benchmarks/persistence_whatif.py writes it: the shipped point and two alternatives."""
    rows = []
    for name, shipped, exit_rate, ri, distance in (("shipped", True, shipped_exit, 1.159, 0.621),
                                                   ("b", False, 0.203, 0.853, 0.987),
                                                   ("a", False, 0.089, a_intensity, a_distance)):
        for year, value in ((2020, 0.7), (2035, ri)):
            rows.append({"point": name, "shipped": shipped, "stop_probability": 0.1, "exit_rate": exit_rate,
                         "exit_low": 0.1, "exit_high": 0.25, "distance": distance, "indicator": "rd_intensity",
                         "year": year, "mean": value})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_persistence_note_quotes_the_what_if_in_every_runs_outputs(result, tmp_path, monkeypatch):
    """Every run's terminal summary, workbook and HTML report say what the long-run projections rest on (how rarely
    firms stop R&D), with the what-if's figures at its last year, alternatives in order of their exit rate; nothing
    without the what-if's table."""
    shipped = persistence_sensitivity()  # the shipped what-if: the shipped point and at least one alternative
    assert shipped is not None and shipped.year >= 2035 and shipped.other_exit_rates
    table = _persistence_table(tmp_path / "persistence_whatif.csv")
    p = persistence_sensitivity(table)
    assert (p.year, p.exit_rate, p.rd_intensity, p.evidence) == (2035, 0.022, 1.159, (0.1, 0.25))
    assert p.other_exit_rates == (0.089, 0.203) and p.other_rd_intensity == (0.974, 0.853)
    assert (p.distance, p.other_distances) == (0.621, (0.523, 0.987))
    monkeypatch.setattr("qhsim.output.observed.PERSISTENCE_WHATIF", table)
    en = persistence_note("en")
    assert ("stop at 2.2% a year in the shipped calibration (fitted to 2015–2020 with the evidence, 10%–25%, as a "
            "target: below it)") in en
    # how each alternative fits 2015-2020 beside the shipped point: the assumption is not what the data settle
    assert ("exit rates of 8.9% and 20.3% (fitting the 2015–2020 targets better and worse than the shipped "
            "calibration: distance 0.52 and 0.99 against 0.62), the model projects a 2035 R&D intensity 16% and 26% "
            "lower (0.97% and 0.85% against 1.16%, the shipped calibration's mean over the what-if's own seeds, not "
            "this run's" in en)
    assert "拟合优于、劣于现行校准：距离0.52、0.99，现行0.62" in persistence_note("zh")
    assert "年退出率2.2%（按2015–2020年数据并以可比证据10%–25%为校准目标拟合，低于该范围）" in persistence_note("zh")
    assert "2035年研发强度低16%、26%" in persistence_note("zh") and persistence_note() == f"{persistence_note('zh')} {en}"
    # alternatives all on one side are said so once
    monkeypatch.setattr("qhsim.output.observed.PERSISTENCE_WHATIF", _persistence_table(tmp_path / "both.csv", 0.633))
    assert ("(fitting the 2015–2020 targets both worse than the shipped calibration: distance 0.63 and 0.99 "
            "against 0.62)") in persistence_note("en")
    assert "拟合均劣于现行校准：距离0.63、0.99，现行0.62" in persistence_note("zh")
    # a shipped rate inside the evidence, one alternative projecting more R&D and one less: each said its way
    inside = _persistence_table(tmp_path / "inside.csv", shipped_exit=0.12, a_intensity=1.2)
    monkeypatch.setattr("qhsim.output.observed.PERSISTENCE_WHATIF", inside)
    assert "stop at 12.0% a year in the shipped calibration (fitted to 2015–2020 with the evidence, 10%–25%, as a " \
           "target: inside it)" in persistence_note("en")
    assert "a 2035 R&D intensity 4% higher and 26% lower (1.20% and 0.85% against 1.16%" in persistence_note("en")
    assert "在该范围内" in persistence_note("zh") and "2035年研发强度高4%、低26%" in persistence_note("zh")
    monkeypatch.setattr("qhsim.output.observed.PERSISTENCE_WHATIF", table)
    # ... and where each year's rate is: a column of every run (from the first simulated year)
    label = data.load("indicators")["rd_exit_rate"]
    assert f"“{label['en']}”" in en and f"“{label['zh']}”" in persistence_note("zh")
    exits = result.indicators.query("region == 'province'").set_index("year")["rd_exit_rate"]
    assert exits.iloc[1:].between(0.0, 100.0).all()  # (a value every year: at scale 0.05 ~6 firms, often no exit)
    text = summary_report(result.indicators, lang="en", wide=False, width=100)
    assert en in " ".join(text.split("\n\n")[-1].split())
    assert all(display_width(line) <= 100 for line in text.splitlines())
    monkeypatch.setattr("qhsim.output.observed.PERSISTENCE_WHATIF", tmp_path / "missing.csv")
    assert persistence_sensitivity(tmp_path / "missing.csv") is None and persistence_note("en") is None
    assert "rarely stop" not in summary_report(result.indicators, lang="en", wide=False, width=100)


# --- charts ----------------------------------------------------------------------------------------------


def test_observed_points_come_from_the_data_files():
    points = observed_points("rd_intensity")
    # yearbook R&D over the revised GDP series (macro.toml), 2015-2020; the plan's 0.71 for 2020
    assert points == {2015: pytest.approx(100 * 11.5843 / 2011.0), 2016: pytest.approx(100 * 13.9977 / 2258.2),
                      2017: pytest.approx(100 * 17.9109 / 2465.1), 2018: pytest.approx(100 * 17.2951 / 2748.0),
                      2019: pytest.approx(100 * 20.5680 / 2941.1), 2020: 0.71}
    assert observed_points("gdp") == {2015: 2011.0, 2016: 2258.2, 2017: 2465.1, 2018: 2748.0, 2019: 2941.1,
                                             2020: 3009.8}
    assert observed_points("spend_vouchers") == {}


def test_observed_points_of_a_prefecture_and_the_yearly_paths_come_from_the_calibration_targets():
    import tomllib

    from qhsim.calibrated import CALIBRATION_DIR

    rows = tomllib.loads((CALIBRATION_DIR / "targets.toml").read_text(encoding="utf-8"))["target"]
    haidong = {r["indicator"]: {r["year"]: r["value"]} for r in rows if r["region"] == "haidong"}
    assert haidong["rd_intensity"] == {2020: 0.09} and haidong["platforms"] == {2020: 12}  # the values
    for key, points in haidong.items():
        assert observed_points(key, "haidong") == points
    # the plan's own figure where the calibration has none; the calibration's (model definition) where both do
    plan = data.load("indicators")
    assert observed_points("st_talent", "haidong") == {2020: plan["st_talent"]["prefecture_2020"]["haidong"]["value"]}
    assert plan["platforms"]["prefecture_2020"]["haidong"]["value"] != 12
    assert observed_points("rd_intensity", "haixi") == {}  # no Haixi observation in any source
    fte = {r["year"]: r["value"] for r in rows if r["indicator"] == "rd_personnel_fte" and r["region"] == "province"}
    assert len(fte) == 5 and observed_points("rd_personnel_fte") == fte  # the yearbook path 2016-2020
    assert observed_points("hte_count") == {2018: 167, 2020: 218}  # the waypoint and the plan table
    # the exit-rate targets are micro evidence from firms elsewhere (17.5 stands for 10-25%), not Qinghai's values
    exits = [r for r in rows if r["indicator"] == "rd_exit_rate"]
    assert len(exits) == 5 and {r["group"] for r in exits} == {"micro_evidence"}
    assert observed_points("rd_exit_rate") == {} and observed_source("rd_exit_rate") is None


def test_every_observed_2020_value_has_a_bilingual_source_and_the_restated_ones_say_what_the_plan_prints():
    """observed_source follows observed_points' precedence; restatements carry the plan's figure and arithmetic."""
    indicators = data.load("indicators")
    for region in ("province", *data.prefecture_ids()):
        for key in indicators:
            source = observed_source(key, region)
            assert (source is None) == (2020 not in observed_points(key, region)), (key, region)
            if source is not None:
                assert re.search(r"[\u4e00-\u9fff]", source.zh) and source.en.isascii() and source.reference
                assert (source.note() is not None) == (source.restated or not source.comparable), (key, region)
                assert source.comparable == (2020 not in incomparable_points(key, region)), (key, region)
    plan = [key for key in indicators if key in set(load_targets().query("region == 'province'")["indicator"])
            and "value_2020" in indicators[key]]
    assert len(plan) == 9  # the plan table's nine indicators
    assert {observed_source(k).en for k in plan if not observed_source(k).restated} == {"14th FYP S&T plan, indicator table"}
    patents = observed_source("patents_per_10k")
    spec = indicators["patents_per_10k"]["value_2020"]
    assert patents.restated and patents.printed == 3.04 != spec["value"]
    # the restated value is the count over the census population of macro.toml (万), not a number typed twice
    assert spec["value"] == round(spec["restated"]["numerator"] / data.observed("population")[2020], 2)
    assert patents.note("en") == ("3.12 = 1,848 valid invention patents / 5.924 million (2020 census); the plan prints 3.04 "
                                  "(= 1,848 / 6.079 million, pre-census estimate)")
    assert patents.note("zh").startswith("3.12 = 1,848件有效发明专利 ÷ 592.4万人（2020年人口普查）；规划表印3.04")
    assert patents.label("en") == "restated on the 2020 census population (the plan prints 3.04)"
    # Haidong's platforms: the calibration's 12 in the model's definition against the plan's 10
    platforms = observed_source("platforms", "haidong")
    assert platforms.printed == 10 and platforms.note("en").startswith("12 = 3 engineering research centres")
    assert observed_source("hte_count", "haidong").label("en") == "Haidong plan"
    assert not observed_source("rd_intensity").restated


def test_terminal_tables_mark_restated_observed_values_and_explain_them_within_100_columns(result_2035):
    text = summary_report(result_2035.indicators, wide=False, width=100)
    assert all(display_width(line) <= 100 for line in text.splitlines())
    province, references, haidong = text.split("\n\n")[:3]
    assert re.search(r"每万人口发明专利拥有量 +3\.12\*", province) and not re.search(r"0\.71\*", province)
    flat = " ".join(line.strip() for line in province.splitlines())
    assert "* 每万人口发明专利拥有量 Valid invention patents per 10,000 population: 3.12 = 1,848" in flat
    assert "the plan prints 3.04" in flat and "5.924 million (2020 census)" in flat
    assert "3.12*" in references and "plan prints 3.04" in " ".join(references.split())
    assert re.search(r"科技创新平台数 +12\*", haidong) and "Haidong's plan prints 10" in " ".join(haidong.split())
    english = summary_report(result_2035.indicators, lang="en", wide=False, width=100)
    assert "规划" not in english.split("\n\n")[0] and "the plan prints 3.04" in " ".join(english.split())


def _ensemble(indicators: pd.DataFrame) -> pd.DataFrame:
    """Three runs from one: the run and two scaled copies (bands of several widths, P(met) between 0 and 1)."""
    keys = [c for c in indicators.columns if c not in ("year", "region")]
    return pd.concat([indicators.assign(**{k: indicators[k] * f for k in keys}, draw=d)
                      for d, f in enumerate((1.0, 1.1, 0.93))], ignore_index=True)


@pytest.mark.parametrize("lang", ["both", "zh", "en"])
def test_terminal_tables_keep_names_whole_within_100_columns(result_2035, lang):
    """At 100 columns, a single run's and an ensemble's tables keep every line within 100 display columns and every
    indicator name whole: a Chinese name (no spaces) on one line, in both languages above the English name, which
    breaks only between words; the ensemble keeps its 2035 column for it."""
    specs = data.load("indicators")
    for frame in (result_2035.indicators, _ensemble(result_2035.indicators)):
        text = summary_report(frame, lang=lang, wide=False, width=100)
        assert max(map(display_width, text.splitlines())) <= 100
        province, references, haidong, haixi = text.split("\n\n")[:4]
        assert ("2035模拟" if lang == "zh" else "sim 2035") in province
        shown = [(province, summary_table(frame, lang=lang)),  # every indicator; the others: those with a target
                 *((section, table[table["target"].notna()]) for section, table in (
                     (references, summary_table(frame, targets=reference_paths_2035(), lang=lang)),
                     (haidong, summary_table(frame, "haidong", lang=lang)),
                     (haixi, summary_table(frame, "haixi", lang=lang))))]
        for section, table in shown:
            keys = [k for k in table["indicator"] if not k.startswith(report.FISCAL_PREFIXES)]
            assert keys
            lines = section.splitlines()
            labels = " ".join(re.split(r"\s{2,}", line)[0] for line in lines)  # the first column's lines, joined
            for key in keys:
                if lang != "en":  # the Chinese name whole on one line, then the English name or unit
                    assert any(re.match(rf"{re.escape(specs[key]['zh'])}(\s|$)", line) for line in lines), key
                if lang != "zh":
                    assert specs[key]["en"] in labels, key
            if lang == "both":  # "met": "是"/"否" beside the values, "yes"/"no" below them in every row, never
                met = [line for line in lines if re.search(r"\s(是|否)‡?\s", line)]  # "是 yes" in one and "否 no" cut
                assert met and not any(re.search(r"(是|否) (yes|no)", line) for line in lines), section


def test_one_language_keeps_whole_labels(result_2035):
    """``--lang en`` / ``--lang zh`` show each label whole (the label is already in that language: picking a
    language from it again cut its first word, and the reference paths' qualifier)."""
    english = " ".join(summary_report(result_2035.indicators, lang="en", wide=False, width=200).split())
    for key in ("rd_intensity", "hte_count", "business_rd", "talent_inflow"):
        assert data.load("indicators")[key]["en"] in english, key
    chinese = summary_report(result_2035.indicators, lang="zh", wide=False, width=200)
    assert "规划趋势外推" in chinese and "达到全国2020水平" in chinese


def test_summary_tables_show_the_observed_2020_value_the_charts_draw(result):
    for region in ("province", "haidong", "haixi"):
        table = summary_table(result.indicators, region)
        for row in table.itertuples():
            expected = observed_points(row.indicator, region).get(2020)
            assert row.observed_2020 == expected if expected is not None else math.isnan(row.observed_2020)
    haidong = summary_table(result.indicators, "haidong")
    assert row_of(haidong, "platforms")["observed_2020"] == 12


def observed_marks(ax, hollow: bool = False) -> dict[str, list[tuple[float, float]]]:
    """Legend label -> (x, y) points of the lines drawn with the observed marker, filled (or ``hollow``)."""
    return {line.get_label(): list(zip(line.get_xdata(), line.get_ydata())) for line in ax.lines
            if line.get_marker() == "o" and (line.get_markerfacecolor() == "none") == hollow}


def test_observed_values_on_another_definition_are_those_the_data_flag(monkeypatch):
    """comparable = false in indicators.toml (value_2020 or prefecture_2020) and nothing else makes a value
    incomparable; calibration targets are in the model's definition."""
    indicators = data.load("indicators")
    flagged = {(key, region) for key, spec in indicators.items()
               for region, entry in ({"province": spec.get("value_2020", {})} | spec.get("prefecture_2020", {})).items()
               if entry.get("comparable", True) is False}
    assert ("st_talent", "haidong") in flagged
    found = set()
    for region in ("province", *data.prefecture_ids()):
        for key in indicators:
            every, model, other = observed_points(key, region), comparable_points(key, region), incomparable_points(key, region)
            assert model.keys().isdisjoint(other) and model | other == every, (key, region)
            if other:
                found.add((key, region))
    assert found == flagged
    assert incomparable_points("st_talent", "haidong") == {2020: 1000.0} and comparable_points("st_talent", "haidong") == {}
    # a flag on another entry moves its point, whatever the indicator
    patched = {**indicators, "patents_per_10k": {**indicators["patents_per_10k"], "prefecture_2020": {
        "haidong": {**indicators["patents_per_10k"]["prefecture_2020"]["haidong"], "comparable": False,
                    "note_zh": "分母不同", "note_en": "another denominator"}}}}
    load = data.load
    monkeypatch.setattr(data, "load", lambda name: patched if name == "indicators" else load(name))
    assert incomparable_points("patents_per_10k", "haidong") == {2020: 0.54}
    assert comparable_points("patents_per_10k", "haidong") == {}
    source = observed_source("patents_per_10k", "haidong")
    assert not source.comparable and source.mark == "†" and source.note("en") == "0.54: another denominator"


def test_charts_draw_values_on_another_definition_hollow_and_apart(result):
    """Haidong's 1,000 S&T talents count a broader group than the model's st_talent: no ordinary observed marker."""
    label = "观测值口径不同 observed on another definition"
    ax = charts.indicator_figure(result.indicators, "st_talent", "haidong").axes[0]
    assert observed_marks(ax) == {} and observed_marks(ax, hollow=True) == {label: [(2020, 1000.0)]}
    assert label in [t.get_text() for t in ax.get_legend().get_texts()]
    assert all("实际值" not in t.get_text() for t in ax.get_legend().get_texts())
    overview = charts.overview_figure(result.indicators, "haidong")
    titles = {ax.get_title().split("\n")[1]: ax for ax in overview.axes}
    talent = titles[data.load("indicators")["st_talent"]["en"]]
    assert observed_marks(talent) == {} and observed_marks(talent, hollow=True) == {label: [(2020, 1000.0)]}
    legend = [t.get_text() for t in overview.legends[0].get_texts()]
    assert label in legend and "实际值 observed" in legend  # the other panels' ordinary points keep theirs
    # every other Haidong panel: filled points only
    assert all(observed_marks(a, hollow=True) == {} for a in overview.axes if a is not talent)

    from qhsim.dashboard import figures

    dash = figures.indicator_figure(result.indicators, "st_talent", "haidong", "en").axes[0]
    assert observed_marks(dash) == {} and observed_marks(dash, hollow=True) == {"observed on another definition": [(2020, 1000.0)]}


def test_tables_mark_values_on_another_definition_and_say_how_it_differs(result):
    table = summary_table(result.indicators, "haidong")
    row = row_of(table, "st_talent")
    assert report.cell_text(row, "observed_2020") == "1,000†"
    assert report.cell_text(row, "observed_source", "en") == "Haidong plan, another definition"
    notes = report.source_notes(table, "en")
    assert any(n.startswith("† S&T innovative talent: 1,000: Haidong's plan counts a broader group") for n in notes)
    assert report.cell_text(row_of(table, "platforms"), "observed_2020") == "12*"  # restated, in the model's definition
    assert report.cell_text(row_of(table, "hte_count"), "observed_2020") == "9"
    text = summary_report(result.indicators, wide=False, width=100)
    assert re.search(r"科技创新型人才 +1,000†", text) and "broader group" in " ".join(text.split())


def test_assumed_macro_values_are_not_observed_and_charts_draw_them_apart(result, monkeypatch):
    """macro.toml's assumptions (the enterprise counts; the 2015 split of R&D between firms and public bodies) are no
    observed value: not in observed_points (so in no table's observed column, with no source), drawn as hollow squares
    labelled assumed; the values derived from statistics (2020 business R&D) stay observed."""
    enterprises = data.observed("enterprises")
    assert observed_points("enterprises") == {} and observed_source("enterprises") is None
    assert assumed_points("enterprises") == enterprises and set(enterprises) == {2015, 2020}
    assert assumed_points("business_rd") == {2015: data.observed("business_rd")[2015]}
    assert observed_points("business_rd") == {2020: data.observed("business_rd")[2020]}
    assert set(assumed_points("public_rd")) == {2015} and set(observed_points("public_rd")) == {2020}
    assert assumed_points("gdp") == {} and assumed_points("rd_intensity") == {}
    assert row_of(summary_table(result.indicators), "business_rd")["observed_2020"] == data.observed("business_rd")[2020]

    def squares(ax):
        return {line.get_label(): list(zip(line.get_xdata(), line.get_ydata())) for line in ax.lines
                if line.get_marker() == "s" and line.get_markerfacecolor() == "none"}

    words = charts.LEGEND["assumed"]
    ax = charts.indicator_figure(result.indicators, "enterprises").axes[0]
    assert observed_marks(ax) == {} and squares(ax) == {f"{words} 2015, 2020": list(enterprises.items())}
    assert all("实际值" not in t.get_text() for t in ax.get_legend().get_texts())
    ax = charts.indicator_figure(result.indicators, "business_rd").axes[0]
    assert observed_marks(ax) == {"实际值 observed 2020": [(2020, data.observed("business_rd")[2020])]}
    assert squares(ax) == {f"{words} 2015": [(2015, data.observed("business_rd")[2015])]}
    # the data's own list: a year marked assumed is left out of the observed points and drawn apart
    macro = data.load("macro")
    patched = {**macro, "gdp": {**macro["gdp"], "assumed": [2018]}}
    load = data.load
    monkeypatch.setattr(data, "load", lambda name: patched if name == "macro" else load(name))
    assert assumed_years("gdp") == {2018} and assumed_years("enterprises") == {2015, 2020}
    assert 2018 not in observed_points("gdp") and assumed_points("gdp") == {2018: 2748.0}


def test_every_macro_assumption_is_listed_as_assumed():
    """A macro.toml series whose source calls a value an assumption lists its year in ``assumed`` (every year when
    the source begins with "assumption", else the years of its "YYYY: assumption" clauses), and only those."""
    for series, entry in data.load("macro").items():
        if not isinstance(entry, dict) or "source" not in entry:
            continue
        source, years = entry["source"], set(entry.get("values", {}))
        said = ({int(y) for y in years} if source.startswith("assumption")
                else {int(y) for y in re.findall(r"(?:^|;\s*)(\d{4}):\s*assumption", source)})
        assert assumed_years(series) == said, series


def test_prefecture_charts_mark_the_observed_values_with_a_bilingual_legend_entry(result, tmp_path):
    ax = charts.indicator_figure(result.indicators, "rd_intensity", "haidong").axes[0]
    assert observed_marks(ax) == {"实际值 observed 2020": [(2020, 0.09)]}
    assert "实际值 observed 2020" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert "0.15 (2025)" in [t.get_text() for t in ax.texts]  # the plan target beside it
    province = charts.indicator_figure(result.indicators, "rd_intensity").axes[0]
    assert list(observed_marks(province)) == ["实际值 observed 2015–2020"]  # the same marker and words
    overview = charts.overview_figure(result.indicators, "haidong")
    titles = {ax.get_title().split("\n")[1]: ax for ax in overview.axes}
    spec = data.load("indicators")
    for key in ("valid_invention_patents", "science_literacy"):  # observed in Haidong, no plan target
        assert observed_marks(titles[spec[key]["en"]]) == {"实际值 observed 2020": [(2020, observed_points(
            key, "haidong")[2020])]}
    assert "实际值 observed" in [t.get_text() for t in overview.legends[0].get_texts()]
    written = charts.indicator_charts(result.indicators, tmp_path, region="haidong", only_targeted=True)
    assert {"haidong_valid_invention_patents.png", "haidong_science_literacy.png",
            "haidong_st_talent.png"} <= {p.name for p in written}


def test_charts_mark_a_restated_target_and_draw_one_not_judged_hollow(result_2035):
    """The charts drew Haixi's >=170 platforms (another definition: the tables do not judge it) as a plain star that
    read as missed by ~70 in 2027, and Haidong's 17 (the plan prints 15) without the tables' mark."""
    from qhsim.output.numbers import format_number
    from qhsim.output.report import OTHER_DEFINITION_MARK, RESTATED_MARK

    targets = load_targets()
    stars = {}
    for region in ("haidong", "haixi"):
        ax = charts.indicator_figure(result_2035.indicators, "platforms", region).axes[0]
        star = [line for line in ax.lines if line.get_marker() == "*"]
        assert len(star) == 1
        stars[region] = (star[0], [t.get_text() for t in ax.texts], [t.get_text() for t in ax.get_legend().get_texts()])
    row = targets[(targets["region"] == "haidong") & (targets["indicator"] == "platforms")].iloc[0]
    line, texts, legend = stars["haidong"]
    plan = format_number(row["plan_value"])
    assert f"{format_number(row['value'])}{RESTATED_MARK} ({row['year']})" in texts
    assert line.get_markerfacecolor() != "none" and any(f"*规划印{plan} the plan prints {plan}" in t for t in legend)
    row = targets[(targets["region"] == "haixi") & (targets["indicator"] == "platforms")].iloc[0]
    line, texts, legend = stars["haixi"]
    assert any(t.endswith(f"{OTHER_DEFINITION_MARK} ({row['year']})") for t in texts)
    assert line.get_markerfacecolor() == "none" and any("not comparable, not judged" in t for t in legend)
    overview = charts.overview_figure(result_2035.indicators, "haixi")  # the mark explained in the shared legend
    assert charts.LEGEND["incomparable"] in [t.get_text() for t in overview.legends[0].get_texts()]


def test_exit_rate_chart_shows_the_evidence_range_it_is_checked_against(result):
    """The R&D exit rate, checked but not fitted, is drawn over the evidence's 10-25% band, in the output charts
    and in the dashboard's (in its language); a fitted indicator gets no band."""
    from matplotlib.patches import Rectangle

    from qhsim.dashboard import figures

    def bands(ax, words):
        return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_label().startswith(words)]

    for ax, words in ((charts.indicator_figure(result.indicators, "rd_exit_rate").axes[0], charts.LEGEND["evidence"]),
                      (figures.indicator_figure(result.indicators, "rd_exit_rate", lang="zh").axes[0], "实证范围"),
                      (figures.indicator_figure(result.indicators, "rd_exit_rate", lang="en").axes[0], "evidence range")):
        (band,) = bands(ax, words)
        corners = band.get_path().transformed(band.get_patch_transform()).vertices[:, 1]
        assert (corners.min(), corners.max()) == pytest.approx((10.0, 25.0))
        assert f"{words} 10–25%" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert not bands(charts.indicator_figure(result.indicators, "rd_intensity").axes[0], charts.LEGEND["evidence"])


def test_indicator_charts_one_png_per_indicator_with_data(result, tmp_path):
    frame = result.indicators[["year", "region", "gdp", "rd_intensity", "rd_personnel_per_10k", "hte_count"]]
    frame = frame.assign(rd_personnel_per_10k=np.nan)  # an indicator without data gets no chart
    written = charts.indicator_charts(frame, tmp_path / "charts")
    keys = ("overview", "rd_intensity", "hte_count", "gdp")  # the overview holds the targeted indicators
    assert written == [tmp_path / "charts" / f"{key}.png" for key in keys]
    assert all(p.read_bytes()[:8] == PNG for p in written)

    ensemble = pd.concat([frame.assign(draw=d) for d in range(3)])
    haixi = charts.indicator_charts(ensemble, tmp_path / "haixi", region="haixi")
    assert [p.name for p in haixi] == ["haixi_overview.png", "haixi_rd_intensity.png", "haixi_hte_count.png",
                                       "haixi_gdp.png"]
    targeted = charts.indicator_charts(ensemble, tmp_path / "haixi", region="haixi", only_targeted=True)
    assert [p.name for p in targeted] == ["haixi_overview.png", "haixi_rd_intensity.png"]  # Haixi's 2027 target


def test_chinese_labels_kept_with_a_cjk_font_dropped_without(monkeypatch):
    label = "研发投入强度\nR&D expenditure / GDP (%) | 海西州 Haixi"
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert charts.readable(label) == "R&D expenditure / GDP (%) | Haixi"
    assert charts.readable("90%区间 90% band") == "90% band"
    monkeypatch.setattr(charts, "cjk_font", lambda: "Noto Sans CJK SC")
    assert charts.readable(label) == label


def test_missing_glyph_warnings_do_not_escape(result, tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: "DejaVu Sans")  # claims CJK, has no Chinese glyphs
    overview, png = charts.indicator_charts(result.indicators[["year", "region", "hte_count"]], tmp_path)
    assert png.read_bytes()[:8] == PNG and overview.name == "overview.png"


# --- run folders -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(result, tmp_path_factory):
    return store.write_run(result, tmp_path_factory.mktemp("runs") / "baseline")


@pytest.fixture
def one_chart(monkeypatch):
    """Charts of R&D intensity only: enough for tests about folders, and fast."""
    def rd_chart(table, out_dir, region="province", only_targeted=False):
        return charts.indicator_charts(table[["year", "region", "rd_intensity"]], out_dir, region, only_targeted)

    monkeypatch.setattr(store, "indicator_charts", rd_chart)


def test_write_run_read_run_round_trip(result, run_dir):
    for name in ("indicators.csv", "indicators.parquet", "summary.txt", "manifest.json"):
        assert (run_dir / name).is_file()
    assert (run_dir / "indicators.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    frame = result.indicators
    province = frame[frame["region"] == "province"]
    with_data = {k for k in data.load("indicators") if k in frame and province[k].notna().any()}
    targets = load_targets()
    own = {f"{t.region}_{t.indicator}" for t in targets[targets["region"] != "province"].itertuples()}
    own |= {f"{region}_{key}" for region in data.prefecture_ids() for key in observed_indicators(region)
            if key in with_data}
    overviews = {"overview", "haidong_overview", "haixi_overview"}
    assert {p.stem for p in (run_dir / "charts").glob("*.png")} == with_data | own | overviews

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == result.seed and manifest["scenario"] == result.scenario
    assert manifest["data_fingerprints"] == data.fingerprints()
    assert {"qhsim", "python", "numpy", "mesa"} <= set(manifest["versions"])
    assert manifest["kind"] == "run"
    tables = {"indicators.csv", "indicators.parquet", "summary.txt", "report.xlsx", "report.html"}
    assert {f"charts/{k}.png" for k in with_data | own | overviews} | tables == set(manifest["files"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((run_dir / name).read_bytes()).hexdigest() == digest

    back = store.read_run(run_dir)
    pd.testing.assert_frame_equal(back.indicators, result.indicators)
    assert (back.seed, back.scenario, back.scenario_name) == (result.seed, result.scenario, result.scenario_name)
    assert back.run_seconds == result.run_seconds and back.meta == result.meta
    csv = pd.read_csv(run_dir / "indicators.csv", encoding="utf-8-sig", dtype=str)
    assert list(csv.columns[:3]) == ["年份 year", "地区 region", "地区名称 region name"]
    assert list(csv.columns[3:]) == [report.indicator_label(k) for k in result.indicators.columns[2:]]
    assert "研发投入强度 R&D expenditure / GDP (%)" in csv.columns
    names = dict(zip(csv["地区 region"], csv["地区名称 region name"]))
    assert names["province"] == "青海省 Qinghai Province" and names["xining"] == "西宁市 Xining"
    text = (run_dir / "indicators.csv").read_text(encoding="utf-8-sig")
    assert not re.search(r"\.\d*(9{6,}|0{6,})[1-9]", text)  # rounded: no 2999.9999999999995
    # counts whole at scale 0.05 (each simulated firm stands for 20): written as integers, money with its decimals
    for key in ("enterprises", "hte_count", "rd_personnel"):
        values = csv[report.indicator_label(key)].dropna()
        assert len(values) and all(re.fullmatch(r"-?\d+", v) for v in values), key
    assert csv[report.indicator_label("gdp")].str.contains(r"\.").any()


def test_csv_writes_a_count_as_integers_only_where_every_value_is_whole():
    counts = store.csv_values(pd.Series([75000.0, np.nan, 103.0000000001]), "enterprises")
    assert str(counts.dtype) == "Int64" and list(counts.astype(object)) == [75000, pd.NA, 103]
    scaled = store.csv_values(pd.Series([233.33333333, 1.0]), "hte_count")  # a count scaled up at scale 0.3
    assert list(scaled) == [233.333, 1.0] and scaled.dtype == float
    assert store.csv_values(pd.Series([2011.0, 2258.0]), "gdp").dtype == float  # money keeps its decimals


def test_summary_text_is_written_with_both_languages(run_dir):
    text = (run_dir / "summary.txt").read_text(encoding="utf-8")
    assert text.startswith("情景 baseline / scenario baseline | 规模 0.05 / scale 0.05 | 随机种子 20151231 / seed 20151231") and "研发投入强度 R&D expenditure / GDP (%)" in text
    assert report.region_label("haidong") in text


def test_write_run_replaces_a_previous_run_and_refuses_other_folders(result, tmp_path, one_chart):
    out = tmp_path / "run"
    store.write_run(result, out)
    (out / "stale.txt").write_text("from an older run")
    store.write_run(result, out)
    assert not (out / "stale.txt").exists() and (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]

    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "draft.md").write_text("keep me")
    with pytest.raises(InputError, match="not a qhsim results folder"):
        store.write_run(result, precious)
    assert (precious / "draft.md").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "run"]


def test_write_run_is_atomic_when_chart_writing_fails(result, tmp_path, monkeypatch, one_chart):
    previous = store.write_run(result, tmp_path / "kept")
    before = (previous / "manifest.json").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "indicator_charts", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        store.write_run(result, tmp_path / "fresh")
    with pytest.raises(RuntimeError, match="disk full"):
        store.write_run(result, previous)
    assert (previous / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # no "fresh", no temporary folders


def test_read_run_rejects_a_modified_table(result, run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "copy")
    result.indicators.head(3).to_parquet(copy / "indicators.parquet")
    with pytest.raises(InputError, match="does not match the sha256"):
        store.read_run(copy)
    with pytest.raises(InputError, match="not a readable run manifest"):
        store.read_run(tmp_path / "nowhere")


def test_a_gap_that_rounds_to_zero_keeps_its_sign_when_the_target_is_missed(result):
    """10.00 against a target of 10.00 marked "not met" reads as a contradiction: the gap shows the digits that
    carry its sign (the literacy indicator has 2 decimals; a growth gap 1 decimal of a percentage point)."""
    from qhsim.output.numbers import format_nonzero

    assert format_nonzero(-0.0024, 2, signed=True) == "-0.002" and format_nonzero(0.3, 2, signed=True) == "+0.30"
    assert format_nonzero(0.0, 2, signed=True) == "0.00" and format_nonzero(-1e-9, 0, signed=True) == "0.000"
    row = row_of(summary_table(result.indicators, "haixi"), "science_literacy").copy()
    row["gap"] = -0.0024
    assert report.cell_text(row, "gap") == "-0.002"
    row["gap"] = 0.31
    assert report.cell_text(row, "gap") == "+0.31"
    growth = row_of(summary_table(result.indicators, "haixi"), "tech_contract_turnover").copy()
    assert growth["target_kind"] == "growth"
    growth["gap"] = -0.0003  # share per year
    assert report.cell_text(growth, "gap") == "-0.03pp"


def test_reduced_scale_note_names_the_small_prefectures():
    """Below scale 1 the outputs warn that the small prefectures (under 10% of the province's enterprises) swing from
    seed to seed; at scale 1 there is nothing to say."""
    assert reduced_scale_note(1.0) is None and reduced_scale_note(None) is None
    en = reduced_scale_note(0.25, "en")
    assert en.startswith("At scale 0.25 each simulated firm stands for about 4 firms")
    small = en.split(" have few firms")[0]
    assert small.endswith("Hainan, Haibei, Huangnan, Golog, Yushu") and "Haixi" not in small and "Xining" not in en
    assert "玉树州" in reduced_scale_note(0.1, "zh") and "约10家企业" in reduced_scale_note(0.1, "zh")
    # Haidong is fitted at scale 1 and reads high below it (a sweep at 0.25 had every design reach its 2025 target)
    assert "Haidong is fitted to its observed 2020 values at scale 1" in en and "海东市的2020年值按规模1校准" in \
        reduced_scale_note(0.25, "zh")
    # and so does Haixi, whose 2027 targets a reduced scale would judge met too easily (measured, baseline seeds 1-8)
    assert "so does Haixi's" in en and "海西州同样偏高" in reduced_scale_note(0.25, "zh")
    # below 0.25 the province's own figures swing too
    assert "province's figures swing too" not in en and "province's figures swing too" in reduced_scale_note(0.1, "en")
    assert "全省数值也随种子波动" in reduced_scale_note(0.1, "zh")


def test_a_run_between_milestones_shows_its_last_year():
    """A run that ends between the milestone years (2020/2025/2027/2035) shows its last year, in the summary
    table, the terminal and the workbook, rather than empty 2025-2035 columns."""
    ended = run(SCENARIOS / "baseline.toml", scale=0.05, end_year=2023).indicators
    table = summary_table(ended)
    assert [c for c in table.columns if c.startswith("sim_") and c[4:].isdigit()] == ["sim_2020", "sim_2023"]
    assert table["sim_2023"].notna().all()
    text = summary_report(ended, lang="en", wide=False, width=100)
    assert "sim 2023" in text and "sim 2035" not in text
    assert "2035 reference paths" not in text  # not an empty table: the workbook and HTML leave it out too


def test_wrap_keeps_a_notes_mark_with_the_words_it_marks(result_2035):
    """A note below a table begins with the mark of the value it explains ("† 科技创新型人才：..."): in Chinese, whose
    words have no spaces, the mark stayed alone on its line; it goes with the words after it."""
    note = "† 科技创新型人才：1,000：海东规划的科技创新型人才口径更宽（含科技特派员、“三区”人才与本地培训人才）"
    lines = report.wrap(note, 40)
    assert lines[0].startswith("† 科技创新型人才") and all(report.display_width(line) <= 40 for line in lines)
    assert "".join(lines).replace(" ", "") == note.replace(" ", "")
    assert report.wrap("* ab cd", 4) == ["* ab", "cd"] and report.wrap("a * b", 3) == ["a", "* b"]
    for lang in ("zh", "both", "en"):
        text = summary_report(result_2035.indicators, lang=lang, wide=False, width=100)
        assert not [line for line in text.splitlines() if line.strip() in ("*", "†")], lang
        assert re.search(r"^† 科技创新型人才", text, re.M) if lang != "en" else re.search(r"^† S&T innovative", text, re.M)


def test_wrap_keeps_a_comparisons_short_mark_with_its_note():
    """``qhsim compare --region haixi`` printed "—²" alone on a line above its note ("“— 不稳定 unstable”：额外成本...",
    a Chinese word wider than the line): the short mark (``qhsim.experiments.report.SHORT_MARKS``) goes with it."""
    from qhsim.experiments.report import SHORT_MARKS, short_mark_notes

    for mark in SHORT_MARKS.values():
        note = short_mark_notes({mark})
        assert note.startswith(f"{mark} “")
        lines = report.wrap(note, 100)
        assert lines[0].startswith(f"{mark} “") and all(report.display_width(line) <= 100 for line in lines), lines
        assert "".join(lines).replace(" ", "") == note.replace(" ", "")


def test_wrap_keeps_a_short_quoted_mark_on_one_line():
    """The notes below the comparison tables begin with the mark they explain, in Chinese quotes: it is not split
    between lines ("“组合 combined: 见合计 see" / "total”"), and its spaces come back as spaces."""
    from qhsim.results import COMBINED_CELL

    text = f"一二三四五六七八九十 “{COMBINED_CELL}”：方案同时改动几个工具"
    lines = report.wrap(text, 40)
    assert any(f"“{COMBINED_CELL}”" in line for line in lines), lines
    assert all(report.display_width(line) <= 40 and "\u00a0" not in line for line in lines)
    assert " ".join(report.wrap("a “b c” d", 3)) == "a “b c” d"  # wider than the line: one piece of its own


@pytest.mark.parametrize("names", [[""], [f"p{i}: grant_budget={i}0,000; super_deduction=1.{i}" for i in range(8)]])
def test_overview_legend_fits_the_figure_below_the_panels(result, names):
    """The overview's legend of a sweep's eight designs ran off both sides of the figure (five columns of long
    names): it wraps into as many rows as it needs, inside the figure and below the panels' year labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = charts.overview_figure({name: result.indicators for name in names})
    with charts.chart_style():
        FigureCanvasAgg(fig).draw()
        renderer = fig.canvas.get_renderer()
        (legend,) = fig.legends
        box, frame = legend.get_window_extent(renderer), fig.bbox
        lowest = min(ax.get_tightbbox(renderer).y0 for ax in fig.axes)
        shown = [t.get_text() for t in legend.get_texts()]
        columns, rows = charts.legend_shape(shown, fig.get_size_inches()[0])
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
    assert box.y1 <= lowest
    assert all(any(t.startswith(n) for t in shown) for n in names if n)
    assert columns * rows >= len(shown) and (len(names) == 1 or rows > 1)


# --- one rounding rule, changes in percentage points, chart labels ---------------------------------------------------

def test_every_output_rounds_half_away_from_zero_as_excel_shows_a_cell():
    """The median of 8 runs, 382.5, printed 382 on the terminal (Python rounds half to even) and 383 in the workbook
    (Excel rounds half away from zero); a gap of 122.5 printed +122, a P(met) of 5 runs in 8 62%: one rule now, on the
    number's 15 significant digits as Excel reads it."""
    from qhsim.output.numbers import format_fixed, format_nonzero, format_percent, format_value, rounded, significant

    assert format_value(382.5, "hte_count") == "383" and format_value(-382.5, "hte_count") == "-383"
    assert format_fixed(122.5, 0, signed=True) == "+123" and format_nonzero(0.5, 0, signed=True) == "+1"
    assert format_fixed(0.125, 2) == "0.13" and format_fixed(2.675, 2) == "2.68"  # 2.675 is 2.67499... in binary
    assert format_fixed(1234567.125, 2, signed=True) == "+1,234,567.13" and format_fixed(-0.004, 2, True) == "0.00"
    assert format_percent(0.625) == "63%" and format_percent(0.125) == "13%" and format_percent(1.0) == "100%"
    assert significant(0.012345) == "+0.0123" and str(rounded(17.5, 0)) == "18"
    assert f"{382.5:.0f}" == "382"  # what the outputs printed before


def test_changes_carry_the_decimals_that_show_them_and_percentage_points():
    """A change of the R&D intensity of 0.0025 percentage points read "0.00" by year and "+0.003" over the window: a
    row's changes now share the decimals that show its largest, and a change of an indicator in % is in pp."""
    from qhsim.output.numbers import PERCENTAGE_POINTS, change_digits, change_unit

    assert change_digits("rd_intensity", [0.0, 0.03, 0.037]) == 3  # one more than the level's 2
    assert change_digits("rd_intensity", [0.0, 0.0021, 0.0025]) == 4  # two significant digits
    assert change_digits("rd_intensity", [1e-7]) == 5  # at most two more
    assert change_digits("hte_count", [0, 2, 7, 13, 7.3]) == 1 and change_digits("hte_count", []) == 1
    assert change_unit("rd_intensity") == PERCENTAGE_POINTS and change_unit("rd_intensity", "en") == "pp"
    assert change_unit("hte_count") == "家 firms" and change_unit("business_rd", "zh") == "亿元"


def test_workbook_number_formats_show_what_the_text_shows():
    """A gap's sign and a change's decimals: the workbook's formats say what format_fixed writes (an unsigned zero
    where the value rounds to zero, which Excel would print "-0.00")."""
    from qhsim.output.numbers import cell_format, excel_format, excel_number_format

    assert excel_format("hte_count") == "#,##0" and excel_format("rd_intensity", signed=True) == (
        "+#,##0.00;-#,##0.00;#,##0.00")
    assert cell_format(-0.001, 2, True) == "#,##0.00;#,##0.00;#,##0.00" and cell_format(0.5, 0, True) == (
        "+#,##0;-#,##0;#,##0")
    assert cell_format(7.04, 1, True, "pp") == '+#,##0.0"pp";-#,##0.0"pp";#,##0.0"pp"'
    assert cell_format(123.4) == "#,##0.0" and cell_format("— 不稳定 unstable") == excel_number_format(2)


def test_seed_runs_are_not_called_an_ensemble_and_times_are_beijing_time(result):
    """A run of 8 seeds on the calibrated point was labelled "集合预测 ensemble (parameter draws × seeds)", and the
    reports gave UTC times to analysts in Beijing."""
    from qhsim.output import tidy

    runs = tidy.from_run(result)
    seeds = SimpleNamespace(kind="ensemble", meta={"seeds": [1, 2, 3]}, n_draws=lambda: 3,
                            long=runs.long.assign(param_draw=0))
    assert tidy.kind_label(seeds).startswith("3个随机种子，校准点估计") and "no parameter draws" in tidy.kind_label(seeds)
    drawn = SimpleNamespace(**{**vars(seeds), "long": runs.long.assign(param_draw=runs.long["draw"] % 2 + 1)})
    assert tidy.kind_label(drawn).startswith("集合预测：") and "parameter draws × 3 seeds" in tidy.kind_label(drawn)
    assert tidy.beijing_time("2026-12-05T16:51:06+00:00") == "2026-12-06 00:51:06 北京时间 Beijing time (UTC+8)"
    assert tidy.beijing_time("2026-12-05T16:51:06") == "2026-12-06 00:51:06 北京时间 Beijing time (UTC+8)"  # UTC
    assert tidy.beijing_time("not a time") == "not a time"


def test_target_labels_sit_clear_of_the_lines(result_2035):
    """"30.00 (2025)" sat on the 2035 reference path beside its star: each label now goes where it crosses the fewest
    lines, and reads "≥20.00" for a floor, as the tables write it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for key in ("rd_personnel_per_10k", "tech_contract_turnover", "rd_intensity", "hte_count"):
        fig = charts.indicator_figure(result_2035.indicators, key)
        with charts.chart_style():
            FigureCanvasAgg(fig).draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        labels = [t for t in ax.texts if "(2025)" in t.get_text()]
        assert labels, key
        for text in labels:
            box = text.get_window_extent(renderer)
            for line in ax.get_lines():
                xy = line.get_xydata()
                if line.get_marker() == "*" or len(xy) < 2:
                    continue
                fine = np.linspace(0, len(xy) - 1, 20 * (len(xy) - 1) + 1)
                path = np.column_stack([np.interp(fine, np.arange(len(xy)), xy[:, i]) for i in (0, 1)])
                shown = ax.transData.transform(path[np.isfinite(path).all(axis=1)])
                assert not box.count_contains(shown), (key, text.get_text(), line.get_label())
    fig = charts.indicator_figure(result_2035.indicators, "tech_contract_turnover")
    assert any(t.get_text().startswith("≥20.00") for t in fig.axes[0].texts)


def test_comparison_charts_tell_the_designs_apart(result):
    """The base hid under a near-identical design's line and the 90% bands blended into brown: the base is drawn
    black and dashed on top, each design in its own colour, line style and marker, and only the base's band."""
    frames = {"base": result.indicators, "same": result.indicators.copy(), "again": result.indicators.copy()}
    ax = charts.indicator_figure(frames, "rd_intensity").axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    base = next(line for label, line in lines.items() if label.startswith("base"))
    others = [lines["same"], lines["again"]]
    assert base.get_linestyle() == "--" and base.get_zorder() > max(line.get_zorder() for line in others)
    assert len({(line.get_color(), line.get_linestyle(), line.get_marker()) for line in [base, *others]}) == 3
    assert all(line.get_marker() not in ("None", None, "") for line in others)
