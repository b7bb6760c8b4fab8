"""Memory allocator setting 内存分配: keep freed array memory in the process for reuse.

A run allocates and frees thousands of numpy arrays of one to two megabytes a year (one float per firm).
glibc's malloc hands blocks that large straight back to the operating system (``mmap`` above
M_MMAP_THRESHOLD, heap trimming above M_TRIM_THRESHOLD), so the next array of that size page-faults its
memory in again: about a tenth of a full run's time went to the kernel. Raising both thresholds keeps the
memory in the process (a few tens of megabytes at scale 1). Results do not change; where the C library has no
``mallopt`` (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
from functools import cache

M_TRIM_THRESHOLD = -1  # glibc malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's upper limit for this setting (32 MiB on 64-bit)
TRIM_THRESHOLD = 256 << 20


@cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if the C library accepted both."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
