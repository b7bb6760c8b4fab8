"""One floating-point path on every x86-64 machine (qhsim/cpu.py): NumPy's AVX-512 math is turned off when qhsim is
imported first, and without it NumPy's AVX2 and SSE4.2 paths give bit-identical runs."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

PROBE = """
import sys
{first}
import hashlib
import pandas as pd
from qhsim import cpu
from qhsim.runner import run
table = run("scenarios/baseline.toml", seed=1, scale=0.1, end_year=2019).indicators
print(cpu.pinned(), hashlib.sha256(pd.util.hash_pandas_object(table, index=True).values.tobytes()).hexdigest())
"""


def probe(first: str, **env: str) -> tuple[list[str], str]:
    """(printed words, stderr) of a short run in a fresh interpreter with ``first`` as its first import."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(first=first)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "QHSIM_CALIBRATED": "off", **env}, check=True)
    return done.stdout.split(), done.stderr


def test_importing_qhsim_first_pins_numpy_and_avx2_equals_sse():
    pinned, _ = probe("import qhsim")
    assert pinned[0] == "True"
    # the same run with NumPy's AVX2 code off as well (the SSE4.2 baseline): the same bits
    no_avx2, _ = probe("import qhsim", NPY_DISABLE_CPU_FEATURES="X86_V3 AVX2 FMA3 F16C")
    assert no_avx2 == pinned


def test_numpy_imported_first_warns_where_it_uses_avx512():
    (pinned, digest), stderr = probe("import numpy")
    if pinned == "True":  # a CPU without AVX-512: nothing to warn about
        assert "AVX-512" not in stderr
    else:
        assert stderr.count("qhsim: warning: NumPy was imported before qhsim") == 1
        assert digest != probe("import qhsim")[0][1]  # the reason for the pin: other bits
