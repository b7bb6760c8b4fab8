"""Results folders 结果目录: their kinds, the ``--out`` check every command makes before computing, and
atomic writing.

Every results folder holds a ``manifest.json`` whose ``kind`` says what wrote it: ``run`` (one run),
``ensemble`` (parameter draws x seeds), ``compare`` or ``sweep``. Folders written before kinds existed are
recognised by their manifest's keys.

``check_out(path, kind)`` is the one ``--out`` validator: it refuses, with a one-line ``InputError`` (exit
2), an existing file, a non-empty folder that is not a qhsim results folder, a results folder of another
kind, and a path under an existing file. A folder of the same kind is replaced only once the new one is
complete (``atomic_folder``), so nothing is lost if the run fails.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qhsim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "manifest.json"
KINDS = ("run", "ensemble", "compare", "sweep")
# which existing kinds a new folder of a kind may replace (``qhsim run`` writes run and ensemble folders)
REPLACES = {"run": ("run", "ensemble"), "ensemble": ("run", "ensemble")}


def silent(line: str) -> None:
    """Say nothing: the default of the ``say`` callbacks (export, workbook, HTML report) that report progress."""


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when it has none or it is not JSON."""
    try:
        return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def manifest_kind(manifest: dict[str, Any]) -> str | None:
    """The kind a manifest declares, or the one its keys show for folders written before kinds existed."""
    if isinstance(manifest.get("kind"), str):
        return manifest["kind"]
    if "comparison" in manifest:
        return "compare"
    if "experiment" in manifest:
        return "sweep"
    if "scenario_name" in manifest:
        return "ensemble" if "seeds" in manifest.get("meta", {}) else "run"
    return None


def folder_kind(folder: Path) -> str | None:
    """Kind of a qhsim results folder, or None when ``folder`` is not one."""
    manifest = read_manifest(folder)
    return None if manifest is None else manifest_kind(manifest)


def check_out(out: Path, kind: str) -> Path:
    """Validate an output folder for a results folder of ``kind`` before any computation; return it.

    Allowed: a path that does not exist yet, an empty folder, or a qhsim results folder of a kind this
    one may replace. Anything else is an ``InputError`` naming the path and what to do.
    """
    out = Path(out)
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{out}: {parent} is a file, not a folder; choose another --out")
            check_writable(out, parent)
            break
    if not out.exists():
        return out
    if not out.is_dir():
        raise InputError(f"{out}: is an existing file; --out must name a results folder, e.g. results/{out.stem}")
    check_writable(out, out)
    existing = folder_kind(out)
    if existing is None:
        if any(out.iterdir()):
            raise InputError(f"{out}: exists and is not a qhsim results folder (no {MANIFEST}); choose another --out")
        return out
    if existing not in REPLACES.get(kind, (kind,)):
        raise InputError(f"{out}: holds a qhsim {existing} folder, not a {kind} folder; choose another --out")
    return out


def check_writable(out: Path, folder: Path) -> None:
    """Whether a folder can be created in ``folder`` (an existing folder that ``out`` is or lies in): tried, and the
    trial folder removed at once, so that a folder that refuses files (no permission, a read-only disk, /proc) is
    refused before anything runs, with a one-line ``InputError``."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".qhsim-probe-", dir=folder))
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise InputError(f"{out}: cannot write in {folder} ({reason}); choose another --out") from None


def _replace(tmp: Path, out_dir: Path) -> None:
    """Move ``tmp`` to ``out_dir``; an existing folder there is set aside first and restored on failure."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        os.replace(old, out_dir)
        raise
    shutil.rmtree(old)


@contextmanager
def atomic_folder(out_dir: Path, kind: str) -> Iterator[Path]:
    """Yield a hidden temporary sibling ``.<name>.tmp-<pid>`` to fill; on success it is renamed to
    ``out_dir`` (replacing a previous folder that ``check_out`` allows), on any error it is removed and an
    existing ``out_dir`` is left untouched."""
    out_dir = check_out(Path(out_dir), kind)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)  # left over by a killed process that had the same pid
    tmp.mkdir()
    try:
        yield tmp
        check_out(out_dir, kind)  # the folder may have changed while we computed
        _replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


RUNS = "runs"  # the runs folder of a compare or sweep store (qhsim.experiments.store)


def read_store_runs(folder: Path, keys: list[str] | None = None) -> pd.DataFrame:
    """The runs of a compare or sweep store (``runs/<run_key>.parquet``) stacked in the manifest's plan order
    (only ``keys`` if given; runs not finished yet are left out)."""
    import pandas as pd

    manifest = read_manifest(folder)
    if manifest is None or "runs" not in manifest:
        raise InputError(f"{folder}: not a readable compare or sweep store (no runs in {MANIFEST})")
    wanted = set(keys) if keys is not None else None
    paths = [Path(folder) / RUNS / f"{r['run_key']}.parquet" for r in manifest["runs"]
             if wanted is None or r["run_key"] in wanted]
    frames = [pd.read_parquet(p) for p in paths if p.is_file()]
    if not frames:
        raise InputError(f"{folder}: no finished runs in this store; run its qhsim compare / sweep command")
    return pd.concat(frames, ignore_index=True)


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a hidden temporary sibling of ``path`` to write; renamed to ``path`` on success, removed on error."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
