"""Structure-of-arrays populations 列式群体: one numpy column per attribute, one row per agent.

The enterprise population (``qhsim.firms.state``) and the R&D personnel (``qhsim.knowledge.talent``) are
column tables: every rule is a numpy kernel over whole columns (MODEL.md §7). Rows are compacted away
when agents leave; an id column identifies an agent for life.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numba
import numpy as np


@dataclass(frozen=True)
class RowView:
    """A read-only snapshot of one row: ``view.revenue`` reads the column value."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


class _RowsTaken(dict):
    """The columns of ``ColumnTable.subset``: each column is gathered from the source columns when first read;
    iterating takes them all."""

    def __init__(self, source: dict[str, np.ndarray], idx: np.ndarray, given: dict[str, np.ndarray]):
        super().__init__(given)
        idx = np.asarray(idx)
        self.source, self.idx, self.given = source, np.flatnonzero(idx) if idx.dtype == bool else idx, given

    def __missing__(self, name: str) -> np.ndarray:
        # take: the values of source[name][idx] (bounds checked), a quarter faster than fancy indexing
        col = self[name] = self.source[name].take(self.idx)  # KeyError for a column the table does not have
        return col

    def _all(self) -> None:
        for name in self.source:
            if not dict.__contains__(self, name):
                self[name]

    def __iter__(self):
        self._all()
        return super().__iter__()

    def __len__(self) -> int:
        self._all()
        return super().__len__()

    def keys(self):
        self._all()
        return super().keys()

    def values(self):
        self._all()
        return super().values()

    def items(self):
        self._all()
        return super().items()

    def get(self, name, default=None):
        return self[name] if name in self.source else default

    def __contains__(self, name) -> bool:
        return name in self.source


class ColumnTable:
    """Columns of equal length; subclasses set ``COLUMNS`` (name -> dtype), ``ID`` (the id column) and
    ``VIEW`` (the ``RowView`` subclass that ``table[i]`` returns)."""

    COLUMNS: ClassVar[dict[str, Any]] = {}
    ID: ClassVar[str] = "id"
    VIEW: ClassVar[type[RowView]] = RowView

    def __init__(self, columns: dict[str, np.ndarray] | None = None):
        if columns is None:
            columns = {name: np.zeros(0, dtype=dtype) for name, dtype in self.COLUMNS.items()}
        missing = set(self.COLUMNS) - set(columns)
        if missing:
            raise ValueError(f"missing {type(self).__name__} columns: {sorted(missing)}")
        self.cols = {name: np.ascontiguousarray(columns[name], dtype=dtype) for name, dtype in self.COLUMNS.items()}
        lengths = {len(c) for c in self.cols.values()}
        if len(lengths) > 1:
            raise ValueError(f"{type(self).__name__} columns differ in length: {lengths}")
        self.next_id = int(self.cols[self.ID].max(initial=-1)) + 1

    def __len__(self) -> int:
        return len(self.cols[self.ID])

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, i: int) -> RowView:
        return self.VIEW({name: col[i].item() for name, col in self.cols.items()})

    def index(self, name: str) -> np.ndarray:
        """Column ``name`` (small integer codes, e.g. int8) as ``np.intp``, for indexing and ``np.bincount``: numpy
        would convert the narrow codes on every such call. Cached while the column is the same array (``keep``
        replaces every column); callers must not write into code columns in place."""
        col = self.cols[name]
        cache = self.__dict__.setdefault("_index_cache", {})
        hit = cache.get(name)
        if hit is None or hit[0] is not col:
            hit = cache[name] = (col, col.astype(np.intp))
        return hit[1]

    def rows(self, idx: np.ndarray, **replace: np.ndarray) -> ColumnTable:
        """A new table of the rows at positions ``idx`` (copies), with some columns replaced."""
        out = self.subset(idx, **replace)
        out.cols = dict(out.cols.items())  # take every column now
        return out

    def subset(self, idx: np.ndarray, **replace: np.ndarray) -> ColumnTable:
        """The rows at positions ``idx`` as a table whose columns are copied when first read (a decision on a few
        firms reads a handful of the columns), with some columns replaced. For immediate use: read it before
        changing this table (``rows`` copies everything at once)."""
        out = object.__new__(type(self))  # the columns are already checked: skip __init__'s validation
        given = {name: np.ascontiguousarray(replace[name], dtype=self.COLUMNS[name]) for name in replace}
        out.cols = _RowsTaken(dict(self.cols), idx, given)
        if any(len(c) != len(out) for c in given.values()):
            raise ValueError(f"{type(self).__name__}.subset: replaced columns differ in length from the rows taken")
        out.next_id = int(out.cols[self.ID].max(initial=-1)) + 1
        return out

    def keep(self, mask: np.ndarray | slice, new: dict[str, np.ndarray] | None = None,
             reset: tuple[str, ...] = ()) -> np.ndarray:
        """Drop the rows where ``mask`` (booleans, or ``slice(None)`` to keep all) is False and append ``new`` rows in
        one pass over the columns; return the new rows' ids. ``new`` has every column; its id column may be left
        out, and ids are then assigned here (the next free ones); given ids must exceed every id in the table.
        The columns named in ``reset`` start at zero in every row (kept and new) instead of being gathered."""
        new = {} if new is None else new
        if new and self.ID in new:
            ids = np.asarray(new[self.ID], dtype=np.int64)
            if len(ids) and ids.min() < self.next_id:
                raise ValueError(f"new {self.ID} {ids.min()} is not above the table's ids (next free {self.next_id})")
            self.next_id = int(ids.max(initial=self.next_id - 1)) + 1
        elif new:
            n = len(next(iter(new.values())))
            ids = np.arange(self.next_id, self.next_id + n)
            self.next_id += n
            new = {**new, self.ID: ids}
        else:
            ids = np.zeros(0, dtype=np.int64)
        # each column is compacted straight into its new array (no concatenation copy) by compiled passes over its
        # bits (``_compact_columns``)
        if not isinstance(mask, slice) and len(mask) != len(self):
            raise ValueError(f"{type(self).__name__}.keep: mask of {len(mask)} rows for a table of {len(self)}")
        keep = None if isinstance(mask, slice) else np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
        m = len(self) if keep is None else int(np.count_nonzero(keep))
        cols, gathered = {}, []
        for name, dtype in self.COLUMNS.items():
            add = np.asarray(new[name], dtype=dtype) if new else None
            size = m + (0 if add is None else len(add))
            if name in reset:
                cols[name] = np.zeros(size, dtype=dtype)
                continue
            col = cols[name] = np.empty(size, dtype=dtype)
            if keep is None:
                col[:m] = self.cols[name]
            else:
                gathered.append((_bits(np.asarray(self.cols[name], dtype=dtype)), _bits(col)))
            if add is not None:
                col[m:] = add
        if keep is not None:
            _compact_columns(gathered, keep)
        self.cols.update(cols)
        return ids

    def append(self, new: dict[str, np.ndarray]) -> np.ndarray:
        """Add rows (as in ``keep``); return their ids."""
        return self.keep(slice(None), new)


def _bits(a: np.ndarray) -> np.ndarray:
    """``a``'s elements as unsigned integers of the same width (a copy of those moves every value bit for bit)."""
    return a.view(f"u{a.dtype.itemsize}")


def _compact_columns(pairs: list[tuple[np.ndarray, np.ndarray]], keep: np.ndarray) -> None:
    """``out[:m] = src[keep == 1]`` for every (src, out) pair of unsigned-integer bit views, four columns at a time
    (``_compact4``: the kept rows are counted once for four copies; on 200,000 rows a quarter to a third faster than
    four single passes with the columns in cache, less when they come from memory), the last one to three singly
    (``_compact``). Sorted by width, so that the groups' combinations of widths, each compiled once, are few."""
    pairs = sorted(pairs, key=lambda pair: pair[0].dtype.itemsize)
    whole = len(pairs) - len(pairs) % 4
    for g in range(0, whole, 4):
        (a, out_a), (b, out_b), (c, out_c), (d, out_d) = pairs[g:g + 4]
        _compact4(a, b, c, d, keep, out_a, out_b, out_c, out_d)
    for src, out in pairs[whole:]:
        _compact(src, keep, out)


@numba.njit(cache=True, nogil=True)
def _compact4(a, b, c, d, keep, out_a, out_b, out_c, out_d) -> None:
    """``_compact`` of four columns in one pass."""
    j = 0
    for i in range(_kept_end(keep)):
        out_a[j] = a[i]
        out_b[j] = b[i]
        out_c[j] = c[i]
        out_d[j] = d[i]
        j += keep[i]


@numba.njit(cache=True, nogil=True)
def _compact(src: np.ndarray, keep: np.ndarray, out: np.ndarray) -> None:
    """``out[:m] = src[keep == 1]`` (m kept rows) in one branch-free pass: every row up to the last kept one is written
    at the next free place, which only a kept row advances."""
    j = 0
    for i in range(_kept_end(keep)):
        out[j] = src[i]
        j += keep[i]


@numba.njit(cache=True, nogil=True)
def _kept_end(keep: np.ndarray) -> int:
    """One past the last kept row (0 when none is kept): the compaction writes no row after it, so that the next free
    place never runs past the kept rows' end."""
    last = len(keep) - 1
    while last >= 0 and keep[last] == 0:
        last -= 1
    return last + 1


def flag_code(*flags: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Each row's combination of the k boolean columns ``flags`` as a number in [0, 2^k) (np.intp, flag i is bit i),
    and per flag the boolean array over the 2^k combinations that says where it holds."""
    k = len(flags)
    combinations = tuple(((np.arange(2**k) >> i) & 1).astype(bool) for i in range(k))
    code = np.empty(len(flags[0]), dtype=np.intp)
    if any(len(flag) != len(code) for flag in flags):
        raise ValueError(f"flag_code: flags of lengths {[len(flag) for flag in flags]}")
    _flag_code(tuple(np.ascontiguousarray(flag, dtype=bool).view(np.uint8) for flag in flags), code)
    return code, combinations


@numba.njit(cache=True, nogil=True)
def _flag_code(flags: tuple[np.ndarray, ...], code: np.ndarray) -> None:
    """code[i] = sum of flags[j][i] << j (0/1 bytes), one pass."""
    for i in range(len(code)):
        c = 0
        for j in range(len(flags)):
            c |= np.intp(flags[j][i]) << j
        code[i] = c


def positions(mask: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(mask)`` of a 1-D mask (booleans, or values tested against zero) in one compiled branch-free
    pass: numpy's loop branches on every element, which at densities of a few to a few tens of per cent makes it up
    to eight times slower (0.52 against 0.06 ms on 205,000 firms at a tenth)."""
    mask = np.ascontiguousarray(mask, dtype=bool)
    if mask.ndim != 1:
        raise ValueError(f"positions: a 1-D mask, not {mask.ndim}-D")
    out = np.empty(len(mask), dtype=np.intp)
    return out[:_positions(mask.view(np.uint8), out)].copy()  # the copy frees the full-length buffer


@numba.njit(cache=True, nogil=True)
def _positions(mask: np.ndarray, out: np.ndarray) -> int:
    n = 0
    for i in range(len(mask)):  # branch-free: every position written, the marked ones counted
        out[n] = i
        n += mask[i]
    return n


def code_counts(code: np.ndarray, k: int) -> np.ndarray:
    """``np.bincount(code, minlength=k)`` of the np.intp codes in [0, k) (ValueError otherwise), in one compiled
    pass: four interleaved counter banks keep the next row's increment from waiting on the last (most rows share a
    few codes), where numpy's bincount, after its range passes, does: a third of its time on 177,000 firms."""
    banks = np.zeros((4, k), dtype=np.intp)
    _code_counts(np.ascontiguousarray(code, dtype=np.intp), banks)
    return banks.sum(axis=0)


@numba.njit(cache=True, nogil=True)
def _code_counts(code: np.ndarray, banks: np.ndarray) -> None:
    k = banks.shape[1]
    for i in range(len(code)):
        c = code[i]
        if c < 0 or c >= k:
            raise ValueError("code_counts: a code outside [0, k)")
        banks[i & 3, c] += 1


def nonzero_rows(*columns: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the rows where any of the equal-length float columns is non-zero (NaN counts as
    non-zero): ``np.flatnonzero((a != 0.0) | (b != 0.0) | ...)`` in one compiled pass."""
    columns = tuple(np.ascontiguousarray(c, dtype=np.float64) for c in columns)
    out = np.empty(len(columns[0]), dtype=np.intp)
    if any(len(c) != len(out) for c in columns):
        raise ValueError(f"nonzero_rows: columns of lengths {[len(c) for c in columns]}")
    return out[:_nonzero_rows(columns, out)]


@numba.njit(cache=True, nogil=True)
def _nonzero_rows(columns: tuple[np.ndarray, ...], out: np.ndarray) -> int:
    n = 0
    for i in range(len(out)):  # branch-free: every row written, the non-zero ones counted
        some = False
        for j in range(len(columns)):
            some |= columns[j][i] != 0.0
        out[n] = i
        n += some
    return n


def by_flags(rule: Callable[..., tuple[np.ndarray, ...]], *flags: np.ndarray) -> tuple[np.ndarray, ...]:
    """``rule(*flags)`` for an elementwise ``rule`` of a few boolean columns, evaluated once on each of the 2^k
    combinations of the k flags and looked up per row: the same values (the same operations on the same numbers),
    without whole-column ``np.where`` passes, which are slow on unpredictable masks."""
    code, combinations = flag_code(*flags)
    # take(mode="wrap") gathers the same values as table[code] (the codes are in range), without the bounds checks
    return tuple(np.asarray(table).take(code, mode="wrap") for table in rule(*combinations))


class Lookup:
    """Per-row values ``table[code]``, with the rows at the sorted positions ``at`` taking ``values`` instead, gathered
    only where indexed: ``lookup[idx]`` equals ``np.asarray(lookup)[idx]`` for positions (or a mask) ``idx``. For
    callers that read a whole-population column at a few positions (``by_flags`` without the whole column)."""

    def __init__(self, table: np.ndarray, code: np.ndarray, at: np.ndarray | None = None,
                 values: np.ndarray | None = None):
        self.table, self.code = np.asarray(table), code
        self.at = np.zeros(0, dtype=np.intp) if at is None else at
        self.values = np.zeros(0, dtype=self.table.dtype) if values is None else values

    def __len__(self) -> int:
        return len(self.code)

    def __getitem__(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        out = self.table.take(self.code[idx], mode="wrap")
        if len(self.at) and len(idx):
            j = np.minimum(np.searchsorted(self.at, idx), len(self.at) - 1)
            hit = self.at[j] == idx
            out[hit] = self.values[j[hit]]
        return out

    def replaced(self, at: np.ndarray, values: np.ndarray) -> "Lookup":
        """A copy in which the rows at the positions ``at`` (ascending, unique) take ``values``."""
        pos = np.union1d(self.at, at)
        merged = self[pos]
        merged[np.searchsorted(pos, at)] = values
        return Lookup(self.table, self.code, pos, merged)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.table.take(self.code, mode="wrap")
        out[self.at] = self.values
        return out if dtype is None else out.astype(dtype)
