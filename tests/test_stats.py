"""Weighted statistics over runs (qhsim.stats): numpy's estimators for equal weights, sensible ones otherwise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qhsim import stats


def test_equal_weights_give_numpy_exactly_and_the_general_formula_agrees() -> None:
    rng = np.random.default_rng(3)
    qs = (0.0, 0.05, 0.25, 0.5, 0.9, 0.95, 1.0)
    for n in (1, 2, 3, 10, 45):
        v = rng.normal(size=n)
        assert stats.quantile(v, np.full(n, 0.2), qs) == list(np.quantile(v, qs))  # the fast path: identical
        w = np.full(n, 0.2)
        w[0] *= 1 + 1e-13  # unequal by a hair: the weighted type-7 estimator, equal to numpy's within rounding
        assert stats.quantile(v, w, qs) == pytest.approx(list(np.quantile(v, qs)), abs=1e-9)
        assert stats.mean(v, np.full(n, 3.0)) == float(v.mean())


def test_unequal_weights_pull_towards_heavy_values() -> None:
    v = np.array([0.0, 1.0, 2.0])
    assert stats.quantile(v, [1.0, 1.0, 1e-12]) == pytest.approx(np.quantile([0.0, 1.0], (0.05, 0.5, 0.95)))
    low, mid, high = stats.quantile(v, [0.05, 0.05, 0.9])
    assert 1.0 < low < mid < high <= 2.0 and mid > 1.8  # most of the weight on 2
    assert stats.mean(v, [1, 1, 2]) == pytest.approx(1.25)
    assert stats.median([5.0, 1.0, float("nan")], [0.7, 0.3, 0.5]) > 3.0  # NaN values are skipped
    assert math.isnan(stats.median([float("nan")], [1.0]))


def test_probability_counts_known_flags_by_weight() -> None:
    assert stats.probability([True, None, False], [0.6, 0.3, 0.1]) == pytest.approx(6 / 7)
    assert stats.probability([True, False, False]) == pytest.approx(1 / 3)
    assert math.isnan(stats.probability([None, None], [0.5, 0.5]))


def test_missing_weights_are_an_error_not_dropped_runs() -> None:
    with pytest.raises(ValueError, match="finite and non-negative"):
        stats.mean([1.0, 2.0], [0.5, float("nan")])


def test_by_group_weighs_runs_where_they_carry_weights() -> None:
    import pandas as pd

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"point": np.repeat([1, 2, 3], 4), "x": rng.normal(size=12), "y": rng.normal(size=12)})
    plain = stats.by_group(frame, ["point"], ["x", "y"])
    assert list(plain.columns) == ["x_mean", "y_mean", "x_p05", "y_p05", "x_p95", "y_p95"]
    assert plain.loc[2, "x_p95"] == pytest.approx(np.quantile(frame.loc[frame.point == 2, "x"], 0.95))
    pd.testing.assert_frame_equal(plain, stats.by_group(frame.assign(weight=0.25), ["point"], ["x", "y"]))
    w = np.tile([0.7, 0.1, 0.1, 0.1], 3)
    weighted = stats.by_group(frame.assign(weight=w), ["point"], ["x", "y"])
    for p in (1, 2, 3):
        part = frame[frame.point == p]
        q = stats.summary(part["y"], w[:4])
        assert weighted.loc[p, ["y_mean", "y_p05", "y_p95"]].tolist() == pytest.approx([q["mean"], q["p05"], q["p95"]])
        assert weighted.loc[p, "x_mean"] == pytest.approx(np.average(part["x"], weights=w[:4]))


def test_by_group_of_weighted_runs_takes_each_group_at_numpy_speed(monkeypatch) -> None:
    """``qhsim export`` of a comparison with parameter draws spent 13 of its 22 s in the workbook's by-year sheets:
    ``by_group`` over weighted runs went through pandas' ``apply`` group by group (23,000 groups a region). It now calls
    the same ``quantile`` and ``mean`` on each group's numpy rows, without ``apply``: the same numbers, exactly, in the
    groups' order of first appearance, a group of NaN values NaN."""
    import pandas as pd
    from pandas.core.groupby import DataFrameGroupBy

    def refused(*args, **kwargs):
        raise AssertionError("by_group went through DataFrameGroupBy.apply")

    monkeypatch.setattr(DataFrameGroupBy, "apply", refused)
    rng = np.random.default_rng(7)
    n = 600
    frame = pd.DataFrame({"design": rng.choice(["b", "a", "c"], n), "year": rng.integers(2020, 2030, n),
                          "x": rng.normal(size=n), "y": rng.lognormal(size=n), "weight": rng.choice([0.5, 1.5, 3.0], n)})
    frame.loc[frame["design"] == "c", "y"] = np.nan
    frame.loc[rng.choice(n, 40), "x"] = np.nan
    table = stats.by_group(frame, ["design", "year"], ["x", "y"], ("mean", "p05", "median", "p95"))
    assert list(table.index) == list(dict.fromkeys(zip(frame["design"], frame["year"])))
    for (design, year), part in frame.groupby(["design", "year"], sort=False):
        for v in ("x", "y"):
            want = [stats.mean(part[v], part["weight"]), *stats.quantile(part[v], part["weight"], (0.05, 0.5, 0.95))]
            got = table.loc[(design, year), [f"{v}_{s}" for s in ("mean", "p05", "median", "p95")]].tolist()
            assert got == want or (np.isnan(got).all() and np.isnan(want).all()), (design, year, v)
