"""Notebook 04's models trained through Experiment, with the resident set printed after each step.

    COLORIZE_DATA_DIR=../shared/data TF_NUM_INTRAOP_THREADS=1 \
        TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1 [VARIANT=...] python benchmarks/memory_04.py /tmp/m/out

Variants (environment), as in README.md's table:
    TRIM=1        malloc_trim(0) after each step (log b)
    CLEAR=1       keras.utils.clear_session(free_memory=True) after each model, and the live variables counted (c)
    ORDER=50,30,10  the bin counts in training order (default 10,30,50; h: 50,30,10; p64, p25: 50,30)
    PBATCH=25     predictions of the trained models only, at this batch, through networks.predict_ab (p64, p25);
                  default: Experiment.predictions (the baselines too, batch 64)
The allocator runs f and g set TF_ONEDNN_USE_SYSTEM_ALLOCATOR=1 (and MALLOC_MMAP_THRESHOLD_=1048576
MALLOC_ARENA_MAX=2). Every run prints the resident set by kind of mapping (/proc/self/smaps) and, at the end,
the largest anonymous regions (logs d, e). The runs used five copies of this script that differed only in
these switches (mem04.py, mem04c.py, mem04d.py / mem04e.py, mem04r.py, mem04p.py); they are folded here.
"""
import collections, ctypes, gc, os, resource, sys, time

import psutil

TRIM, CLEAR = os.environ.get("TRIM") == "1", os.environ.get("CLEAR") == "1"
ORDER = [int(n) for n in os.environ.get("ORDER", "10,30,50").split(",")]
PBATCH = int(os.environ["PBATCH"]) if os.environ.get("PBATCH") else None
libc = ctypes.CDLL("libc.so.6")
proc = psutil.Process()


def smaps_regions():
    """(size MiB, name, resident MiB) of every mapping; files named "file"."""
    regions = []
    for line in open("/proc/self/smaps"):
        parts = line.split()
        if "-" in parts[0] and not parts[0].endswith(":"):
            start, end = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else "[anon]"
            regions.append([(end - start) >> 20, "file" if name.startswith("/") else name, 0])
        elif parts[0] == "Rss:":
            regions[-1][2] = int(parts[1]) >> 10
    return regions


def rss(tag):
    gc.collect()
    msg = f"{tag}: rss {proc.memory_info().rss / 2**20:.0f} MiB, maxrss {resource.getrusage(0).ru_maxrss / 1024:.0f}"
    if TRIM:
        libc.malloc_trim(0)
        msg += f" -> trimmed {proc.memory_info().rss / 2**20:.0f}"
    by_kind = collections.Counter()
    for _, name, resident in smaps_regions():
        by_kind[name] += resident
    print(msg, dict(by_kind), flush=True)


from colorize_utils.runtime import networks
from colorize_utils.learning import data as data_lib, evaluation
from colorize_utils.paper.experiment import Experiment, ModelSpec
from colorize_utils.paper.notebook import start_notebook

rss("imports")
run = start_notebook("04_bin_sweep", "demo", None, None, None, sys.argv[1])
data = data_lib.load_splits(run.dataset, run.sizes, run.profile.image_size, run.seed, fallback="samples")
rss("data")
exp = Experiment(run, data)
rss("experiment")
for nb in ORDER:
    spec = ModelSpec(f"ce_{nb}_bins", loss="cross_entropy", head="classification", num_bins=nb)
    t = time.time(); exp.train(spec); rss(f"trained {nb} ({time.time() - t:.0f} s)")
    if CLEAR:
        import keras
        import tensorflow as tf
        keras.utils.clear_session(free_memory=True); rss("cleared")
        print("live variables", sum(1 for o in gc.get_objects() if isinstance(o, tf.Variable)))
binnings = {n: exp.binning(n) for n in (10, 30, 50)}
if PBATCH:
    preds = {name: networks.predict_ab(r.model, exp.test_L, r.binning, batch_size=PBATCH) for name, r in exp.results.items()}
else:
    preds = exp.predictions(exp.test_L, exp.test_ab)
rss(f"predictions (batch {PBATCH or 64})")
table = evaluation.build_metrics_table(exp.test_L, exp.test_ab, preds, binnings, seed=run.seed)
rss("table")
anon = sorted((r for r in smaps_regions() if r[1] != "file"), key=lambda r: -r[2])
print("top anon (size MiB, name, resident MiB)", anon[:25])
print("peak (ru_maxrss)", resource.getrusage(0).ru_maxrss / 1024)
