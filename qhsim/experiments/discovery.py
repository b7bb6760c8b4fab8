"""Scenario discovery 情景发现: which lever settings of a sweep reach a target with probability >= p (PRIM).

For each design point of a sweep store, P(indicator >= threshold in the year) is the share of its runs
(draws x seeds, each weighing what its parameter draw stands for, ``qhsim.stats``) that reach it; a point
*succeeds* when that share is at least ``probability``. PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999) then peels the lever space down to boxes where
successes concentrate. We use EMA Workbench's maintained implementation (``ema_workbench.analysis.prim``).

- coverage: share of all successful points that lie in the box;
- density: share of the points in the box that succeed.

A numeric lever's box limits are the lowest and highest values tested inside PRIM's cut points
(``tested_limits``), so the box names only settings that were run.

The chosen box is the one with the highest coverage among the boxes on the peeling trajectory whose density
is at least ``min_density``, and among equal coverage the densest (else the densest). A store whose sweep is not
finished is refused (``qhsim.output.tidy.sweep_finished``): its points would rest on different runs. Numeric levers get [low, high] limits; string and schedule
levers get the set of levels kept.
"""

from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qhsim import data, stats
from qhsim.errors import InputError
from qhsim.experiments.comparison import check_region
from qhsim.experiments.store import read_manifest, read_runs, write_atomic
from qhsim.experiments.report import TEXT_WIDTH
from qhsim.output.report import (format_number, format_table, indicator_label, reduced_scale_note, region_label,
                                 wrap)
from qhsim.output.tidy import lever_text, sweep_finished
from qhsim.results import PROVINCE, UNSPENT_NOTE, unspent_points_text
from qhsim.stats import WEIGHT

MIN_DENSITY = 0.8
# why no box was chosen, (Chinese, English): ``DiscoveryResult.note``, shown as is by qhsim discover and the dashboard
NO_POINT_SUCCEEDS = ("没有设计点以所需概率达到阈值", "no design point reaches the target with that probability")
EVERY_POINT_SUCCEEDS = ("所有设计点都达到阈值：无需限制杠杆", "every design point reaches the target: no restriction needed")
LEVERS_DO_NOT_VARY = ("杠杆取值没有变化", "the levers do not vary")
NOTES = (NO_POINT_SUCCEEDS, EVERY_POINT_SUCCEEDS, LEVERS_DO_NOT_VARY)
# a box limit's kind, as the text shows it; "value" for a numeric lever the box keeps at one tested value
KINDS = {"range": ("范围", "range"), "levels": ("水平", "levels"), "value": ("单一取值", "one value")}

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class DiscoveryResult:
    """PRIM on one sweep: the per-point success table, the peeling trajectory and the chosen box."""

    indicator: str
    year: int
    threshold: float
    probability: float
    region: str
    points: pd.DataFrame  # point, lever values, p_reach, success
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling step
    box: pd.DataFrame  # lever, kind, low, high, levels (restricted levers only)
    chosen: int | None  # index of the chosen box on the trajectory
    coverage: float
    density: float
    note: tuple[str, str] = ("", "")  # (Chinese, English): one of ``NOTES`` where no box was chosen
    min_density: float = MIN_DENSITY  # the density the chosen box had to reach (else it is the densest)
    base_reach: float = math.nan  # P(reach) of the base (point 0): a success the base shares is not the levers'
    scale: float = 1.0  # the sweep's scale: below 1 the levels, a prefecture's above all, are not to be read alone
    unspent: tuple[int, ...] = ()  # points whose budget is materially unspent (summary.csv's budget_unspent) ...
    unspent_year: int | None = None  # ... up to this report year (the last at or before ``year``)


def point_table(runs: pd.DataFrame, levers: list[str], indicator: str, year: int, threshold: float,
                probability: float, region: str = PROVINCE) -> pd.DataFrame:
    """Per design point (the base, point 0, included): lever values, P(indicator >= threshold), the runs it rests
    on, success."""
    rows = runs[(runs["region"] == region) & (runs["year"] == year)]
    if rows.empty:
        raise InputError(f"--year {year} / --region {region}: no such rows in the sweep (years "
                         f"{int(runs['year'].min())}-{int(runs['year'].max())})")
    weighted = WEIGHT in rows  # runs of --draws weigh what their draw stands for (qhsim.stats)
    reach = rows.groupby("point")[[indicator, *([WEIGHT] if weighted else [])]].apply(
        lambda g: stats.mean(g[indicator] >= threshold, g[WEIGHT] if weighted else None)).rename("p_reach")
    settings = rows.groupby("point")[levers].first()
    table = settings.join(reach).join(rows.groupby("point").size().rename("runs")).reset_index()
    table["success"] = table["p_reach"] >= probability
    return table


def tested_limits(values: pd.Series, low: float, high: float) -> tuple[float, float]:
    """A box's limits on a numeric lever moved inward to the lever's tested values inside them: PRIM cuts between
    tested levels (a factorial sweep of 1.0 and 1.5 gave "1.25-1.50"), which read as values that were run. The box
    holds the same points."""
    inside = values[(values >= low) & (values <= high)]
    return (float(inside.min()), float(inside.max())) if len(inside) else (float(low), float(high))


def prim_boxes(x: pd.DataFrame, y: np.ndarray, min_density: float = MIN_DENSITY) -> tuple[pd.DataFrame, pd.DataFrame, int, float, float]:
    """PRIM (EMA Workbench) on lever settings ``x`` and successes ``y``: trajectory, chosen box limits,
    its index, coverage and density."""
    with warnings.catch_warnings():  # EMA Workbench warns on import (optional ipyparallel) and on pandas 3
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        box = prim.Prim(x, y.astype(bool), mass_min=max(0.05, 1.0 / len(y)))
        found = box.find_box()
        traj = found.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
        ok = traj[traj["density"] >= min_density]
        # the highest coverage, and among equal coverage the densest (a later step holding the same successes and
        # fewer failures beats an earlier one); else the densest, and among equal density the widest
        chosen = int((ok if len(ok) else traj).sort_values(["coverage", "density"] if len(ok) else
                                                           ["density", "coverage"], kind="stable").index[-1])
        lims = found.box_lims[chosen]
        full = found.box_lims[0]
    rows = []
    for lever in x.columns:
        lo, hi = lims.at[0, lever], lims.at[1, lever]
        if isinstance(lo, set):
            if lo != full.at[0, lever]:
                rows.append({"lever": lever, "kind": "levels", "low": math.nan, "high": math.nan,
                             "levels": "; ".join(sorted(map(lever_text, lo)))})
        else:
            lo, hi = tested_limits(x[lever], lo, hi)
            if (lo, hi) != (full.at[0, lever], full.at[1, lever]):
                rows.append({"lever": lever, "kind": "range", "low": lo, "high": hi, "levels": ""})
    box_table = pd.DataFrame(rows, columns=["lever", "kind", "low", "high", "levels"])
    return traj, box_table, chosen, float(traj.at[chosen, "coverage"]), float(traj.at[chosen, "density"])


def discover(store: str | Path, indicator: str, year: int, threshold: float, probability: float = 0.8,
             region: str = PROVINCE, min_density: float = MIN_DENSITY) -> DiscoveryResult:
    """Scenario discovery on a sweep store (see the module docstring)."""
    region = check_region(region)  # before the store is read
    store = Path(store)
    manifest = read_manifest(store)
    if manifest.get("kind") != "sweep":
        raise InputError(f"{store}: not a sweep store (kind {manifest.get('kind')!r}); run qhsim sweep --out first")
    sweep_finished(store, manifest)
    if indicator not in data.load("indicators"):
        near = difflib.get_close_matches(indicator, list(data.load("indicators")), 1)
        raise InputError(f"--indicator {indicator}: not an indicator of qhsim/data/indicators.toml"
                         + (f" (did you mean {near[0]}?)" if near else ""))
    if not math.isfinite(threshold):
        raise InputError(f"--threshold {threshold}: allowed a finite number (the indicator's value to reach)")
    if not 0.0 < probability <= 1.0:
        raise InputError(f"--probability {probability}: allowed range (0, 1]")
    experiment = manifest["experiment"]
    levers = [n for n in experiment.get("levers", [])]
    if not levers:
        raise InputError(f"{store}: the sweep has no levers to discover regions of")
    first, last = int(experiment["from_year"]), int(experiment["end_year"])
    if not first <= year <= last:  # before from_year every point is its base: PRIM would split identical runs
        raise InputError(f"--year {year}: allowed years [{first}, {last}]: the sweep's levers hold from from_year = "
                         f"{first} (before it every point is the base) and its runs end in {last}")
    table = point_table(read_runs(store), levers, indicator, year, threshold, probability, region)
    base = table[table["point"] == 0]
    base_reach = float(base["p_reach"].iloc[0]) if len(base) else math.nan
    table = table[table["point"] > 0].reset_index(drop=True)
    x = table[levers].copy()
    for lever in levers:
        numeric = pd.to_numeric(x[lever], errors="coerce")
        if numeric.notna().all():
            x[lever] = numeric.astype(float)
        else:
            x[lever] = x[lever].astype(str).astype("category")
    x = x.loc[:, x.nunique() > 1]
    y = table["success"].to_numpy()
    empty = pd.DataFrame(columns=["lever", "kind", "low", "high", "levels"])
    no_traj = pd.DataFrame(columns=["coverage", "density", "mass", "res_dim"])
    args = (indicator, year, threshold, probability, region, table)
    context = {"base_reach": base_reach, "scale": float(experiment.get("scale", 1.0)), **unspent_points(store, year)}
    if not y.any():
        return DiscoveryResult(*args, no_traj, empty, None, math.nan, math.nan, NO_POINT_SUCCEEDS, **context)
    if y.all() or x.empty:
        return DiscoveryResult(*args, no_traj, empty, None, 1.0, float(y.mean()),
                               EVERY_POINT_SUCCEEDS if y.all() else LEVERS_DO_NOT_VARY, **context)
    traj, box, chosen, coverage, density = prim_boxes(x, y, min_density)
    return DiscoveryResult(*args, traj, box, chosen, coverage, density, min_density=min_density, **context)


def unspent_points(store: Path, year: int) -> dict[str, object]:
    """The points whose budget is materially unspent (summary.csv's ``budget_unspent``, ``qhsim.experiments.sweep``)
    in the last report year at or before ``year``, as ``DiscoveryResult``'s ``unspent`` and ``unspent_year``; none for
    a summary without that column (an older qhsim's) or without such a year."""
    path = store / "summary.csv"
    summary = pd.read_csv(path, encoding="utf-8-sig") if path.is_file() else pd.DataFrame()
    if "budget_unspent" not in summary or not (summary["year"] <= year).any():
        return {}
    last = int(summary.loc[summary["year"] <= year, "year"].max())
    rows = summary[(summary["year"] == last) & summary["budget_unspent"].astype(bool)]
    return {"unspent": tuple(int(p) for p in rows["point"]), "unspent_year": last} if len(rows) else {}


def unspent_words(res: DiscoveryResult) -> str:
    """Which points' budget is materially unspent (``unspent_points``), that a budget lever's value is not money spent
    (``UNSPENT_NOTE``): a box over a budget lever names budgets, not what was spent; "" where none."""
    if not res.unspent:
        return ""
    return f"{unspent_points_text(res.unspent, res.unspent_year, ', summary.txt')} {UNSPENT_NOTE[0]} {UNSPENT_NOTE[1]}"


SHOWN_POINTS = 24  # the points' P(reach) are listed when a sweep has at most this many


def points_block(res: DiscoveryResult, levers: list[str]) -> str:
    """The runs each point's P(reach) rests on (with few, a point near the threshold succeeds or fails by chance)
    and, for a small sweep, each point's lever settings and P(reach)."""
    pts = res.points
    low, high = int(pts["runs"].min()), int(pts["runs"].max())
    runs = str(low) if low == high else f"{low}–{high}"  # the points of an older, unfinished store may differ
    undecided = int(((pts["p_reach"] > 0) & (pts["p_reach"] < 1)).sum())
    if undecided:
        zh = f"{len(pts)}个点中{undecided}个点只有部分运行达到阈值（用 qhsim sweep 增加 --seeds 可判定）"
        en = (f"at {undecided} of {len(pts)} points only some runs reach the threshold (qhsim sweep with more --seeds "
              "would settle them)")
    else:
        zh, en = "每个点的各次运行结果一致", "at every point the runs agree"
    lines = wrap(f"每点{runs}次运行，{zh}。 {runs} runs per point; {en}.", TEXT_WIDTH)
    if len(pts) <= SHOWN_POINTS:
        body = [[str(r["point"]), *(lever_text(r[lv]) for lv in levers), f"{r['p_reach']:.0%}",
                 "是 yes" if r["success"] else "否 no"] for r in pts.to_dict("records")]
        lines.append(format_table([["点", *levers, "达到概率", "成功"], ["point", *[""] * len(levers), "P(reach)",
                                                                          "success"]],
                                  body, [False, *[False] * len(levers), False, True], "各设计点 Design points",
                                  width=TEXT_WIDTH))
    return "\n".join(lines)


def target_words(res: DiscoveryResult) -> str:
    """What the points must reach, in both languages with the unit: ``研发投入强度 R&D expenditure / GDP (%) >= 1.00
    in 2030, 青海省 Qinghai Province, P >= 80%``."""
    return (f"{indicator_label(res.indicator)} >= {format_number(res.threshold)} in {res.year}, "
            f"{region_label(res.region)}, P >= {res.probability:.0%}")


def box_words(res: DiscoveryResult) -> str:
    """Which box of the peeling trajectory was chosen and why (``prim_boxes``): "box 11" said neither."""
    steps, least = len(res.trajectory) - 1, f"{res.min_density:.0%}"
    why = (f"密度≥{least}的框中覆盖率最高（同覆盖率取密度最高者） the highest coverage among the boxes of density >= "
           f"{least} (among equal coverage, the densest)" if res.density >= res.min_density
           else f"无框密度达{least}，取最密者 no box reaches density {least}: the densest")
    return (f"选中的框 Chosen box: 剥离轨迹第{res.chosen}步（共{steps}步，第0步为全部点） step {res.chosen} of the "
            f"{steps} steps of PRIM's peeling trajectory (step 0: all points), {why}: 覆盖率 coverage {res.coverage:.0%} "
            f"(成功点在框内的比例 of the successful points inside it), 密度 density {res.density:.0%} (框内点成功的比例 of "
            "the points inside that succeed).")


def base_words(res: DiscoveryResult) -> str:
    """The base's (point 0's) P(reach), and where it reaches the target with the required probability too, that the
    points' success is not the levers' doing ("every point succeeds" read as "the levers work")."""
    if math.isnan(res.base_reach):
        return ""
    p = f"{res.base_reach:.0%}"
    if res.base_reach >= res.probability:
        return (f"基准（点0，不调整杠杆）达到概率{p}，也达到所需概率：达标不靠所扫描的杠杆。 The base (point 0, no lever "
                f"changed): P(reach) {p}, which meets the required probability too: reaching it is not the levers' doing.")
    return f"基准（点0，不调整杠杆）达到概率{p}。 The base (point 0, no lever changed): P(reach) {p}."


def format_discovery(res: DiscoveryResult) -> str:
    n, k = len(res.points), int(res.points["success"].sum())
    head = "\n".join(wrap(f"情景发现 Scenario discovery (PRIM): {target_words(res)}", TEXT_WIDTH)
                     + wrap(f"{n}个设计点中{k}个成功 {k} of {n} design points succeed.", TEXT_WIDTH)
                     + wrap(base_words(res), TEXT_WIDTH))
    levers = [c for c in res.points.columns if c not in ("point", "p_reach", "runs", "success")]
    points = points_block(res, levers)
    if unspent := unspent_words(res):
        points += "\n" + "\n".join(wrap(unspent, TEXT_WIDTH))
    if (scale := reduced_scale_note(res.scale)) is not None:  # a reduced-scale sweep's levels, a prefecture's above all
        points += "\n\n" + "\n".join(wrap(scale, TEXT_WIDTH))
    if res.chosen is None:
        zh, en = res.note
        return f"{head}\n" + "\n".join(wrap(f"{zh}。 {en[:1].upper()}{en[1:]}.", TEXT_WIDTH)) + f"\n\n{points}\n"
    body = [[r.lever, " ".join(KINDS["value" if r.kind == "range" and r.low == r.high else r.kind]),
             "—" if math.isnan(r.low) else format_number(r.low),
             "—" if math.isnan(r.high) or r.low == r.high else format_number(r.high), r.levels]
            for r in res.box.itertuples()]  # a lever kept at one value: that value once (never "3.00 – 3.00")
    table = format_table([["杠杆", "类型", "下限", "上限", "水平"], ["lever", "kind", "low", "high", "levels"]], body,
                         [True, True, False, False, True], "框内的杠杆范围 Lever limits of the box", width=TEXT_WIDTH)
    return f"{head}\n\n" + "\n".join(wrap(box_words(res), TEXT_WIDTH)) + f"\n{table}\n\n{points}\n"


def discovery_chart(res: DiscoveryResult, path: Path) -> Path:
    """Save ``discovery_figure`` to ``path`` (PNG)."""
    from qhsim.output.charts import chart_style

    with chart_style():
        discovery_figure(res).savefig(path, dpi=110)
    return path


def discovery_figure(res: DiscoveryResult) -> Figure:
    """The peeling trajectory (coverage against density), one colour per number of restricted levers in a legend of
    its own (a count: no continuous colour bar), the chosen box ringed; labels in both languages, the indicator with
    its unit."""
    from matplotlib.figure import Figure

    from qhsim.output.charts import readable

    fig = Figure(figsize=(7.0, 5.2), layout="constrained")
    ax = fig.add_subplot()
    t = res.trajectory
    counts = sorted(int(n) for n in t["res_dim"].unique())
    for n, colour in zip(counts, _colours(len(counts))):
        step = t[t["res_dim"] == n]
        ax.scatter(step["coverage"], step["density"], color=colour, s=24,
                   label=readable(f"{n}个杠杆受限 {n} lever{'' if n == 1 else 's'} restricted"))
    if res.chosen is not None:
        ax.scatter([res.coverage], [res.density], s=170, facecolors="none", edgecolors="red", lw=1.5,
                   label=readable(f"选中的框：第{res.chosen}步 chosen box: step {res.chosen}"))
    ax.legend(fontsize=8, loc="lower left")
    ax.set_xlabel(readable("覆盖率 coverage (成功点在框内的比例 share of the successful points inside the box)"), fontsize=9)
    ax.set_ylabel(readable("密度 density (框内点成功的比例 share of the points inside that succeed)"), fontsize=9)
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_title(readable("\n".join(wrap(f"PRIM 剥离轨迹 peeling trajectory: {target_words(res)}", 80))), fontsize=9)
    return fig


def _colours(n: int) -> list:
    """``n`` colours of the viridis map, evenly spaced (one per number of restricted levers)."""
    from matplotlib import colormaps

    return [colormaps["viridis"](x) for x in np.linspace(0.0, 0.9, n)] if n > 1 else [colormaps["viridis"](0.0)]


def discovery_stem(res: DiscoveryResult) -> str:
    """The files' stem: prim_<indicator>_<year>, with _<region> for a prefecture (Haidong's answer overwrote the
    province's files of the same indicator and year)."""
    return f"prim_{res.indicator}_{res.year}" + ("" if res.region == PROVINCE else f"_{res.region}")


def write_discovery(res: DiscoveryResult, store: Path) -> str:
    """Write <stem>.{txt,png}, <stem>_box.csv and <stem>_points.csv (``discovery_stem``) into the store; return the
    text. Without a chosen box there is no chart, and an earlier one of the same stem goes (it drew another answer)."""
    stem = discovery_stem(res)
    text = format_discovery(res)
    write_atomic(store / f"{stem}.txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    write_atomic(store / f"{stem}_box.csv", lambda tmp: res.box.to_csv(tmp, index=False, encoding="utf-8-sig"))
    write_atomic(store / f"{stem}_points.csv", lambda tmp: res.points.to_csv(tmp, index=False, encoding="utf-8-sig"))
    if res.chosen is not None:
        discovery_chart(res, store / f"{stem}.png")
    else:
        (store / f"{stem}.png").unlink(missing_ok=True)
    return text
