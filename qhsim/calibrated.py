"""The calibrated parameters 校准结果 in force (``calibration/calibrated.toml``): point estimate and posterior ensemble.

``calibrated_parameters()`` is what the model layer uses as defaults: ``{name: value}`` of the point
estimate, restricted to parameters that still exist in ``qhsim/data/behaviour.toml`` (or talent.toml,
knowledge.toml) with the value inside their current range (anything else is dropped and listed by ``load_calibration().dropped``). Set the
environment variable ``QHSIM_CALIBRATED=off`` to ignore the file (calibration runs do this themselves, so
an old calibration never leaks into a new one), or to a path to use another file.

``Calibration.selection(n, rng)`` chooses n different draws of the weighted posterior ensemble for projections,
comparisons and sweeps, with the weight each stands for.
This module only reads; ``qhsim.calibration`` (which estimates and writes the file) depends on it, never the
other way round, so the scenario schema can use it without an import cycle.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qhsim import data
from qhsim.errors import InputError

REPO_ROOT = Path(__file__).resolve().parent.parent
CALIBRATION_DIR = REPO_ROOT / "calibration"
CALIBRATED_ENV = "QHSIM_CALIBRATED"  # "off": model defaults ignore calibration/calibrated.toml; or a path
DEFAULT_FILE = CALIBRATION_DIR / "calibrated.toml"
TARGETS_FILE = CALIBRATION_DIR / "targets.toml"
OFF = ("off", "0", "none", "false", "no")
PARAMETER_FILES = ("behaviour", "talent", "knowledge")  # the files a scenario's [parameters] may override


def target_rows() -> list[dict[str, Any]]:
    """The ``[[target]]`` rows of calibration/targets.toml as plain TOML (for the output layer and the precision
    report, which do not import ``qhsim.calibration``, the package that validates them: tests/test_calibration.py)."""
    try:
        return tomllib.loads(TARGETS_FILE.read_text(encoding="utf-8")).get("target", [])
    except OSError as err:
        raise InputError(f"{TARGETS_FILE}: cannot read ({err.strerror})") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{TARGETS_FILE}: not valid TOML ({err})") from None


def model_parameters() -> dict[str, dict[str, Any]]:
    """Every quantity of qhsim/data/{behaviour,talent,knowledge}.toml, by name (names are unique across files)."""
    return {name: entry for file in PARAMETER_FILES for name, entry in data.quantities(file).items()}


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
    draw_of: np.ndarray | None = None  # per row, the posterior draw it is a level sample of (None: rows are draws)

    @property
    def available(self) -> int:
        """How many different parameter sets ``selection`` can choose (draws of positive weight)."""
        return int(np.count_nonzero(self.weights > 0))

    def selection(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``n`` different draws of the ensemble, and the weight each stands for, for experiments that run
        every draw with every seed (``compare``, ``sweep``; a draw drawn twice would repeat its runs).

        Each draw is chosen with a probability proportional to its posterior weight, capped at 1: a draw whose
        share of the weight not yet certain is at least one n-th is always chosen, the others by systematic
        sampling from a random start, which gives every draw exactly that chance (probability-proportional-to-size
        sampling with certainty units; Cochran 1977, Sampling Techniques, sec. 9A.5). A chosen draw stands for its
        weight over its chance (Horvitz & Thompson 1952; normalised to sum to 1): a certain draw for its own
        weight, each of the others for an equal share of the weight left. With ``n`` equal to the number of draws
        every draw is certain and the weights are the posterior's."""
        w = np.asarray(self.weights, dtype=float)
        if not 1 <= n <= self.available:
            raise InputError(f"{self.path}: ensemble: --draws {n} asks for more different parameter sets than the "
                             f"calibrated ensemble holds ({self.available}); allowed 1-{self.available}")
        chance = np.zeros(len(w))  # of being chosen
        while (m := n - int(np.count_nonzero(chance == 1.0))) > 0:
            rest = (w > 0) & (chance < 1.0)
            chance[rest] = m * w[rest] / w[rest].sum()
            if not np.any(chance[rest] >= 1.0 - 1e-12):
                break
            chance[rest & (chance >= 1.0 - 1e-12)] = 1.0
        chance[chance > 1.0] = 1.0
        certain = np.flatnonzero(chance == 1.0)
        others = np.flatnonzero((w > 0) & (chance < 1.0))
        m = n - len(certain)
        picked = np.empty(0, dtype=int)
        if m:
            edges = np.cumsum(chance[others])
            picked = others[np.minimum(np.searchsorted(edges, rng.random() + np.arange(m), side="right"),
                                       len(others) - 1)]
        rows = np.sort(np.concatenate([certain, picked]))
        stands = w[rows] / chance[rows]
        return rows, stands / stands.sum()

    def ensemble(self) -> list[dict[str, float]]:
        return self.parameter_sets(range(len(self.draws)))

    def parameter_sets(self, rows) -> list[dict[str, float]]:
        """The ensemble's ``rows`` as parameter dicts (the parameters still in the model; whole numbers where the
        model's default is one)."""
        keep = [k for k, name in enumerate(self.names) if name not in self.dropped]
        return [{self.names[k]: _as_param(self.names[k], float(self.draws[i, k])) for k in keep} for i in rows]


def _as_param(name: str, v: float) -> float:
    entry = model_parameters().get(name)
    default = entry["value"] if entry is not None else None
    return int(round(v)) if isinstance(default, int) and not isinstance(default, bool) else v


def calibration_file() -> Path | None:
    """The calibration file in force: ``$QHSIM_CALIBRATED`` (a path, or "off"), else calibration/calibrated.toml."""
    env = os.environ.get(CALIBRATED_ENV, "").strip()
    if env.lower() in OFF:
        return None
    if env and not Path(env).is_file():  # a typo must not quietly run the model uncalibrated
        raise InputError(f"{CALIBRATED_ENV}={env}: no such calibration file; give the path of a calibrated.toml, "
                         f"or {CALIBRATED_ENV}=off for the model's defaults")
    return Path(env) if env else DEFAULT_FILE


def required_calibration() -> Calibration:
    """``load_calibration()`` for a script that needs one: ``InputError`` (one line, exit 2) when none is in force."""
    cal = load_calibration()
    if cal is None:
        raise InputError(f"no calibration in force (calibration/calibrated.toml missing, or {CALIBRATED_ENV}=off)")
    return cal


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
    draw_of = np.asarray(ens["draw_of"], dtype=int) if "draw_of" in ens else None
    if draw_of is not None and len(draw_of) != len(draws):
        raise InputError(f"{path}: ensemble.draw_of: expected {len(draws)} draw numbers, found {len(draw_of)}")
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
        draw_of=draw_of,
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
