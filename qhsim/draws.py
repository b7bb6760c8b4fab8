"""Keyed random draws 随机数: common random numbers across scenarios.

Each firm's draw for a given purpose in a given year depends only on (seed, year, purpose, firm uid) —
not on how many other firms exist or how many draws came before. Two scenarios with the same seed
therefore face the same luck firm by firm (common random numbers), and a result does not depend on
the order of computation or the number of workers. The generator is SplitMix64 (Steele, Lea &
Flood 2014), integer arithmetic only, so the uniforms are bit-identical on every machine.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN_INT, _M1_INT, _M2_INT = int(_GOLDEN), int(_M1), int(_M2)
_MASK = (1 << 64) - 1
_TO_UNIT = 1.0 / float(1 << 53)
_HALF_UNIT = 0.5 * _TO_UNIT

# One id per purpose; never renumber (it would change every result).
PURPOSES = {
    "growth": 1, "exit": 2, "hte_apply": 6, "hte_approve": 7,
    "hte_renew": 8, "sme": 9, "tbe": 10, "grant_apply": 11, "grant_merit": 12, "expost_apply": 13,
    "voucher_apply": 14, "margin": 15,
    # a firm's attributes when it is created (end-2015 population and entrants), keyed by its uid
    "new_pref": 16, "new_sector": 17, "new_size": 18, "new_margin": 19, "new_eta": 20, "new_orient": 21,
    "new_encouraged": 22, "new_excluded": 23, "new_age": 24, "new_active": 25, "new_ip": 26,
    # the R&D switching clock (``exponential``): a firm's first when it is created (keyed by the year), a new one
    # after each switch (keyed by the number of the switch in place of the year: 1, 2, ..., far below any year);
    # the core-IP clock likewise: a firm's first when it is created, a new one after each core IP item (keyed by
    # the number of items the firm then owns); ids 3, 4 and 5 ("start", "stop", "ip") were the yearly draws the
    # clocks replaced
    "new_clock": 27, "switch": 28, "new_ip_clock": 29, "ip_clock": 30,
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

    ``purposes`` maps a purpose name to its stream id; a subclass may extend it (ids never collide:
    ``KnowledgeDraws``).
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
        return ndtri(self.uniform(year, purpose, uids, at))

    def exponential(self, year: int, purpose: str, uids: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
        """Exp(1) per uid: -ln of ``uniform`` (finite and positive: the uniforms exclude 0 and 1)."""
        u = self.uniform(year, purpose, uids, at)
        return -np.log(u, out=u)

    def counted_exponential(self, purpose: str, uids: np.ndarray, at: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Exp(1) for ``uids[at]``, each keyed by its own count (the number of an event: the firm's n-th R&D switch,
        its n-th core IP item) in place of the year: the n-th event's draw is the same whenever it happens."""
        out = np.empty(len(at))
        for n in np.unique(counts):
            sel = counts == n
            out[sel] = self.exponential(int(n), purpose, uids, at[sel])
        return out


# Purpose ids of the knowledge system's draws (qhsim.knowledge; >= 100, disjoint from PURPOSES); never renumber.
KNOWLEDGE_PURPOSES = {
    # talent
    "t_init_age": 101, "t_init_level": 102, "t_init_origin": 103, "t_init_factor": 104, "t_staff_round": 105,
    "t_depart": 106, "t_layoff": 107, "t_slot_order": 108, "t_seeker_order": 109, "t_recruit": 110,
    "t_new_age": 111, "t_new_factor": 112, "t_prog_fill": 113, "t_prog_flex": 114, "t_prog_host": 115,
    "t_prog_rank": 116, "t_flex_renew": 117, "t_grad_pool": 118, "t_init_years": 119, "t_host_kind": 120,
    # institutions and research funding
    "i_competitive": 130,
    # technology market
    "m_demand": 140, "m_type": 141, "m_value": 142, "m_broker": 143, "m_choice": 144, "m_accept": 145,
    "m_capacity": 146, "m_ext_count": 147, "m_ext_value": 148, "m_ext_type": 149, "m_seller": 150,
    "m_ext_choice": 151,
    # patents
    "p_apply": 160, "p_grant": 161, "p_lag": 162, "p_lapse": 163, "p_init": 164,
    # platforms, incubators, spin-offs
    "f_apply": 170, "f_rank": 171, "f_upgrade": 172, "f_eval": 173, "f_field": 174, "f_init": 175,
    "f_carrier": 176, "f_startup": 177, "f_spinoff": 178, "f_pref_apply": 179, "f_inst_slot": 180,
}
_ALL_PURPOSES = {**PURPOSES, **KNOWLEDGE_PURPOSES}
if len(set(_ALL_PURPOSES.values())) != len(_ALL_PURPOSES):  # pragma: no cover - guards against renumbering
    raise RuntimeError("purpose ids of the firms' and the knowledge system's draws collide")


class KnowledgeDraws(KeyedDraws):
    """``KeyedDraws`` (same seed key, so common random numbers across scenarios) with the knowledge
    system's purposes, plus Poisson and binomial draws by inverse CDF of the keyed uniforms."""

    purposes = _ALL_PURPOSES

    def poisson(self, year: int, purpose: str, uids: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """Poisson(lam) per uid (inverse CDF); 0 where lam <= 0."""
        lam = np.asarray(lam, dtype=float)
        out = np.zeros(lam.shape, dtype=np.int64)
        pos = lam > 0
        if pos.any():
            out[pos] = poisson_ppf(self.uniform(year, purpose, np.asarray(uids)[pos]), lam[pos])
        return out

    def binomial(self, year: int, purpose: str, uids: np.ndarray, n: np.ndarray, p: float | np.ndarray) -> np.ndarray:
        """Binomial(n, p) per uid (inverse CDF); 0 where n == 0."""
        n = np.asarray(n, dtype=np.int64)
        p = np.broadcast_to(np.asarray(p, dtype=float), n.shape)
        out = np.zeros(n.shape, dtype=np.int64)
        pos = (n > 0) & (p > 0)
        if pos.any():
            out[pos] = binomial_ppf(self.uniform(year, purpose, np.asarray(uids)[pos]), n[pos], np.minimum(p[pos], 1.0))
        return out


LARGE_MEAN = 30.0  # above this mean (variance for the binomial), the inverses use the normal approximation


def poisson_ppf(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Smallest k with P(X <= k) >= u, X ~ Poisson(lam): sequential search over the pmf recursion
    p_{k+1} = p_k lam / (k + 1) (exact, fast for the small means used here); normal approximation above LARGE_MEAN."""
    u, lam = np.asarray(u, dtype=float), np.asarray(lam, dtype=float)
    k = np.zeros(u.shape, dtype=np.int64)
    big = lam > LARGE_MEAN
    if big.any():
        k[big] = np.maximum(np.floor(lam[big] + np.sqrt(lam[big]) * ndtri(u[big]) + 0.5), 0).astype(np.int64)
    idx = np.flatnonzero(~big)
    _poisson_search(u[idx], lam[idx], np.exp(-lam[idx]), idx, k)  # exp stays numpy's (its SIMD code, bit for bit)
    return k


@numba.njit(cache=True, nogil=True)
def _poisson_search(u, lam, p0, idx, k):
    """k[idx[t]] = the smallest s with u_t <= cdf_s (1 + 1e-12), cdf_s summing p_0 = exp(-lam_t) and
    p_s = p_{s-1} lam_t / s in order (at most 10,000 steps)."""
    for t in range(len(idx)):
        p = p0[t]
        cdf = p
        s = 0
        while u[t] > cdf * (1.0 + 1e-12) and s <= 10_000:
            s += 1
            p = p * lam[t] / s
            cdf = cdf + p
        k[idx[t]] = s


def binomial_ppf(u: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Smallest k with P(X <= k) >= u, X ~ Binomial(n, p): sequential search over
    p_{k+1} = p_k (n - k) / (k + 1) * p / (1 - p); normal approximation when n p (1 - p) > LARGE_MEAN."""
    u, n, p = np.asarray(u, dtype=float), np.asarray(n, dtype=np.int64), np.asarray(p, dtype=float)
    k = np.zeros(u.shape, dtype=np.int64)
    full = p >= 1.0
    k[full] = n[full]
    var = n * p * (1.0 - p)
    big = ~full & (var > LARGE_MEAN)
    if big.any():
        approx = np.floor(n[big] * p[big] + np.sqrt(var[big]) * ndtri(u[big]) + 0.5)
        k[big] = np.clip(approx, 0, n[big]).astype(np.int64)
    idx = np.flatnonzero(~full & ~big)
    pp = p[idx]
    _binomial_search(u[idx], n[idx], (1.0 - pp) ** n[idx], pp / (1.0 - pp), idx, k)  # ** stays numpy's
    return k


@numba.njit(cache=True, nogil=True)
def _binomial_search(u, n, p0, odds, idx, k):
    """k[idx[t]] = the smallest s with u_t <= cdf_s (1 + 1e-12) or s = n_t, cdf_s summing p_0 = (1 - p)^n and
    p_s = p_{s-1} (n - s + 1) / s odds in order."""
    for t in range(len(idx)):
        p = p0[t]
        cdf = p
        s = 0
        while u[t] > cdf * (1.0 + 1e-12) and s < n[t]:
            s += 1
            p = p * (n[t] - s + 1) / s * odds[t]
            cdf = cdf + p
        k[idx[t]] = s


# Inverse normal CDF: Cephes ndtri (S. L. Moshier, Cephes Math Library 2.1, 1989), the algorithm and coefficients that
# scipy.special.ndtri evaluates. Centre, |y - 1/2| < 1/2 - e^-2: x / sqrt(2 pi) = w + w w^2 P0(w^2) / Q0(w^2),
# w = y - 1/2; tails (y below e^-2, or above 1 - e^-2 reflected): x = z - ln(z) / z - P(1/z) / (z Q(1/z)),
# z = sqrt(-2 ln y), with (P1, Q1) for z < 8 and (P2, Q2) beyond; the Q are monic (leading 1 left out).
_E2 = 0.13533528323661269189  # e^-2
_SQRT_2PI = 2.50662827463100050242
_P0 = np.array([-5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1,
                1.39312609387279679503e1, -1.23916583867381258016e0])
_Q0 = np.array([1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1,
                -2.25462687854119370527e2, 2.00260212380060660359e2, -8.20372256168333339912e1,
                1.59056225126211695515e1, -1.18331621121330003142e0])
_P1 = np.array([4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
                4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
                -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4])
_Q1 = np.array([1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
                1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
                -3.80806407691578277194e-2, -9.33259480895457427372e-4])
_P2 = np.array([3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
                1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
                3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9])
_Q2 = np.array([6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
                2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
                2.89247864745380683936e-6, 6.79019408009981274425e-9])


def ndtri(u: np.ndarray) -> np.ndarray:
    """The inverse normal CDF of the float64 array ``u``, in place (returns ``u``): bit for bit
    ``scipy.special.ndtri`` (the same operations in the same order, the logarithms from the C library as scipy's),
    twice as fast: the centre formula runs for every value in one vectorised pass, and the tails' logarithms in
    separate passes over the tail values only, whose calls overlap."""
    _ndtri(u)
    return u


@numba.njit(inline="always")
def _horner(x, c, monic):
    """c[0] x^(k-1) + ... + c[k-1], with a leading x^k term if ``monic`` (Cephes polevl / p1evl)."""
    r = x + c[0] if monic else c[0]
    for k in range(1, c.size):
        r = r * x + c[k]
    return r


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _ndtri(u):
    """``u`` = ndtri(u) in place: the centre value for all, then the tails (y <= e^-2 after reflection; 0, 1, values
    outside [0, 1] and NaN fall there) recomputed."""
    high = 1.0 - _E2
    n = len(u)
    tail = np.empty(n, dtype=np.intp)
    m = 0
    for i in range(n):  # branch-free: every position written, the tail ones counted
        y = u[i]
        tail[m] = i
        m += not ((1.0 - y if y > high else y) > _E2)
    y0 = np.empty(m)
    for j in range(m):
        y0[j] = u[tail[j]]
    for i in range(n):  # vectorised (no branch but the selects)
        y = u[i]
        w = (1.0 - y if y > high else y) - 0.5
        w2 = w * w
        u[i] = (w + w * (w2 * _horner(w2, _P0, False) / _horner(w2, _Q0, True))) * _SQRT_2PI
    z = np.empty(m)
    for j in range(m):  # independent library calls: their latencies overlap
        y = y0[j]
        z[j] = math.sqrt(-2.0 * math.log(1.0 - y if y > high else y))
    log_z = np.empty(m)
    for j in range(m):
        log_z[j] = math.log(z[j])
    for j in range(m):  # vectorised: both tail rationals' coefficients selected per value
        x = z[j]
        r = 1.0 / x
        near = x < 8.0
        p = _P1[0] if near else _P2[0]
        q = r + (_Q1[0] if near else _Q2[0])
        for k in range(1, _P1.size):
            p = p * r + (_P1[k] if near else _P2[k])
        for k in range(1, _Q1.size):
            q = q * r + (_Q1[k] if near else _Q2[k])
        z[j] = (x - log_z[j] / x) - r * p / q
    for j in range(m):
        y, x = y0[j], z[j]
        u[tail[j]] = x if y > high else -x  # the lower tail's sign
        if y == 0.0 or y >= 1.0 or y < 0.0:  # the domain's ends and the values outside it
            u[tail[j]] = -math.inf if y == 0.0 else math.inf if y == 1.0 else math.nan
