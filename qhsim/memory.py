"""Memory allocator settings 内存分配: keep freed array memory in the process during a run, and give it back to
the operating system after one in a long-lived process.

A run allocates and frees thousands of numpy arrays of one to two megabytes a year (one float per firm).
glibc's malloc hands blocks that large straight back to the operating system (``mmap`` above
M_MMAP_THRESHOLD, heap trimming above M_TRIM_THRESHOLD), so the next array of that size page-faults its
memory in again: about a tenth of a full run's time went to the kernel. Raising both thresholds keeps the
memory in the process (a few tens of megabytes at scale 1). Results do not change; where the C library has no
``mallopt`` (macOS, Windows, musl) this does nothing.

A process that lives on after its runs (the dashboard server) would keep that memory for good: each malloc arena
a run thread used stays at the peak of its largest run (together about 150 MB at scale 1).
``give_back_freed_memory`` returns it between runs (glibc ``malloc_trim``); the next run faults in its pages
once, not once per array.
"""

from __future__ import annotations

import ctypes
import gc
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


def give_back_freed_memory() -> bool:
    """Free what is unreachable and hand the heap's free pages back to the operating system; True if the C library
    has ``malloc_trim`` (glibc; elsewhere only the collection is done).

    The collection comes first: a finished model is held by reference cycles (its agents refer to it), so its
    arrays are freed by the cyclic collector, not when the run returns."""
    gc.collect()
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return False
    trim(0)
    return True
