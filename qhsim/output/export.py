"""Exports 导出: any results folder to XLSX, HTML, CSV or Parquet (``qhsim export FOLDER --to ...``).

Python API (for notebooks and the dashboard), all taking a ``Results`` (``qhsim.output.tidy``: build one with
``load_results(folder)``, ``from_run(result)``, ``from_comparison(comparison_result)`` or ``from_sweep``):

* ``write_xlsx(results, path)`` — the workbook (``qhsim.output.workbook``);
* ``render_html(results) -> str`` / ``write_html(results, path)`` — the self-contained report;
* ``write_csv(results, path)`` / ``write_parquet(results, path)`` — the tidy long table
  (year, region, indicator, value, unit, draw, seed, design, weight; ``draw`` the parameter draw, 0 for the
  calibrated point estimate, as in a store's run files and ``qhsim.experiments.tidy``), the CSV with rounded values
  and labels;
* ``export(folder, to, out=None)`` — what the command does; returns the file written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from qhsim import data
from qhsim.errors import InputError
from qhsim.output.folders import atomic_file, check_writable, silent
from qhsim.output.html_report import render_html, write_html
from qhsim.output.report import region_label
from qhsim.output.tidy import LONG_COLUMNS, PARAM_DRAW, Results, load_results, round_significant
from qhsim.output.workbook import write_xlsx

FORMATS = {"xlsx": "report.xlsx", "html": "report.html", "csv": "indicators_long.csv", "parquet": "indicators_long.parquet"}


def with_points(results: Results, long: pd.DataFrame, digits: int | None = None) -> pd.DataFrame:
    """A sweep's long table with, after ``design`` (the point's short id, p1, ..., in place of its ~120-character
    label), the design ``point`` and one column per lever (``tidy.sweep_points``: numbers as numbers, rounded to
    ``digits`` significant digits when given), so an analyst can filter by a lever; other results unchanged."""
    points = results.tables.get("points")
    if points is None:
        return long
    at = pd.Index(points["label"]).get_indexer(long["design"])
    out = long.drop(columns="design")
    columns = {"design": points["design"], "point": points["point"]}
    for name in points.columns[3:]:
        value = points[name]
        if digits is not None and pd.api.types.is_numeric_dtype(value):
            value = pd.Series(round_significant(value, digits))
        columns[name if name not in out.columns else f"lever_{name}"] = value
    where = list(out.columns).index("seed") + 1
    for offset, (name, value) in enumerate(columns.items()):
        out.insert(where + offset, name, value.to_numpy()[at])
    return out


def draws_as_stored(long: pd.DataFrame) -> pd.DataFrame:
    """The long table with ``draw`` the parameter draw, as a store's run files and ``qhsim.experiments.tidy`` have it
    (``param_draw``, where the runs come from an ensemble or a store), in place of the run id within a design that
    ``Results.long`` keeps for the reports (seeds 1, 2, 3 read as draws 0, 1, 2: a filter on draw 0 kept seed 1)."""
    if PARAM_DRAW not in long:
        return long.copy()
    return long.assign(draw=long[PARAM_DRAW]).drop(columns=PARAM_DRAW)


def readable_long(results: Results) -> pd.DataFrame:
    """The long table with values rounded to 6 significant digits and bilingual indicator and region names (a sweep's
    with its point and lever columns, ``with_points``)."""
    indicators = data.load("indicators")
    long = with_points(results, draws_as_stored(results.long), 6)
    long["value"] = round_significant(long["value"])
    long["indicator_zh"] = long["indicator"].map(lambda k: indicators.get(k, {}).get("zh", ""))
    long["indicator_en"] = long["indicator"].map(lambda k: indicators.get(k, {}).get("en", ""))
    long["region_name"] = long["region"].map(region_label)
    return long


def write_csv(results: Results, path: str | Path) -> Path:
    """The tidy long table as CSV (UTF-8 with BOM, opens in Excel), values rounded, with label columns."""
    path = Path(path)
    with atomic_file(path) as tmp:
        readable_long(results).to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def write_parquet(results: Results, path: str | Path) -> Path:
    """The tidy long table as Parquet, exact values (columns ``LONG_COLUMNS``; a sweep's also its point and lever
    columns, ``with_points``)."""
    path = Path(path)
    with atomic_file(path) as tmp:
        with_points(results, draws_as_stored(results.long)[list(LONG_COLUMNS)]).to_parquet(tmp, index=False,
                                                                                          engine="pyarrow")
    return path


WRITERS = {"xlsx": write_xlsx, "html": write_html, "csv": write_csv, "parquet": write_parquet}


def check_export_out(out: Path, to: str) -> Path:
    """An export target must be a file path with the format's suffix in an existing folder (not a folder)."""
    out = Path(out)
    suffix = f".{to}"
    if out.is_dir():
        raise InputError(f"{out}: is a folder; --out must name the {to} file to write, e.g. {out / FORMATS[to]}")
    if out.suffix.lower() != suffix:
        raise InputError(f"{out}: --out for --to {to} must end in {suffix}")
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    return out


def export(folder: str | Path, to: str, out: str | Path | None = None, charts: bool = True,
           say: Callable[[str], None] = silent) -> Path:
    """Export a results folder (run, ensemble, compare, sweep) to ``to`` (xlsx, html, csv, parquet); the file
    goes to ``out`` or into the folder as ``FORMATS[to]``. Returns the path written. ``say``: called with a line on
    each step as it starts (once the folder is read: the file, each sheet of the workbook, the HTML report's tables and
    charts)."""
    if to not in WRITERS:
        raise InputError(f"--to {to}: allowed {', '.join(WRITERS)}")
    target = check_export_out(Path(out) if out is not None else Path(folder) / FORMATS[to], to)
    check_writable(target, target.parent)  # refused before the reading and writing, which take a while
    results = load_results(folder)  # no line before it: a folder it refuses gets the one line of its error only
    designs, runs = len(results.designs), results.n_draws()
    say(f"写入 writing {target}：{designs}个方案，每个{runs}次运行 {results.kind}, {designs} design(s) x {runs} run(s)")
    if to == "html":
        png_dir = Path(folder) / "charts" if results.kind in ("run", "ensemble") else None
        return write_html(results, target, charts=charts, png_dir=png_dir, say=say)
    if to == "xlsx":
        return write_xlsx(results, target, say=say)
    return WRITERS[to](results, target)


__all__ = ["FORMATS", "WRITERS", "export", "render_html", "write_csv", "write_html", "write_parquet", "write_xlsx"]
