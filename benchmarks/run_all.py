"""Run every CPU benchmark and gather all benchmark records into results/benchmarks.json.

    python benchmarks/run_all.py              # run each benchmark below, then gather
    python benchmarks/run_all.py --gather     # only gather the records already in results/benchmarks/

Each benchmark writes its own record (machine, commit, date) under results/benchmarks/:
pipeline.json (bench_pipeline.py), colorizer.json (bench_colorizer.py), training.json (bench_training.py),
video.json (bench_video.py), numpy_colorizer_batches.json (bench_numpy_batches.py), iterator_stalls.json
(bench_iterator_stalls.py: idle stalls of training with tf.data autotuning on and off),
runs_smoke.json (bench_runs.py: the runner's seconds per notebook and peak memory; runs_demo.json by hand). Records
made elsewhere are gathered too: paper_profile_h200.json from `paper_profile_gpu.py --project` on a GPU host, and
training_colorizer_loss*.json from `bench_training.py --models colorizer --baseline-root WORKTREE` (the code before
a change, timed in the same run). results/benchmarks.json holds them all, keyed by file name, with this machine and the date on top.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORDS = HERE.parent / "results" / "benchmarks"
BENCHMARKS = (("bench_pipeline.py", ["--count", "4000", "--repeats", "3"]), ("bench_colorizer.py", []),
              ("bench_training.py", []),
              ("bench_video.py", []), ("bench_numpy_batches.py", []),
              ("bench_iterator_stalls.py", ["--repeats", "2"]), ("bench_runs.py", ["--profile", "smoke"]))
# Not run by default (about 10 minutes on 2 cores): `python benchmarks/bench_runs.py --profile demo`.


def gather(out: Path) -> dict:
    """Every JSON record under results/benchmarks/, keyed by its file name, with this machine and the date."""
    from colorize_utils import files
    from colorize_utils.learning import reporting

    combined = {"gathered": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "machine": reporting.machine_description(), "git_commit": files.git_commit(),
                "records": {path.stem: json.loads(path.read_text()) for path in sorted(RECORDS.glob("*.json"))}}
    with files.atomic_path(out) as temporary:
        temporary.write_text(json.dumps(files.json_safe(combined), indent=1))
    return combined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gather", action="store_true", help="only gather the existing records")
    parser.add_argument("--out", default=str(HERE.parent / "results" / "benchmarks.json"))
    args = parser.parse_args()
    if not args.gather:
        for script, options in BENCHMARKS:
            print(f"== {script}", flush=True)
            subprocess.run([sys.executable, str(HERE / script), *options], check=True)
    combined = gather(Path(args.out))
    print(f"{len(combined['records'])} records gathered into {args.out}: {', '.join(combined['records'])}")


if __name__ == "__main__":
    main()
