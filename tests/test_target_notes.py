"""Prefecture targets told honestly (qhsim/data/targets.toml, qhsim.output.report.target_notes): a target restated in
the model's definition ("*"), one on another definition that is shown but not judged ("†"), the caveats a verdict rests
on ("‡", with the value and range of the data's assumption), a P(met) whose runs are all alike ("§"), and the plan
targets the model does not have (未建模 not modelled) under each prefecture's targets, in every output that lists them."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import SCENARIOS
from qhsim import data
from qhsim.calibrated import target_rows
from qhsim.errors import InputError
from qhsim.output import report
from qhsim.output.report import (ASSUMPTION_MARK, DETERMINISTIC_MARK, NOT_COMPARABLE, cell_text, plan_target_notes,
                                 summary_report, summary_table)
from qhsim.output.store import write_run
from qhsim.runner import run
from qhsim.targets import (deterministic_verdict, load_caveats, load_not_modelled, load_targets, meets, target_met,
                           validate_target)
from test_output import hand_frame as frame  # an indicators frame of province and Haixi rows

@pytest.fixture(scope="module")
def result():
    return run(SCENARIOS / "baseline.toml", scale=0.05)


def target(region: str, key: str) -> pd.Series:
    targets = load_targets()
    (index,) = np.flatnonzero((targets["region"] == region) & (targets["indicator"] == key))
    return targets.iloc[index]


# --- the data ---------------------------------------------------------------------------------------------


def test_haidongs_platform_target_is_restated_as_its_base_is():
    """The calibration re-counts Haidong's 2020 platforms in the model's definition (the plan's 10 -> 12); its 2025
    target moves by the same amount (the plan's 15 -> 17), and the note shows the arithmetic."""
    t = target("haidong", "platforms")
    printed_base = data.load("indicators")["platforms"]["prefecture_2020"]["haidong"]["value"]
    (restated_base,) = [r["value"] for r in target_rows() if r.get("id") == "haidong_platforms_2020"]
    assert t["plan_value"] == 15
    assert t["value"] - t["plan_value"] == restated_base - printed_base
    assert f"{t['value']:g} = {restated_base:g}" in t["note_en"] and f"{t['value']:g} = {restated_base:g}" in t["note_zh"]


def test_a_target_on_another_definition_is_never_judged():
    platforms = target("haixi", "platforms")
    assert not platforms["comparable"]
    assert meets(1000.0, platforms) is None and target_met(pd.Series({2027: 1000.0}), platforms) is None
    assert meets(1000.0, target("haixi", "rd_intensity")) is True  # the others are judged as before


def test_a_deterministic_verdict_needs_several_alike_runs_on_a_judged_target():
    """``deterministic_verdict``, the one rule for § in ``qhsim run``'s tables and a comparison's (targets.csv): several
    runs, every one the same value, on a target that is judged; not one run, not runs that differ, not a missing value,
    not a target on another definition."""
    literacy, platforms = target("haixi", "science_literacy"), target("haixi", "platforms")
    assert deterministic_verdict([9.79, 9.79, 9.79], literacy) is True
    assert not deterministic_verdict([9.79], literacy) and not deterministic_verdict([9.79, 9.8], literacy)
    assert not deterministic_verdict([math.nan, math.nan], literacy)
    assert not deterministic_verdict([45.0, 45.0], platforms)


def test_caveats_and_unmodelled_targets_are_in_the_data_with_their_sources():
    caveats = load_caveats()
    assert set(target("haixi", "rd_intensity")["caveats"]) == set(target("haixi", "share_firms_with_rd")["caveats"])
    assert "qhsim run" in caveats["two_zeroings"]["source"]  # the measurement behind the figure without the campaign
    assert {t for t in target("haixi", "tech_contract_turnover")["caveats"]} == {"haixi_base_year"}
    unmodelled = load_not_modelled()
    assert {r["region"] for r in unmodelled} == {"haidong", "haixi"}
    assert all(re.search(r"seed 00[24]:L\d+", r["source"]) for r in unmodelled)
    targeted = {(t.region, t.indicator) for t in load_targets().itertuples()}
    assert not {(r["region"], r["en"]) for r in unmodelled} & targeted


@pytest.mark.parametrize(("change", "key"), [
    ({"plan_value": 15}, "note_zh"),  # a restated target explains itself
    ({"comparable": "no"}, "comparable"),
    ({"note_zh": "x", "note_en": "x"}, "note_zh"),  # a note without a restatement or another definition
    ({"caveats": ["nonexistent"]}, "caveats"),
])
def test_the_optional_keys_are_checked_with_one_line_naming_the_key(change, key):
    row = {"indicator": "platforms", "region": "haixi", "year": 2027, "kind": "level", "value": 170.0,
           "unit": "platforms", "source": "seed 004:L28", **change}
    with pytest.raises(InputError) as err:
        validate_target(row, 4)
    assert "\n" not in str(err.value) and f"target[4].{key} = " in str(err.value) and "allowed" in str(err.value)


def test_a_bad_caveat_or_unmodelled_row_is_one_line_naming_it(monkeypatch):
    real = data.load("targets")
    bad = {**real, "caveat": {**real["caveat"], "x": {"zh": "a", "en": "b{parameter}", "source": "s"}}}
    monkeypatch.setattr(data, "load", lambda name, _real=data.load: bad if name == "targets" else _real(name))
    with pytest.raises(InputError, match=r"targets\.toml: caveat\.x\.en = 'b\{parameter\}': allowed"):
        load_caveats()
    bad = {**real, "not_modelled": [{**real["not_modelled"][0], "region": "lhasa"}]}
    with pytest.raises(InputError, match=r"not_modelled\[0\]\.region = 'lhasa': allowed province, "):
        load_not_modelled()


# --- the tables and their notes ---------------------------------------------------------------------------


def test_the_platform_target_on_another_definition_shows_no_verdict():
    runs = frame({d: {"haixi:platforms": {2024: 45.0, 2027: 100.0 + d}} for d in range(3)})
    row = summary_table(runs, "haixi").set_index("indicator").loc["platforms"]
    assert row["met"] == NOT_COMPARABLE and math.isnan(row["gap"]) and math.isnan(row["p_met"])
    assert cell_text(row, "target", "en") == "≥170† (2027)"
    assert cell_text(row, "met", "both") == NOT_COMPARABLE  # the HTML, the dashboard, a wide table
    assert cell_text(row, "met", "both", stacked=True) == "—"  # the terminal: the "†" note says it


def test_a_verdict_on_an_assumption_is_marked_and_the_note_gives_the_assumption():
    runs = frame({d: {"haixi:rd_intensity": {2024: 0.5, 2027: 0.8 + d / 10}} for d in range(3)})
    row = summary_table(runs, "haixi").set_index("indicator").loc["rd_intensity"]
    assert cell_text(row, "met", "zh") == f"是{ASSUMPTION_MARK}" and cell_text(row, "met", "en") == f"yes{ASSUMPTION_MARK}"
    assert cell_text(row, "met", "both", stacked=True) == f"是{ASSUMPTION_MARK}\nyes"
    effect = data.load("behaviour")["campaign_start_effect"]
    (note,) = [n for n in report.source_notes(summary_table(runs, "haixi"), "en") if "two-zeroings" in n]
    assert note.startswith(ASSUMPTION_MARK) and "without it" in note.lower()
    lo, hi = effect["range"]
    assert f"campaign_start_effect = {effect['value']:g}, an assumption, not fitted, range {lo:g}–{hi:g}" in note


def test_identical_runs_give_a_verdict_not_a_probability():
    """Haixi's literacy path is the same in every run (its level from an assumed factor): its P(met) is marked, and
    the notes name the factor with Haixi's value and range; a row whose runs differ is not marked."""
    runs = frame({d: {"haixi:science_literacy": {2027: 9.79}, "haixi:rd_intensity": {2024: 0.5, 2027: 0.6 + d / 10}}
                  for d in range(3)})
    table = summary_table(runs, "haixi")
    literacy, rd = (table.set_index("indicator").loc[k] for k in ("science_literacy", "rd_intensity"))
    assert cell_text(literacy, "p_met") == f"0%{DETERMINISTIC_MARK}" and cell_text(rd, "p_met") == "67%"
    notes = report.source_notes(table, "en")
    (alike,) = [n for n in notes if n.startswith(DETERMINISTIC_MARK)]
    assert "Haixi, Citizens with basic scientific literacy" in alike and "deterministic verdict" in alike
    factor = data.load("knowledge")["literacy_relative_2015"]
    haixi = factor["value"][data.prefecture_ids().index("haixi")]
    (assumed,) = [n for n in notes if "literacy_relative_2015" in n]
    assert f"literacy_relative_2015 = {haixi:g}" in assumed and f"×{factor['range'][0]:g}–{factor['range'][1]:g}" in assumed
    single = summary_table(frame({0: {"haixi:science_literacy": {2027: 9.79}}}), "haixi")
    assert not any(n.startswith(DETERMINISTIC_MARK) for n in report.source_notes(single))  # one run: no P(met)


def test_each_prefecture_lists_its_unmodelled_targets_and_the_comparison_only_those_it_shows():
    haidong = plan_target_notes([("haidong", "platforms", 2025)], "both")
    assert any("未建模" in n and "财政科技投入比重" in n and "seed 002:L499" in n and "binding" in n for n in haidong)
    assert any(n.startswith("* 海东市科技创新平台数目标17") and "the plan prints 15" in n for n in haidong)
    window = [("haixi", "rd_intensity", 2027), ("province", "rd_intensity", 2035)]  # a comparison from 2026 on
    notes = plan_target_notes(window, "en")
    assert any("Haixi, plan targets not modelled" in n for n in notes)
    assert not any("Haidong" in n for n in notes)
    assert plan_target_notes([("province", "rd_intensity", 2025)]) == []  # the province's targets need none


@pytest.mark.parametrize("lang", ["both", "zh", "en"])
def test_terminal_prefecture_sections_carry_their_notes_within_100_columns(result, lang):
    text = summary_report(result.indicators, lang=lang, wide=False, width=100)
    assert max(map(report.display_width, text.splitlines())) <= 100
    _, _, haidong, haixi = text.split("\n\n")[:4]
    unmodelled = {"both": "未建模", "zh": "未建模", "en": "not modelled"}[lang]
    for section, region in ((haidong, "haidong"), (haixi, "haixi")):
        words = re.sub(r"\s+", " ", section)
        assert unmodelled in section and all(r["source"].split(";")[0] in words
                                             for r in load_not_modelled() if r["region"] == region)
    assert "17*" in haidong and "≥170†" in haixi
    assert haixi.count(f"\n{ASSUMPTION_MARK} ") == len(load_caveats())  # each Haixi caveat once
    assert ("2024" in haixi.split(f"\n{ASSUMPTION_MARK} ")[2]) and ("campaign_start_effect" in haixi)


def test_workbook_and_html_list_the_notes_under_the_targets(result, tmp_path):
    folder = write_run(result, tmp_path / "baseline", charts=False)
    summary = load_workbook(folder / "report.xlsx")["摘要 Summary"]
    heads = [c.value for c in summary[1]]
    label, met = heads.index("指标\nindicator"), heads.index("达标\nmet")
    rows = [r for r in summary.iter_rows(values_only=True)]
    (platforms,) = [r for r in rows if r[0] == "海西州 Haixi" and str(r[label]).startswith("科技创新平台数")]
    assert platforms[met] == NOT_COMPARABLE
    notes = [r[label] for r in rows if r[0] is None and r[label]]
    assert any(n.startswith("† 海西州科技创新平台数目标≥170") for n in notes)
    assert any("两清零" in n and "campaign_start_effect" in n for n in notes)
    assert any("假设为2024年" in n for n in notes) and any("海东市未建模的规划目标" in n for n in notes)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "海西州未建模的规划目标" in html and "literacy_relative_2015" in html and "口径不同" in html
