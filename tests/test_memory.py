"""The allocator setting (qhsim/memory.py): freed memory stays in the process, and the heap reserved ahead is marked
for transparent huge pages, where Linux and glibc offer them."""

from __future__ import annotations

import ctypes
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")

PROBE = """
import ctypes
from qhsim import memory
kept = memory.keep_freed_memory()
brk = ctypes.CDLL(None).sbrk
brk.restype, brk.argtypes = ctypes.c_void_p, [ctypes.c_ssize_t]
top = brk(0)
advised = 0  # bytes of the heap, up to the break, whose mapping carries the huge-page advice ("hg")
start = end = None
for line in open("/proc/self/smaps"):
    head = line.split()
    if "-" in head[0] and len(head) >= 5:
        start, end = (int(x, 16) for x in head[0].split("-"))
    elif head[0] == "VmFlags:" and "hg" in head[1:] and end <= top:
        advised = max(advised, end - start)
print(kept, advised)
"""


def glibc_with_huge_pages() -> bool:
    try:
        ctypes.CDLL(None).mallinfo2  # glibc 2.33+
    except (AttributeError, OSError):
        return False
    return sys.platform == "linux" and THP.exists() and "[never]" not in THP.read_text()


@pytest.mark.skipif(not glibc_with_huge_pages(), reason="needs Linux, glibc 2.33+ and transparent huge pages")
def test_the_heap_reserve_is_advised_for_huge_pages() -> None:
    from qhsim.memory import HEAP_RESERVE, HUGE_PAGE

    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    kept, advised = done.stdout.split()
    assert kept == "True"
    assert int(advised) >= HEAP_RESERVE - 2 * HUGE_PAGE
