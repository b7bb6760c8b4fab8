"""Run folders 运行结果目录: write a ``RunResult`` to disk atomically and read it back.

A run folder holds indicators.csv (UTF-8 with BOM, opens in Excel with Chinese labels intact; bilingual
headers with units, the region's bilingual name beside its id, rounded values, counts as whole numbers where every
value of the column is whole), indicators.parquet (exact round trip), summary.txt, report.xlsx and
report.html (``qhsim.output.export``), charts/*.png and manifest.json (kind, scenario, seed, versions, data
fingerprints, calibration, file hashes). It appears complete or not at all.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qhsim import data
from qhsim.errors import InputError
from qhsim.output.charts import indicator_charts
from qhsim.output.folders import MANIFEST, atomic_folder
from qhsim.output.numbers import number_kind
from qhsim.output.report import (indicator_label, region_label, run_draws_line, run_header, run_scale,
                                 summary_report)
from qhsim.output.tables import target_regions
from qhsim.output.tidy import calibration_status, environment_versions, round_significant
from qhsim.results import RunResult

PARQUET = "indicators.parquet"
ID_LABELS = {"year": "年份 year", "region": "地区 region", "draw": "运行 run", "param_draw": "参数组 parameter draw",
             "seed": "随机种子 seed", "weight": "权重 weight"}
REGION_NAME = "地区名称 region name"  # indicators.csv's column of bilingual region names, after the ids


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def json_default(obj: Any) -> Any:
    """numpy scalars in ``meta`` become plain numbers; anything else is an error."""
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"manifest: cannot store {type(obj).__name__} as JSON")


def run_kind(result: RunResult) -> str:
    return "ensemble" if "draw" in result.indicators else "run"


def _manifest(result: RunResult, files: list[Path], root: Path) -> dict[str, Any]:
    return {
        "kind": run_kind(result),
        "scenario_name": result.scenario_name,
        "scenario": result.scenario,
        "seed": result.seed,
        "run_seconds": result.run_seconds,
        "meta": result.meta,
        "versions": environment_versions(),
        "data_fingerprints": data.fingerprints(),
        "calibration": calibration_status(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {path.relative_to(root).as_posix(): sha256(path) for path in files},
    }


def csv_values(values: pd.Series, key: str) -> pd.Series | np.ndarray:
    """An indicator's values as indicators.csv writes them: rounded to 6 significant digits (``round_significant``);
    a count (``number_kind``) whose every value is whole as integers (75000, not 75000.0; a missing value empty), as
    at scale 1 and 0.1; at another scale a count scaled up to the province (233.333) keeps its decimals."""
    rounded = round_significant(values)
    if number_kind(key) == "count" and np.all(np.isnan(rounded) | (rounded == np.round(rounded))):
        return pd.Series(rounded, index=values.index).astype("Int64")
    return rounded


def readable_csv(table: pd.DataFrame, path: Path) -> None:
    """A wide indicators table as CSV for people: UTF-8 with BOM (Excel shows the Chinese), bilingual headers
    with units, the regions' bilingual names beside their ids (``REGION_NAME``), values as ``csv_values``."""
    indicators = data.load("indicators")
    out = {}
    for c in table.columns:
        out[ID_LABELS.get(c, indicator_label(c) if c in indicators else c)] = (
            csv_values(table[c], c) if c in indicators else table[c])
        if c == "region":
            out[REGION_NAME] = table[c].map(region_label)
    pd.DataFrame(out).to_csv(path, index=False, encoding="utf-8-sig")


def write_contents(result: RunResult, root: Path, charts: bool = True, reports: bool = True) -> None:
    """Everything of a run folder, written into ``root``; the manifest last. ``charts``: the PNGs;
    ``reports``: report.xlsx and report.html (a comparison writes its own instead)."""
    from qhsim.output.export import write_html, write_xlsx
    from qhsim.output.tidy import from_run

    table = result.indicators
    files = [root / "indicators.csv", root / PARQUET, root / "summary.txt"]
    readable_csv(table, files[0])
    table.to_parquet(files[1], index=False, engine="pyarrow")
    summary = summary_report(table, width=None, scale=run_scale(result))
    files[2].write_text(run_header(result) + "\n" + run_draws_line(result) + "\n" + summary,
                        encoding="utf-8")
    if charts:
        files += indicator_charts(table, root / "charts")
        for region in target_regions():
            files += indicator_charts(table, root / "charts", region=region, only_targeted=True)
    if reports:
        results = from_run(result)
        files += [write_xlsx(results, root / "report.xlsx"),
                  write_html(results, root / "report.html", charts=charts, png_dir=root / "charts")]
    manifest = _manifest(result, files, root)
    text = json.dumps(manifest, ensure_ascii=False, indent=2, default=json_default)
    (root / MANIFEST).write_text(text, encoding="utf-8")


def write_run(result: RunResult, out_dir: Path, charts: bool = True) -> Path:
    """Write a run folder atomically (``atomic_folder``) and return its path."""
    with atomic_folder(out_dir, run_kind(result)) as tmp:
        write_contents(result, tmp, charts=charts)
    return Path(out_dir)


def read_run(out_dir: Path) -> RunResult:
    """Read a run folder written by ``write_run``; the indicator table is checked against its hash."""
    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise InputError(f"{out_dir / MANIFEST}: not a readable run manifest: {exc}") from None
    table_path = out_dir / PARQUET
    if not table_path.is_file() or sha256(table_path) != manifest["files"].get(PARQUET):
        raise InputError(f"{table_path}: missing or does not match the sha256 in {MANIFEST}")
    return RunResult(
        scenario_name=manifest["scenario_name"],
        scenario=manifest["scenario"],
        seed=manifest["seed"],
        indicators=pd.read_parquet(table_path, engine="pyarrow"),
        run_seconds=manifest["run_seconds"],
        meta=manifest["meta"],
    )
