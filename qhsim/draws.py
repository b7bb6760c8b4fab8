"""Keyed random draws 随机数: common random numbers across scenarios.

Each firm's draw for a given purpose in a given year depends only on (seed, year, purpose, firm uid) —
not on how many other firms exist or how many draws came before. Two scenarios with the same seed
therefore face the same luck firm by firm (common random numbers), and a result does not depend on
the order of computation or the number of workers. The generator is SplitMix64 (Steele, Lea &
Flood 2014), integer arithmetic only, so the uniforms are bit-identical on every machine.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN_INT, _M1_INT, _M2_INT = int(_GOLDEN), int(_M1), int(_M2)
_MASK = (1 << 64) - 1
_TO_UNIT = 1.0 / float(1 << 53)
_HALF_UNIT = 0.5 * _TO_UNIT

# One id per purpose; never renumber (it would change every result).
PURPOSES = {
    "growth": 1, "exit": 2, "start": 3, "stop": 4, "ip": 5, "hte_apply": 6, "hte_approve": 7,
    "hte_renew": 8, "sme": 9, "tbe": 10, "grant_apply": 11, "grant_merit": 12, "expost_apply": 13,
    "voucher_apply": 14, "margin": 15,
    # a firm's attributes when it is created (end-2015 population and entrants), keyed by its uid
    "new_pref": 16, "new_sector": 17, "new_size": 18, "new_margin": 19, "new_eta": 20, "new_orient": 21,
    "new_encouraged": 22, "new_excluded": 23, "new_age": 24, "new_active": 25, "new_ip": 26,
}


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place on ``z`` (a fresh uint64 array) to spare temporaries; returns ``z``."""
    shifted = np.empty_like(z)
    for shift, multiplier in ((30, _M1), (27, _M2)):
        np.right_shift(z, np.uint64(shift), out=shifted)
        z ^= shifted
        z *= multiplier
    np.right_shift(z, np.uint64(31), out=shifted)
    z ^= shifted
    return z


def _mix_int(z: int) -> int:
    """``_mix`` of one key as a Python integer (the same bits, without numpy's per-call cost)."""
    z = ((z ^ (z >> 30)) * _M1_INT) & _MASK
    z = ((z ^ (z >> 27)) * _M2_INT) & _MASK
    return z ^ (z >> 31)


def arrival_keys(year: int, source: int, slots: np.ndarray) -> np.ndarray:
    """Draw keys (non-negative int64) of agents that arrive in ``year`` through ``source`` (a small id) in the
    given arrival ``slots`` (each an integer unique within the year and source, fixed by the rules, not by how
    many agents arrived before): the same arrival has the same key, so the same luck, in a variant and its base.
    A counter (the next free id) would shift every later arrival's draws as soon as two runs admit different
    numbers."""
    tag = np.uint64(_mix_int((((year * 64 + source) & 0xFFFFFFFF) + _GOLDEN_INT) & _MASK))
    with np.errstate(over="ignore"):
        z = _mix(np.asarray(slots).astype(np.uint64) * _GOLDEN ^ tag)
    return (z >> np.uint64(2)).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _unit(uids: np.ndarray, at: np.ndarray | None, stream: np.uint64, out: np.ndarray) -> np.ndarray:
    """U(0, 1) of ``uids[at]`` (int64; ``at``: positions, or None for all) in ``stream`` into ``out``: each uid's key
    uid x golden ratio (mod 2^64) plus the stream, mixed (``_mix``'s operations), and the top 53 bits of the result,
    centred in their interval: (z + 1/2) 2^-53 computed as z 2^-53 + 2^-54 (the same number: scaling by a power of
    two is exact). One compiled pass (integer arithmetic wraps mod 2^64 as in numpy; z < 2^53 converts to float
    exactly)."""
    for i in range(len(out)):
        z = np.uint64(uids[i] if at is None else uids[at[i]]) * _GOLDEN + stream
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
        out[i] = float(z >> np.uint64(11)) * _TO_UNIT + _HALF_UNIT
    return out


class KeyedDraws:
    """Uniform and normal draws keyed by (seed, year, purpose, uid).

    ``purposes`` maps a purpose name to its stream id; a subclass may extend it (ids never collide).
    """

    purposes: dict[str, int] = PURPOSES

    def __init__(self, seed: int):
        self._seed_key = _mix(np.array([seed], dtype=np.uint64) + _GOLDEN)[0]
        self._streams: dict[tuple[int, str], np.uint64] = {}  # (year, purpose) -> stream key

    def _stream(self, year: int, purpose: str) -> np.uint64:
        """The key of the (year, purpose) stream, mixed once per draws object (a run asks for it thousands of
        times)."""
        stream = self._streams.get((year, purpose))
        if stream is None:
            code = year * 1000 + self.purposes[purpose]
            if not 0 <= code <= _MASK:
                raise OverflowError(f"draw stream {code} out of the uint64 range")
            stream = self._streams[year, purpose] = np.uint64(_mix_int(code ^ int(self._seed_key)))
        return stream

    def uniform(self, year: int, purpose: str, uids: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
        """U(0, 1) per uid, in [2^-53, 1 - 2^-53]; with ``at`` (positions or a mask) only for ``uids[at]``, the
        same values as ``uniform(...)[at]`` at a fraction of the cost."""
        uids = np.asarray(uids)
        if uids.dtype != np.int64:
            uids = uids.astype(np.int64)  # the same bits mod 2^64 for any integer dtype
        if at is not None:
            at = np.asarray(at)
            at = np.flatnonzero(at) if at.dtype == bool else at.astype(np.intp, copy=False)
        return _unit(uids, at, self._stream(year, purpose), np.empty(len(uids) if at is None else len(at)))

    def chance(self, year: int, purpose: str, uids: np.ndarray, p: float | np.ndarray, where: np.ndarray) -> np.ndarray:
        """Mask: ``where`` and uniform < ``p`` (a number or one per uid); draws only where ``where`` holds, with
        the values ``uniform`` gives, so the result equals ``where & (uniform(...) < p)``."""
        out = np.zeros(len(uids), dtype=bool)
        out[self.pick(year, purpose, uids, p, np.flatnonzero(where))] = True
        return out

    def pick(self, year: int, purpose: str, uids: np.ndarray, p: float | np.ndarray, at: np.ndarray) -> np.ndarray:
        """The positions ``at`` whose uniform is below ``p`` (a number or one per uid): ``chance`` for callers that
        hold positions, drawn only there."""
        return at[self.uniform(year, purpose, uids, at) < (p[at] if np.ndim(p) else p)]

    def normal(self, year: int, purpose: str, uids: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
        """N(0, 1) per uid (inverse-CDF transform of ``uniform``)."""
        u = self.uniform(year, purpose, uids, at)
        return ndtri(u, out=u)
