"""The calibrated parameters 校准结果 (``calibration/calibrated.toml``): point estimate and posterior ensemble.

``calibrated_parameters()`` is what the model layer uses as defaults: ``{name: value}`` of the point
estimate, restricted to parameters that still exist in ``qhsim/data/behaviour.toml`` (or talent.toml,
knowledge.toml) with the value inside
their current range (anything else is dropped and listed by ``load_calibration().dropped``). Set the
environment variable ``QHSIM_CALIBRATED=off`` to ignore the file (calibration runs do this themselves, so
an old calibration never leaks into a new one), or to a path to use another file.

``Calibration.sample(n, rng)`` draws parameter sets from the weighted posterior ensemble for projections.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qhsim.calibration.settings import CALIBRATED_ENV, CALIBRATION_DIR, model_parameters
from qhsim.errors import InputError

DEFAULT_FILE = CALIBRATION_DIR / "calibrated.toml"
OFF = ("off", "0", "none", "false", "no")


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
# reading


@dataclass
class Calibration:
    path: Path
    meta: dict[str, Any]
    point: dict[str, float]
    names: list[str]
    draws: np.ndarray  # (n, len(names))
    weights: np.ndarray
    intervals: dict[str, dict[str, float]] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # name -> why it is not used

    def sample(self, n: int, rng: np.random.Generator) -> list[dict[str, float]]:
        """``n`` parameter sets drawn from the weighted ensemble (with replacement)."""
        if len(self.draws) == 0:
            return [dict(self.point) for _ in range(n)]
        idx = rng.choice(len(self.draws), size=n, p=self.weights)
        keep = [k for k, name in enumerate(self.names) if name not in self.dropped]
        return [{self.names[k]: _as_param(self.names[k], float(self.draws[i, k])) for k in keep} for i in idx]

    def ensemble(self) -> list[dict[str, float]]:
        keep = [k for k, name in enumerate(self.names) if name not in self.dropped]
        return [{self.names[k]: _as_param(self.names[k], float(row[k])) for k in keep} for row in self.draws]


def _as_param(name: str, v: float) -> float:
    entry = model_parameters().get(name)
    default = entry["value"] if entry is not None else None
    return int(round(v)) if isinstance(default, int) and not isinstance(default, bool) else v


def calibration_file() -> Path | None:
    """The calibration file in force: ``$QHSIM_CALIBRATED`` (a path, or "off"), else calibration/calibrated.toml."""
    env = os.environ.get(CALIBRATED_ENV, "").strip()
    if env.lower() in OFF:
        return None
    return Path(env) if env else DEFAULT_FILE


def load_calibration(path: str | Path | None = None) -> Calibration | None:
    """Read a calibrated.toml; ``None`` if there is none (or calibration is switched off)."""
    path = Path(path) if path is not None else calibration_file()
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    point = doc.get("point")
    ens = doc.get("ensemble", {})
    if not isinstance(point, dict) or not point:
        raise InputError(f"{path}: point: missing table of point estimates")
    names = list(ens.get("parameters", list(point)))
    draws = np.asarray(ens.get("draws", []), dtype=float).reshape(-1, len(names)) if names else np.zeros((0, 0))
    weights = np.asarray(ens.get("weights", []), dtype=float)
    if len(draws) and (len(weights) != len(draws) or not np.all(weights >= 0) or weights.sum() <= 0):
        raise InputError(f"{path}: ensemble.weights: expected {len(draws)} non-negative weights")
    if len(draws):
        weights = weights / weights.sum()
    behaviour = model_parameters()
    dropped: dict[str, str] = {}
    for name in set(names) | set(point):
        if name not in behaviour or isinstance(behaviour[name]["value"], list):
            dropped[name] = "no longer a single-number model parameter"
            continue
        lo, hi = behaviour[name].get("range", (-math.inf, math.inf))
        vals = [point[name]] if name in point else []
        if name in names and len(draws):
            vals += list(draws[:, names.index(name)])
        if any(not lo <= v <= hi for v in vals):
            dropped[name] = f"calibrated values outside the current range [{lo:g}, {hi:g}]"
    return Calibration(
        path=path, meta=doc.get("meta", {}),
        point={k: _as_param(k, float(v)) for k, v in point.items() if k not in dropped},
        names=names, draws=draws, weights=weights, intervals=doc.get("interval", {}), dropped=dropped,
    )


_CACHE: dict[tuple[str, int], dict[str, float]] = {}


def calibrated_parameters(path: str | Path | None = None) -> dict[str, float]:
    """Point estimates to use as behavioural defaults (``{}`` without a calibration).

    Cheap to call per run: the file is parsed once per (path, modification time).
    """
    file = Path(path) if path is not None else calibration_file()
    if file is None or not file.exists():
        return {}
    stamp = (str(file.resolve()), file.stat().st_mtime_ns)
    if stamp not in _CACHE:
        cal = load_calibration(file)
        _CACHE[stamp] = dict(cal.point) if cal is not None else {}
    return dict(_CACHE[stamp])


# ---------------------------------------------------------------------------------------------------
# writing


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(q, cw, x)) for q in qs]


def write_calibration(
    path: Path,
    point: dict[str, float],
    names: list[str],
    draws: np.ndarray,
    weights: np.ndarray,
    distances: np.ndarray,
    meta: dict[str, Any],
    priors: dict[str, dict[str, Any]],
) -> None:
    interval = {}
    for k, name in enumerate(names):
        q05, q50, q95 = weighted_quantiles(draws[:, k], weights, (0.05, 0.5, 0.95))
        interval[name] = {"p05": q05, "median": q50, "p95": q95, **priors.get(name, {})}
    doc = {
        "meta": {"created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **meta},
        "point": {k: float(v) for k, v in point.items()},
        "interval": interval,
        "ensemble": {
            "parameters": list(names),
            "weights": [float(x) for x in weights],
            "distances": [float(x) for x in distances],
            "draws": [[float(x) for x in row] for row in draws],
        },
    }
    header = (
        "Calibrated behavioural parameters 校准参数 — written by `qhsim calibrate`; do not edit by hand.\n"
        "[point]: the minimum-distance estimate (model defaults use it via qhsim.calibration.calibrated_parameters()).\n"
        "[interval.<name>]: 5% / 50% / 95% of the weighted ABC-SMC posterior, with the prior range.\n"
        "[ensemble]: the final ABC-SMC population (weighted posterior sample) that projections draw from.\n"
        "Method, targets and fit: calibration/README.md and the fit report next to this file."
    )
    write_atomic(path, dumps_toml(doc, header))
