"""Loss carry-forward 亏损结转弥补 of the firms with a super-deduction, and what the deduction saves through it.

The extra deduction of R&D (加计扣除) enters the taxable income: where the year's profit less the deduction is
negative the firm has a tax loss, which it offsets against the taxable income of later years, the oldest first, for
at most ``years`` years (企业所得税法 art. 18: five); a loss of a firm that holds a high-tech enterprise certificate
or is a registered tech-based SME in a later year within those five years may be carried ``extended_years`` (财税
〔2018〕76号: ten, from 2018, for the losses of the five years before a year with either status). A tax loss is one
amount whatever made it: an operating loss and the deduction's part are carried and used together.

The ledger keeps, for every firm that has had a super-deduction (from the first year it had one), two accounts of
its losses: the tax rules' (with the deduction) and the same firm's without the super-deduction (its operating
losses alone). The deduction's tax expenditure in a year is the tax rate times the difference between the two
taxable incomes: what this year's deduction and the carried ones save this year, after the older losses the firm
would have used anyway. The losses of a firm before its first deduction are not kept (keeping them would lower the
deduction used in 2026-2035 by about 0.6%, baseline), nor those of firms that never had one (both accounts would be
equal). The end-2015 losses are taken as none.

The firms' R&D decisions weigh the deduction this year's profit can absorb (``qhsim.firms.rd.capped_deduction``):
neither their older losses nor what they carry enter them.

The losses are kept per firm and loss year in a small table (rows only for tracked firms with a loss left, a few
thousand at scale 1), sorted by firm (uid, the population's order) and year.
"""

from __future__ import annotations

import numba
import numpy as np

from qhsim.soa import nonzero_rows


class CarryForward:
    """The tax losses of the firms that have had a super-deduction (万元 of loss, not yet of tax)."""

    def __init__(self) -> None:
        self.tracked = np.empty(0, dtype=np.int64)  # uids of the firms that have had a super-deduction (ascending)
        self.uid = np.empty(0, dtype=np.int64)
        self.year = np.empty(0, dtype=np.int64)  # the loss year
        self.loss = np.empty(0)  # loss not yet used, as the tax rules count it (with the super-deduction)
        self.loss_without = np.empty(0)  # the same without the super-deduction (operating losses alone)
        self.extended = np.empty(0, dtype=bool)  # may be carried ``extended_years``

    def __len__(self) -> int:
        return len(self.uid)

    def use(self, year: int, uid: np.ndarray, deduction: np.ndarray, profit: np.ndarray, qualified: np.ndarray,
            years: int, extended_years: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Book ``year``; return per firm (``used``, ``carried``, ``taxable``): the extra deduction that lowers this
        year's taxable income (its own and carried ones, net of the older losses the firm would have used without
        the super-deduction), the deduction's part of the losses carried into next year, and the taxable income
        without the super-deduction (this year's profit less the older operating losses it absorbs, at least 0: the
        base of the HTE rate's tax expenditure).

        ``uid`` is the population's (ascending); ``deduction`` the extra deduction of each firm's R&D this year
        (d x reported R&D), ``profit`` its profit before it (negative: a loss), ``qualified`` whether it holds a
        valid HTE certificate or is a registered tech-based SME this year. Losses of firms that have left, and those
        older than their carry period, lapse first; this year's income less its deduction is then offset by the
        losses carried, the oldest first; a negative one is this year's loss; the losses of the five years before a
        qualified year become ``extended``."""
        r = nonzero_rows(deduction)
        taxable = np.maximum(profit, 0.0)
        used = np.zeros(len(uid))
        used[r] = np.minimum(deduction[r], taxable[r])  # the firms without a history: this year's own deduction
        carried = np.zeros(len(uid))
        at = np.searchsorted(uid, self.tracked)  # the tracked firms' positions, where they are still there
        there = at < len(uid)
        there[there] = uid[at[there]] == self.tracked[there]
        firm = np.searchsorted(self.tracked, self.uid)  # each loss row's firm among the tracked
        pos = at[firm]
        age = year - self.year
        keep = there[firm] & ((age <= years) | (self.extended & (age <= extended_years)))
        if not keep.all():
            self._take(np.flatnonzero(keep))
            pos = pos[keep]
        at = _union_sorted(at[there], r)
        self.tracked = uid[at]
        if len(at) == 0:
            return used, carried, taxable
        _offset_oldest_first(at, pos, self.loss, self.loss_without, profit, deduction, used, taxable, carried)
        if extended_years > years:  # the rule in force
            self.extended |= qualified[pos] & (year - self.year <= years)
        left = self.loss > 0.0
        if not left.all():
            self._take(np.flatnonzero(left))
        new = at[profit[at] < deduction[at]]
        if len(new) and max(years, extended_years) > 0:
            loss, loss_without = deduction[new] - profit[new], np.maximum(-profit[new], 0.0)
            carried[new] += loss - loss_without
            self._add(uid[new], year, loss, loss_without)
        return used, carried, taxable

    def _take(self, rows: np.ndarray) -> None:
        self.uid, self.year, self.loss, self.loss_without, self.extended = (
            self.uid[rows], self.year[rows], self.loss[rows], self.loss_without[rows], self.extended[rows])

    def _add(self, uid: np.ndarray, year: int, loss: np.ndarray, loss_without: np.ndarray) -> None:
        """Append this year's rows and restore the order by firm, then year (a firm's new row goes last)."""
        self.uid = np.concatenate((self.uid, uid))
        self.year = np.concatenate((self.year, np.full(len(uid), year, dtype=np.int64)))
        self.loss = np.concatenate((self.loss, loss))
        self.loss_without = np.concatenate((self.loss_without, loss_without))
        self.extended = np.concatenate((self.extended, np.zeros(len(uid), dtype=bool)))
        self._take(np.argsort(self.uid, kind="stable"))


@numba.njit(cache=True, nogil=True)
def _union_sorted(a, b):
    """The sorted union of two ascending arrays of distinct positions."""
    out = np.empty(len(a) + len(b), dtype=np.intp)
    i = j = n = 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and a[i] < b[j]):
            out[n] = a[i]
            i += 1
        elif i == len(a) or b[j] < a[i]:
            out[n] = b[j]
            j += 1
        else:
            out[n] = a[i]
            i += 1
            j += 1
        n += 1
    return out[:n]


@numba.njit(cache=True, nogil=True)
def _offset_oldest_first(at, pos, loss, loss_without, profit, deduction, used, taxable, carried):
    """For each tracked firm (positions ``at``, ascending; its loss rows where ``pos`` equals its position, oldest
    first, ``pos`` ascending): the carried losses of both accounts offset this year's income in row order — with the
    super-deduction the profit less this year's deduction, without it the profit. ``used`` becomes the difference of
    the two taxable incomes (this year's own deduction up to the profit, plus the losses offset with the deduction,
    less those offset without it), ``taxable`` the taxable income without it, ``carried`` the deduction's part of the
    losses left (with less without); ``loss`` and ``loss_without`` change in place."""
    k = 0
    for j in range(len(at)):
        i = at[j]
        while k < len(pos) and pos[k] < i:  # no such rows: every row's firm is tracked
            k += 1
        room = max(profit[i] - deduction[i], 0.0)
        room_without = max(profit[i], 0.0)
        offset_without = 0.0
        while k < len(pos) and pos[k] == i:
            take = min(loss[k], room)
            loss[k] -= take
            room -= take
            used[i] += take
            take = min(loss_without[k], room_without)
            loss_without[k] -= take
            room_without -= take
            offset_without += take
            carried[i] += loss[k] - loss_without[k]
            k += 1
        used[i] = max(used[i] - offset_without, 0.0)
        taxable[i] = room_without
