"""Benchmark gumbelcheck against baselines measured in the same run.

Every figure is a whole process, timed as a user runs it (start-up, imports and the test
included), against a whole process that only fills the same number of float64 uniforms with
numpy's default generator on the same number of threads: the physical floor, since an exact
Gumbel-max draw over k categories needs k random numbers. In-process baselines: numpy's
``Generator.choice`` and, when torch is installed, ``torch.nn.functional.gumbel_softmax``
with ``hard=True``. Peak resident memory: the largest process's (from rusage) for every row,
and for the peak-memory rows also the whole process tree's proportional set size, sampled
(gumbelcheck runs long jobs on worker processes forked from a forkserver, which share its pages).

Run it with the Python that has gumbelcheck installed the README's way (a fresh venv), so
that the timed processes import what a user's would::

    python3 -m venv .venv && .venv/bin/pip install -q '.[dask]' torch
    PATH=$PWD/.venv/bin:$PATH .venv/bin/python bench/bench.py

Usage::

    python bench/bench.py                 # the full benchmark (about 12 minutes on 2 cores)
    python bench/bench.py --quick         # smaller N, to try it out
    python bench/bench.py --out results/bench.csv
    python bench/bench.py --only user-sampler   # the --sampler rows alone (about two minutes)
    python bench/bench.py --only dask   # the Dask row alone, N = 1e9 (about 2.5 minutes)

Nothing here asserts a timing; the table reports ratios and the targets they are meant to meet.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

#: A whole process that runs the benchmark's user sampler alone, in the calls gumbelcheck
#: makes (blocks of BLOCK draws, a fresh seed per call): the sampler's own time.
SAMPLER_ALONE = """
import importlib.util, sys
import numpy as np
path, k, n, block = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
spec = importlib.util.spec_from_file_location("user_sampler", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
p = np.arange(1, k + 1, dtype=float)
logits = np.log(p / p.sum())
for b, start in enumerate(range(0, n, block)):
    draws = module.choice(logits.copy(), min(block, n - start), b)
    np.bincount(draws, minlength=k)
"""

#: The user sampler of the benchmark's --sampler rows.
USER_SAMPLER = Path(__file__).resolve().parent / "user_sampler.py"

FILL = """
import sys, threading
import numpy as np
numbers, threads = int(sys.argv[1]), int(sys.argv[2])
chunk = 2**19
def work(i):
    rng = np.random.default_rng(np.random.SeedSequence(1, spawn_key=(i,)))
    buf = np.empty(chunk)
    todo = numbers // threads + (i < numbers % threads)
    while todo > 0:
        m = min(chunk, todo)
        rng.random(out=buf[:m])
        todo -= m
pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
for t in pool: t.start()
for t in pool: t.join()
"""


@dataclass
class Row:
    """One line of the benchmark table."""

    case: str
    k: int
    samples: int
    workers: int
    seconds: float
    samples_per_s: float
    baseline: str
    baseline_samples_per_s: float
    ratio: float
    target: str
    peak_rss_mib: float
    peak_pss_mib: float = math.nan


def timed(*commands: list[str], repeat: int | None = None) -> list[tuple[float, float]]:
    """Best wall time and peak RSS in MiB of each command, run as child processes.

    The commands take turns (A B A B ...), ``repeat`` rounds (REPEAT), so that a ratio between them
    compares runs made under the same machine conditions: on a shared VM the speed of
    the same command drifts by 10 % within minutes. Peak RSS includes the child's own
    children (the sweep's worker processes) as the largest of them.
    """
    best = [float("inf")] * len(commands)
    rss = [0.0] * len(commands)
    for _ in range(repeat or REPEAT):
        for i, command in enumerate(commands):
            started = time.perf_counter()
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - started
            if os.waitstatus_to_exitcode(status) not in (0, 1):
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{stderr}")
            best[i] = min(best[i], elapsed)
            rss[i] = max(rss[i], usage.ru_maxrss / 1024)
    return list(zip(best, rss, strict=True))


REPEAT = 5


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the worker processes of a gumbelcheck run)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids += process_tree(int(child))
    except OSError:  # the process just ended
        pass
    return pids


def pss_mib(pid: int) -> float:
    """Proportional set size of a process in MiB: shared pages split among their sharers."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_memory(command: list[str]) -> tuple[float, float, float]:
    """Wall time, peak RSS of the largest process and peak PSS of the whole process tree.

    Worker processes share the parent's pages (fork), so adding their RSS would count the
    libraries once per process; the tree's PSS (sampled every 50 ms) counts every page
    once. Sampling costs a little CPU, so these runs are not used for any speed ratio.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0.0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, sum(pss_mib(p) for p in process_tree(proc.pid)))
        time.sleep(0.05)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"benchmark command failed: {' '.join(command)}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, peak


def gumbelcheck_command(*args: str) -> list[str]:
    """The installed console script, or the module from this checkout."""
    exe = shutil.which("gumbelcheck")
    return [exe, *args] if exe else [sys.executable, "-m", "gumbelcheck", *args]


def pi_arg(k: int) -> str:
    """Weights 1..k, passed with --normalize."""
    return ",".join(str(i) for i in range(1, k + 1))


def fill_command(numbers: int, threads: int) -> list[str]:
    """A whole process that only fills ``numbers`` uniforms on ``threads``."""
    return [sys.executable, "-c", FILL, str(numbers), str(threads)]


def maxtrick_command(k: int, n: int, workers: int) -> list[str]:
    """``gumbelcheck maxtrick`` as a user runs it."""
    args = ["maxtrick", "--pi", pi_arg(k), "--normalize", "-n", str(n), "--seed", "1"]
    return gumbelcheck_command(*args, "--workers", str(workers), "--quiet")


def dask_rows(scale: int) -> list[Row]:
    """The Dask backend on this machine, ``--scheduler local:2`` (a LocalCluster of two
    worker processes started by the run, its start-up included), against the local engine
    on 2 workers: the same maxtrick run, k = 10, N = 1e9, the same report bytes.

    Three alternating rounds (each run takes a while), best of each: the speed of this
    shared machine drifts by a tenth within minutes.
    """
    n, k = 1_000_000_000 // scale, 10
    local = maxtrick_command(k, n, 2)
    (local_seconds, _), (dask_seconds, rss) = timed(
        local, [*local, "--scheduler", "local:2"], repeat=3
    )
    return [
        Row(
            "dask local:2 vs local engine (time)",
            k,
            n,
            2,
            dask_seconds,
            n / dask_seconds,
            "local engine, 2 workers",
            n / local_seconds,
            dask_seconds / local_seconds,
            "<= 1.1",
            rss,
        )
    ]


def user_sampler_rows(scale: int) -> list[Row]:
    """gumbelcheck verifying a user sampler (``--sampler``) against the sampler timed alone.

    Both are whole processes on one core making the same calls (blocks of 65,536 draws); the
    sampler alone also counts its draws (np.bincount), which any use of them needs. The
    ratio is gumbelcheck's total time over the sampler's own: start-up, seeds, the contract
    checks, counting and the test.
    """
    from gumbelcheck.samplers.user import BLOCK_SIZE

    rows = []
    for k, n in ((10, 100_000_000 // scale), (1000, 20_000_000 // scale)):
        args = ["maxtrick", "--pi", pi_arg(k), "--normalize", "-n", str(n), "--seed", "1"]
        sampler = f"{USER_SAMPLER}:choice"
        check = gumbelcheck_command(*args, "--sampler", sampler, "--workers", "1", "--quiet")
        alone = [sys.executable, "-c", SAMPLER_ALONE, str(USER_SAMPLER), str(k), str(n)]
        (seconds, rss), (own, _) = timed(check, [*alone, str(BLOCK_SIZE)])
        rows.append(
            Row(
                "--sampler Generator.choice vs alone",
                k,
                n,
                1,
                seconds,
                n / seconds,
                "the same sampler alone, same calls, 1 thread",
                n / own,
                seconds / own,
                "<= 1.1 (time ratio)",
                rss,
            )
        )
    return rows


def maxtrick_process(k: int, n: int, workers: int) -> tuple[float, float]:
    """Seconds and peak RSS of ``gumbelcheck maxtrick`` as a user runs it."""
    return timed(maxtrick_command(k, n, workers))[0]


def choice_rate(k: int, n: int) -> float:
    """Samples/s of numpy's Generator.choice with p (one thread, in process)."""
    import numpy as np

    p = np.arange(1, k + 1, dtype=float)
    p /= p.sum()
    rng = np.random.default_rng(1)
    rng.choice(k, size=1000, p=p)
    started = time.perf_counter()
    rng.choice(k, size=n, p=p)
    return n / (time.perf_counter() - started)


def torch_rate(k: int, n: int, threads: int) -> float | None:
    """Samples/s of torch's gumbel_softmax(hard=True) on the CPU, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    logits = torch.log(torch.arange(1, k + 1, dtype=torch.float64) / (k * (k + 1) / 2))
    rows = max(1, 2**19 // k)
    batch = logits.expand(rows, k)
    torch.nn.functional.gumbel_softmax(batch, hard=True)
    started = time.perf_counter()
    done = 0
    while done < n:
        torch.nn.functional.gumbel_softmax(batch, tau=1.0, hard=True)
        done += rows
    return done / (time.perf_counter() - started)


def engine_seconds(k: int, n: int, workers: int, check: str = "maxtrick") -> float:
    """Seconds of the library call alone (imports excluded, after a warm-up call)."""
    import numpy as np

    from gumbelcheck import maxtrick, sweep

    pi = np.arange(1, k + 1, dtype=float)

    def run(samples: int) -> None:
        if check == "sweep":
            sweep(pi, normalize=True, tau="1", samples=samples, seed=1, workers=workers)
        else:
            maxtrick(pi, normalize=True, samples=samples, seed=1, workers=workers)

    run(1000)  # first-call costs (lazy imports, caches) are start-up, not throughput
    started = time.perf_counter()
    run(n)
    return time.perf_counter() - started


def child_rate(kind: str, k: int, n: int, threads: int) -> float | None:
    """Run an in-process baseline in a child process of its own.

    A child forked from a big parent starts with the parent's resident pages, so the
    baselines run in children too: then every peak RSS measured here is a command's own.
    """
    command = [sys.executable, __file__, "--measure", kind, str(k), str(n), str(threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    return None if out == "None" else float(out)


def startup_seconds(*args: str) -> float:
    """Best-of wall time of a short gumbelcheck command."""
    return timed(gumbelcheck_command(*args))[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller N (a trial run)")
    parser.add_argument("--out", type=Path, default=None, help="CSV output (results/bench.csv)")
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument(
        "--only",
        choices=["user-sampler", "dask"],
        help="run only these rows (printed; written only with an explicit --out)",
    )
    options = parser.parse_args()
    if options.measure:
        kind, k, n, threads = options.measure
        rate = {
            "choice": lambda: choice_rate(int(k), int(n)),
            "torch": lambda: torch_rate(int(k), int(n), int(threads)),
            "engine": lambda: int(n) / engine_seconds(int(k), int(n), int(threads)),
            "sweep": lambda: int(n) / engine_seconds(int(k), int(n), int(threads), "sweep"),
        }[kind]()
        print(rate)
        return
    scale = 10 if options.quick else 1
    cores = len(os.sched_getaffinity(0))
    if options.only == "user-sampler":
        report(user_sampler_rows(scale), options.out)
        return
    if options.only == "dask":
        report(dask_rows(scale), options.out)
        return
    rows: list[Row] = []

    def against_fill(case: str, k: int, n: int, workers: int, target: str) -> Row:
        (seconds, rss), (fill, _) = timed(
            maxtrick_command(k, n, workers), fill_command(n * k, workers)
        )
        baseline = f"fill {n * k:.0e} uniforms, {workers} threads"
        row = Row(
            case,
            k,
            n,
            workers,
            seconds,
            n / seconds,
            baseline,
            n / fill,
            fill / seconds,
            target,
            rss,
        )
        rows.append(row)
        return row

    against_fill("maxtrick", 10, 200_000_000 // scale, cores, ">= 0.5 (stretch 0.7)")
    against_fill("maxtrick", 1000, 2_000_000 // scale, cores, ">= 0.65 (stretch 0.8)")

    # Scaling of the headline run (k = 10, N = 2e8): 1 worker against 2.
    n = 200_000_000 // scale
    (one, _), (two, _) = timed(maxtrick_command(10, n, 1), maxtrick_command(10, n, 2))
    rows.append(
        Row(
            "maxtrick 2 workers vs 1",
            10,
            n,
            2,
            two,
            n / two,
            "same run, 1 worker",
            n / one,
            one / two,
            ">= 1.8",
            0.0,
        )
    )

    # Alternating rounds, best of each, as for the whole processes.
    one_engine = two_engine = 0.0
    for _ in range(REPEAT):
        one_engine = max(one_engine, child_rate("engine", 10, n, 1) or math.nan)
        two_engine = max(two_engine, child_rate("engine", 10, n, 2) or math.nan)
    rows.append(
        Row(
            "engine only (no start-up), 2 vs 1",
            10,
            n,
            2,
            n / two_engine,
            two_engine,
            "same, 1 worker",
            one_engine,
            two_engine / one_engine,
            "report",
            0.0,
        )
    )

    # The machine's own scaling: the fill baseline on 2 threads against 1 (shared caches,
    # memory bandwidth and clock limit every program, not only gumbelcheck).
    (fill_one, _), (fill_two, _) = timed(fill_command(n * 10, 1), fill_command(n * 10, 2))
    rows.append(
        Row(
            "fill only, 2 threads vs 1",
            10,
            n,
            2,
            fill_two,
            n / fill_two,
            "same, 1 thread",
            n / fill_one,
            fill_one / fill_two,
            "report",
            0.0,
        )
    )

    for k, n in ((10, 10_000_000 // scale), (1000, 100_000 // scale)):
        rate = child_rate("choice", k, n, 1)
        seconds, rss = maxtrick_process(k, n, 1)
        rows.append(
            Row(
                "vs Generator.choice",
                k,
                n,
                1,
                seconds,
                n / seconds,
                "numpy Generator.choice(p=...), in process",
                rate,
                (n / seconds) / rate,
                "report",
                rss,
            )
        )
        torch = child_rate("torch", k, n, cores)
        if torch is not None:
            seconds, rss = maxtrick_process(k, n, cores)
            rows.append(
                Row(
                    "vs torch gumbel_softmax(hard=True)",
                    k,
                    n,
                    cores,
                    seconds,
                    n / seconds,
                    "torch CPU, in process",
                    torch,
                    (n / seconds) / torch,
                    "report",
                    rss,
                )
            )

    for k, n in ((10, 10_000_000 // scale), (1000, 100_000 // scale)):
        sweep_args = ["sweep", "--pi", pi_arg(k), "--normalize", "--tau", "1", "-n", str(n)]
        sweep_command = gumbelcheck_command(*sweep_args, "--seed", "1", "--quiet")
        (sweep_seconds, rss), (seconds, _) = timed(sweep_command, maxtrick_command(k, n, cores))
        rows.append(
            Row(
                "sweep point vs maxtrick (cost ratio)",
                k,
                n,
                cores,
                sweep_seconds,
                n / sweep_seconds,
                "maxtrick, same N and k",
                n / seconds,
                sweep_seconds / seconds,
                "<= 2",
                rss,
            )
        )

    for k, n in ((10, 100_000_000 // scale), (1000, 1_000_000 // scale)):
        # The same comparison without start-up: what a long sweep costs per point.
        sweep_rate = child_rate("sweep", k, n, cores) or math.nan
        maxtrick_rate = child_rate("engine", k, n, cores) or math.nan
        rows.append(
            Row(
                "sweep point vs maxtrick, engine only",
                k,
                n,
                cores,
                n / sweep_rate,
                sweep_rate,
                "maxtrick, same N and k, in process",
                maxtrick_rate,
                maxtrick_rate / sweep_rate,
                "report",
                0.0,
            )
        )

    for n in (10_000_000, 1_000_000_000 // scale):
        seconds, rss, pss = peak_memory(maxtrick_command(10, n, cores))
        rows.append(
            Row(
                "peak memory",
                10,
                n,
                cores,
                seconds,
                n / seconds,
                "-",
                float("nan"),
                float("nan"),
                "<= 150 MiB, flat in N (tree PSS)",
                rss,
                pss,
            )
        )

    rows.extend(user_sampler_rows(scale))
    rows.extend(dask_rows(scale))

    for args in (["--help"], ["--version"]):
        seconds = startup_seconds(*args)
        rows.append(
            Row(
                f"gumbelcheck {args[0]}",
                0,
                0,
                1,
                seconds,
                float("nan"),
                "-",
                float("nan"),
                float("nan"),
                "< 0.3 s",
                0.0,
            )
        )

    report(rows, options.out or Path("results/bench.csv"))


def report(rows: list[Row], out: Path | None) -> None:
    """Print the table, and write it as CSV (atomically) when ``out`` is given."""
    columns = ("k", "N", "w", "s", "samples/s", "baseline/s", "ratio", "RSS MiB", "PSS MiB")
    widths = (5, 12, 2, 7, 12, 12, 6, 8, 8)
    print(f"{'case':38} " + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for r in rows:
        print(
            f"{r.case:38} {r.k:>5} {r.samples:>12,} {r.workers:>2} {r.seconds:>7.2f} "
            f"{r.samples_per_s:>12,.0f} {r.baseline_samples_per_s:>12,.0f} {r.ratio:>6.2f} "
            f"{r.peak_rss_mib:>8.1f} {r.peak_pss_mib:>8.1f}  {r.target}"
        )
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(asdict(rows[0])))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    os.replace(tmp, out)
    print(f"written: {out}")


if __name__ == "__main__":
    main()
