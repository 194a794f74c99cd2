"""The runner end to end: seconds per notebook and peak resident memory, for a profile.

    python benchmarks/bench_runs.py --profile smoke [--out results/benchmarks/runs_smoke.json]
    COLORIZE_DATA_DIR=../shared/data python benchmarks/bench_runs.py --profile demo [--jobs 1]

Runs `python -m colorize_utils.runner --profile P --no-progress --jobs J` into a temporary results folder
(nothing published is touched; with `--publish`, into results/P/ as `runner --publish` does), reads each
notebook's "done in N s" line, and measures memory: the runner and all its kernels together, sampled
every 0.5 s, as summed resident sets and as summed proportional sets (what the machine holds when notebooks
run side by side), and the largest single process (getrusage of the finished children). Data: whatever COLORIZE_DATA_DIR points at,
recorded; without it, what a fresh machine gets.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def sample_tree_memory(process: subprocess.Popen, every: float = 0.5) -> tuple[threading.Event, list[float]]:
    """Start sampling the memory (MiB) of `process` and its descendants; set the event to stop. The list holds
    the peaks so far: [summed resident set, summed proportional set].

    The resident sets' sum counts pages the processes share (TensorFlow's libraries, about 0.4 GiB per kernel)
    once per process; the proportional set size splits each shared page between the processes that map it,
    so its sum is what the machine holds for them together."""
    import psutil

    stop, peak = threading.Event(), [0.0, 0.0]

    def sample():
        root = psutil.Process(process.pid)
        while not stop.wait(every):
            resident = proportional = 0
            for member in [root, *root.children(recursive=True)]:
                try:
                    info = member.memory_full_info()  # /proc/<pid>/smaps_rollup: rss and pss
                    resident += info.rss
                    proportional += info.pss
                except psutil.Error:  # a kernel that just ended
                    pass
            peak[0] = max(peak[0], resident / 2 ** 20)
            peak[1] = max(peak[1], proportional / 2 ** 20)

    threading.Thread(target=sample, daemon=True).start()
    return stop, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--jobs", default="auto", help="the runner's --jobs (default: auto)")
    parser.add_argument("--out", default=None, help="default: results/benchmarks/runs_<profile>.json")
    parser.add_argument("--publish", action="store_true",
                        help="run the runner with --publish (maintainers: the timed run becomes results/<profile>/)")
    args = parser.parse_args()
    from colorize_utils.learning import reporting

    out = args.out or Path(__file__).resolve().parent.parent / "results" / "benchmarks" / f"runs_{args.profile}.json"
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        command = [sys.executable, "-m", "colorize_utils.runner", "--profile", args.profile, "--no-progress",
                   "--jobs", args.jobs, "--results-root", folder]
        process = subprocess.Popen(command + (["--publish"] if args.publish else []),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        stop, tree_peak = sample_tree_memory(process)
        output, _ = process.communicate()
        stop.set()
        seconds = time.perf_counter() - started
        # Each notebook's metrics record holds its kernel's own peak (reporting.peak_resident_mib).
        kernel_peaks = {}
        written = Path(__file__).resolve().parent.parent / "results" if args.publish else Path(folder)
        for record_path in sorted((written / args.profile / "metrics").glob("*.json")):
            record = json.loads(record_path.read_text())
            kernel_peaks[record["notebook"]] = record.get("peak_resident_mib")
    (Path(out).with_suffix(".log")).write_text(output)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    if process.returncode != 0:
        sys.exit(f"the runner failed ({process.returncode}):\n{output[-3000:]}")
    notebooks = {name: float(value) for name, value in re.findall(r"\] (\S+) done in (\d+(?:\.\d+)?) s", output)}
    # Lines a kernel printed arrive prefixed with its notebook's name when several run at once.
    data_lines = sorted({line.split(" | ", 1)[-1].strip() for line in output.splitlines()
                         if line.split(" | ", 1)[-1].startswith(("source:", "Data:"))})
    jobs = re.search(r"(\d+) at a time \((\S+) TensorFlow thread", output)
    path = reporting.write_benchmark_record(
        out, profile=args.profile, data_dir=os.environ.get("COLORIZE_DATA_DIR"), data=data_lines,
        jobs=int(jobs.group(1)) if jobs else None, tensorflow_threads_per_kernel=jobs.group(2) if jobs else None,
        total_seconds=seconds, seconds_per_notebook=notebooks,
        peak_resident_mib_all_processes=tree_peak[0],
        peak_proportional_mib_all_processes=tree_peak[1],
        peak_all_note="the runner and all its kernels together, sampled every 0.5 s: the sum of resident sets "
                      "(shared library pages counted once per process) and of proportional sets (shared pages "
                      "split between the processes that map them)",
        peak_resident_mib=peak_mib, peak_resident_mib_per_kernel=kernel_peaks,
        peak_note="largest resident set of a single process among the runner and its kernels (getrusage RUSAGE_CHILDREN)")
    for name, value in notebooks.items():
        print(f"{name:>20}: {value:7.0f} s, kernel peak {kernel_peaks.get(name) or 0:6.0f} MiB")
    print(f"total {seconds:.0f} s, peak resident {tree_peak[0]:.0f} MiB (proportional {tree_peak[1]:.0f} MiB) "
          f"for all processes together, "
          f"{peak_mib:.0f} MiB for the largest one; written to {path}")


if __name__ == "__main__":
    main()
