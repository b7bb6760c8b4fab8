"""Calibration settings and free parameters 校准设置与自由参数, read from ``calibration/*.toml``.

Nothing here names a particular parameter or indicator: the free parameters come from
``calibration/free_parameters.toml`` (priors inside the ranges of ``qhsim/data/behaviour.toml``) and the
run settings from ``calibration/config.toml`` (one table per configuration: ``small`` for CI, ``full``).
Bad input raises ``InputError`` with one line naming the file, the key and the allowed values.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

import qhsim
from qhsim import data
from qhsim.calibrated import (  # noqa: F401 (re-used names)
    CALIBRATED_ENV,
    CALIBRATION_DIR,
    PARAMETER_FILES,
    REPO_ROOT,
    calibration_file,
    model_parameters,
)
from qhsim.config import read_toml
from qhsim.errors import InputError

PACKAGE_DIR = Path(qhsim.__file__).resolve().parent
CONFIG_FILE = CALIBRATION_DIR / "config.toml"
PRIORS = ("uniform", "loguniform", "normal")  # normal: truncated to the range, with mean and sd (evidence)
STAGES = ("abc", "levels")  # levels: held at its default in the ABC-SMC, estimated by the conditional fit only


def resolve_path(value: str | Path, base: Path = REPO_ROOT) -> Path:
    p = Path(value)
    return p if p.is_absolute() else (base / p)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


# ---------------------------------------------------------------------------------------------------
# free parameters


@dataclass(frozen=True)
class FreeParameter:
    """One behavioural parameter to estimate, with its prior on [low, high]: uniform, log-uniform, or a normal
    (mean, sd) truncated to the range — an informative prior from micro evidence."""

    name: str
    low: float
    high: float
    prior: str = "uniform"
    integer: bool = False
    default: float = float("nan")  # value in qhsim/data/behaviour.toml
    unit: str = ""
    note: str = ""
    mean: float = float("nan")  # normal prior only
    sd: float = float("nan")
    stage: str = "abc"  # "levels": held at ``default`` in the ABC-SMC, estimated by the conditional fit only

    def _normal_cdf_bounds(self) -> tuple[float, float]:
        return float(ndtr((self.low - self.mean) / self.sd)), float(ndtr((self.high - self.mean) / self.sd))

    def to_unit(self, x: np.ndarray | float) -> np.ndarray:
        """Map a parameter value to [0, 1] (the prior's CDF: the prior is uniform there)."""
        x = np.asarray(x, dtype=float)
        if self.prior == "loguniform":
            return (np.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        if self.prior == "normal":
            a, b = self._normal_cdf_bounds()
            return (ndtr((x - self.mean) / self.sd) - a) / (b - a)
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: np.ndarray | float) -> np.ndarray:
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.prior == "loguniform":
            x = np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        elif self.prior == "normal":
            a, b = self._normal_cdf_bounds()
            x = self.mean + self.sd * ndtri(np.clip(a + u * (b - a), 1e-300, 1.0 - 1e-16))
        else:
            x = self.low + u * (self.high - self.low)
        x = np.clip(x, self.low, self.high)
        return np.round(x) if self.integer else x


FREE_KEYS = {"prior", "range", "note", "identified_by", "mean", "sd", "evidence", "stage"}


def parameter_file(name: str) -> str:
    """``qhsim/data/<file>.toml`` that defines parameter ``name``."""
    return next(f"qhsim/data/{f}.toml" for f in PARAMETER_FILES if name in data.quantities(f))


def load_free_parameters(path: Path) -> tuple[FreeParameter, ...]:
    """Free parameters of ``path`` in file order, checked against the model's parameter files
    (``qhsim/data/behaviour.toml``, ``talent.toml``, ``knowledge.toml``)."""
    raw = read_toml(path, "free-parameter")
    behaviour = {k: v for k, v in model_parameters().items() if not isinstance(v["value"], list)}
    params = []
    if not raw:
        raise InputError(f"{path}: no free parameters; add a table [name] per behavioural parameter to estimate")
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise InputError(f"{path}: {name} = {spec!r}: expected a table [{name}] with prior = \"uniform\"")
        if name not in behaviour:
            close = ", ".join(sorted(k for k in behaviour if k[:4] == name[:4])[:4]) or "see qhsim/data/behaviour.toml"
            raise InputError(f"{path}: [{name}]: unknown model parameter (allowed: single-number keys of qhsim/data/behaviour.toml, talent.toml, knowledge.toml, e.g. {close})")
        unknown = set(spec) - FREE_KEYS
        if unknown:
            raise InputError(f"{path}: {name}.{sorted(unknown)[0]}: unknown key (allowed: {', '.join(sorted(FREE_KEYS))})")
        entry = behaviour[name]
        if "range" not in entry:
            raise InputError(f"{path}: [{name}]: {parameter_file(name)} gives it no range, so it cannot be calibrated")
        blo, bhi = (float(v) for v in entry["range"])
        lo, hi = blo, bhi
        if "range" in spec:
            r = spec["range"]
            if not (isinstance(r, list) and len(r) == 2 and all(_is_number(v) for v in r) and r[0] < r[1]):
                raise InputError(f"{path}: {name}.range = {r!r}: expected [low, high] with low < high, within [{blo:g}, {bhi:g}]")
            lo, hi = float(r[0]), float(r[1])
            if lo < blo or hi > bhi:
                raise InputError(
                    f"{path}: {name}.range = [{lo:g}, {hi:g}]: outside allowed range [{blo:g}, {bhi:g}] ({parameter_file(name)})"
                )
        prior = spec.get("prior", "uniform")
        if prior not in PRIORS:
            raise InputError(f"{path}: {name}.prior = {prior!r}: allowed {', '.join(PRIORS)}")
        if prior == "loguniform" and lo <= 0:
            raise InputError(f"{path}: {name}.prior = \"loguniform\": needs range > 0, got [{lo:g}, {hi:g}]")
        mean = sd = float("nan")
        if prior == "normal":
            mean, sd = spec.get("mean"), spec.get("sd")
            if not (_is_number(mean) and lo <= mean <= hi):
                raise InputError(f"{path}: {name}.mean = {mean!r}: the normal prior needs a mean within [{lo:g}, {hi:g}]")
            if not (_is_number(sd) and sd > 0):
                raise InputError(f"{path}: {name}.sd = {sd!r}: the normal prior needs sd > 0")
            mean, sd = float(mean), float(sd)
        stage = spec.get("stage", "abc")
        if stage not in STAGES:
            raise InputError(f"{path}: {name}.stage = {stage!r}: allowed {', '.join(STAGES)}")
        default = entry["value"]
        integer = isinstance(default, int) and not isinstance(default, bool) and all(float(v).is_integer() for v in (lo, hi))
        params.append(
            FreeParameter(
                name=name, low=lo, high=hi, prior=prior, integer=integer, default=float(default),
                unit=str(entry.get("unit", "")), note=str(spec.get("note", "")), mean=mean, sd=sd, stage=stage,
            )
        )
    return tuple(params)


# ---------------------------------------------------------------------------------------------------
# run configuration


@dataclass(frozen=True)
class CalibrationConfig:
    """One configuration of ``calibration/config.toml`` (see the comments there for each key)."""

    name: str
    scenario: Path
    targets: Path
    free_parameters: Path
    end_year: int
    scale: float
    seeds: tuple[int, ...]
    particles: int
    batch: int
    max_generations: int
    quantile: float
    epsilon_floor: float
    min_acceptance: float
    max_evaluations: int
    simulation_error: bool
    random_seed: int
    out: Path
    known_by: int | None = None  # use only targets known by this year (out-of-sample refit)
    validation_scale: float | None = None  # re-run the point estimate at this scale ...
    validation_seeds: tuple[int, ...] = ()  # ... with these fresh seeds (the fit the report judges)
    vary_population: bool = False  # each seed also draws its own 2015 population (population_seed = seed)
    response_candidates: int = 0  # run this many posterior draws through the policy-response evidence (0: no)
    response_screen_seeds: tuple[int, ...] = tuple(range(301, 317))  # ... with these 16 dynamics seeds
    response_seeds: tuple[int, ...] = tuple(range(201, 233))  # the fit report's policy responses: these 32 fresh seeds
    # (R&D per tax yuan varies by ~0.2 from seed to seed: at the forty-fourth session's point the 4 seeds 201-204
    # the fit report used until the forty-sixth session gave 1.85, inside 1-2, while 201-232 give 2.04 ± 0.03; 2
    # screen seeds left each draw's value ±0.13, more than the evidence kernel's bandwidth: its weights were partly luck)
    response_scale: float = 1.0  # ... at this scale (the evidence step's screen too); below 1 only for tests
    evidence_bandwidth: float = 0.0  # evidence kernel: 0 uniform on the ranges, > 0 Gaussian in the response distance
    conditional: tuple[str, ...] = ()  # level parameters re-fitted given the structural median (calibration.conditional)
    conditional_budget: int = 120  # ... in at most this many evaluations ...
    conditional_seeds: tuple[int, ...] = ()  # ... with these seeds (default: ``seeds``)
    ensemble_refit_budget: int = 0  # re-fit each posterior draw's level parameters too, in at most this many
    # evaluations with ``seeds`` (0: the ensemble keeps the draws as the ABC-SMC sampled them)
    level_samples: int = 0  # then sample each re-fitted draw's level parameters this many times (level_samples.py)
    kernel: str = "global"  # ABC-SMC perturbation kernel: "global" (Beaumont et al. 2009) or "olcm" (Filippi et al. 2013)
    robust_groups: tuple[str, ...] = ()  # target groups whose misses beyond the tolerance weigh linearly (objective.py)
    held_levels: Path | None = None  # the ABC-SMC holds the stage-"levels" parameters at this file's values (default:
    # their data-file defaults), and the conditional fit and the draws' re-fits start from them
    min_ess_share: float = 0.0  # a generation whose effective sample size falls below this share of the particles ends
    # the run and the one before it is final (its importance weights collapsed: a few particles carry the posterior)
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def with_(self, **changes: Any) -> CalibrationConfig:
        return replace(self, **changes)


_SPEC: dict[str, tuple[type, Any]] = {
    # key: (type, check)
    "scenario": (str, None),
    "targets": (str, None),
    "free_parameters": (str, None),
    "end_year": (int, (2016, 2060)),
    "scale": (float, (1e-4, 1.0)),
    "seeds": (list, None),
    "particles": (int, (4, 100000)),
    "batch": (int, (1, 100000)),
    "max_generations": (int, (1, 1000)),
    "quantile": (float, (0.05, 0.95)),
    "epsilon_floor": (float, (0.0, 1e6)),
    "min_acceptance": (float, (0.0, 1.0)),
    "max_evaluations": (int, (1, 10**9)),
    "simulation_error": (bool, None),
    "random_seed": (int, (0, 2**63 - 1)),
    "out": (str, None),
    "known_by": (int, (2015, 2060)),
    "validation_scale": (float, (1e-4, 1.0)),
    "validation_seeds": (list, None),
    "vary_population": (bool, None),
    "response_candidates": (int, (0, 10**4)),
    "response_screen_seeds": (list, None),
    "response_seeds": (list, None),
    "response_scale": (float, (1e-4, 1.0)),
    "evidence_bandwidth": (float, (0.0, 1.0)),
    "conditional": (tuple, None),
    "conditional_budget": (int, (1, 10**5)),
    "conditional_seeds": (list, None),
    "ensemble_refit_budget": (int, (0, 10**4)),
    "level_samples": (int, (0, 1000)),
    "kernel": (str, ("global", "olcm")),
    "min_ess_share": (float, (0.0, 1.0)),
    "robust_groups": (tuple, None),
    "held_levels": (str, None),
}
OPTIONAL_KEYS = ("known_by", "validation_scale", "validation_seeds", "vary_population", "response_candidates",
                 "response_screen_seeds", "response_seeds", "response_scale", "evidence_bandwidth", "conditional",
                 "conditional_budget",
                 "conditional_seeds", "ensemble_refit_budget", "level_samples", "kernel", "min_ess_share",
                 "robust_groups", "held_levels")


def _check_value(path: Path, key: str, value: Any) -> Any:
    kind, bounds = _SPEC[key]
    where = f"{path}: {key} = {value!r}"
    if kind is bool:
        if not isinstance(value, bool):
            raise InputError(f"{where}: expected true or false")
        return value
    if kind is str:
        if bounds is not None and value not in bounds:
            raise InputError(f"{where}: expected one of {', '.join(repr(b) for b in bounds)}")
        if not isinstance(value, str) or not value:
            raise InputError(f"{where}: expected a non-empty string (a path)")
        return value
    if kind is tuple:
        if not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)) or len(set(value)) != len(value):
            raise InputError(f"{where}: expected a list of distinct "
                             f"{'target groups' if key == 'robust_groups' else 'free-parameter names'}")
        return tuple(value)
    if kind is list:
        if not (isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
            raise InputError(f"{where}: expected a non-empty list of non-negative integer seeds")
        if len(set(value)) != len(value):
            raise InputError(f"{where}: seeds must be distinct")
        return tuple(value)
    if not _is_number(value) or (kind is int and not float(value).is_integer()):
        raise InputError(f"{where}: expected {'an integer' if kind is int else 'a number'} in [{bounds[0]:g}, {bounds[1]:g}]")
    if not bounds[0] <= value <= bounds[1]:
        raise InputError(f"{where}: outside allowed range [{bounds[0]:g}, {bounds[1]:g}]")
    return kind(value)


def load_config(name: str = "small", path: Path | None = None) -> CalibrationConfig:
    """Configuration ``name`` of ``calibration/config.toml``: ``[common]`` overlaid by ``[name]``."""
    path = Path(path) if path is not None else CONFIG_FILE
    raw = read_toml(path, "calibration config")
    tables = {k: v for k, v in raw.items() if isinstance(v, dict) and k != "common"}
    if name not in tables:
        raise InputError(f"{path}: [{name}]: no such configuration (allowed: {', '.join(sorted(tables))})")
    merged = {**raw.get("common", {}), **tables[name]}
    values: dict[str, Any] = {}
    extra = {}
    for key, value in merged.items():
        if key not in _SPEC:
            extra[key] = value
            continue
        values[key] = _check_value(path, key, value)
    missing = [k for k in _SPEC if k not in values and k not in OPTIONAL_KEYS]
    if missing:
        raise InputError(f"{path}: [{name}]: missing key {missing[0]} (set it in [common] or [{name}])")
    if values["batch"] < 1 or values["particles"] < 2:
        raise InputError(f"{path}: [{name}]: particles must be >= 2 and batch >= 1")
    base = path.parent.parent if path.parent.name == "calibration" else REPO_ROOT
    shared = set(values.get("conditional_seeds", ())) & set(values.get("validation_seeds", ()))
    if shared:
        raise InputError(f"{path}: [{name}] conditional_seeds: seed {min(shared)} is also a validation seed (the "
                         "validation must use seeds the fit never saw)")
    if values.get("conditional"):
        free = load_free_parameters(resolve_path(values["free_parameters"], base))
        allowed = [p.name for p in free]
        for pname in values["conditional"]:
            if pname not in allowed:
                raise InputError(f"{path}: [{name}] conditional: {pname!r} is not a free parameter "
                                 f"(allowed: {', '.join(allowed)})")
        for p in free:
            if p.stage == "levels" and p.name not in values["conditional"]:
                raise InputError(f"{path}: [{name}] conditional: {p.name!r} is missing (free_parameters.toml gives it "
                                 "stage = \"levels\": only the conditional fit estimates it)")
    if values.get("robust_groups"):
        from qhsim.calibration.targets import load_targets

        groups = sorted({t.group for t in load_targets(resolve_path(values["targets"], base))})
        for group in values["robust_groups"]:
            if group not in groups:
                raise InputError(f"{path}: [{name}] robust_groups: {group!r} is not a target group "
                                 f"(allowed: {', '.join(groups)})")
    return CalibrationConfig(
        name=name,
        scenario=resolve_path(values["scenario"], base),
        targets=resolve_path(values["targets"], base),
        free_parameters=resolve_path(values["free_parameters"], base),
        end_year=values["end_year"],
        scale=values["scale"],
        seeds=values["seeds"],
        particles=values["particles"],
        batch=values["batch"],
        max_generations=values["max_generations"],
        quantile=values["quantile"],
        epsilon_floor=values["epsilon_floor"],
        min_acceptance=values["min_acceptance"],
        max_evaluations=values["max_evaluations"],
        simulation_error=values["simulation_error"],
        random_seed=values["random_seed"],
        out=resolve_path(values["out"], base),
        known_by=values.get("known_by"),
        validation_scale=values.get("validation_scale"),
        validation_seeds=values.get("validation_seeds", ()),
        vary_population=values.get("vary_population", False),
        response_candidates=values.get("response_candidates", 0),
        response_screen_seeds=values.get("response_screen_seeds", CalibrationConfig.response_screen_seeds),
        response_seeds=values.get("response_seeds", CalibrationConfig.response_seeds),
        response_scale=values.get("response_scale", CalibrationConfig.response_scale),
        evidence_bandwidth=values.get("evidence_bandwidth", CalibrationConfig.evidence_bandwidth),
        conditional=values.get("conditional", ()),
        conditional_budget=values.get("conditional_budget", CalibrationConfig.conditional_budget),
        conditional_seeds=values.get("conditional_seeds", ()),
        ensemble_refit_budget=values.get("ensemble_refit_budget", 0),
        level_samples=values.get("level_samples", 0),
        kernel=values.get("kernel", "global"),
        min_ess_share=values.get("min_ess_share", CalibrationConfig.min_ess_share),
        robust_groups=values.get("robust_groups", ()),
        held_levels=resolve_path(values["held_levels"], base) if "held_levels" in values else None,
        extra=extra,
    )


# ---------------------------------------------------------------------------------------------------
# fingerprints: a journal is reused only by the same model, data, scenario and settings

_NOT_MODEL = ("calibration", "output", "app", "dashboard", "cli.py", "evidence.py", "__pycache__")


def model_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files that make the model, among ``paths`` (relative to the package folder ``qhsim/``), in hashing
    order: every ``*.py`` outside calibration/, output/, app/, dashboard/ and the top-level cli.py and evidence.py
    (the micro evidence the model is checked against; sorted as paths), then ``data/*.toml`` (sorted)."""
    paths = [Path(p) for p in paths]
    py = sorted(p for p in paths if p.suffix == ".py" and p.parts[0] not in _NOT_MODEL and "__pycache__" not in p.parts)
    toml = sorted(p for p in paths if p.parent == Path("data") and p.suffix == ".toml")
    return py + toml


def fingerprint_of(files: list[Path], read: Callable[[Path], bytes]) -> str:
    """sha256 over (relative path as text, file bytes) of each file in order."""
    h = hashlib.sha256()
    for rel in files:
        h.update(rel.as_posix().encode())
        h.update(read(rel))
    return h.hexdigest()


def calibration_in_force() -> str:
    """For a report's header: the behavioural parameters model runs use now (the calibrated point of the file in
    force, or the behaviour.toml defaults)."""
    path = calibration_file()
    if path is None:
        return f"the behaviour.toml defaults ({CALIBRATED_ENV}=off)"
    try:
        shown = path.resolve().relative_to(REPO_ROOT)
    except ValueError:
        shown = path
    return f"the calibrated point of `{shown}`"


def model_fingerprint() -> str:
    """Content hash of the model's source and data files as they are now (``model_files``, ``fingerprint_of``).

    calibration/calibrated.toml records it (``meta.model_fingerprint``) with the commit whose files give the same
    hash (``meta.model_commit``); ``model_fingerprint_at(commit)`` recomputes it from git.
    """
    files = model_files(p.relative_to(PACKAGE_DIR) for p in PACKAGE_DIR.rglob("*") if p.is_file())
    return fingerprint_of(files, lambda rel: (PACKAGE_DIR / rel).read_bytes())


def _git(*args: str, text: bool = True) -> Any:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, check=True, text=text).stdout


def model_fingerprint_at(commit: str) -> str:
    """``model_fingerprint`` of the files of ``commit`` (read with git; raises if git or the commit is missing)."""
    listed = _git("ls-tree", "-r", "--name-only", commit, "--", "qhsim").split("\n")
    files = model_files(Path(p).relative_to("qhsim") for p in listed if p)
    return fingerprint_of(files, lambda rel: _git("show", f"{commit}:qhsim/{rel.as_posix()}", text=False))


def model_commit(fingerprint: str, search: int = 30) -> str:
    """The git commit whose model files give ``fingerprint`` (the hash a calibration computed when it started): HEAD
    when its model files are unchanged and match, else the latest of the last ``search`` commits that touched
    qhsim/ whose files match (a commit may land while a long calibration runs); "" when none does (uncommitted
    edits) or git is not available."""
    try:
        head = _git("rev-parse", "HEAD").strip()
        dirty = _git("status", "--porcelain", "--", *(f"qhsim/{p.as_posix()}" for p in model_files(
            p.relative_to(PACKAGE_DIR) for p in PACKAGE_DIR.rglob("*") if p.is_file())))
        if not dirty.strip() and model_fingerprint() == fingerprint:
            return head
        for commit in _git("log", f"-n{search}", "--format=%H", "--", "qhsim").split():
            if model_fingerprint_at(commit) == fingerprint:
                return commit
    except (OSError, subprocess.CalledProcessError):
        pass
    return ""


def file_sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def json_sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
