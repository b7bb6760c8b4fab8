"""Science literacy 公民科学素质 by prefecture (MODEL.md §4 step 10; docs/ODD.md §7.10.6).

State: the literate share l[p, a] of each single-year adult cohort a = 18..69 in each prefecture p (the national
civic science literacy survey covers ages 18-69). Each year:
  1. cohort replacement: everybody ages one year; the 70-year-olds leave the survey population and a new cohort
     of 18-year-olds enters with literacy young_p,t = young_p,t0 (1 + g_edu)^(t - t0), capped (t0: the run's start
     year, 2015);
  2. popularisation 科普: a non-literate adult becomes literate with probability
     pi_p,t = pi_0 + pi_1 (spend per capita_p,t / ref)^gamma x exp(-(a - 18) / age_scale);
  3. forgetting: a literate adult loses the standard with probability delta.
Spending is allocated to prefectures by population, or tilted to low-literacy prefectures ("need": weights
population share x (1 - l) / l^literacy_need_exponent).
The prefecture's literacy is the mean over its cohorts (uniform age distribution, an assumption); the province's
is the population-weighted mean.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

AGES = np.arange(18, 70)


class Literacy:
    def __init__(self, pop_share: np.ndarray, kp: SimpleNamespace, start_year: int):
        rel = np.asarray(kp.literacy_relative_2015, dtype=float)
        rel = rel / (rel * pop_share).sum()  # population-weighted mean = 1
        level = kp.literacy_2015 / 100.0 * rel  # per prefecture
        # cohort profile: linear from young_multiple at 18 to old_multiple at 69, normalised to mean 1
        shape = np.linspace(kp.literacy_young_multiple, kp.literacy_old_multiple, len(AGES))
        shape = shape / shape.mean()
        self.share = np.clip(level[:, None] * shape[None, :], 0.0, 1.0)
        self.young_2015 = self.share[:, 0].copy()
        self.start_year = start_year  # the year of literacy_2015 and of young_2015
        self.pop_share = pop_share
        self.need_exponent = kp.literacy_need_exponent

    def level(self) -> np.ndarray:
        """Literate share per prefecture (0-1)."""
        return self.share.mean(axis=1)

    def province(self) -> float:
        return float((self.level() * self.pop_share).sum())

    def allocate(self, budget: float, allocation: str) -> np.ndarray:
        """Popularisation spending per prefecture (万元)."""
        w = self.pop_share.copy()
        if allocation == "need":
            w = w * (1.0 - self.level()) / np.maximum(self.level(), 1e-3) ** self.need_exponent
        return budget * w / w.sum()

    def step(self, year: int, spend: np.ndarray, population: np.ndarray, kp: SimpleNamespace) -> None:
        """``spend``: 万元 per prefecture; ``population``: persons per prefecture."""
        young = np.minimum(self.young_2015 * (1.0 + kp.literacy_education_growth) ** (year - self.start_year),
                           kp.literacy_young_cap)
        self.share[:, 1:] = self.share[:, :-1].copy()
        self.share[:, 0] = young
        per_capita = spend * 1e4 / np.maximum(population, 1.0)  # yuan per resident
        pi = kp.literacy_base_rate + kp.literacy_spend_rate * (per_capita / kp.literacy_spend_ref) ** kp.literacy_spend_elasticity
        age_factor = np.exp(-(AGES - 18) / kp.literacy_age_scale)
        gain = pi[:, None] * age_factor[None, :] * (1.0 - self.share)
        self.share = np.clip(self.share + gain - kp.literacy_forgetting * self.share, 0.0, 1.0)
