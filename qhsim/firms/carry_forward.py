"""Loss carry-forward of the R&D super-deduction 研发费用加计扣除形成亏损的结转弥补.

The extra deduction of R&D (加计扣除) enters the taxable income: where it exceeds this year's taxable profit the
rest is a loss that the firm offsets against the taxable profit of later years, the oldest first, for at most
``years`` years (企业所得税法 art. 18: five); a loss of a firm that holds a high-tech enterprise certificate or
is a registered tech-based SME in a later year within those five years may be carried ``extended_years`` (财税
〔2018〕76号: ten, from 2018, for the losses of the five years before a year with either status).

Only the deduction's part is carried: the model does not carry ordinary operating losses (its taxable profit is
this year's profit, floored at 0), so a carried deduction meets no older operating loss and is used as soon as
the firm has taxable profit left after this year's deduction — an upper bound on how fast it is used.

The firms' R&D decisions weigh the deduction they can use this year (``qhsim.firms.rd.capped_deduction``); what
they carry reaches them later as tax not paid. The ledger counts it then, at the rate of the year of use: the tax
expenditure of a super-deduction is what this year's and the carried deductions save this year.

The carried amounts are kept per loss year and firm in a small table (rows only for firms with a carried
deduction, a few thousand at scale 1), sorted by firm (uid, the population's order) and year.
"""

from __future__ import annotations

import numba
import numpy as np

from qhsim.soa import nonzero_rows


class CarryForward:
    """The carried super-deductions of a population (万元 of deduction, not yet of tax)."""

    def __init__(self) -> None:
        self.uid = np.empty(0, dtype=np.int64)
        self.year = np.empty(0, dtype=np.int64)  # the loss year
        self.amount = np.empty(0)  # deduction not yet used
        self.extended = np.empty(0, dtype=bool)  # may be carried ``extended_years``

    def __len__(self) -> int:
        return len(self.uid)

    def use(self, year: int, uid: np.ndarray, deduction: np.ndarray, taxable: np.ndarray, qualified: np.ndarray,
            years: int, extended_years: int) -> tuple[np.ndarray, np.ndarray]:
        """Book ``year``'s deductions; return per firm the deduction it uses this year (its own and carried) and the
        deduction it carries into next year.

        ``uid`` is the population's (ascending); ``deduction`` the extra deduction of each firm's R&D this year
        (d x reported R&D), ``taxable`` its taxable profit before it (>= 0), ``qualified`` whether it holds a valid
        HTE certificate or is a registered tech-based SME this year. Carried amounts of firms that have left, and
        those older than their carry period, lapse first; this year's deduction is used before the carried ones,
        the carried oldest first; what this year's deduction leaves unused is carried; the losses of the five years
        before a qualified year become ``extended``."""
        used = np.zeros(len(uid))
        r = nonzero_rows(deduction)
        used[r] = np.minimum(deduction[r], taxable[r])
        pos = np.searchsorted(uid, self.uid)
        alive = pos < len(uid)
        alive[alive] = uid[pos[alive]] == self.uid[alive]
        age = year - self.year
        keep = alive & ((age <= years) | (self.extended & (age <= extended_years)))
        if not keep.all():
            self._take(np.flatnonzero(keep))
            pos = pos[keep]
        if len(self):
            _use_oldest_first(pos, self.amount, taxable, used)
            if extended_years > years:  # the rule in force
                self.extended |= qualified[pos] & (year - self.year <= years)
            left = np.flatnonzero(self.amount > 0.0)
            self._take(left)
            pos = pos[left]
        carried = np.bincount(pos, weights=self.amount, minlength=len(uid)).astype(float, copy=False)  # (none: ints)
        new = r[deduction[r] > used[r]]
        if len(new) and max(years, extended_years) > 0:
            unused = deduction[new] - used[new]
            carried[new] += unused
            self._add(uid[new], year, unused)
        return used, carried

    def _take(self, rows: np.ndarray) -> None:
        self.uid, self.year, self.amount, self.extended = (
            self.uid[rows], self.year[rows], self.amount[rows], self.extended[rows])

    def _add(self, uid: np.ndarray, year: int, amount: np.ndarray) -> None:
        """Append this year's rows and restore the order by firm, then year (a firm's new row goes last)."""
        self.uid = np.concatenate((self.uid, uid))
        self.year = np.concatenate((self.year, np.full(len(uid), year, dtype=np.int64)))
        self.amount = np.concatenate((self.amount, amount))
        self.extended = np.concatenate((self.extended, np.zeros(len(uid), dtype=bool)))
        self._take(np.argsort(self.uid, kind="stable"))


@numba.njit(cache=True, nogil=True)
def _use_oldest_first(pos, amount, taxable, used):
    """Per firm (rows grouped by firm, oldest first): the carried amounts meet the taxable profit this year's own
    deduction left (taxable - used), in row order; ``amount`` and ``used`` change in place."""
    room = 0.0
    for k in range(len(pos)):
        i = pos[k]
        if k == 0 or i != pos[k - 1]:
            room = taxable[i] - used[i]
        take = min(amount[k], room) if room > 0.0 else 0.0
        amount[k] -= take
        room -= take
        used[i] += take
