"""Run folders 运行结果目录: write a ``RunResult`` to disk atomically and read it back.

A run folder holds indicators.csv (UTF-8 with BOM, opens in Excel with Chinese labels intact),
indicators.parquet (exact round trip), summary.txt, charts/*.png and manifest.json (scenario, seed,
versions, data fingerprints, file hashes). It appears complete or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from qhsim import __version__, data
from qhsim.errors import InputError
from qhsim.output.charts import indicator_charts
from qhsim.output.report import summary_report
from qhsim.results import RunResult

MANIFEST = "manifest.json"
PARQUET = "indicators.parquet"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def json_default(obj: Any) -> Any:
    """numpy scalars in ``meta`` become plain numbers; anything else is an error."""
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"manifest: cannot store {type(obj).__name__} as JSON")


def _manifest(result: RunResult, files: list[Path], root: Path) -> dict[str, Any]:
    return {
        "scenario_name": result.scenario_name,
        "scenario": result.scenario,
        "seed": result.seed,
        "run_seconds": result.run_seconds,
        "meta": result.meta,
        "versions": {
            "qhsim": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "mesa": mesa.__version__,
        },
        "data_fingerprints": data.fingerprints(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {path.relative_to(root).as_posix(): sha256(path) for path in files},
    }


def write_contents(result: RunResult, root: Path) -> None:
    """Everything of a run folder, written into ``root``; the manifest last."""
    table = result.indicators
    files = [root / "indicators.csv", root / PARQUET, root / "summary.txt"]
    table.to_csv(files[0], index=False, encoding="utf-8-sig")
    table.to_parquet(files[1], index=False, engine="pyarrow")
    header = f"情景 scenario: {result.scenario_name} | 随机种子 seed: {result.seed}\n\n"
    files[2].write_text(header + summary_report(table), encoding="utf-8")
    files += indicator_charts(table, root / "charts")
    manifest = _manifest(result, files, root)
    text = json.dumps(manifest, ensure_ascii=False, indent=2, default=json_default)
    (root / MANIFEST).write_text(text, encoding="utf-8")


def _replace(tmp: Path, out_dir: Path) -> None:
    """Move ``tmp`` to ``out_dir``; an existing run folder there is set aside first and restored on failure."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    if not (out_dir / MANIFEST).is_file() and any(out_dir.iterdir()):
        raise InputError(f"{out_dir}: exists and is not a qhsim run folder (no {MANIFEST}); choose another --out")
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        os.replace(old, out_dir)
        raise
    shutil.rmtree(old)


@contextmanager
def atomic_folder(out_dir: Path) -> Iterator[Path]:
    """Yield a hidden temporary sibling ``.<name>.tmp-<pid>`` to fill; on success it is renamed to
    ``out_dir`` (replacing a previous qhsim folder of that name), on any error it is removed and an
    existing ``out_dir`` is left untouched. A non-empty folder without a manifest is refused."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)  # left over by a killed process that had the same pid
    tmp.mkdir()
    try:
        yield tmp
        _replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_run(result: RunResult, out_dir: Path) -> Path:
    """Write a run folder atomically (``atomic_folder``) and return its path."""
    with atomic_folder(out_dir) as tmp:
        write_contents(result, tmp)
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
