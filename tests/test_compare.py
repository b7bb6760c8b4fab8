"""Comparing designs: paired intervals, common window, leverage, ranking, the command and its store."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from qhsim.errors import InputError
from qhsim.experiments.designs import design_from_file
from qhsim.experiments.comparison import (ComparisonResult, analyse, compare, leverage, lower_is_better, rank,
                                         rd_per_yuan)
from qhsim.experiments.report import (SHORT_MARKS, cost_effectiveness_chart, cost_effectiveness_figure,
                                      format_comparison, ranking_caveat, unsettled_pairs, write_comparison)
from qhsim.output.numbers import decimals, format_interval, format_percent, format_value, unit_of
from qhsim.output.report import band_caveat, display_width, format_number, persistence_note
from qhsim.results import PROVINCE, province_rows

from conftest import SCENARIOS


def runs_frame(values: dict[int, list[list[float]]], grants: dict[int, list[list[float]]]) -> pd.DataFrame:
    """Hand-made stacked runs: values[point][run] = business R&D per year 2024..; two runs (draw 0, seeds 1, 2)."""
    rows = []
    for point, per_run in values.items():
        for r, path in enumerate(per_run):
            for k, rd in enumerate(path):
                rows.append({"design": f"d{point}", "point": point, "draw": 0, "seed": r + 1, "year": 2024 + k,
                             "region": PROVINCE, "business_rd": rd, "spend_ex_ante_grants": grants[point][r][k],
                             "tax_expenditure_super_deduction": 0.0})
    return pd.DataFrame(rows)


def test_paired_changes_common_window_and_leverage_by_hand() -> None:
    runs = runs_frame(
        {0: [[10, 10, 10], [20, 20, 20]],          # base
         1: [[10, 11, 12], [20, 21, 22]],          # +1, +2 from 2025 in both runs
         2: [[10, 10, 14], [20, 20, 20]]},         # only 2026, only run 1
        {0: [[1e4] * 3, [1e4] * 3], 1: [[1e4, 2e4, 2e4], [1e4, 2e4, 2e4]], 2: [[1e4, 1e4, 3e4], [1e4, 1e4, 1e4]]},
    )
    tables = analyse(runs, "d0", ["d1", "d2"], years=(2025, 2026))
    assert tables["window"] == (2025, 2026)  # one window for every design: from the first year any design differs
    ch = tables["changes"].set_index(["design", "indicator", "period"])
    # a row per design x indicator x period, in that order: the years, then the window
    indicators = list(dict.fromkeys(ch.index.get_level_values("indicator")))
    assert "business_rd" in indicators and list(ch.index) == [
        (d, k, p) for d in ("d1", "d2") for k in indicators for p in ("2025", "2026", "window")]
    assert ch.at[("d1", "business_rd", "2026"), "mean"] == pytest.approx(2.0)
    assert ch.at[("d1", "business_rd", "window"), "mean"] == pytest.approx(1.5)  # mean of +1, +2
    assert ch.at[("d2", "business_rd", "2026"), "mean"] == pytest.approx(2.0)  # (4 + 0) / 2
    lev = tables["leverage"].set_index(["design", "instrument"])
    # d1: +3 亿 R&D per run for +2 亿 grants per run
    assert lev.at[("d1", "total"), "extra_rd"] == pytest.approx(3.0)
    assert lev.at[("d1", "total"), "extra_cost"] == pytest.approx(2.0)
    assert lev.at[("d1", "total"), "rd_per_yuan"] == pytest.approx(1.5)
    # d2: run 1 +4 亿 for +2 亿; run 2 nothing for nothing: ratio of means 2 / 1
    assert lev.at[("d2", "total"), "rd_per_yuan"] == pytest.approx(2.0)
    costs = tables["costs"].set_index(["design", "item"])
    assert costs.at[("d1", "spend_ex_ante_grants"), "mean"] == pytest.approx(2.0)
    assert costs.at[("d1", "tax_expenditure_super_deduction"), "mean"] == 0.0


def test_one_leverage_definition_for_compare_precision_and_responses() -> None:
    """``leverage`` of one pair (qhsim.precision, policy responses) gives what ``compare`` gives for that run;
    no R&D per yuan without extra cost."""
    runs = runs_frame({0: [[10, 10, 10], [20, 20, 20]], 1: [[10, 11, 12], [20, 20, 19]]},
                      {0: [[1e4] * 3, [1e4] * 3], 1: [[1e4, 2e4, 2e4], [1e4, 1e4, 1e4]]})
    pair = [runs[(runs.point == p) & (runs.seed == 1)] for p in (0, 1)]
    one = leverage(*pair)
    assert (one["first_year"], one["extra_business_rd"], one["extra_public_cost"]) == (2025, 3.0, 2.0)
    lev = analyse(runs[runs.seed == 1], "d0", ["d1"])["leverage"].set_index(["design", "instrument"])
    assert lev.at[("d1", "total"), "rd_per_yuan"] == one["leverage"] == 1.5
    assert math.isnan(leverage(*[runs[(runs.point == p) & (runs.seed == 2)] for p in (0, 1)])["leverage"])
    assert math.isnan(rd_per_yuan(1.0, -2.0)) and list(rd_per_yuan([3.0, 1.0], [2.0, 0.0]))[0] == 1.5


def test_rank_by_total_rd_per_yuan_counts_the_public_side() -> None:
    """d1 buys business R&D (+3 亿 for +2 亿), d2 only universities' and institutes' R&D (+4 亿 for +2 亿, as
    vouchers do): first by business R&D per yuan is d1, by total R&D per yuan d2; a metric compare cannot compute
    is refused before any run."""
    runs = runs_frame({0: [[10, 10, 10], [20, 20, 20]], 1: [[10, 11, 12], [20, 21, 22]], 2: [[10, 10, 10], [20, 20, 20]]},
                      {0: [[1e4] * 3, [1e4] * 3], 1: [[1e4, 2e4, 2e4], [1e4, 2e4, 2e4]], 2: [[1e4, 2e4, 2e4], [1e4, 2e4, 2e4]]})
    runs["public_rd"] = 5.0
    runs.loc[(runs.point == 2) & (runs.year >= 2025), "public_rd"] = 7.0
    business = analyse(runs, "d0", ["d1", "d2"])
    total = analyse(runs, "d0", ["d1", "d2"], rank_by="total_rd_per_yuan")
    assert business["ranking"]["design"].iloc[0] == "d1" and total["ranking"]["design"].iloc[0] == "d2"
    assert total["ranking"]["metric"].iloc[0] == "total_rd_per_yuan"
    assert total["ranking"].set_index("design").at["d2", "median"] == pytest.approx(2.0)
    with pytest.raises(InputError, match="--rank-by total_rd: allowed rd_per_yuan, total_rd_per_yuan or an indicator"):
        compare(SCENARIOS / "baseline.toml", [SCENARIOS / "vouchers_expanded.toml"], rank_by="total_rd")
    # an indicator key compare accepts, but without a province value in these runs: a message of its own
    with pytest.raises(InputError, match="--rank-by hte_count: this indicator has no province value"):
        analyse(runs.drop(columns=["hte_count"], errors="ignore"), "d0", ["d1", "d2"], rank_by="hte_count")


def total_rd_runs() -> pd.DataFrame:
    """Each design +2 亿 of grants per run from 2025. d1: business R&D +3 亿 in both runs, universities' and
    institutes' R&D +0 and +8 亿 (total +3, +11); d2: only universities' and institutes' R&D, +4 亿 in both."""
    runs = runs_frame({0: [[10, 10, 10], [20, 20, 20]], 1: [[10, 11, 12], [20, 21, 22]], 2: [[10, 10, 10], [20, 20, 20]]},
                      {0: [[1e4] * 3] * 2, 1: [[1e4, 2e4, 2e4]] * 2, 2: [[1e4, 2e4, 2e4]] * 2})
    runs["public_rd"] = 5.0
    runs.loc[(runs.point == 1) & (runs.seed == 2) & (runs.year >= 2025), "public_rd"] = 9.0
    runs.loc[(runs.point == 2) & (runs.year >= 2025), "public_rd"] = 7.0
    return runs


def test_extra_total_rd_with_its_interval_over_runs() -> None:
    """The extra total R&D (business + universities' and institutes') over the window: mean and 5%/95% of the per-run
    sums, the numerator of total R&D per public yuan."""
    lev = analyse(total_rd_runs(), "d0", ["d1", "d2"])["leverage"].set_index(["design", "instrument"])
    d1, d2 = lev.loc[("d1", "total")], lev.loc[("d2", "total")]
    assert d1["extra_total_rd"] == pytest.approx(7.0)  # (3 + 11) / 2
    assert (d1["extra_total_rd_p05"], d1["extra_total_rd_p95"]) == pytest.approx((3.4, 10.6))  # 3 + 0.05 x 8, 3 + 0.95 x 8
    assert d1["extra_total_rd"] == pytest.approx(d1["extra_rd"] + d1["extra_public_rd"])
    assert d1["total_rd_per_yuan"] == pytest.approx(d1["extra_total_rd"] / d1["extra_cost"]) == pytest.approx(3.5)
    assert (d2["extra_total_rd"], d2["extra_total_rd_p05"], d2["extra_total_rd_p95"]) == pytest.approx((4.0, 4.0, 4.0))
    assert d2["extra_rd"] == 0.0


def test_cost_effectiveness_chart_plots_total_rd_when_ranked_by_it(tmp_path: Path) -> None:
    """cost_effectiveness.png plots what the comparison was ranked by: extra total R&D (point and 90% interval) with
    total R&D per yuan in the legend when ranked by total R&D per public yuan; extra business R&D with business R&D
    per yuan otherwise, also for an indicator ranking."""
    runs = total_rd_runs()

    def drawn(rank_by: str):
        tables = analyse(runs, "d0", ["d1", "d2"], rank_by)
        res = ComparisonResult("d0", ["d1", "d2"], tables.pop("window"), tables.pop("years"), runs, **tables)
        ax = cost_effectiveness_figure(res).axes[0]
        points = []
        for c in ax.containers:  # one errorbar per design: the point, then x and y error bars
            (x, y), = c.lines[0].get_xydata()
            (_, lo), (_, hi) = c.lines[2][1].get_segments()[0]
            points += [x, y, lo, hi]
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        # each point marked with its design's number (comparison.txt's), in its colour
        assert [(t.get_text(), t.xy) for t in ax.texts] == [("1", (2.0, points[1])), ("2", (2.0, points[5]))]
        assert [t.get_color() for t in ax.texts] == [c.lines[0].get_color() for c in ax.containers]
        return res, " ".join(f"{ax.get_ylabel()} {ax.get_title()}".split()), points, legend  # labels may wrap

    res, text, points, legend = drawn("total_rd_per_yuan")
    lev = res.leverage[res.leverage["instrument"] == "total"].set_index("design")
    assert "Extra total R&D (business + universities and institutes)" in text and "total R&D" in text.split("vs")[0]
    # the province's, named: beside qhsim compare --region haidong's answer it read as Haidong's (1.69 against 2.00)
    assert "青海省 Qinghai Province vs d0" in text
    assert points == pytest.approx([2.0, 7.0, 3.4, 10.6, 2.0, 4.0, 4.0, 4.0])  # d1, d2: cost, R&D, 5%, 95%
    assert legend == [f"1 d1: {format_number(3.5)} yuan/yuan", f"2 d2: {format_number(2.0)} yuan/yuan",
                      "每元2元 2 yuan per yuan", "每元1元 1 yuan per yuan", "每元0.5元 0.5 yuan per yuan"]
    assert cost_effectiveness_chart(res, tmp_path / "total.png").stat().st_size > 0
    for rank_by in ("rd_per_yuan", "business_rd"):
        _, text, points, legend = drawn(rank_by)
        assert "Extra business R&D" in text and "total" not in text
        assert points == pytest.approx([2.0, 3.0, 3.0, 3.0, 2.0, 0.0, 0.0, 0.0])
        assert legend[0] == f"1 d1: {format_number(lev.at['d1', 'rd_per_yuan'])} yuan/yuan" == f"1 d1: {format_number(1.5)} yuan/yuan"


def test_cost_effectiveness_chart_asks_only_for_the_weight_the_shipped_font_has() -> None:
    """The shipped CJK subset is regular (400) only: a bold design number made matplotlib print "findfont: Failed to
    find font weight bold" at the top of the compare output."""
    from matplotlib.text import Text

    tables = analyse(total_rd_runs(), "d0", ["d1", "d2"])
    res = ComparisonResult("d0", ["d1", "d2"], tables.pop("window"), tables.pop("years"), total_rd_runs(), **tables)
    texts = cost_effectiveness_figure(res).findobj(Text)
    assert {t.get_text() for t in texts} >= {"1", "2"}  # the design numbers at the points
    assert {t.get_fontweight() for t in texts} <= {"normal", "regular", 400}


def test_weighted_runs_count_as_often_as_their_weight() -> None:
    """Runs of ``--draws`` carry the weight their parameter draw stands for (``Calibration.selection``): a run of
    weight 2/3 counts in every mean, probability and ranking as that run twice among three of weight 1/3 would,
    and equal weights give exactly the unweighted tables."""
    values = {0: [[10, 10, 10], [20, 20, 20]], 1: [[10, 11, 12], [20, 20, 21]], 2: [[10, 10, 14], [20, 20, 20]]}
    grants = {0: [[1e4] * 3, [1e4] * 3], 1: [[1e4, 2e4, 2e4], [1e4, 2e4, 2e4]], 2: [[1e4, 1e4, 3e4], [1e4, 1e4, 1e4]]}
    runs = runs_frame(values, grants)
    runs["rd_intensity"] = runs["seed"].map({1: 5.0, 2: 0.1})  # the 2025 target met in seed 1's runs only
    plain = analyse(runs, "d0", ["d1", "d2"], years=(2025, 2026))
    alike = analyse(runs.assign(weight=0.5), "d0", ["d1", "d2"], years=(2025, 2026))
    for name in ("changes", "costs", "leverage", "ranking", "targets"):
        pd.testing.assert_frame_equal(plain[name], alike[name], check_exact=True)
    weighted = analyse(runs.assign(weight=runs["seed"].map({1: 2 / 3, 2: 1 / 3})), "d0", ["d1", "d2"],
                       years=(2025, 2026))
    # the same runs with seed 1 run twice (a third run identical to it), weighing alike
    twice = pd.concat([runs, runs[runs["seed"] == 1].assign(seed=3)], ignore_index=True)
    repeated = analyse(twice, "d0", ["d1", "d2"], years=(2025, 2026))
    for name, cols in (("changes", ["mean"]), ("costs", ["mean"]), ("leverage", ["extra_rd", "extra_cost", "rd_per_yuan"]),
                       ("targets", ["p_met"])):
        pd.testing.assert_frame_equal(weighted[name][cols], repeated[name][cols], atol=1e-12)
    # by design: an unstable ratio ranks last, and the flag rests on the cost's 5% quantile, which a weighted run and
    # a repeated one interpolate differently (0.88 against 0.2 here)
    by_design = [r.set_index("design")[["p_first", "mean_rank"]].sort_index() for r in (weighted["ranking"],
                                                                                        repeated["ranking"])]
    pd.testing.assert_frame_equal(*by_design, atol=1e-12)
    pd.testing.assert_frame_equal(weighted["pairwise"], repeated["pairwise"], atol=1e-12)
    ch = weighted["changes"].set_index(["design", "indicator", "period"])
    assert ch.at[("d2", "business_rd", "2026"), "mean"] == pytest.approx(4 * 2 / 3)  # only the heavy run gains 4
    assert 2.0 < ch.at[("d2", "business_rd", "2026"), "median"] <= 4.0  # from 2 (runs alike) towards the heavy run
    p_first = weighted["ranking"].set_index("design")["p_first"]
    assert p_first["d2"] == pytest.approx(2 / 3) and p_first["d1"] == pytest.approx(1 / 3)
    met = weighted["targets"].query("indicator == 'rd_intensity' and year == 2025 and region == @PROVINCE")["p_met"]
    assert len(met) == 3 and met.to_numpy() == pytest.approx(2 / 3)


def test_rank_probabilities_and_pairwise() -> None:
    metric = {"a": pd.Series([3.0, 1.0, 2.0, 5.0]), "b": pd.Series([2.0, 2.0, 1.0, float("nan")]),
              "c": pd.Series([1.0, 3.0, 0.0, 1.0])}
    ranking, pairwise = rank(metric, "m")
    p = ranking.set_index("design")["p_first"]
    assert p["a"] == 0.75 and p["c"] == 0.25 and p["b"] == 0.0
    assert list(ranking["design"])[0] == "a" and list(ranking["rank"]) == [1, 2, 3]
    # by mean rank (a 1.5, b and c 2.25), the tie by P(first)
    assert list(ranking["design"]) == ["a", "c", "b"] and list(ranking["mean_rank"]) == [1.5, 2.25, 2.25]
    assert pairwise.at["a", "b"] == 0.75  # NaN (undefined) counts as worst
    assert pairwise.at["b", "a"] == 0.25
    assert math.isnan(pairwise.at["a", "a"])


def test_rank_orders_by_mean_rank_not_by_p_first_alone() -> None:
    """A scattered design that now and then ranks first stands behind a steady one that beats it in most runs
    (qhsim compare with the README's designs: the R&D reward, first in 7% of the runs, had stood before ex-ante
    grants, which beat it in 93%)."""
    lead = pd.Series([5.0] * 9 + [1.0])
    steady = pd.Series([2.0] * 10)
    scattered = pd.Series([0.5] * 9 + [9.0])
    ranking, pairwise = rank({"scattered": scattered, "steady": steady, "lead": lead}, "m")
    assert list(ranking["design"]) == ["lead", "steady", "scattered"]
    p = ranking.set_index("design")["p_first"]
    assert p["scattered"] == pytest.approx(0.1) and p["steady"] == 0.0  # P(first) alone would put it second
    assert pairwise.at["steady", "scattered"] == pytest.approx(0.9)


def test_rank_lower_is_better_puts_the_smallest_first() -> None:
    """For an indicator whose fall is an improvement the smallest value wins, NaN still counts as worst, and the
    quantiles stay the values' own (not negated)."""
    metric = {"a": pd.Series([3.0, 1.0, 2.0, 5.0]), "b": pd.Series([2.0, 2.0, 1.0, float("nan")]),
              "c": pd.Series([1.0, 3.0, 0.0, 1.0])}
    ranking, pairwise = rank(metric, "m", lower=True)
    p = ranking.set_index("design")["p_first"]
    assert p["c"] == 0.75 and p["a"] == 0.25 and p["b"] == 0.0
    assert list(ranking["design"]) == ["c", "a", "b"]
    assert pairwise.at["c", "a"] == 0.75 and pairwise.at["a", "b"] == 0.5  # runs 2 and 4 (b's NaN loses to 5.0)
    assert ranking.set_index("design").at["c", "median"] == pytest.approx(1.0)
    assert lower_is_better("rd_exit_rate") and lower_is_better("rd_user_cost") and not lower_is_better("hte_count")


@pytest.fixture(scope="module")
def small_comparison(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cmp") / "store"
    res = compare(SCENARIOS / "baseline.toml", [SCENARIOS / "super_deduction_120.toml",
                                                SCENARIOS / "more_ex_ante_grants.toml"],
                  seeds=(1, 2), scale=0.05, end_year=2027, out=out)
    write_comparison(res)
    return res, out


def test_compare_three_designs_intervals_targets_ranking(small_comparison) -> None:
    res, out = small_comparison
    assert res.window == (2026, 2027)
    ch = res.changes.set_index(["design", "indicator", "period"])
    row = ch.loc[("super_deduction_120", "business_rd", "2027")]
    assert row["p05"] <= row["median"] <= row["p95"] and row["mean"] > 0
    assert ch.at[("super_deduction_120", "business_rd", "2025"), "mean"] == 0  # same draws before the change
    lev = res.leverage.set_index(["design", "instrument"])
    assert lev.at[("super_deduction_120", "tax_expenditure_super_deduction"), "extra_cost"] > 0
    assert set(res.ranking["design"]) == {"super_deduction_120", "more_ex_ante_grants"}
    assert res.ranking["p_first"].sum() == pytest.approx(1.0)
    assert set(res.targets["design"]) == {"baseline", "super_deduction_120", "more_ex_ante_grants"}
    assert res.targets["p_met"].dropna().between(0, 1).all()
    for name in ("changes.csv", "costs.csv", "leverage.csv", "ranking.csv", "pairwise.csv", "targets.csv",
                 "comparison.txt", "cost_effectiveness.png"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and len(manifest["runs"]) == 6
    assert len(list((out / "runs").glob("*.parquet"))) == 6


def test_leverage_also_per_total_rd_the_r_and_d_intensity_counts(small_comparison) -> None:
    """Beside business R&D per public yuan, total R&D (business + universities and institutes) per public yuan: the
    ratio of the mean extra total R&D to the mean extra cost, with per-run quantiles, and its own table in the text."""
    res, out = small_comparison
    lev = res.leverage[res.leverage["instrument"] == "total"].set_index("design")
    for design, r in lev.iterrows():
        assert r["total_rd_per_yuan"] == pytest.approx((r["extra_rd"] + r["extra_public_rd"]) / r["extra_cost"])
        assert r["total_p05"] <= r["total_p95"]
    assert lev["extra_public_rd"].abs().max() < lev["extra_rd"].abs().max()  # these two designs act on firms
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    table = text.split("Total R&D: business + universities and institutes", 1)[1].split("\n\n", 1)[0]
    assert "super_deduction_120" in table and "more_ex_ante_grants" in table and "total R&D per public yuan" in table
    assert all(display_width(line) <= 100 for line in text.splitlines())  # a 100-column terminal
    omitted, caveat, persistence = text.split("达标概率 P(target met)", 1)[1].split("\n\n")[1:4]
    # the table starts with the window: the 2025 targets, where every design is still the base, are named as left out
    assert "Targets of 2025 are not shown: no design differs from the base before 2026." in " ".join(omitted.split())
    assert "2025年的目标未列出" in omitted
    assert "".join(caveat.split()) == "".join(band_caveat().split())  # what P(target met) leaves out, below it
    assert "".join(persistence.split()) == "".join(persistence_note().split())  # and what the long run rests on


def renamed(res: ComparisonResult, names: dict[str, str]) -> ComparisonResult:
    """``res`` with its designs renamed (``names``) in every table, the prefectures' too."""
    def rename(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(design=frame["design"].map(lambda d: names.get(d, d))) if "design" in frame else frame

    return dataclasses.replace(
        res, designs=[names.get(d, d) for d in res.designs],
        **{name: rename(getattr(res, name)) for name in ("changes", "costs", "leverage", "targets", "ranking")},
        pairwise=res.pairwise.rename(index=names, columns=names),
        regions={name: rename(frame) for name, frame in res.regions.items()})


def test_comparison_text_fits_100_columns_with_long_design_names_and_four_years(small_comparison) -> None:
    """Four report years and long design names made the change tables 107-109 columns wide: labels now wrap."""
    res, _ = small_comparison
    wide = renamed(res, {d: f"{d}_with_a_much_longer_name" for d in res.designs})
    changes = wide.changes
    extra = [changes[changes["period"] == "2027"].assign(period=str(y)) for y in (2030, 2035)]
    wide = dataclasses.replace(wide, years=[2025, 2027, 2030, 2035], changes=pd.concat([changes, *extra]))
    text = format_comparison(wide)
    assert "super_deduction_120_with_a_much_longer_name" in text
    assert max(display_width(line) for line in text.splitlines()) <= 100


def test_every_line_fits_text_width_with_a_no_cost_design_large_costs_and_twelve_designs(small_comparison) -> None:
    """The cost-effectiveness table was 107 columns wide at COLUMNS=100 when a design had "— 无额外成本 no extra cost"
    (26 columns) in its cell: the cell holds a short mark, the note below gives the mark in full. Every line of the
    text, the province's and a prefecture's, fits TEXT_WIDTH display columns (CJK wide = 2) with a no-cost design,
    long design names, costs in the hundreds of 亿元 (their intervals go on two lines where one is too wide) and
    twelve designs (P(target met) splits its columns over two tables)."""
    from qhsim.experiments.report import TEXT_WIDTH
    from qhsim.results import SAVING_CELL, SAVING_NOTE

    res, _ = small_comparison
    names = {d: f"{d}_with_a_much_longer_name" for d in res.designs}
    wide = renamed(res, names)
    free = names["more_ex_ante_grants"]
    lev = wide.leverage.copy()
    costly = lev["design"] != free
    lev.loc[costly, ["extra_cost", "extra_cost_p05", "extra_cost_p95", "extra_rd", "extra_rd_p05", "extra_rd_p95"]] *= 100
    total = (lev["design"] == free) & (lev["instrument"] == "total")
    lev.loc[total, ["extra_cost", "extra_cost_p05", "extra_cost_p95"]] = 0.0
    lev.loc[total, "unstable"] = True  # no extra cost: R&D per yuan is the mark
    costs = wide.costs.copy()
    costs.loc[costs["design"] != free, ["mean", "p05", "median", "p95"]] *= 100
    regions = dict(wide.regions)
    regional = regions["leverage"].copy()
    mine = (regional["design"] == free) & (regional["instrument"] == "total")
    regional.loc[mine, ["extra_cost", "extra_cost_p05", "extra_cost_p95"]] = 0.0
    regional.loc[mine, "unstable"] = True
    regions["leverage"] = regional
    wide = dataclasses.replace(wide, leverage=lev, costs=costs, regions=regions)
    for region in (PROVINCE, "haixi"):
        text = format_comparison(wide, region)
        assert all(display_width(line) <= TEXT_WIDTH for line in text.splitlines()), region
        effect = text.split("Cost-effectiveness", 1)[1].split("\n\n", 1)[0]
        assert SHORT_MARKS[SAVING_CELL] in effect and SAVING_CELL not in effect
        assert "".join(SAVING_NOTE.split()) in "".join(text.split())  # the mark in full, with its note
    large = costs[(costs["design"] != free) & (costs["item"] == "total")]["mean"].iloc[0]
    whole = format_number(large, True).split(".")[0] + "."  # "+127.": the column's decimals are the table's choice
    assert large > 100 and whole in format_comparison(wide)  # a large cost, whole
    # twelve designs: the P(target met) columns no longer fit in one table
    more = [f"design_number_{i}_with_a_long_name" for i in range(len(wide.designs) + 1, 13)]
    targets = pd.concat([wide.targets, *(wide.targets[wide.targets["design"] == free].assign(design=d) for d in more)])
    twelve = dataclasses.replace(wide, designs=[*wide.designs, *more], targets=targets)
    text = format_comparison(twelve)
    assert all(display_width(line) <= TEXT_WIDTH for line in text.splitlines())
    assert text.count("达标概率 P(target met)") == 2 and "  12\n" in text


def test_the_two_2035_reference_paths_are_labelled_apart() -> None:
    """P(target met) labelled two 2035 reference paths of the same indicator alike, one 0% and the other 100%: each
    row now names its path as ``qhsim run`` does (plan trajectory extrapolated, national parity)."""
    from qhsim.targets import reference_paths_2035

    runs = runs_frame({0: [[10, 10, 10], [20, 20, 20]], 1: [[10, 11, 12], [20, 21, 22]]},
                      {0: [[1e4] * 3] * 2, 1: [[1e4, 2e4, 2e4]] * 2})
    tables = analyse(runs, "d0", ["d1"])
    paths = reference_paths_2035()
    paths = paths[paths["indicator"] == "rd_intensity"]
    assert len(paths) == 2 and paths["label"].nunique() == 2
    paths = paths.rename(columns={"value": "target"})  # as target_probabilities writes it
    targets = pd.concat([paths.assign(design=d, p_met=p) for d, p in (("d0", 0.0), ("d1", 1.0))])
    res = ComparisonResult("d0", ["d1"], tables.pop("window"), tables.pop("years"), runs,
                           **{**tables, "targets": targets}, meta={"draws": None, "seeds": [1, 2], "scale": 1.0})
    block = " ".join(format_comparison(res).split("达标概率 P(target met)", 1)[1].split("\n\n", 1)[0].split())
    assert "(reference path: plan trajectory extrapolated)" in block
    assert "(reference path: national parity (2020 level))" in block
    assert "（参考路径：规划趋势外推）" in block and "（参考路径：达到全国2020水平）" in block


def test_pairs_whose_order_the_runs_leave_open_are_named_below_the_pairwise_table(small_comparison) -> None:
    """A pair that changes order between runs (P(A beats B) under 90% both ways) gets a line telling the analyst to
    add seeds or draws before ranking it; a settled pair does not; one run per design always gets a caveat."""
    res, _ = small_comparison
    names = ["baseline", "super_deduction_120", "more_ex_ante_grants"]
    pw = pd.DataFrame([[math.nan, 0.0, 0.0], [1.0, math.nan, 1 / 3], [1.0, 2 / 3, math.nan]],
                      index=names, columns=names)
    assert unsettled_pairs(pw) == [("more_ex_ante_grants", "super_deduction_120", pytest.approx(2 / 3))]
    text = format_comparison(dataclasses.replace(res, pairwise=pw))
    block = " ".join(text.split("两两比较 Pairwise", 1)[1].split("\n\n")[1].split())
    assert block.startswith("次序未定：more_ex_ante_grants > super_deduction_120 67%。")
    assert "Order not settled: more_ex_ante_grants > super_deduction_120 67%. Their order changes from run to run " \
           "(2 runs per design): add seeds" in block
    settled = pw.copy()
    settled.loc["more_ex_ante_grants", "super_deduction_120"] = 0.9
    settled.loc["super_deduction_120", "more_ex_ante_grants"] = 0.1
    assert unsettled_pairs(settled) == []
    assert "Order not settled" not in format_comparison(dataclasses.replace(res, pairwise=settled))
    one_run = dataclasses.replace(res, pairwise=settled, meta={**res.meta, "seeds": [1], "draws": None})
    assert "Ranked on one run per design" in " ".join(format_comparison(one_run).split())
    assert ranking_caveat(one_run)[0].startswith("排名仅基于每方案1次运行")


def test_dashboard_summary_shows_business_and_total_rd_per_yuan(small_comparison) -> None:
    from qhsim.dashboard import compare as dashboard_compare

    res, _ = small_comparison
    table = dashboard_compare.summary(res, "en").set_index("Designs")
    lev = res.leverage[res.leverage["instrument"] == "total"].set_index("design")
    total_column = "total R&D (business + universities, institutes) per yuan of public cost (yuan/yuan)"
    total = table.at["more_ex_ante_grants", total_column]
    assert total.startswith(dashboard_compare.significant(lev.at["more_ex_ante_grants", "total_rd_per_yuan"],
                                                          signed=False) + " [")
    business = table["business R&D per yuan of public cost (yuan/yuan)"]
    assert "P(ranks first)" in table.columns  # two designs rank; one alone would always be first, and shows no rank
    one = dataclasses.replace(res, designs=res.designs[:1])
    assert "P(ranks first)" not in dashboard_compare.summary(one, "en").columns
    # ratios, printed unsigned like comparison.txt; the extra cost and R&D are changes and keep their sign
    assert not any(cell.startswith("+") for cell in [*business, *table[total_column]]), table
    assert table.at["more_ex_ante_grants", "extra public cost (亿元, 100 mn yuan)"].startswith("+")


def test_dashboard_ranking_title_and_cache_key_follow_the_ranking_metric(small_comparison) -> None:
    """The dashboard heads the ranking with the metric the comparison was ranked by, and a comparison ranked by total
    R&D per yuan is a different cache entry."""
    from qhsim.dashboard import compare as dashboard_compare
    from qhsim.dashboard.state import Session

    res, _ = small_comparison
    assert dashboard_compare.ranking_title(res, "en").startswith("Ranking (by business R&D")
    by_total = dataclasses.replace(res, ranking=res.ranking.assign(metric="total_rd_per_yuan"))
    assert dashboard_compare.ranking_title(by_total, "en").startswith("Ranking (by total R&D")
    assert "全社会研发" in dashboard_compare.ranking_title(by_total, "zh")
    ranked = format_comparison(by_total).split("排名 Ranking")[1].split("两两比较")[0]
    assert "total R&D per public yuan" in ranked and "[+" not in ranked  # a ratio, printed unsigned like rd_per_yuan
    s = Session.start()
    assert dashboard_compare.key(s, False) != dashboard_compare.key(s, False, "total_rd_per_yuan")
    by_exit = dataclasses.replace(res, ranking=res.ranking.assign(metric="rd_exit_rate"))
    assert dashboard_compare.ranking_title(by_exit, "en").endswith("over the window; lower is better; ordered by mean rank)")
    assert dashboard_compare.ranking_title(by_exit, "zh").endswith("；越低越好；按平均名次排序）")
    assert "lower is better" in format_comparison(by_exit).split("两两比较")[0]
    assert "lower is better" not in format_comparison(by_total)


def test_dashboard_chart_plots_the_ranking_metric(small_comparison) -> None:
    """The comparison chart's R&D-per-yuan panel plots what the comparison was ranked by: total R&D per public yuan
    (bars and 90% band from total_rd_per_yuan, total_p05, total_p95) when ranked by it, business R&D otherwise; an
    indicator ranking keeps business R&D in the chart and names the indicator in the heading."""
    from matplotlib.container import BarContainer

    from qhsim.dashboard import compare as dashboard_compare
    from qhsim.dashboard import i18n

    res, _ = small_comparison
    lev = res.leverage[res.leverage["instrument"] == "total"].set_index("design").reindex(res.designs)
    # the grants design raises universities' and institutes' R&D too: the two ratios differ, the test can tell them apart
    assert abs(lev.at["more_ex_ante_grants", "total_rd_per_yuan"] - lev.at["more_ex_ante_grants", "rd_per_yuan"]) > 1e-3

    def panel(result, lang: str = "en"):
        ax = dashboard_compare.figure(result, "rd_intensity", lang).axes[0]
        bars = next(c for c in ax.containers if isinstance(c, BarContainer))
        lows, highs = zip(*[(seg[0][0], seg[1][0]) for seg in bars.errorbar.lines[2][0].get_segments()])
        return ax.get_title(), [b.get_width() for b in bars], list(lows), list(highs)

    def expected(mid: str, lo: str, hi: str):
        m = lev[mid].to_numpy(float)
        return list(m), list(m - abs(m - lev[lo].to_numpy(float))), list(m + abs(lev[hi].to_numpy(float) - m))

    by_total = dataclasses.replace(res, ranking=res.ranking.assign(metric="total_rd_per_yuan"))
    for result, cols, label in ((res, ("rd_per_yuan", "p05", "p95"), "rd_per_yuan"),
                                (by_total, ("total_rd_per_yuan", "total_p05", "total_p95"), "total_rd_per_yuan")):
        title, widths, lows, highs = panel(result)
        assert title == i18n.text(label, "en")
        mids, los, his = expected(*cols)
        assert widths == pytest.approx(mids) and lows == pytest.approx(los) and highs == pytest.approx(his)
    assert panel(by_total, "zh")[0] == i18n.text("total_rd_per_yuan", "zh")
    by_indicator = dataclasses.replace(res, ranking=res.ranking.assign(metric="rd_intensity"))
    assert panel(by_indicator)[0] == i18n.text("rd_per_yuan", "en")
    assert "R&D expenditure / GDP" in dashboard_compare.ranking_title(by_indicator, "en")
    assert "研发投入强度" in dashboard_compare.ranking_title(by_indicator, "zh")


def test_comparison_text_shows_each_change_in_its_indicators_precision(small_comparison) -> None:
    """A row's yearly changes and its window mean carry the same decimals (the R&D intensity read "0.00 +0.03 +0.04"
    by year, "+0.037" over the window), one more than the indicator's own, more where a small change would show as
    zero; a change of an indicator in % is in percentage points (百分点 pp)."""
    from qhsim.output.numbers import change_digits

    res, out = small_comparison
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    block = text.split("super_deduction_120 − baseline", 1)[1].split("\n\n", 1)[0]
    changes = res.changes[res.changes["design"] == "super_deduction_120"].set_index(["indicator", "period"])["median"]
    for key, start in (("hte_count", "高新技术企业数量 "), ("rd_intensity", "研发投入强度（百分点） ")):
        line = next(line for line in block.splitlines() if line.startswith(start))
        digits = change_digits(key, changes.loc[key])
        assert digits >= decimals(key) + 1, line
        numbers = re.findall(r"[+-]?\d[\d,]*(?:\.\d+)?", line.split(" ", 1)[1])
        assert numbers and all(len(n.split(".")[-1]) == digits and "." in n for n in numbers), line  # all columns
    rd = block.split("研发投入强度（百分点）", 1)[1].split("\n", 2)[1]
    assert "(pp)" in rd and "(%)" not in rd


def test_comparison_text_labels_rows_in_both_languages_with_units(small_comparison) -> None:
    """Rows read "企业研发经费 business_rd" (no English, no unit), the by-instrument table showed raw keys
    (tax_expenditure_super_deduction) and the P(target met) table code keys: each now gives the Chinese name, then the
    English name with the unit (a public cost without its 万元: its tables are in 亿元)."""
    from qhsim import data

    _, out = small_comparison
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    spec = data.load("indicators")
    lines = text.splitlines()
    for key in ("rd_intensity", "business_rd", "hte_count", "tax_expenditure_super_deduction", "spend_ex_ante_grants"):
        zh, en = spec[key]["zh"], spec[key]["en"]
        unit = "" if key.startswith(("spend_", "tax_")) else f" ({unit_of(key)})"
        below = [lines[i + 1] for i, line in enumerate(lines) if f" {zh} " in f" {line} "]
        assert below and all(f"{en}{unit}" in line for line in below), (key, below)
    assert not [w for w in re.findall(r"\b[a-z]+_[a-z_]+\b", text) if w in spec]  # no indicator or cost key
    # a ratio per 10,000 names its denominator, as the run's tables do (the label wraps: read it as one line)
    assert f"{spec['patents_per_10k']['en']} (items per 10k population)" in " ".join(text.split())
    targets = text.split("达标概率 P(target met)", 1)[1].split("\n\n", 1)[0]
    assert "研发投入强度 海西州" in targets and "R&D expenditure / GDP (%) Haixi" in targets
    assert all(display_width(line) <= 100 for line in lines)


def test_leverage_csv_says_whether_the_design_sets_each_instrument(small_comparison) -> None:
    """leverage.csv gave side-effect costs a ratio (spend_hte_reward ... 1016.8) the terminal does not show: a column
    now says whether the design sets the instrument, and a side effect has no R&D per yuan, as on the terminal."""
    from qhsim import data
    from qhsim.experiments.comparison import acts_on

    res, out = small_comparison
    csv = province_rows(pd.read_csv(out / "leverage.csv", encoding="utf-8-sig"))
    assert list(csv.columns[-5:]) == ["gross_cost", "unstable", "design_sets_instrument", "evidence_key", "evidence"]
    rows = csv[csv["instrument"] != "total"]
    assert list(rows["design_sets_instrument"]) == [acts_on(res, r.design, r.instrument) for r in rows.itertuples()]
    side = rows[~rows["design_sets_instrument"].astype(bool)]
    assert len(side) and side[["rd_per_yuan", "p05", "median", "p95"]].isna().all().all()  # no ratio to misread
    assert side["extra_cost"].notna().all()  # its cost still shows
    own = rows[rows["design_sets_instrument"].astype(bool)]
    assert len(own) and own["rd_per_yuan"].notna().all()
    assert csv.loc[csv["instrument"] == "total", "design_sets_instrument"].isna().all()
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    listed = text.split("分工具 By instrument", 1)[1].split("\n\n", 1)[0].splitlines()
    for r in rows.itertuples():  # the terminal: a ratio where the design sets the instrument, else 连带影响 side effect
        zh = data.load("indicators")[r.instrument]["zh"]
        for line in (line for line in listed if line.startswith(r.design) and zh in line):
            assert ("连带影响 side effect" in line) == (not r.design_sets_instrument), line


def test_cost_effectiveness_and_ranking_name_their_statistic(small_comparison) -> None:
    """The cost-effectiveness table gave 1.69 (the ratio of the means), the ranking below 1.81 (the median of the
    runs' ratios): the ranking now shows the headline ratio of means first, the figure of the cost-effectiveness table,
    and the runs' median beside it in a column named so, and a line says why they differ."""
    res, out = small_comparison
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    effect = text.split("成本效益 Cost-effectiveness", 1)[1].split("\n\n", 1)[0]
    assert "均值之比" in effect.split("-----", 1)[0] and "ratio of means" in effect.split("-----", 1)[0]
    ranking = text.split("排名 Ranking", 1)[1].split("\n\n", 1)[0]
    head, body = ranking.split("-----", 1)
    assert "ratio of means" in head and "runs' ratios" in head and "median" in head and "R&D per public yuan" in head
    lev = res.leverage[res.leverage["instrument"] == "total"].set_index("design")
    for r in res.ranking.itertuples():
        line = next(line for line in body.splitlines() if f" {r.design} " in line)
        ratio = format_interval(*lev.loc[r.design, ["rd_per_yuan", "p05", "p95"]])
        assert ratio in line and ratio in effect, (line, effect)  # the same figure in both tables
        assert line.split(ratio, 1)[1].split()[0] == format_number(r.median)  # the runs' median beside it
    assert "whose median stands beside it and can differ a little" in " ".join(text.split())


def test_an_unstable_r_and_d_per_yuan_shows_as_such_with_its_rule(small_comparison) -> None:
    from qhsim.results import UNSTABLE_CELL

    res, _ = small_comparison
    assert UNSTABLE_CELL not in format_comparison(res) and "money the design moves" not in format_comparison(res)
    lev = res.leverage.copy()
    lev.loc[(lev["design"] == "more_ex_ante_grants") & (lev["instrument"] == "total"), "unstable"] = True
    text = format_comparison(dataclasses.replace(res, leverage=lev))
    effect = text.split("成本效益 Cost-effectiveness", 1)[1].split("\n\n", 1)[0]
    short = SHORT_MARKS[UNSTABLE_CELL]  # in the cell; the note below names the full mark
    assert next(line for line in effect.splitlines() if line.startswith("more_ex_ante_grants")).endswith(short)
    assert next(line for line in effect.splitlines() if line.startswith("super_deduction_120")).endswith("]")
    ranked = text.split("排名 Ranking", 1)[1].split("\n\n", 1)[0]
    assert short in next(line for line in ranked.splitlines() if "more_ex_ante_grants" in line)
    assert f"{short} “{UNSTABLE_CELL}”" in " ".join(text.split())
    assert "under 25% of the money the design moves" in " ".join(text.split())
    # a positive extra cost (unstable's only case since "no extra cost" has its own mark): its note says only that
    assert "not positive" not in " ".join(text.split()) and "不为正" not in text
    legend = [t.get_text() for t in cost_effectiveness_figure(dataclasses.replace(res, leverage=lev)).axes[0]
              .get_legend().get_texts()]
    assert legend[1] == f"2 more_ex_ante_grants 事前立项资助翻倍: {UNSTABLE_CELL}" and legend[0].endswith("yuan/yuan")


def test_compare_command_resumes_and_refuses_foreign_out(small_comparison, tmp_path: Path) -> None:
    _, out = small_comparison
    cmd = [sys.executable, "-m", "qhsim.cli", "compare", str(SCENARIOS / "baseline.toml"),
           str(SCENARIOS / "super_deduction_120.toml"), str(SCENARIOS / "more_ex_ante_grants.toml"),
           "--scale", "0.05", "--end-year", "2027", "--seeds", "1,2"]
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    proc = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "R&D per public yuan" in proc.stdout and "P(first)" in proc.stdout
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == stamps  # nothing re-run
    # and says so, as a sweep does (it said nothing: a rerun's 15 s read as the runs being made again)
    assert (f"qhsim: 续跑 resuming: {len(stamps)} of {len(stamps)} runs already in the store, 0 to run"
            in proc.stderr.splitlines())
    # one store answers every prefecture: --region selects what is printed (Haidong's own targets are of 2025)
    proc = subprocess.run([*cmd, "--out", str(out), "--region", "haidong"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "地区 region: 海东市 Haidong" in proc.stdout and "成本效益 海东市 Cost-effectiveness Haidong" in proc.stdout
    assert "研发投入强度 海东市" in proc.stdout and "排名 海东市 Ranking Haidong" in proc.stdout  # Haidong's own ranking
    assert "排名 Ranking (" not in proc.stdout  # not the province's
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == stamps
    # ... and keeps it beside the province's comparison.txt, which stays the province's
    assert (out / "comparison_haidong.txt").read_text(encoding="utf-8") in proc.stdout
    assert "排名 Ranking (" in (out / "comparison.txt").read_text(encoding="utf-8")
    assert "comparison_haidong.txt" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    (tmp_path / "file.txt").write_text("keep me")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.md").write_text("keep me")
    for bad, needle in ((tmp_path / "file.txt", "existing file"), (tmp_path / "foreign", "not a qhsim results folder")):
        proc = subprocess.run([*cmd, "--out", str(bad)], capture_output=True, text=True, check=False)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "file.txt").read_text() == "keep me" and (tmp_path / "foreign" / "notes.md").is_file()
    other = subprocess.run([*cmd[:-1], "1,3", "--out", str(out)], capture_output=True, text=True, check=False)
    assert other.returncode == 2 and "different compare experiment" in other.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == stamps


def test_a_cost_the_design_does_not_change_is_a_side_effect() -> None:
    """The by-instrument table gives R&D per yuan only for costs set by a [policy.*] section the design changes
    (indicators.toml ``policy``); the HTE 15% rate's tax expenditure under a super-deduction design is a side effect.
    Every public cost names real policy sections."""
    from types import SimpleNamespace

    from qhsim import data
    from qhsim.config.schema import Policy
    from qhsim.experiments.comparison import acts_on
    from qhsim.results import FISCAL_PREFIXES

    base = {"policy": {"super_deduction": {"general": 1.0}, "tax": {"hte_rate": 0.15}, "hte": {"reward_new": 0.0}}}
    sd = {"policy": {**base["policy"], "super_deduction": {"general": 1.2}}}
    res = SimpleNamespace(base="b", meta={"scenarios": {"b": base, "sd": sd}})
    assert acts_on(res, "sd", "tax_expenditure_super_deduction")
    assert not acts_on(res, "sd", "tax_expenditure_hte_rate") and not acts_on(res, "sd", "spend_vouchers")
    costs = {k: spec for k, spec in data.load("indicators").items() if k.startswith(FISCAL_PREFIXES)}
    assert len(costs) >= 10 and all(spec["policy"] and set(spec["policy"]) <= set(Policy.model_fields)
                                    for spec in costs.values())


@pytest.fixture(scope="module")
def ex_post_package(tmp_path_factory: pytest.TempPathFactory):
    """The ex-post package: an ex-post subsidy paid for by halving the ex-ante grants (a cost that falls)."""
    out = tmp_path_factory.mktemp("expost") / "store"
    res = compare(SCENARIOS / "baseline.toml", [SCENARIOS / "ex_post_subsidy.toml"], seeds=(1, 2), scale=0.05,
                  end_year=2027, out=out)
    write_comparison(res)
    return res, out


def test_an_instrument_whose_cost_fell_is_listed_with_its_saving_and_no_ratio(ex_post_package) -> None:
    """leverage.csv and the by-instrument table left out the ex-ante grants the ex-post package cuts: every
    instrument whose cost changed, either way, is listed with its extra cost; R&D per yuan over a saving is blank
    (leverage.csv) or "—¹" for "— 无额外成本 no extra cost" (comparison.txt, for a design that sets that one instrument),
    flagged unstable by the one rule."""
    from qhsim.results import SAVING_CELL, SAVING_NOTE
    from qhsim.results import ratio_unstable

    res, out = ex_post_package
    costs = pd.read_csv(out / "costs.csv", encoding="utf-8-sig")
    lev = province_rows(pd.read_csv(out / "leverage.csv", encoding="utf-8-sig"))
    moved = costs[(costs["kind"] != "total") & (costs["mean"].abs() > 1e-3)]
    assert set(moved["item"]) <= set(lev["instrument"])  # every cost that moved, up or down
    grants = lev[lev["instrument"] == "spend_ex_ante_grants"].iloc[0]
    assert grants["extra_cost"] < 0 and grants["design_sets_instrument"]
    assert grants[["rd_per_yuan", "p05", "median", "p95"]].isna().all()
    total = lev[lev["instrument"] == "total"]
    assert list(total["unstable"]) == list(ratio_unstable(total["extra_cost"], total["gross_cost"],
                                                          total["extra_cost_p05"], total["extra_cost_p95"]))
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    listed = text.split("分工具 By instrument", 1)[1].split("\n\n", 1)[0].splitlines()
    line = next(line for line in listed if "事前立项资助" in line)
    assert line.startswith("ex_post_subsidy") and line.split()[-6] == format_number(grants["extra_cost"], True)
    # the same design setting the grants alone: its saving gets no ratio, by the one rule
    alone = res.leverage[(res.leverage["instrument"] != "spend_ex_post_subsidy")].copy()
    alone.loc[alone["instrument"] == "spend_ex_ante_grants", "unstable"] = True
    text = format_comparison(dataclasses.replace(res, leverage=alone))
    listed = text.split("分工具 By instrument", 1)[1].split("\n\n", 1)[0].splitlines()
    assert next(line for line in listed if "事前立项资助" in line).rstrip().endswith(SHORT_MARKS[SAVING_CELL])
    assert "".join(SAVING_NOTE.split()) in "".join(text.split())  # the saving's own note, not the unstable rule
    assert "the extra cost is not positive" in SAVING_NOTE and "whose cost fell is listed with its saving" in SAVING_NOTE
    assert all(display_width(line) <= 100 for line in text.splitlines())


def test_a_design_that_sets_several_instruments_gets_no_ratio_per_instrument(ex_post_package) -> None:
    """The ex-post package (an ex-post subsidy paid for by halving the ex-ante grants) showed "ex-post R&D subsidy
    +2.40 -> -0.54 [-0.55, -0.53]" unflagged: the R&D lost mostly through the halved grants over the subsidy's cost,
    read as the subsidy's own effect. Where a design sets several instruments, each instrument row has no ratio
    (blank in leverage.csv, ``unstable`` False) and is marked "组合 combined" with a note, in comparison.txt, the
    workbook's 按工具 By instrument sheet and the HTML report; a one-instrument design keeps its ratio."""
    from qhsim.experiments.comparison import several_instruments
    from qhsim.results import COMBINED_CELL

    res, out = ex_post_package
    lev = province_rows(pd.read_csv(out / "leverage.csv", encoding="utf-8-sig"))
    assert several_instruments(lev) == several_instruments(res.leverage) == {"ex_post_subsidy"}
    rows = lev[(lev["instrument"] != "total") & lev["design_sets_instrument"].astype(str).eq("True")]
    assert set(rows["instrument"]) == {"spend_ex_ante_grants", "spend_ex_post_subsidy"}
    assert rows[["rd_per_yuan", "p05", "median", "p95"]].isna().all().all() and not rows["unstable"].any()
    assert rows["extra_cost"].notna().all() and rows["extra_rd"].notna().all()  # the costs and R&D still show
    total = lev[lev["instrument"] == "total"].iloc[0]
    assert not math.isnan(total["rd_per_yuan"])  # the design's own ratio stands (unstable here)
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    block = text.split("分工具 By instrument", 1)[1].split("\n\n", 2)
    listed = block[0].splitlines()
    for zh in ("事前立项资助", "研发后补助"):
        assert next(line for line in listed if zh in line).rstrip().endswith(COMBINED_CELL)
    flat = " ".join(block[1].split())
    assert "changes several instruments at once" in flat and "方案同时改动几个工具" in flat
    assert all(display_width(line) <= 100 for line in text.splitlines())
    # the workbook and the HTML report mark the same rows the same way
    from openpyxl import load_workbook

    ws = load_workbook(out / "report.xlsx")["按工具 By instrument"]
    # the design column names it in Chinese too: its id before the bracket
    marks = {(r[0].value.split("（")[0], r[2].value): r[9].value for r in ws.iter_rows(min_row=2) if r[0].value}
    assert marks[("ex_post_subsidy", "spend_ex_post_subsidy")] == COMBINED_CELL
    assert marks[("ex_post_subsidy", "spend_ex_ante_grants")] == COMBINED_CELL
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page.split("按工具 By instrument", 1)[1].split("<h3>", 1)[0]
    assert section.count(COMBINED_CELL) >= 2 and "changes several instruments at once" in section


def test_one_instrument_designs_keep_their_instrument_ratio_and_rows_without_one_are_not_unstable(
        small_comparison) -> None:
    """A design that sets one instrument keeps its ratio on that instrument's row. ``unstable`` flipped between True
    and False on side-effect rows, which have no ratio: every row left without a ratio for a reason other than the
    rule (a side effect, a design that sets several instruments) has ``unstable`` False."""
    _, out = small_comparison
    lev = province_rows(pd.read_csv(out / "leverage.csv", encoding="utf-8-sig"))
    rows = lev[lev["instrument"] != "total"]
    own = rows[rows["design_sets_instrument"].astype(str).eq("True")]
    assert set(own["design"]) == {"super_deduction_120", "more_ex_ante_grants"}
    assert own.groupby("design").size().eq(1).all() and own["rd_per_yuan"].notna().all()
    side = rows[rows["design_sets_instrument"].astype(str).eq("False")]
    assert len(side) and side["rd_per_yuan"].isna().all() and not side["unstable"].astype(bool).any()


def test_instruments_left_out_of_the_by_instrument_table_are_counted_below_it(small_comparison) -> None:
    """comparison.txt's by-instrument table left out instruments under 10% of a design's extra cost without a word,
    so its rows did not add up to the total: a note below it says how many and where they are."""
    from qhsim.experiments.report import MATERIAL

    res, out = small_comparison
    lev = province_rows(pd.read_csv(out / "leverage.csv", encoding="utf-8-sig"))
    total = lev[lev["instrument"] == "total"].set_index("design")["extra_cost"]
    rows = lev[lev["instrument"] != "total"]
    left = int((rows["extra_cost"].abs() < MATERIAL * rows["design"].map(total).abs()).sum())
    assert left > 0
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    table, notes = text.split("分工具 By instrument", 1)[1].split("\n\n", 2)[:2]
    listed = [line for line in table.splitlines() if line.startswith(tuple(res.designs))]
    assert len(listed) == len(rows) - left
    flat = " ".join(notes.split())
    assert f"{left} more instrument rows are not listed" in flat and f"另有{left}行未列出" in flat
    assert "leverage.csv" in flat and "按工具 By instrument sheet" in flat


def test_a_design_whose_ratio_is_unstable_ranks_after_those_whose_ratio_is_read() -> None:
    """``qhsim compare --region haixi`` ranked the HTE reward second, before ex-ante grants (mean rank 3.00 against
    2.07), on the 7% of runs it "won" with an extra cost near zero, while the tables mark its ratio "— 不稳定 unstable".
    A design whose ratio is not to be read now ranks after every design whose ratio is, in its own order."""
    from qhsim.experiments.comparison import annotate_ranking, rank

    runs = pd.MultiIndex.from_tuples([(0, s) for s in range(10)], names=["draw", "seed"])
    metric = {"sd": pd.Series([1.8] * 9 + [0.1], index=runs), "reward": pd.Series([0.2] * 9 + [9.0], index=runs),
              "grants": pd.Series([1.1] * 10, index=runs), "talent": pd.Series([0.1] * 10, index=runs)}
    ranking, _ = rank(metric, "rd_per_yuan")
    # by mean rank (1.25, 2.0, 2.8, 3.95): the reward's one lucky run no longer puts it before grants, as P(first) did
    assert list(ranking["design"]) == ["sd", "grants", "reward", "talent"]
    leverage = pd.DataFrame({"design": list(metric), "instrument": "total",
                             "unstable": [False, True, False, False]})
    out = annotate_ranking(ranking, leverage, None, "baseline")
    assert list(out["design"]) == ["sd", "grants", "talent", "reward"] and list(out["rank"]) == [1, 2, 3, 4]
    assert list(out["unstable"]) == [False, False, False, True]
    assert out.set_index("design")["p_first"].to_dict() == ranking.set_index("design")["p_first"].to_dict()


def test_ranking_csv_has_the_designs_description_and_the_unstable_flag(ex_post_package, small_comparison) -> None:
    """ranking.csv showed R&D per yuan the tables mark unstable without leverage.csv's ``unstable`` column, and named
    designs by file id only: both are there now, and comparison.txt lists each design with its description."""
    import tomllib

    for res, out in (ex_post_package, small_comparison):
        ranking = pd.read_csv(out / "ranking.csv", encoding="utf-8-sig")
        lev = province_rows(pd.read_csv(out / "leverage.csv", encoding="utf-8-sig"))
        total = lev[lev["instrument"] == "total"].set_index("design")["unstable"]
        assert list(ranking.columns[:2]) == ["design", "description"]
        assert list(ranking.columns[-2:]) == ["unstable", "evidence"]
        assert list(ranking["unstable"]) == [bool(total[d]) for d in ranking["design"]]
        head = (out / "comparison.txt").read_text(encoding="utf-8").split("\n每方案", 1)[0]
        for i, name in enumerate([res.base, *res.designs]):
            with (SCENARIOS / f"{name}.toml").open("rb") as fh:
                description = tomllib.load(fh)["run"]["description"]
            if name != res.base:
                assert ranking.set_index("design").at[name, "description"] == description
            entry = " ".join(head.split(f"  {i} = {name}: ", 1)[1].split(f"\n  {i + 1} = ", 1)[0].split())
            assert entry == description, entry
        assert all(display_width(line) <= 100 for line in head.splitlines())
    assert ranking_flags_ratio_only()


def ranking_flags_ratio_only() -> bool:
    """A ranking by an indicator's change is no ratio: nothing in it is unstable, whatever leverage.csv flags."""
    from qhsim.experiments.comparison import annotate_ranking, design_description

    lev = pd.DataFrame({"design": ["a"], "instrument": ["total"], "unstable": [True]})
    scenarios = {"b": {"run": {"description": "基准 / Base"}}, "a": {"run": {"description": "基准 / Base"}}}
    by_ratio = annotate_ranking(pd.DataFrame({"design": ["a"], "metric": ["rd_per_yuan"]}), lev, scenarios, "b")
    by_change = annotate_ranking(pd.DataFrame({"design": ["a"], "metric": ["rd_intensity"]}), lev, scenarios, "b")
    # a design without a description of its own (it inherits the base's) gets none rather than the base's
    assert design_description(scenarios, "a", "b") == "" and design_description(scenarios, "b", "b") == "基准 / Base"
    return bool(by_ratio["unstable"].iloc[0]) and not by_change["unstable"].iloc[0]


def test_a_comparison_that_ends_before_any_design_acts_is_refused(tmp_path: Path) -> None:
    """``compare ... --end-year 2025`` with designs acting from 2026 exited 0 with every change 0.00, "common window
    2025-2025" and a ranking with P(first) 100%, and no warning (schedule years were checked against the scenario's
    own end year, not --end-year). Now the comparison is refused in one line saying from which year the designs act
    (exit 2, no folder written)."""
    out = tmp_path / "store"
    cmd = [sys.executable, "-m", "qhsim.cli", "compare", str(SCENARIOS / "baseline.toml"),
           str(SCENARIOS / "super_deduction_120.toml"), "--seeds", "1", "--scale", "0.05", "--end-year", "2025",
           "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and not out.exists()
    assert proc.stderr.splitlines() == [  # the refusal alone: no warning about the schedules it explains
        "qhsim: error: compare: the run ends in 2025, before any design differs from the base "
        "(super_deduction_120 from 2026): nothing to compare; run to 2026 or later (--end-year 2026)"]
    with pytest.raises(InputError, match="no design differs from the base baseline"):  # a copy of the base
        compare(SCENARIOS / "baseline.toml", [dataclasses.replace(design_from_file(SCENARIOS / "baseline.toml"),
                                                                   name="copy")], seeds=(1,), scale=0.05,
                end_year=2020, out=out)
    assert not out.exists()


def test_runs_in_which_no_design_differs_leave_the_store_unfinished(tmp_path: Path, monkeypatch) -> None:
    """Should the runs still show no difference in any year (a change that has no effect by the end), the comparison
    is refused after them, and its store stays "running": not readable as a finished comparison."""
    from qhsim.experiments import comparison
    from qhsim.experiments.comparison import open_comparison

    monkeypatch.setattr(comparison, "check_designs_act", lambda *args: None)  # past the check before the runs
    out = tmp_path / "store"
    with pytest.raises(InputError, match="no design differs from the base baseline in any year of the runs"):
        compare(SCENARIOS / "baseline.toml", [SCENARIOS / "super_deduction_120.toml"], seeds=(1,), scale=0.05,
                end_year=2025, out=out)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "running"
    assert not (out / "comparison.txt").exists()
    with pytest.raises(InputError, match="not finished"):
        open_comparison(out)


def test_comparison_text_carries_the_reduced_scale_and_base_year_notes(small_comparison) -> None:
    """comparison.txt lacked two caveats ``qhsim run`` prints: the reduced-scale note (scale 0.05 here) and, below
    P(target met), the note on a target the runs already meet in its plan's base year (read as an upper estimate)."""
    from qhsim import data
    from qhsim.output.report import base_year_notes, reduced_scale_note
    from qhsim.stats import WEIGHT

    res, out = small_comparison
    flat = "".join((out / "comparison.txt").read_text(encoding="utf-8").split())  # wrapped Chinese has no spaces
    assert "".join(reduced_scale_note(0.05).split()) in flat.split("indicatorchanges(median)", 1)[0]
    base = res.runs[res.runs["point"] == 0]
    keep = ["year", "region", *(c for c in base.columns if c in data.load("indicators") or c == WEIGHT)]
    frame = base[keep].assign(draw=base["seed"].to_numpy())
    notes = base_year_notes(frame, from_year=res.window[0])
    assert notes  # the runs meet Haixi's 2027 participation target in 2024 already
    targets = flat.split("达标概率P(targetmet)", 1)[1]
    for note in notes:
        assert "".join(note.split()) in targets
    # a target before the window, which the table does not show, gets no note there
    for note in set(base_year_notes(frame)) - set(notes):
        assert "".join(note.split()) not in targets


def test_a_design_whose_instruments_did_not_move_formats_without_an_instrument_table(small_comparison) -> None:
    """A design that moves no instrument's cost (its change equals the base's policy) leaves the by-instrument table
    empty: comparison.txt said nothing and crashed (abs of an empty text column) instead of printing its tables."""
    res, _ = small_comparison
    totals = res.leverage[res.leverage["instrument"] == "total"].reset_index(drop=True)
    text = format_comparison(dataclasses.replace(res, leverage=totals))
    assert "成本效益 Cost-effectiveness" in text and "分工具 By instrument" not in text


# --- prefecture audit (session 32): a design identical to its base; each prefecture's answer (--region) ---------


def test_a_design_identical_to_the_base_in_every_run_is_found_and_not_ranked() -> None:
    runs = runs_frame({0: [[10, 10, 10], [20, 20, 20]], 1: [[10, 11, 12], [20, 21, 22]], 2: [[10, 10, 10], [20, 20, 20]],
                       3: [[10, 10, 12], [20, 20, 20]]},
                      {0: [[1e4] * 3] * 2, 1: [[1e4, 2e4, 2e4]] * 2, 2: [[1e4] * 3] * 2, 3: [[1e4, 1e4, 2e4]] * 2})
    tables = analyse(runs, "d0", ["d1", "d2", "d3"])
    assert tables["identical"] == ["d2"]  # d3 differs in one run and one year only: not identical
    assert set(tables["ranking"]["design"]) == {"d1", "d3"}
    assert set(tables["pairwise"].index) == set(tables["pairwise"].columns) == {"d1", "d3"}
    assert "d2" in set(tables["changes"]["design"])  # its (zero) changes stay in changes.csv


@pytest.fixture(scope="module")
def haixi_reward_plus(tmp_path_factory: pytest.TempPathFactory):
    """The prefecture audit's Haixi-only design: the Haixi R&D reward fund doubled from 2026, which the base never
    uses up, beside two designs that act (more ex-ante grants, a larger super-deduction)."""
    folder = tmp_path_factory.mktemp("haixi")
    design = folder / "haixi_reward_plus.toml"
    design.write_text(f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n[run]\nname = "haixi_reward_plus"\n'
                      '[policy.rd_reward]\nprefectures = ["haixi"]\nbudget = { 2026 = 6000 }\n', encoding="utf-8")
    res = compare(SCENARIOS / "baseline.toml", [design, SCENARIOS / "more_ex_ante_grants.toml",
                                                SCENARIOS / "super_deduction_120.toml"],
                  seeds=(1, 2), scale=0.05, end_year=2027, out=folder / "store")
    write_comparison(res, charts=False)
    return res, folder / "store"


def test_an_identical_design_is_said_so_with_the_unused_budget_and_left_out_of_the_ranking(haixi_reward_plus) -> None:
    """A Haixi reward fund raised where the base spends a fraction of it was shown with zero changes, "no extra cost",
    ranked last and "beaten 100%": comparison.txt now says it is identical to the base in every run, why (the most the
    base spends a year in Haixi, from the runs' spend_rd_reward, against the 3,000万元 fund), and leaves it out of the
    change tables, the ranking and the pairwise table, saying so. A design whose budget binds gets no such reason."""
    from qhsim.experiments.comparison import idle_budgets

    res, out = haixi_reward_plus
    assert res.identical == ["haixi_reward_plus"]
    assert set(res.ranking["design"]) == set(res.pairwise.index) == {"more_ex_ante_grants", "super_deduction_120"}
    base = res.runs[(res.runs["point"] == 0) & (res.runs["region"] == "haixi") & res.runs["year"].between(2026, 2027)]
    [idle] = idle_budgets(res.runs, res.meta["scenarios"], res.base, "haixi_reward_plus")
    assert (idle.use.path, idle.use.region, idle.use.years, idle.use.smallest, idle.design_budget) == (
        "policy.rd_reward.budget", "haixi", (2026, 2027), 3000.0, 6000.0)
    assert idle.use.most == base["spend_rd_reward"].max() < 3000
    assert idle_budgets(res.runs, res.meta["scenarios"], res.base, "more_ex_ante_grants") == []
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    flat = " ".join(text.split())
    assert "方案1 haixi_reward_plus：与基准逐次相同 identical to the base in every run" in flat
    assert (f"the base spends at most {format_number(idle.use.most)}万元 a year in Haixi over 2026-2027, "
            f"{idle.use.most / 3000:.0%} of its 3,000万元/yr budget (the design's: 6,000万元/yr)") in flat
    assert "haixi_reward_plus − baseline" not in text  # no table of zeros
    ranking = text.split("排名 Ranking", 1)[1].split("达标概率", 1)[0]
    assert "Not ranked: haixi_reward_plus" in " ".join(ranking.split())
    assert all("haixi_reward_plus" not in line for line in ranking.splitlines() if not line.startswith("未参与排名"))


def test_each_prefectures_changes_and_money_add_up_to_the_provinces(small_comparison) -> None:
    """W1: changes.csv and leverage.csv hold every prefecture's rows below the province's (a region column); a count
    or an amount changes in the prefectures by as much as in the province, and the extra cost and R&D located in the
    prefectures sum to the province's. The province's rows read back are the comparison's own tables."""
    from qhsim import data

    res, out = small_comparison
    changes = pd.read_csv(out / "changes.csv", encoding="utf-8-sig")
    assert list(changes.columns[:2]) == ["design", "region"]
    assert list(dict.fromkeys(changes["region"])) == [PROVINCE, *data.prefecture_ids()]
    back = province_rows(changes)
    assert list(back.columns) == list(res.changes.columns) and len(back) == len(res.changes)
    assert back["mean"].to_numpy() == pytest.approx(res.changes["mean"].to_numpy(), nan_ok=True)
    for key in ("business_rd", "hte_count", "tech_contract_turnover"):
        window = changes[(changes["indicator"] == key) & (changes["period"] == "window")]
        prov = window[window["region"] == PROVINCE].set_index("design")["mean"]
        parts = window[window["region"] != PROVINCE].groupby("design")["mean"].sum()
        assert parts.reindex(prov.index).to_numpy() == pytest.approx(prov.to_numpy(), abs=1e-9), key
    lev = pd.read_csv(out / "leverage.csv", encoding="utf-8-sig")
    total = lev[lev["instrument"] == "total"]
    prov = total[total["region"] == PROVINCE].set_index("design")
    parts = total[total["region"] != PROVINCE].groupby("design")[["extra_cost", "extra_rd", "extra_public_rd"]].sum()
    for column in parts:
        assert parts[column].reindex(prov.index).to_numpy() == pytest.approx(prov[column].to_numpy(), abs=1e-9)


def test_a_prefectures_report_shows_its_changes_own_targets_and_money_spent_there(small_comparison) -> None:
    """W1: ``format_comparison(result, "haixi")`` (``qhsim compare --region haixi``): Haixi's indicator changes, the
    P(target met) of Haixi's own 2027 targets (not Haidong's), and the extra public money spent in Haixi with the
    extra R&D there, what that cost covers and why R&D per yuan there is partial; Haidong's 2025 targets with the note
    that they are the base's. A comparison without prefecture tables is refused in one line."""
    res, _ = small_comparison
    text = format_comparison(res, "haixi")
    flat = " ".join(text.split())
    assert "基准 base: baseline — 地区 region: 海西州 Haixi" in text
    assert "more_ex_ante_grants − baseline · 海西州 Haixi: 指标变化（中位数" in text
    targets = text.split("达标概率 P(target met)", 1)[1].split("\n\n", 1)[0]
    assert "研发投入强度 海西州" in targets and "2027" in targets and "海东市" not in targets
    # the marks the run's tables give: a verdict on an assumption (the campaign), explained by its note below
    assert re.search(r"研发投入强度 海西州\s+2027\s+[\d.]+\s+0\.70‡", targets) and "‡ 海西2027年研发投入强度" in text
    lev = res.regions["leverage"]
    own = lev[(lev["region"] == "haixi") & (lev["design"] == "more_ex_ante_grants") & (lev["instrument"] == "total")]
    effect = text.split("成本效益 海西州 Cost-effectiveness Haixi", 1)[1].split("\n\n", 1)[0]
    line = next(line for line in effect.splitlines() if line.startswith("more_ex_ante_grants"))
    r = own.iloc[0]
    assert format_interval(r["extra_cost"], r["extra_cost_p05"], r["extra_cost_p95"], True) in line
    assert format_interval(r["extra_rd"], r["extra_rd_p05"], r["extra_rd_p95"], True) in line
    assert "plus its firms' tax expenditure" in flat and "so this ratio is partial" in flat
    assert "排名 Ranking" not in text and "The by-instrument table is the province's: see comparison.txt" in flat
    assert all(display_width(line) <= 100 for line in text.splitlines())
    haidong = " ".join(format_comparison(res, "haidong").split())
    assert "研发投入强度 海东市 2025" in haidong
    assert "The targets of 2025: no design differs from the base before 2026, so their P(target met) is the base's." in haidong
    with pytest.raises(InputError, match=r"^--region haixi: this comparison has no prefecture tables"):
        format_comparison(dataclasses.replace(res, regions={}), "haixi")


def test_a_prefectures_target_table_shows_where_its_plan_starts(small_comparison) -> None:
    """``qhsim compare --region haixi`` gave Haixi's 2027 targets and P(met) without where Haixi starts: its table now
    has the base's median in 2024, the year its plan is assumed to start from (before the window, every design's), as
    ``qhsim run``'s Haixi table shows it; Haidong's, whose plan starts from observed 2020, and the province's have
    none."""
    res, _ = small_comparison
    text = format_comparison(res, "haixi")
    targets = text.split("达标概率 P(target met)", 1)[1].split("\n\n", 1)[0]
    lines = targets.splitlines()
    assert lines[1].split()[:4] == ["目标", "年份", "2024模拟", "目标值"] and "sim 2024" in lines[2]
    base = res.runs[(res.runs["point"] == 0) & (res.runs["region"] == "haixi") & (res.runs["year"] == 2024)]
    for key, label in (("rd_intensity", "研发投入强度 海西州"), ("tech_firms_three_types", "科技“三型”企业数 海西州")):
        row = next(line for line in lines if line.startswith(label)).split()
        assert row[3] == format_value(base[key].median(), key), key  # label, region, year, start
    assert "sim 2024: the year Haixi's plan starts from, the median of the base's runs" in " ".join(text.split())
    for region in ("haidong", PROVINCE):
        table = format_comparison(res, region).split("达标概率 P(target met)", 1)[1].split("\n\n", 1)[0]
        assert "模拟" not in table.splitlines()[1], region


def test_a_prefectures_report_ranks_the_designs_on_the_money_spent_there(small_comparison) -> None:
    """``qhsim compare --region haixi`` said the ranking was the province's: an analyst asking which design buys the
    most R&D in Haixi per public yuan, and how surely, had Haixi's ratios without P(first). The prefecture's report now
    ranks the designs on each run's R&D in Haixi per public yuan spent there, as the province's ranking does on the
    province's: P(first) and P(row beats column) checked here against the runs' own sums."""
    from qhsim.experiments.comparison import fiscal_columns

    res, _ = small_comparison
    runs = res.runs[(res.runs["region"] == "haixi") & res.runs["year"].between(*res.window)]
    sums = runs.groupby(["point", "draw", "seed"])[["business_rd", *fiscal_columns(runs)]].sum()
    extra = {d: sums.loc[i + 1] - sums.loc[0] for i, d in enumerate(res.designs)}
    ratio = pd.DataFrame({d: e["business_rd"] / (e.drop(columns="business_rd").sum(axis=1) / 1e4)
                          for d, e in extra.items()})
    assert len(ratio) == 2 and ratio.notna().all().all()
    first = ratio.idxmax(axis=1).value_counts(normalize=True).reindex(res.designs, fill_value=0.0)
    text = format_comparison(res, "haixi")
    ranking = text.split("排名 海西州 Ranking Haixi", 1)[1].split("\n\n", 1)[0]
    rows = {line.split()[1]: line.split() for line in ranking.splitlines() if re.match(r"\s+\d\s", line)}
    assert set(rows) == set(res.designs)
    for design in res.designs:
        assert format_percent(first[design]) in rows[design], (design, rows[design])
    pairwise = text.split("两两比较 海西州 Pairwise Haixi", 1)[1].split("\n\n", 1)[0]
    a, b = res.designs
    line = next(line for line in pairwise.splitlines() if line.startswith(f"1 {a}"))
    assert line.split()[-1] == format_percent((ratio[a] > ratio[b]).mean())
    province = format_comparison(res)
    assert "排名 Ranking (" in province and "海西州 Ranking" not in province  # the province's own, unchanged


def _target_rows(text: str) -> dict[str, list[str]]:
    """comparison.txt's P(target met) rows by their Chinese label's first line: year, value and one cell per design
    (the tables of a comparison split over several are joined; a prefecture's start column, ``2024模拟``, left out)."""
    rows: dict[str, list[str]] = {}
    for block in text.split("达标概率 P(target met)")[1:]:
        lines = block.split("\n\n", 1)[0].splitlines()
        for line in lines[4:]:
            cells = re.split(r"\s{2,}", line.strip())
            if "模拟" in lines[1] and len(cells) > 2:
                del cells[2]
            if len(cells) >= 4 and re.fullmatch(r"\d{4}", cells[1]):
                rows[cells[0]] = [*rows[cells[0]], *cells[3:]] if cells[0] in rows else cells[1:]
    return rows


def test_p_target_met_rows_carry_every_mark_and_keep_the_targets_not_judged(small_comparison) -> None:
    """comparison.txt and ``--region``: a target on another definition than the model's (†: Haixi's platforms, not
    comparable) keeps its row, "—" in every design's column, as the workbook and the HTML report show it not judged;
    a P(met) whose runs all give the same value carries § in that design's column (``deterministic`` of targets.csv,
    the workbook's and HTML's rule, ``deterministic_verdict``), no other does, and the § note below explains it."""
    from qhsim import data
    from qhsim.output.report import region_label
    from qhsim.targets import load_targets

    res, out = small_comparison
    indicators = data.load("indicators")
    names = [res.base, *res.designs]
    for region, text in ((PROVINCE, (out / "comparison.txt").read_text(encoding="utf-8")),
                         ("haixi", format_comparison(res, "haixi"))):
        rows = _target_rows(text)
        tg = res.targets if region == PROVINCE else res.targets[res.targets["region"] == region]
        tg = tg[tg["year"] >= res.window[0]] if region == PROVINCE else tg
        plan = load_targets()
        other = plan[~plan["comparable"].astype(bool) & (plan["year"] <= 2027)]
        assert len(other), "a target on another definition within the horizon"
        for t in other.itertuples():
            label = f"{indicators[t.indicator]['zh']} {region_label(t.region, 'zh')}"
            assert label in rows, label
            assert rows[label][1].endswith("†") and rows[label][2:] == ["—"] * len(names)
        assert "not comparable, not judged" in " ".join(text.split())
        alike = tg[tg["deterministic"].eq(True) & tg["p_met"].notna()]
        assert len(alike), "Haixi's science literacy: the same path in every run"
        plan_rows = tg[tg["kind"] != "reference_path"]
        for t in plan_rows.itertuples():
            cells = rows[f"{indicators[t.indicator]['zh']} {region_label(t.region, 'zh')}"][2:]
            cell = cells[names.index(t.design)]
            assert cell.endswith("§") == (bool(t.deterministic) and not math.isnan(t.p_met)), (t, cell)
        assert "各次运行结果相同，达标概率是确定性判断，不是概率" in text and "\n§ " in text
    stored = pd.read_csv(out / "targets.csv", encoding="utf-8-sig")
    assert stored["deterministic"].tolist() == res.targets["deterministic"].tolist()


def test_a_design_row_carries_its_short_chinese_name_below_its_id(small_comparison) -> None:
    """Every comparison table named a design by its code (super_deduction_120); its Chinese description stood only in
    the list of designs above. Each row of a design in comparison.txt's cost-effectiveness, ranking and pairwise tables
    (and a prefecture's) now has its short Chinese name below its id, the Chinese half of the scenario's description,
    within 100 columns."""
    from qhsim.results import design_short_name

    res, out = small_comparison
    scenarios = res.meta["scenarios"]
    assert design_short_name(scenarios, "super_deduction_120", res.base) == "加计扣除提高至120%"
    vouchers = {"vouchers": {"run": {"description": "科技创新券扩容至5000万元/年 / Innovation vouchers expanded"}}}
    assert design_short_name(vouchers, "vouchers", "baseline") == "科技创新券扩容至5000万元/年"  # its own "/" kept
    for text in ((out / "comparison.txt").read_text(encoding="utf-8"), format_comparison(res, "haixi")):
        for title in ("成本效益", "排名", "两两比较"):
            block = text.split(f"\n{title}", 1)[1].split("\n\n", 1)[0].splitlines()
            for design, short in (("super_deduction_120", "加计扣除提高至120%"), ("more_ex_ante_grants", "事前立项资助翻倍")):
                at = next(i for i, line in enumerate(block) if re.search(rf"(^|\s){design}\s", line))
                assert block[at + 1].strip() == short, (title, block[at + 1])
        assert all(display_width(line) <= 100 for line in text.splitlines())


def test_a_design_name_is_not_broken_where_stacking_the_intervals_keeps_it_whole():
    """comparison.txt's tables wrap their labels to fit 100 columns; a design's Chinese name broken inside a word
    (新认定高企奖励提高至50万 / 元) reads wrong, so where putting each interval below its value keeps every label whole,
    the table does that instead."""
    from qhsim.experiments import report as compare_report

    name = "hte_reward_raised\n新认定高企奖励提高至50万元"
    heads = [["方案", "额外公共投入亿元", "税式支出", "额外企业研发亿元", "每元带动企业研发"],
             ["design", "extra public cost", "tax exp.", "extra business R&D", "R&D per public yuan"]]
    body = [[name, "+10.34 [+8.15, +12.54]", "+10.32", "+19.86 [+14.43, +25.28]", "1.92 [1.76, 2.01]"]]
    left = [True, False, False, False, False]
    plain = compare_report.format_table(heads, body, left, "t", width=compare_report.TEXT_WIDTH)
    assert "新认定高企奖励提高至50万元" not in plain  # the case: in one line per value the name wraps
    text = compare_report._table(heads, body, left, "t")
    assert "新认定高企奖励提高至50万元" in text and "hte_reward_raised" in text
    assert max(map(display_width, text.splitlines())) <= compare_report.TEXT_WIDTH
    second = next(line for line in text.splitlines() if line.startswith("新认定高企奖励提高至50万元"))
    assert second.rstrip().endswith("[1.76, 2.01]")  # the name's line carries the intervals, below their values


def test_a_design_that_leaves_its_budget_unspent_is_said_so(tmp_path, small_comparison) -> None:
    """A grant budget four times the base's acts (more grants are paid), but too few firms qualify to spend it:
    comparison.txt said nothing, so the budget read as money spent. It now names the design, what it spends a year
    against its budget, and that the tables count the money spent; a design that sets no budget is not named."""
    from qhsim.experiments.comparison import unspent_budgets
    from qhsim.experiments.report import unspent_budget_text

    design = tmp_path / "grants_x4.toml"
    design.write_text(f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n[run]\nname = "grants_x4"\n'
                      'description = "事前立项资助预算增至4倍 / Ex-ante grant budget x4"\n'
                      '[policy.ex_ante_grants]\nbudget = { 2026 = 60000 }\n', encoding="utf-8")
    out = tmp_path / "store"
    res = compare(SCENARIOS / "baseline.toml", [design, SCENARIOS / "super_deduction_120.toml"], seeds=(1,),
                  scale=0.05, end_year=2027, out=out)
    scenarios = res.meta["scenarios"]
    (use,) = unspent_budgets(res.runs, scenarios, res.base, "grants_x4")
    assert use.path == "policy.ex_ante_grants.budget" and use.budget == 60000 and 0 < use.share < 0.9
    assert unspent_budgets(res.runs, scenarios, res.base, "super_deduction_120") == []
    text = format_comparison(res)
    note = unspent_budget_text(res)
    assert "grants_x4" in note and "super_deduction_120" not in note and f"{use.share:.0%}" in note
    assert "".join(note.split()) in "".join(text.split())
    # the workbook's and the HTML report's cost-effectiveness note (the store written, then read back as `qhsim
    # export` reads it), and the dashboard's, say it too
    from qhsim.dashboard.compare import summary_notes
    from qhsim.output.tables import omitted_cost_notes
    from qhsim.output.tidy import load_results

    write_comparison(res)
    results = load_results(out)
    assert note in omitted_cost_notes(results)
    assert note in summary_notes(pd.DataFrame({"x": [""]}), res)  # a paragraph of its own
    # a comparison whose designs use their budgets (or set none) says nothing of it
    small, _ = small_comparison
    assert unspent_budgets(small.runs, small.meta["scenarios"], small.base, "super_deduction_120") == []


def test_deductions_carried_past_the_window_are_said_below_the_cost_tables(small_comparison) -> None:
    """A design that leaves materially more (or less) deduction carried past the window's end than the base (firms
    whose taxable profit cannot absorb it) is named with the amount and its tax at the base's standard rate at most:
    future tax expenditure, outside the window's public cost. The text, the HTML report and the manifest (which the
    workbook of a store read back uses) say so; a design whose change is not material is not named."""
    from qhsim.output.numbers import MONEY_DIGITS, format_fixed

    res, out = small_comparison
    end = res.window[1]
    ch = res.changes.set_index(["design", "indicator", "period"])["mean"]
    cost = res.leverage[res.leverage["instrument"] == "total"].set_index("design")["extra_cost"]
    flat = " ".join((out / "comparison.txt").read_text(encoding="utf-8").split())
    note = flat[flat.index(f"Deduction carried past {end}"):].split("not in the public cost above")[0]
    named = 0
    for design in res.designs:
        carried = ch[(design, "super_deduction_carried", str(end))] / 1e4
        said = (f"{design} {format_fixed(carried, MONEY_DIGITS, True)}亿 (at most "
                f"{format_fixed(0.25 * abs(carried), MONEY_DIGITS)}亿 {'less' if carried < 0 else 'more'} tax)")
        material = 0.25 * abs(carried) >= 0.1 * abs(cost[design])
        assert (said in note) == material, design
        named += material
    carried = ch[("super_deduction_120", "super_deduction_carried", str(end))]
    assert carried > 0 and named >= 1  # the super-deduction design carries more: named
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any(note.startswith("加计扣除结转") and f"Deduction carried past {end}" in note for note in manifest["cost_notes"])
    assert '<p class="note">加计扣除结转' in (out / "report.html").read_text(encoding="utf-8")  # a paragraph of its own
    from openpyxl import load_workbook
    ws = load_workbook(out / "report.xlsx")["成本效益 Cost-effectiveness"]
    assert any(str(c.value).startswith("加计扣除结转") for row in ws.iter_rows() for c in row if c.value)


def test_a_design_that_carries_less_than_its_base_is_said_to_save_future_tax() -> None:
    from types import SimpleNamespace

    from qhsim.experiments.report import carried_deduction_text

    changes = pd.DataFrame({"design": ["cut", "raise", "small"], "indicator": "super_deduction_carried",
                            "period": "2035", "mean": [-200_000.0, 300_000.0, 1_000.0]})  # 万元
    leverage = pd.DataFrame({"design": ["cut", "raise", "small"], "instrument": "total", "extra_cost": [-3.0, 5.0, 5.0]})
    res = SimpleNamespace(window=(2026, 2035), changes=changes, leverage=leverage, meta={}, base="baseline")
    text = carried_deduction_text(res)
    assert "cut -20.00亿 (at most 5.00亿 less tax)" in text and "cut -20.00亿元（税额至多少5.00亿元）" in text
    assert "raise +30.00亿 (at most 7.50亿 more tax)" in text and "small" not in text  # 0.025亿 of tax: not material


def test_a_store_of_an_older_qhsim_keeps_its_unspent_budget_note() -> None:
    from qhsim.output.tidy import stored_cost_notes

    assert stored_cost_notes({"unspent_budgets": "预算未用足 Budget not used up"}) == ["预算未用足 Budget not used up"]
    assert stored_cost_notes({"unspent_budgets": ""}) == [] and stored_cost_notes({}) == []
    assert stored_cost_notes({"cost_notes": ["a", "b"], "unspent_budgets": "old"}) == ["a", "b"]
