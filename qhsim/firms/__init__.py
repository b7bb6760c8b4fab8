"""The enterprise population: state, synthesis and vectorised rules (one module per concept)."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

import numpy as np

from qhsim import data


@cache
def sector_table() -> SimpleNamespace:
    """Per-sector attributes as arrays indexed by a firm's ``sector`` code."""
    rows = data.sectors()
    fields = [f for f in data.Sector.__dataclass_fields__ if f not in ("id", "zh", "en")]
    arrays = {f: np.array([getattr(s, f) for s in rows]) for f in fields}
    arrays["agri"] = np.array([s.id == "agri_food" for s in rows])
    return SimpleNamespace(**arrays)


def behaviour(values: dict[str, float]) -> SimpleNamespace:
    """Behavioural parameters as attributes (``b.user_cost_elasticity``)."""
    return SimpleNamespace(**values)
