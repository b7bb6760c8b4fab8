"""ABC-SMC 近似贝叶斯计算（序贯蒙特卡洛）: the estimation method.

Population Monte Carlo ABC (Beaumont, Cornuet, Marin & Robert 2009, *Biometrika* 96:983) with an adaptive
tolerance schedule (epsilon_t = weighted quantile of the previous population's distances; Del Moral,
Doucet & Jasra 2012; Drovandi & Pettitt 2011), on the simulated-moments distance of
``qhsim.calibration.objective`` evaluated with common random numbers.

* Parameters live in the unit cube (uniform prior there; log-uniform priors map through log).
* Generation 0 draws ``particles`` points from the prior; every one is accepted.
* Generation t proposes from the previous population: pick a particle by weight, perturb it with a
  Gaussian kernel, redraw if outside the prior support. ``kernel = "global"``: one covariance, 2 x the
  weighted population covariance (Beaumont et al. 2009). ``kernel = "olcm"``: the optimal local covariance
  of Filippi, Barnes, Cornebise & Stumpf (2013, *Stat. Appl. Genet. Mol. Biol.* 12:87), one per particle j,
  Σ_j = Σ_k w_k (θ_k − θ_j)(θ_k − θ_j)ᵀ over the previous particles k already within the new epsilon
  (weights renormalised over them): wide where the population still has to move, narrow along ridges and
  near the mode, so more proposals land within epsilon when the posterior is correlated or concentrated.
  Proposals are evaluated in batches; the first ``particles`` proposals (by evaluation id) with distance
  <= epsilon_t form the new population, weighted w_i ∝ prior(θ_i) / Σ_j W_j K_j(θ_i | θ_j) (with each K_j's
  normalising constant under "olcm").
* epsilon never falls below ``epsilon_floor`` (default 1: "within the targets' tolerances"); fitting
  tighter than the statistics are exact would only fit noise. Under Wilkinson's (2013) reading, the final
  population is then an exact posterior sample for an observation model in which each statistic may
  differ from the model's expectation by up to its tolerance.
* Stop: epsilon reached the floor, or acceptance rate < ``min_acceptance``, or ``max_generations``, or
  ``max_evaluations``. If the evaluation budget runs out inside a generation, epsilon_t is raised to the
  ``particles``-th smallest distance proposed in it (so the population is complete) and the run stops. (That
  epsilon can exceed the previous generation's: the shipped calibration's last generation is such a case; kept
  so that its journal replays exactly.)

Everything random comes from ``numpy.random.default_rng([random_seed, generation])`` and the evaluation
ids are assigned in proposal order, so the path is identical for any number of workers and when resumed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp

from qhsim.calibration.settings import CalibrationConfig, FreeParameter

# evaluate(ids, parameter dicts, description) -> distances, in the order given
EvaluateFn = Callable[[list[int], list[dict[str, float]], str], list[float]]

MAX_REDRAWS = 10_000


@dataclass
class Generation:
    t: int
    epsilon: float
    ids: list[int]
    u: np.ndarray  # (N, d) unit-cube coordinates of the population
    weights: np.ndarray
    distances: np.ndarray
    proposed: int
    within: int  # proposals with distance <= epsilon
    relaxed: bool = False  # epsilon raised because the evaluation budget ran out

    @property
    def acceptance(self) -> float:
        return self.within / self.proposed if self.proposed else float("nan")

    @property
    def ess(self) -> float:
        return float(1.0 / np.sum(self.weights**2))


@dataclass
class AbcResult:
    params: tuple[FreeParameter, ...]
    generations: list[Generation]
    distances: dict[int, float]  # every evaluation
    thetas: dict[int, dict[str, float]]
    generation_of: dict[int, int]
    stop_reason: str
    best_id: int
    n_evaluations: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def final(self) -> Generation:
        return self.generations[-1]

    def best(self) -> dict[str, float]:
        """The minimum-distance evaluation (one particle, selected on the calibration seeds' noise)."""
        return dict(self.thetas[self.best_id])

    def point(self) -> dict[str, float]:
        """The weighted median of each parameter in the final population (whole numbers for integer parameters),
        not the single best particle; the calibrated default first checks this population against the
        policy-response evidence (``qhsim.calibration.posterior``)."""
        from qhsim.calibration.posterior import final_population

        return final_population(self).median(self.params)


def to_theta(params: Sequence[FreeParameter], u: np.ndarray) -> dict[str, float]:
    out = {}
    for p, x in zip(params, u):
        v = float(p.from_unit(x))
        out[p.name] = int(v) if p.integer else v
    return out


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    finite = np.isfinite(x)
    x, w = x[finite], w[finite]
    if x.size == 0:
        return math.inf
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = np.cumsum(w) / w.sum()
    i = int(np.searchsorted(cw, q, side="left"))
    return float(x[min(i, x.size - 1)])


def kernel_cholesky(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Cholesky factor of 2 x the weighted covariance (Beaumont et al. 2009), regularised."""
    diff = u - w @ u
    return _regularised_cholesky(2.0 * (diff.T * w) @ diff / max(1.0 - np.sum(w**2), 1e-12))


def _regularised_cholesky(cov: np.ndarray) -> np.ndarray:
    """Cholesky factor(s) of a (d, d) covariance or a stack (N, d, d), each with a ridge of 1e-6 x its mean variance
    (at least 1e-10) on the diagonal, so that a collapsed direction stays proposable."""
    d = cov.shape[-1]
    ridge = np.maximum(1e-10, 1e-6 * np.trace(cov, axis1=-2, axis2=-1) / d)
    return np.linalg.cholesky(cov + ridge[..., None, None] * np.eye(d))


def log_kernel(new: np.ndarray, old: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """log K(new_i | old_j) up to a constant, shape (len(new), len(old))."""
    diff = new[:, None, :] - old[None, :, :]
    z = np.linalg.solve(chol, diff.reshape(-1, diff.shape[-1]).T).T.reshape(diff.shape)
    return -0.5 * np.sum(z**2, axis=-1)


def local_cholesky(prev: Generation, eps: float) -> np.ndarray | None:
    """(N, d, d) Cholesky factors of the optimal local covariance (Filippi et al. 2013) of each particle of
    ``prev``, from the particles already within ``eps``; None when fewer than two are (the caller then uses the
    global kernel)."""
    keep = prev.distances <= eps
    if int(keep.sum()) < 2:
        return None
    w = prev.weights[keep] / prev.weights[keep].sum()
    diff = prev.u[keep][None, :, :] - prev.u[:, None, :]  # (N, K, d): θ_k − θ_j
    return _regularised_cholesky(np.einsum("k,jka,jkb->jab", w, diff, diff))


def log_local_kernel(new: np.ndarray, old: np.ndarray, chols: np.ndarray) -> np.ndarray:
    """log K_j(new_i | old_j) with kernel j's own covariance, normalising constant included (it differs
    between kernels), shape (len(new), len(old))."""
    diff = new[:, None, :] - old[None, :, :]  # (M, N, d)
    z = np.einsum("jab,ijb->ija", np.linalg.inv(chols), diff)
    log_det = np.sum(np.log(np.diagonal(chols, axis1=1, axis2=2)), axis=1)
    return -0.5 * np.sum(z**2, axis=-1) - log_det[None, :]


def run_abc_smc(
    params: Sequence[FreeParameter],
    cfg: CalibrationConfig,
    evaluate: EvaluateFn,
    log: Callable[[str], None] = lambda s: None,
) -> AbcResult:
    params = tuple(params)
    d = len(params)
    n = cfg.particles
    distances: dict[int, float] = {}
    thetas: dict[int, dict[str, float]] = {}
    generation_of: dict[int, int] = {}
    generations: list[Generation] = []
    next_id = 0
    total = 0
    stop = ""

    def run_batch(t: int, us: np.ndarray, desc: str) -> tuple[list[int], np.ndarray]:
        nonlocal next_id, total
        ids = list(range(next_id, next_id + len(us)))
        next_id += len(us)
        th = [to_theta(params, u) for u in us]
        dist = evaluate(ids, th, desc)
        for i, tt, dd in zip(ids, th, dist):
            distances[i], thetas[i], generation_of[i] = float(dd), tt, t
        total += len(us)
        return ids, np.asarray(dist, dtype=float)

    # generation 0: the prior
    rng = np.random.default_rng([cfg.random_seed, 0])
    u0 = rng.random((n, d))
    ids, dist = run_batch(0, u0, "gen 0 (prior)")
    gen = Generation(0, math.inf, ids, u0, np.full(n, 1.0 / n), dist, n, n)
    generations.append(gen)
    log(_summary(gen))

    for t in range(1, cfg.max_generations):
        prev = generations[-1]
        eps = max(weighted_quantile(prev.distances, prev.weights, cfg.quantile), cfg.epsilon_floor)
        if not math.isfinite(eps):
            stop = "no finite distance in the previous population (model output NaN for an active target)"
            break
        chol = kernel_cholesky(prev.u, prev.weights)
        local = local_cholesky(prev, eps) if cfg.kernel == "olcm" else None
        rng = np.random.default_rng([cfg.random_seed, t])
        budget_gen = math.ceil(n / cfg.min_acceptance) if cfg.min_acceptance > 0 else 10**9
        acc_ids: list[int] = []
        acc_u: list[np.ndarray] = []
        acc_d: list[float] = []
        seen_ids: list[int] = []
        seen_u: list[np.ndarray] = []
        seen_d: list[float] = []
        proposed = 0
        exhausted = ""
        while len(acc_ids) < n:
            size = min(cfg.batch, budget_gen - proposed, cfg.max_evaluations - total)
            if size <= 0:
                exhausted = (
                    "evaluation budget (max_evaluations) used up"
                    if cfg.max_evaluations - total <= 0
                    else f"acceptance rate below min_acceptance = {cfg.min_acceptance:g}"
                )
                break
            us = _propose(rng, prev, chol if local is None else local, size)
            ids, dist = run_batch(t, us, f"gen {t} eps={eps:.3g} accepted {len(acc_ids)}/{n}")
            proposed += size
            for i, u, dd in zip(ids, us, dist):
                seen_ids.append(i)
                seen_u.append(u)
                seen_d.append(float(dd))
                if dd <= eps and len(acc_ids) < n:
                    acc_ids.append(i)
                    acc_u.append(u)
                    acc_d.append(float(dd))
        within = int(np.sum(np.asarray(seen_d) <= eps))
        relaxed = False
        if len(acc_ids) < n:
            if len(seen_d) < n or not np.isfinite(np.sort(seen_d)[n - 1]):
                stop = exhausted + f"; generation {t} incomplete, the last complete generation is final"
                break
            eps = float(np.sort(seen_d)[n - 1])
            keep = [k for k, dd in enumerate(seen_d) if dd <= eps][:n]
            acc_ids = [seen_ids[k] for k in keep]
            acc_u = [seen_u[k] for k in keep]
            acc_d = [seen_d[k] for k in keep]
            relaxed = True
        u_new = np.asarray(acc_u)
        log_k = log_kernel(u_new, prev.u, chol) if local is None else log_local_kernel(u_new, prev.u, local)
        logw = -logsumexp(log_k, b=prev.weights[None, :], axis=1)
        w = np.exp(logw - logw.max())
        gen = Generation(t, eps, acc_ids, u_new, w / w.sum(), np.asarray(acc_d), proposed, within, relaxed)
        log(_summary(gen))
        if gen.ess < cfg.min_ess_share * n:
            stop = (f"generation {t}'s importance weights collapsed (ESS {gen.ess:.1f} < min_ess_share "
                    f"{cfg.min_ess_share:g} x {n} particles): generation {t - 1} is final")
            break
        generations.append(gen)
        if relaxed:
            stop = exhausted + f"; epsilon of generation {t} raised to the smallest distance that completes {n} particles"
            break
        if eps <= cfg.epsilon_floor:
            stop = f"epsilon reached the floor {cfg.epsilon_floor:g} (targets matched within their tolerances)"
            break
        if gen.acceptance < cfg.min_acceptance:
            stop = f"acceptance rate {gen.acceptance:.3f} below min_acceptance = {cfg.min_acceptance:g}"
            break
    else:
        stop = f"max_generations = {cfg.max_generations} reached"

    finite = {i: dd for i, dd in distances.items() if math.isfinite(dd)}
    pool = finite or distances
    best = min(pool, key=lambda i: (pool[i], i))
    return AbcResult(params, generations, distances, thetas, generation_of, stop, best, total)


def _propose(rng: np.random.Generator, prev: Generation, chol: np.ndarray, size: int) -> np.ndarray:
    """``size`` proposals; ``chol`` is one (d, d) factor for every particle or (N, d, d), one per particle."""
    out = np.empty((size, prev.u.shape[1]))
    for k in range(size):
        for _ in range(MAX_REDRAWS):
            j = rng.choice(len(prev.weights), p=prev.weights)
            cand = prev.u[j] + (chol if chol.ndim == 2 else chol[j]) @ rng.standard_normal(prev.u.shape[1])
            if np.all((cand >= 0.0) & (cand <= 1.0)):
                break
        else:  # pragma: no cover - only with a degenerate kernel
            cand = np.clip(cand, 0.0, 1.0)
        out[k] = cand
    return out


def _summary(g: Generation) -> str:
    d = g.distances[np.isfinite(g.distances)]
    med = float(np.median(d)) if d.size else math.inf
    return (
        f"generation {g.t}: epsilon {g.epsilon:.4g}, proposed {g.proposed}, acceptance {g.acceptance:.2f}, "
        f"ESS {g.ess:.0f}, distance min {float(d.min()) if d.size else math.inf:.4g} median {med:.4g}"
    )
