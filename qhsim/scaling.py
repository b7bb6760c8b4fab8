"""Scaled counts 按比例计数: a run simulates ``scale`` of the real population, so yearly full-scale counts (quotas,
arrivals) become whole simulated counts with the fractions carried over to the next year.

A count floors with a tolerance of 1e-9 (a sum of fractions such as 0.3 + 0.7 is whole), except the little-giant
quota of ``qhsim.model``, which floors exactly (``tolerance=0``): with the tolerance some of its units would move by a
year at scales such as 0.3, and the results with them.
"""

from __future__ import annotations

import numpy as np


class Carry:
    """Turns yearly full-scale counts into whole simulated counts at the run's scale; fractions carry over."""

    def __init__(self, scale: float, tolerance: float = 1e-9):
        self.scale = scale
        self.tolerance = tolerance  # added before flooring
        self._carry: dict[str, float] = {}

    def __call__(self, key: str, full_count: float) -> int:
        return self.whole(key, full_count * self.scale)

    def whole(self, key: str, simulated_count: float) -> int:
        """Like calling the carry, for a count already in the simulated world (not to be scaled)."""
        exact = simulated_count + self._carry.get(key, 0.0)
        n = int(np.floor(exact + self.tolerance))
        self._carry[key] = exact - n
        return max(n, 0)
