"""The runner end to end: seconds per notebook and peak resident memory, for a profile.

    python benchmarks/bench_runs.py --profile smoke [--out results/benchmarks/runs_smoke.json]
    COLORIZE_DATA_DIR=../shared/data python benchmarks/bench_runs.py --profile demo

Runs `python -m colorize_utils.runner --profile P --no-progress` into a temporary results folder (nothing
published is touched; with `--publish`, into results/P/ as `runner --publish` does), reads each notebook's "done in N s" line, and takes the peak resident set of the
runner and its kernels (the largest, from getrusage of the finished children). Data: whatever
COLORIZE_DATA_DIR points at, recorded; without it, what a fresh machine gets.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--out", default=None, help="default: results/benchmarks/runs_<profile>.json")
    parser.add_argument("--publish", action="store_true",
                        help="run the runner with --publish (maintainers: the timed run becomes results/<profile>/)")
    args = parser.parse_args()
    from colorize_utils import reporting

    out = args.out or Path(__file__).resolve().parent.parent / "results" / "benchmarks" / f"runs_{args.profile}.json"
    with tempfile.TemporaryDirectory() as folder:
        environment = {**os.environ, "COLORIZE_RESULTS_ROOT": folder}
        started = time.perf_counter()
        command = [sys.executable, "-m", "colorize_utils.runner", "--profile", args.profile, "--no-progress"]
        completed = subprocess.run(command + (["--publish"] if args.publish else []), env=environment,
                                   capture_output=True, text=True)
        seconds = time.perf_counter() - started
    (Path(out).with_suffix(".log")).write_text(completed.stdout + completed.stderr)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    if completed.returncode != 0:
        sys.exit(f"the runner failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    notebooks = {name: float(value) for name, value in
                 re.findall(r"\] (\S+) done in (\d+(?:\.\d+)?) s", completed.stdout + completed.stderr)}
    data_lines = sorted({line.strip() for line in (completed.stdout + completed.stderr).splitlines()
                         if line.startswith(("source:", "Data:"))})
    path = reporting.write_benchmark_record(
        out, profile=args.profile, data_dir=os.environ.get("COLORIZE_DATA_DIR"), data=data_lines,
        total_seconds=seconds, seconds_per_notebook=notebooks, peak_resident_mib=peak_mib,
        peak_note="largest resident set among the runner and its kernels (getrusage RUSAGE_CHILDREN)")
    for name, value in notebooks.items():
        print(f"{name:>20}: {value:7.0f} s")
    print(f"total {seconds:.0f} s, peak resident {peak_mib:.0f} MiB; written to {path}")


if __name__ == "__main__":
    main()
