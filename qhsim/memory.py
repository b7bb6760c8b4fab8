"""Memory allocator settings 内存分配: keep freed array memory in the process during a run, on huge pages, and give
it back to the operating system after one in a long-lived process.

A run allocates and frees thousands of numpy arrays of one to two megabytes a year (one float per firm).
glibc's malloc hands blocks that large straight back to the operating system (``mmap`` above
M_MMAP_THRESHOLD, heap trimming above M_TRIM_THRESHOLD), so the next array of that size page-faults its
memory in again: about a tenth of a full run's time went to the kernel. Raising both thresholds keeps the
memory in the process (a few tens of megabytes at scale 1).

The arrays then live in malloc's heap, in 4 KiB pages: every pass over a column of 150,000 firms walks some 300
of them, and the gathers and scatters (``take``, fancy indexing) miss the processor's address cache (TLB) often.
``huge_page_heap`` reserves HEAP_RESERVE of heap ahead and asks Linux for transparent huge pages (2 MiB) there,
as glibc's ``glibc.malloc.hugetlb=1`` tunable would, which can only be set before the process starts. On
2026-12-05 (2-core virtual machine) a full run after the first in a process took 9-12% less CPU time
(``benchmarks/bench_run.py``), the first run of a process about 5% more (the kernel clears whole huge pages as the
heap first grows). The reserve holds a scale-1 run's heap as long as finished models are freed (``run`` closes
them): memory beyond it keeps small pages.

Results do not change; where the C library has no ``mallopt`` (macOS, Windows, musl) this does nothing, and
without transparent huge pages (or with them switched off, ``/sys/kernel/mm/transparent_hugepage/enabled``) the
heap keeps its small pages.

A process that lives on after its runs (the dashboard server) would keep that memory for good: each malloc arena
a run thread used stays at the peak of its largest run (together about 150 MB at scale 1).
``give_back_freed_memory`` returns it between runs (glibc ``malloc_trim``); the next run faults in its pages
once, not once per array.
"""

from __future__ import annotations

import ctypes
from functools import cache

M_TRIM_THRESHOLD = -1  # glibc malloc.h
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's upper limit for this setting (32 MiB on 64-bit)
TRIM_THRESHOLD = 256 << 20
HEAP_RESERVE = 256 << 20  # a scale-1 run's heap with room (it reaches about 120 MiB)
HUGE_PAGE = 2 << 20  # x86-64 and most Linux builds
MADV_HUGEPAGE = 14  # Linux asm-generic/mman-common.h


@cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process and put the heap on huge pages
    (``huge_page_heap``); True if the C library accepted both thresholds."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (AttributeError, OSError):
        return False
    kept = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if kept:
        huge_page_heap(libc)
    return kept


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def huge_page_heap(libc: ctypes.CDLL) -> bool:
    """Grow malloc's main heap by HEAP_RESERVE now (M_TOP_PAD: the heap then grows by that much whenever it must)
    and mark the new, untouched part for transparent huge pages (``madvise``), so that the arrays allocated there
    later fault in 2 MiB pages; True if Linux took the advice. Memory is used only as it is touched; what lies
    beyond the reserve keeps small pages."""
    try:
        malloc, free, sbrk, madvise, mallinfo2 = libc.malloc, libc.free, libc.sbrk, libc.madvise, libc.mallinfo2
    except AttributeError:  # not glibc 2.33+ on Linux
        return False
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    sbrk.restype, sbrk.argtypes = ctypes.c_void_p, [ctypes.c_ssize_t]
    madvise.restype, madvise.argtypes = ctypes.c_int, [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    mallinfo2.restype = _MallInfo2
    if not libc.mallopt(M_TOP_PAD, HEAP_RESERVE):
        return False
    # a block larger than the heap's free top (and below the mmap threshold) makes malloc extend the heap, by the
    # block plus the pad, from where the block starts
    size = min(mallinfo2().keepcost + HUGE_PAGE, MMAP_THRESHOLD - HUGE_PAGE)
    block = malloc(size)
    if not block:
        return False
    start = -(-block // HUGE_PAGE) * HUGE_PAGE
    end = (sbrk(0) or 0) // HUGE_PAGE * HUGE_PAGE
    advised = end > start and madvise(start, end - start, MADV_HUGEPAGE) == 0
    free(block)
    return advised


def give_back_freed_memory() -> bool:
    """Hand the heap's free pages back to the operating system (glibc ``malloc_trim``); True if the C library has it.
    A finished run's arrays are already free: ``run`` closes its model (``QinghaiModel.close``), so no garbage
    collection is needed first (it would cost about 0.1 s and give back less)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return False
    trim(0)
    return True
