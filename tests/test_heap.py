"""glibc's heap thresholds, fixed in gumbelcheck's own processes (gumbelcheck.core.heap)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# A user sampler's calls (numpy's Generator.choice on 65,536 draws: arrays of 512 KiB), in a
# fresh process, and the page faults they take.
CALLS = """
import resource, sys
import numpy as np
from gumbelcheck.core.heap import keep_freed_memory
if sys.argv[1] == "tuned":
    tuned = keep_freed_memory()
else:  # glibc's initial thresholds, held fixed: each call's arrays are mapped afresh
    import ctypes
    from gumbelcheck.core import heap
    mallopt = ctypes.CDLL(None).mallopt
    options = (heap.M_MMAP_THRESHOLD, heap.M_TRIM_THRESHOLD)
    fixed = [mallopt(option, 128 * 1024) for option in options]
    tuned = not all(fixed)
p = np.arange(1, 11) / 55
np.random.default_rng(0).choice(10, size=65536, p=p)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for seed in range(300):
    np.bincount(np.random.default_rng(seed).choice(10, size=65536, p=p), minlength=10)
print(int(tuned), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> tuple[bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", CALLS, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return bool(int(out[0])), int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap: Linux only")
def test_a_tuned_process_keeps_freed_arrays_instead_of_faulting_them_in_again() -> None:
    tuned, faults = _faults("tuned")
    assert tuned, "mallopt refused the thresholds"
    # Trimmed and grown again, every call would fault in at least its 128 pages of draws.
    assert faults < 300 * 128 // 10, faults
    # The count can tell: with glibc's initial thresholds held fixed, every call faults.
    # (Left to adapt, they may or may not fall into the cycle, depending on how the heap
    # happens to be laid out: one process did, in another the same calls took no fault.)
    refused, mapped = _faults("fixed-initial")
    assert not refused
    assert mapped > 300 * 128, mapped


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap: Linux only")
def test_a_user_sampler_run_by_the_command_line_does_not_fault_its_arrays_in_again() -> None:
    sampler = Path(__file__).resolve().parent / "data" / "user_samplers.py"
    command = [sys.executable, "-m", "gumbelcheck", "maxtrick", "--pi", "1,2,3,4,5,6,7,8,9,10"]
    command += ["--normalize", "-n", str(300 * 65536), "--seed", "1", "--workers", "1", "-q"]
    command += ["--sampler", f"{sampler}:choice_counting_faults"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    faults = int(done.stderr.split("faults:")[1])
    assert faults < 300 * 128 // 10, faults  # 299 calls after the first
