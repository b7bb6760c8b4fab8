"""One floating-point path on every x86-64 machine 跨机器逐位一致.

NumPy picks the code of ``exp``, ``log``, ``log1p`` and ``**`` by the CPU it runs on. Its AVX-512 versions round
differently in the last bit from the others, so the same scenario and seed gave slightly different numbers on a
machine with AVX-512 (most servers, AMD Zen 4) and on one without (most laptops): 1,324 of a baseline run's 10,017
numbers differed, by at most 6e-14 of their value, on 2026-12-05 (NumPy 2.5.5; no count differed, but the model has
thresholds, so a difference can in time flip a firm's decision). Without AVX-512 NumPy's SSE4.2 and AVX2 paths give
identical tables, so ``pin`` turns NumPy's AVX-512 dispatch off before NumPy is first imported: every x86-64
machine then computes the same bits (same NumPy version). Other CPU families (ARM) have paths of their own.

``pin`` runs when ``qhsim`` is imported. Imported after NumPy (a notebook that imports NumPy first), it is too late:
``dispatch`` then names the path in force, and ``qhsim.runner.run`` warns once (``warn_if_unpinned``). Worker
processes and a Dask LocalCluster inherit the setting; workers started by hand (``--scheduler``) need
``NPY_DISABLE_CPU_FEATURES`` set as ``disabled_features`` gives it.
"""

from __future__ import annotations

import os
import sys
import warnings

ENV = "NPY_DISABLE_CPU_FEATURES"
# NumPy's names of its AVX-512 dispatch targets: X86_V4, AVX512_ICL and AVX512_SPR in NumPy 2.5, the others in
# earlier versions; NumPy ignores a name it does not dispatch (with an ImportWarning, which ``pin`` silences)
AVX512 = ("X86_V4", "AVX512_ICL", "AVX512_SPR", "AVX512F", "AVX512CD", "AVX512_KNL", "AVX512_KNM", "AVX512_SKX",
          "AVX512_CLX", "AVX512_CNL")


def disabled_features() -> str:
    """``NPY_DISABLE_CPU_FEATURES`` as qhsim sets it: what the environment already disables, plus AVX-512."""
    given = os.environ.get(ENV, "").replace(",", " ").split()
    return " ".join(dict.fromkeys([*given, *AVX512]))


def pin() -> None:
    """Turn NumPy's AVX-512 code off and import NumPy, if it is not imported yet (otherwise ``dispatch`` tells what is
    in force). NumPy reads the setting once, at its import, and warns (ImportWarning) about the names it does not
    dispatch: those of other NumPy versions, silenced here."""
    if "numpy" in sys.modules:
        return
    os.environ[ENV] = disabled_features()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImportWarning)
        import numpy  # noqa: F401


def dispatch() -> str:
    """The CPU path NumPy's math functions take in this process: the highest dispatch target in force (``X86_V3``:
    AVX2; ``X86_V4``, ``AVX512_SKX`` …: AVX-512), or ``baseline``."""
    active = _active()
    return active[-1] if active else "baseline"


def pinned() -> bool:
    """True when no AVX-512 path is in force (on a CPU without AVX-512, always)."""
    return not set(_active()) & set(AVX512)


def _active() -> list[str]:
    """NumPy's dispatch targets in force in this process, lowest first."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]


_warned = False


def warn_if_unpinned() -> None:
    """Warn once per process when NumPy was imported before qhsim on an AVX-512 machine."""
    global _warned
    if _warned or pinned():
        return
    _warned = True
    from qhsim.errors import warn

    warn(f"NumPy was imported before qhsim and uses its AVX-512 code ({dispatch()}): results may differ in the last "
         f"digits from other machines'; import qhsim first, or start Python with {ENV}=\"{disabled_features()}\"")
