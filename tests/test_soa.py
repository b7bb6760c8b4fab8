"""Column tables 列式群体 (qhsim.soa): dropping and appending rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from qhsim.soa import ColumnTable


class Table(ColumnTable):
    # thirteen columns gathered, of four widths: ``keep`` compacts them four at a time (groups of one width and of
    # mixed widths) and the last one singly
    COLUMNS: dict[str, Any] = {"id": np.int64, "x": np.float64, "flag": np.bool_, "code": np.int8, "year": np.int16,
                               "count": np.int32, "flow": np.float64, "y": np.float64, "z": np.float64,
                               "w": np.float64, "v": np.float64, "a": np.int16, "b": np.int16, "c": np.int16}


def table(rng: np.random.Generator, n: int) -> Table:
    return Table({"id": np.arange(n), "x": rng.normal(size=n), "flag": rng.random(n) < 0.5,
                  "code": rng.integers(-100, 100, n), "year": rng.integers(1990, 2040, n),
                  "count": rng.integers(-10**9, 10**9, n), "flow": rng.random(n), "y": rng.normal(size=n),
                  "z": rng.normal(size=n), "w": rng.normal(size=n), "v": rng.normal(size=n),
                  "a": rng.integers(-999, 999, n),
                  "b": rng.integers(-999, 999, n), "c": rng.integers(-999, 999, n)})


@pytest.mark.parametrize("kind", ["random", "none", "all", "last_dropped", "first_only"])
@pytest.mark.parametrize("n_new", [0, 3])
def test_keep_drops_appends_and_resets_like_boolean_indexing(kind, n_new):
    """``keep`` equals boolean indexing plus concatenation, column by column and bit for bit (NaN, -0.0 and
    negative integers included), whatever rows are dropped."""
    rng = np.random.default_rng(7)
    t = table(rng, 1000)
    t.x[:3] = (np.nan, -0.0, np.inf)
    before = {name: col.copy() for name, col in t.cols.items()}
    mask = {"random": rng.random(1000) < 0.9, "none": np.zeros(1000, bool), "all": np.ones(1000, bool),
            "last_dropped": np.arange(1000) < 999, "first_only": np.arange(1000) == 0}[kind]
    new = {name: col[:n_new] for name, col in table(rng, n_new).cols.items() if name != "id"} if n_new else None
    ids = t.keep(mask, new, reset=("flow",))
    assert ids.tolist() == list(range(1000, 1000 + n_new))
    for name, dtype in Table.COLUMNS.items():
        col = t.cols[name]
        assert col.dtype == dtype and col.flags.c_contiguous
        if name == "flow":
            want = np.zeros(mask.sum() + n_new)
        else:
            added = ids if name == "id" else new[name] if new else np.zeros(0, dtype)
            want = np.concatenate((before[name][mask], np.asarray(added, dtype)))
        assert col.tobytes() == want.astype(dtype).tobytes(), name


def test_keep_refuses_a_mask_of_the_wrong_length():
    t = table(np.random.default_rng(1), 10)
    with pytest.raises(ValueError, match="mask of 9 rows for a table of 10"):
        t.keep(np.ones(9, bool))


def test_flag_code_numbers_each_rows_combination():
    """Flag i is bit i of the row's code; the combinations say, per flag, where it holds among the 2^k codes."""
    from qhsim.soa import flag_code

    a = np.array([True, False, True, False, True])
    b = np.array([False, False, True, True, True])
    c = np.array([1, 0, 0, 0, 1], dtype=np.int64)  # any truthy dtype
    code, (ca, cb, cc) = flag_code(a, b, c)
    assert code.dtype == np.intp and code.tolist() == [5, 0, 3, 2, 7]
    assert ca[code].tolist() == a.tolist() and cb[code].tolist() == b.tolist() and cc[code].tolist() == [1, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="lengths"):
        flag_code(a, b[:4])


def test_code_counts_are_bincounts():
    """``code_counts`` counts what np.bincount(code, minlength=k) counts, with its dtype, codes missing from the rows
    and rows fewer than its counter banks included, and refuses codes outside [0, k)."""
    from qhsim.soa import code_counts

    rng = np.random.default_rng(5)
    for n in (0, 3, 1001):
        code = rng.integers(0, 6, n).astype(np.intp)
        want = np.bincount(code, minlength=8)
        got = code_counts(code, 8)
        assert got.dtype == want.dtype and got.tolist() == want.tolist()
    for bad in (-1, 8):
        with pytest.raises(ValueError, match="outside"):
            code_counts(np.array([0, bad], dtype=np.intp), 8)


@pytest.mark.parametrize("density", [0.0, 0.02, 0.1, 0.5, 1.0])
def test_positions_is_flatnonzero(density):
    from qhsim.soa import positions

    mask = np.random.default_rng(5).random(10_001) < density
    got = positions(mask)
    assert got.dtype == np.intp and got.tolist() == np.flatnonzero(mask).tolist()
    assert positions(np.array([0.0, np.nan, -0.0, 2.0])).tolist() == [1, 3]  # values: tested against zero
    with pytest.raises(ValueError, match="1-D"):
        positions(np.ones((2, 2), dtype=bool))


def test_nonzero_rows_is_flatnonzero_of_any_column_not_zero():
    from qhsim.soa import nonzero_rows

    a = np.array([0.0, 1.0, -0.0, 0.0, np.nan, 0.0])
    b = np.array([0.0, 0.0, 0.0, -2.5, 0.0, 0.0])
    assert nonzero_rows(a).tolist() == [1, 4]  # NaN counts, -0.0 does not
    assert nonzero_rows(a, b).tolist() == np.flatnonzero((a != 0.0) | (b != 0.0)).tolist() == [1, 3, 4]
    assert nonzero_rows(np.zeros(0)).tolist() == []
    with pytest.raises(ValueError, match="lengths"):
        nonzero_rows(a, b[:5])


def test_a_lookup_with_rows_replaced_reads_them_and_leaves_the_original():
    from qhsim.soa import Lookup

    table, code = np.array([0.25, 0.15, 0.05]), np.array([0, 2, 1, 0, 0])
    base = Lookup(table, code, np.array([3]), np.array([0.0]))
    new = base.replaced(np.array([0, 3, 4]), np.array([0.15, 0.1, 0.2]))
    assert np.asarray(new).tolist() == [0.15, 0.05, 0.15, 0.1, 0.2]
    assert new[np.array([4, 1, 0])].tolist() == [0.2, 0.05, 0.15]
    assert np.asarray(base).tolist() == [0.25, 0.05, 0.15, 0.0, 0.25]
