"""Selection helpers 选择工具 of the knowledge system: ranks within groups, the best n by score, weighted picks.

Plain functions of arrays, deterministic given their inputs (ties broken by position or an explicit key), used by
the talent market, the technology market, platforms and start-ups.
"""

from __future__ import annotations

import numpy as np


def rank_within(groups: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Rank (0, 1, ...) of each element within its group, by ascending priority (ties by position)."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((priority, groups))  # stable: ties keep their position order
    g = groups[order]
    start = np.concatenate(([0], np.flatnonzero(g[1:] != g[:-1]) + 1))
    first = np.repeat(start, np.diff(np.concatenate((start, [n]))))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n) - first
    return ranks


def top_n(score: np.ndarray, tiebreak: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` highest scores, best first (ties broken by ascending ``tiebreak``)."""
    if n <= 0 or not len(score):
        return np.zeros(0, dtype=np.int64)
    if n < len(score):
        cut = -np.partition(-score, n - 1)[n - 1]  # the n-th highest score (values only: cheaper than argpartition)
        part = np.flatnonzero(score >= cut)  # keep every tie at the cut so the tie-break decides
    else:
        part = np.arange(len(score))
    order = np.lexsort((tiebreak[part], -score[part]))
    return part[order[:n]]


def weighted_pick(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index drawn with probability proportional to ``weights`` for each uniform in ``u``."""
    cum = np.cumsum(weights)
    return np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), len(weights) - 1)
