"""Resumable result stores 可续跑的结果库: runs stream into a partitioned Parquet dataset with a manifest.

Layout of a store folder (``--out`` of ``qhsim compare`` / ``qhsim sweep``)::

    manifest.json          kind, the experiment (design), its key, qhsim version, data fingerprints,
                           the planned runs in order (key + labels), status "running" | "complete"
    runs/<run key>.parquet one file per finished run: the run's indicator table (year, region, one column
                           per indicator) with its labels (run_key, design, point, draw, seed, lever values)
    ...                    the analysis files, written when every run is in (summary.csv, charts, ...)

A run file appears atomically (written aside, then renamed) once its run has finished, so after Ctrl-C or
``kill -9`` the folder holds only whole runs. Running the same command again resumes: only runs without a
file are simulated, and the results are read back from the files in manifest order — bit-identical to an
uninterrupted run, with no run lost or duplicated (a run's file name is its key).

``--out`` is checked before anything runs: an existing file, a non-empty folder that is not a store, or
the store of a different experiment (other runs, another model fingerprint) is refused with exit 2.

``read_runs(folder)`` gives the stacked wide table, ``tidy(folder)`` the long table
(year, region, indicator, value, unit, draw, seed, design, ...) that exporters read.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qhsim import __version__, data
from qhsim.errors import InputError
from qhsim.experiments.spec import RunSpec, digest
from qhsim.output.folders import RUNS, read_store_runs
from qhsim.output.tidy import calibration_status, environment_versions
from qhsim.stats import WEIGHT

MANIFEST = "manifest.json"
KINDS = ("compare", "sweep")
LABELS = ("run_key", "design", "point", "draw", "seed")  # label columns every run file carries first
# files that qhsim discover and qhsim export write into a store from its runs (they refuse an unfinished store)
DERIVED = ("prim_*.txt", "prim_*.csv", "prim_*.png", "indicators_long.csv", "indicators_long.parquet", "report.xlsx",
           "report.html")


def _json(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"manifest: cannot store {type(obj).__name__} as JSON")


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write JSON atomically (aside, then renamed)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=_json), encoding="utf-8")
    os.replace(tmp, path)


def write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the result to ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a results folder; a folder that is missing or holds none is a one-line ``InputError``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such results folder (expected a folder written by qhsim sweep or compare)")
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(f"{folder}: not a qhsim results folder (it holds no {MANIFEST})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable store manifest ({exc})") from None


NOT_IN_KEY = ("rank_by", "parameters", "file", "description", "report_years", "indicators")  # change no run


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(map(_shown, value)) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def experiment_difference(manifest: dict[str, Any], experiment: dict[str, Any], fingerprint: str | None) -> str:
    """What differs between the experiment a store's ``manifest`` holds and ``experiment`` (with the model
    ``fingerprint``), for the refusal of its ``--out``: e.g. "seeds 1 → 1, 2; scale 0.05 → 0.1"; a table names the
    entries that changed ("scenarios: super_deduction_120 changed"), a list of tables its length or "changed"."""
    before = manifest.get("experiment") or {}
    now = json.loads(json.dumps(experiment, default=_json))  # as the manifest stored it (tuples as lists, ...)
    said = []
    for key in [*before, *(k for k in now if k not in before)]:
        a, b = before.get(key), now.get(key)
        if a == b or key in NOT_IN_KEY:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            changed = [k for k in [*a, *(k for k in b if k not in a)] if a.get(k) != b.get(k)]
            said.append(f"{key}: {', '.join(map(str, changed))} changed")
        elif any(isinstance(v, list) and any(isinstance(x, dict | list) for x in v) for v in (a, b)):
            lengths = (len(a), len(b)) if isinstance(a, list) and isinstance(b, list) else None
            said.append(f"{key} {lengths[0]} → {lengths[1]}" if lengths and lengths[0] != lengths[1]
                        else f"{key} changed")
        else:
            said.append(f"{key} {_shown(a)} → {_shown(b)}")
    if fingerprint is not None and manifest.get("model_fingerprint") not in (None, fingerprint):
        version = manifest.get("qhsim_version")
        said.append(f"qhsim {version} → {__version__}" if version not in (None, __version__)
                    else "the model's data or calibration changed")
    return "; ".join(said) or "other runs"


def check_out(out: Path, kind: str, experiment_key: str, experiment: dict[str, Any] | None = None,
              fingerprint: str | None = None) -> bool:
    """Validate ``--out`` before any computation; True when it is this experiment's store (resume).

    ``qhsim.output.folders.check_out`` refuses an existing file, a non-empty folder that is not a qhsim results
    folder and a folder of another kind; here also the store of another experiment (other runs, another model
    fingerprint: the message says what differs from ``experiment``, ``experiment_difference``) or a folder of this
    kind written without a store. ``InputError``, exit 2, nothing touched.
    """
    from qhsim.output.folders import check_out as check_folder

    out = check_folder(Path(out), kind)
    if not out.exists() or not any(out.iterdir()):
        return False
    manifest = read_manifest(out)
    if manifest.get("experiment_key") is None:
        raise InputError(f"{out}: holds a {kind} folder written by an older qhsim (not a resumable store); "
                         "choose another --out")
    if manifest["experiment_key"] != experiment_key:
        what = experiment_difference(manifest, experiment, fingerprint) if experiment is not None else (
            "other designs, seeds, scale or model version")
        raise InputError(f"{out}: holds the store of a different {kind} experiment ({what}); choose another --out "
                         "or delete it")
    return True


class Store:
    """A store folder for one experiment: the planned runs (specs + labels), streamed results."""

    def __init__(self, out: Path, kind: str, experiment: dict[str, Any], specs: Sequence[RunSpec],
                 labels: Sequence[dict[str, Any]], fingerprint: str, key_extra: dict[str, Any] | None = None):
        if kind not in KINDS:
            raise ValueError(kind)
        self.out = Path(out)
        self.kind = kind
        self.specs = list(specs)
        self.labels = [dict(lab) for lab in labels]
        keys = [s.key for s in self.specs]
        if len(set(keys)) != len(keys):
            raise InputError(f"{kind}: the design repeats a run (same settings, draw and seed twice)")
        self.experiment = experiment
        self.fingerprint = fingerprint
        self.key = digest({"kind": kind, "runs": keys, "fingerprint": fingerprint, **(key_extra or {})}, 32)
        self._planned = set(keys)

    @property
    def runs_dir(self) -> Path:
        return self.out / RUNS

    def path(self, spec: RunSpec) -> Path:
        return self.runs_dir / f"{spec.key}.parquet"

    def check(self) -> bool:
        """Check ``--out`` (``check_out``; nothing written); True when it holds this experiment's store (a resume)."""
        return check_out(self.out, self.kind, self.key, self.experiment, self.fingerprint)

    def open(self) -> int:
        """Check ``--out`` and create or reopen the store; return the number of runs already done. Reopening an
        unfinished store removes the files derived from its runs (``DERIVED``: written from part of them by an older
        qhsim, which did not refuse an unfinished store), so that none is taken for the finished store's."""
        resume = self.check()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.runs_dir.glob(".*.tmp-*"):  # a half-written file of a killed process
            tmp.unlink(missing_ok=True)
        if not resume:
            write_json(self.out / MANIFEST, self.manifest("running"))
        elif read_manifest(self.out).get("status") != "complete":
            for pattern in DERIVED:
                for path in self.out.glob(pattern):
                    path.unlink(missing_ok=True)
        return sum(self.path(s).is_file() for s in self.specs)

    def manifest(self, status: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "kind": self.kind, "status": status, "experiment_key": self.key, "experiment": self.experiment,
            "qhsim_version": __version__, "model_fingerprint": self.fingerprint,
            # what wrote the store, for its workbook and report when read back (``qhsim export``)
            "versions": environment_versions(), "calibration": calibration_status(),
            "data_fingerprints": data.fingerprints(),
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "layout": "runs/<run_key>.parquet: one run each (label columns, then year, region and the indicators)",
            "runs": [{"run_key": s.key, **lab, "spec": s.plain()} for s, lab in zip(self.specs, self.labels)],
            **(extra or {}),
        }

    def add(self, specs: Sequence[RunSpec], labels: Sequence[dict[str, Any]]) -> None:
        """Plan further runs (those not planned yet), e.g. the rescaled designs of a budget-neutral comparison."""
        for spec, lab in zip(specs, labels):
            if spec.key not in self._planned:
                self._planned.add(spec.key)
                self.specs.append(spec)
                self.labels.append(dict(lab))

    def missing(self) -> list[int]:
        """Indexes of planned runs without a result file."""
        return [i for i, s in enumerate(self.specs) if not self.path(s).is_file()]

    def put(self, index: int, frame: pd.DataFrame) -> None:
        """Write one finished run (atomically)."""
        spec = self.specs[index]
        table = labelled(frame, spec, self.labels[index])
        write_atomic(self.path(spec), lambda tmp: pq.write_table(pa.Table.from_pandas(table, preserve_index=False), tmp))

    def read(self, specs: Sequence[RunSpec] | None = None) -> pd.DataFrame:
        """The runs of ``specs`` (default: every planned run) stacked in that order; a missing run is an error."""
        frames = []
        for s in self.specs if specs is None else specs:
            p = self.path(s)
            if not p.is_file():
                raise InputError(f"{self.out}: run {s.key} is missing; rerun the same command to resume")
            frames.append(pd.read_parquet(p))
        return pd.concat(frames, ignore_index=True)

    def complete(self, extra: dict[str, Any] | None = None) -> None:
        write_json(self.out / MANIFEST, self.manifest("complete", extra))


def collect_runs(engine: Any, specs: Sequence[RunSpec], labels: Sequence[dict[str, Any]], store: Store | None,
                 progress: Any = None, cancel: Any = None) -> pd.DataFrame:
    """Run ``specs`` on ``engine`` and stack their indicator tables with the label columns, in spec order.

    With a store, runs already on disk are read, not run, and each finished run is written as it comes."""
    if progress is not None:
        progress.grow(len(specs))
    if store is not None:
        store.add(specs, labels)
        wanted = {s.key for s in specs}
        todo = [i for i in store.missing() if store.specs[i].key in wanted]
        if progress is not None:
            progress.update(len(specs) - len(todo), reused=True)
        engine.map([store.specs[i] for i in todo], on_result=lambda j, out, _s: store.put(todo[j], out),
                   progress=progress, cancel=cancel)
        return store.read(specs)
    frames = engine.map(specs, progress=progress, cancel=cancel)
    return pd.concat([labelled(f, s, lab) for s, lab, f in zip(specs, labels, frames)], ignore_index=True)


def labelled(frame: pd.DataFrame, spec: RunSpec, labels: dict[str, Any]) -> pd.DataFrame:
    """A run's indicator table with the label columns (run_key, then ``labels``) in front."""
    table = frame.copy()
    for pos, (name, value) in enumerate({"run_key": spec.key, **labels}.items()):
        table.insert(pos, name, value)
    return table


def read_runs(folder: str | Path) -> pd.DataFrame:
    """The stacked runs of a store folder, in plan order (finished runs only if it is incomplete)."""
    return read_store_runs(Path(folder))


def tidy(folder: str | Path) -> pd.DataFrame:
    """The store as a long table: label columns (design, point, draw, seed, weight, lever values), year, region,
    indicator, value, unit — one row per run x year x region x indicator. ``draw`` is the parameter draw and
    ``weight`` the run's share of its point's statistics (alike where the runs carry none: without ``--draws``), as
    in ``qhsim export --to csv|parquet``."""
    runs = read_runs(folder)
    if WEIGHT not in runs:
        runs.insert(runs.columns.get_loc("seed") + 1, WEIGHT, 1.0 / runs.groupby("point")["run_key"].transform("nunique"))
    indicators = data.load("indicators")
    value_cols = [c for c in runs.columns if c in indicators]
    ids = [c for c in runs.columns if c not in indicators]
    long = runs.melt(id_vars=ids, value_vars=value_cols, var_name="indicator", value_name="value")
    long["unit"] = long["indicator"].map({k: v.get("unit", "") for k, v in indicators.items()})
    return long


def say_reused(done: int, total: int) -> None:
    """The line on stderr when a sweep or comparison resumes its store: which runs it reuses, how many it runs."""
    print(f"qhsim: 续跑 resuming: {done} of {total} runs already in the store, {total - done} to run", file=sys.stderr,
          flush=True)
