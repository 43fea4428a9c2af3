"""glibc's heap, tuned for processes that run blocks: freed arrays stay for the next block.

glibc returns the top of its heap to the operating system once more than the trim threshold
is free there, and takes allocations above the mmap threshold straight from the operating
system; both thresholds adapt to the sizes a process frees. A sampler that allocates a few
arrays of half a megabyte per call (numpy's ``Generator.choice`` on 65,536 draws) can land
in a cycle where every call grows the heap, faults its pages in, and trims them again:
measured inside ``gumbelcheck maxtrick --sampler``, 353,000 page faults and 1.25 times the
sampler's own time, against 12,000 faults with the thresholds fixed at the largest values
glibc's own adaptation reaches (32 MiB and twice that). The heap then keeps at most 64 MiB
that a block freed, for the next block, instead of paging it in afresh.

Only processes that gumbelcheck owns are tuned (the command line's, and its worker
processes): a library call leaves its caller's heap alone.
"""

from __future__ import annotations

import ctypes
import sys

#: mallopt's parameters (malloc.h) and the values set: glibc's own adaptive maxima.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD


def keep_freed_memory() -> bool:
    """Fix glibc's trim and mmap thresholds for this process; False where the C library is
    not glibc (no ``mallopt``) or refuses a value, and nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and other C libraries without mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
