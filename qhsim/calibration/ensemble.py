"""Writing the calibration file 校准结果 (``calibration/calibrated.toml``): a small TOML writer and the
posterior summary. Reading it (point estimate, posterior ensemble) is ``qhsim.calibrated``.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path
from typing import Any

import numpy as np


# ---------------------------------------------------------------------------------------------------
# a small TOML writer (numbers, strings, booleans, lists, nested tables) - the stdlib only reads TOML


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, np.generic):
        return _toml_value(v.item())
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else _toml_value(k)


def dumps_toml(doc: dict[str, Any], header: str = "") -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]

    def emit(table: dict[str, Any], prefix: str) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in table.items() if isinstance(v, dict)}
        if prefix and (scalars or not subs):
            lines.append("")
            lines.append(f"[{prefix}]")
        for k, v in scalars.items():
            if isinstance(v, list) and v and isinstance(v[0], list | tuple):
                lines.append(f"{_key(k)} = [")
                lines.extend(f"  {_toml_value(row)}," for row in v)
                lines.append("]")
            else:
                lines.append(f"{_key(k)} = {_toml_value(v)}")
        for k, v in subs.items():
            emit(v, f"{prefix}.{_key(k)}" if prefix else _key(k))

    emit(doc, "")
    return "\n".join(lines).lstrip("\n") + "\n"


def write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------------
# writing


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(q, cw, x)) for q in qs]


def _ensemble_table(names, weights, distances, draws, draw_of=None) -> dict[str, Any]:
    """An [ensemble]-style table: parameter names, and per row its weight, distance, (draw_of) and values."""
    return {
        "parameters": list(names),
        "weights": [float(x) for x in weights],
        "distances": [float(x) for x in distances],
        **({"draw_of": [int(k) for k in draw_of]} if draw_of is not None else {}),
        "draws": [[float(x) for x in row] for row in draws],
    }


def write_calibration(
    path: Path,
    point: dict[str, float],
    names: list[str],
    draws: np.ndarray,
    weights: np.ndarray,
    distances: np.ndarray,
    meta: dict[str, Any],
    priors: dict[str, dict[str, Any]],
    held: dict[str, float] | None = None,
    ensemble: tuple[list[str], np.ndarray, np.ndarray] | None = None,
    intervals: dict[str, dict[str, Any]] | None = None,
    samples: tuple[np.ndarray, np.ndarray, np.ndarray, list[int]] | None = None,
    sampler_weights: np.ndarray | None = None,
) -> None:
    """``draws`` (columns ``names``) with ``weights`` give the intervals and, unless ``ensemble`` is given, the
    ensemble. ``held``: parameters the sampler held fixed (stage "levels"): no interval; a constant column of that
    ensemble, so that every draw is a parameter vector the ABC-SMC evaluated. ``ensemble``: (names, draws,
    distances) of the draws with their level parameters re-fitted (``calibrate.refit_draws``), same weights.
    ``intervals``: [interval] as given (``calibrate.refit_levels`` carries the earlier file's: its sampler's draws).
    ``samples``: (draws, weights, distances, draw of each) of the re-fitted draws' level parameters sampled
    (``qhsim.calibration.level_samples``; columns as ``ensemble``'s): they become [ensemble], what projections draw
    from, and the re-fitted draws [ensemble_fits]."""
    interval = dict(intervals) if intervals is not None else {}
    for k, name in enumerate(names if intervals is None else ()):
        q05, q50, q95 = weighted_quantiles(draws[:, k], weights, (0.05, 0.5, 0.95))
        interval[name] = {"p05": q05, "median": q50, "p95": q95, **priors.get(name, {})}
    if ensemble is not None:
        names, draws, distances = ensemble
        how = ("  each draw's level parameters re-fitted given its structural ones (as the point's; distances: on the\n"
               "  calibration seeds, after the re-fit); [interval] describes the draws before the re-fit.\n")
    else:
        held = held or {}
        names = [*names, *held]
        draws = np.column_stack([draws, np.tile([float(v) for v in held.values()], (len(draws), 1))]) if held else draws
        how = ("  distances: on the calibration seeds; a parameter of stage \"levels\" keeps in every draw the value\n"
               "  the ABC-SMC held it at.\n")
    table = _ensemble_table(names, weights, distances, draws)
    if sampler_weights is not None:
        table = {"sampler_weights": [float(x) for x in np.asarray(sampler_weights) / np.sum(sampler_weights)],
                 **table}
        how += ("  sampler_weights: each draw's ABC-SMC weight before the policy-response evidence (normalised), so\n"
                "  that `qhsim calibrate --refit-levels` can weigh the draws by the evidence on later model code.\n")
    doc = {
        "meta": {"created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **meta},
        "point": {k: float(v) for k, v in point.items()},
        "interval": interval,
        "ensemble": table,
    }
    if samples is not None:
        rows, sample_weights, sample_distances, draw_of = samples
        doc["ensemble"] = _ensemble_table(names, sample_weights, sample_distances, rows, draw_of)
        doc["ensemble_fits"] = table
        how += ("  With level samples, [ensemble] holds each re-fitted draw's level parameters sampled around its\n"
                "  re-fit (draw_of: the row of [ensemble_fits], the re-fitted draws, each sample weighing its draw's\n"
                "  weight over the samples of that draw).\n")
    header = (
        "Calibrated behavioural parameters 校准参数 — written by `qhsim calibrate`; do not edit by hand.\n"
        "[point]: the weighted posterior median of each parameter, the level parameters re-fitted given the others\n"
        "  when [meta] point says so (model defaults use it via\n"
        "  qhsim.calibration.calibrated_parameters()); the minimum-distance particle is in the fit report.\n"
        "[interval.<name>]: 5% / 50% / 95% of the weighted posterior, with the prior range.\n"
        "[ensemble]: the weighted posterior sample that projections draw from: the final ABC-SMC population,\n"
        "  checked against the policy-response evidence as [meta] posterior lists;\n"
        + how
        + "Method, targets and fit: calibration/README.md and the fit report next to this file."
    )
    write_atomic(path, dumps_toml(doc, header))
