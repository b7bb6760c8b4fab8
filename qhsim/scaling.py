"""Scaled counts 按比例计数: a run simulates ``scale`` of the real population, so yearly full-scale counts (quotas,
arrivals) become whole simulated counts with the fractions carried over to the next year.

The little-giant quota of ``qhsim.model`` floors without ``Carry``'s 1e-9 tolerance (QinghaiModel._scaled_quota);
giving it a Carry would move some units by a year at scales such as 0.3, so the two rules are kept as they are.
"""

from __future__ import annotations

import numpy as np


class Carry:
    """Turns yearly full-scale counts into whole simulated counts at the run's scale; fractions carry over."""

    def __init__(self, scale: float):
        self.scale = scale
        self._carry: dict[str, float] = {}

    def __call__(self, key: str, full_count: float) -> int:
        exact = full_count * self.scale + self._carry.get(key, 0.0)
        n = int(np.floor(exact + 1e-9))
        self._carry[key] = exact - n
        return max(n, 0)

    def whole(self, key: str, simulated_count: float) -> int:
        """Like calling the carry, for a count already in the simulated world (not to be scaled)."""
        exact = simulated_count + self._carry.get(key, 0.0)
        n = int(np.floor(exact + 1e-9))
        self._carry[key] = exact - n
        return max(n, 0)
