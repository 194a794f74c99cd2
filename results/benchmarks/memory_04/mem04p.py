import os, sys, gc, time, resource, psutil
proc = psutil.Process()
def rss(tag):
    gc.collect()
    print(f"{tag}: rss {proc.memory_info().rss/2**20:.0f} MiB, maxrss {resource.getrusage(0).ru_maxrss/1024:.0f}", flush=True)
from colorize_utils import data as data_lib, evaluation, models
from colorize_utils.experiment import Experiment, ModelSpec
from colorize_utils.reporting import start_notebook
BATCH = int(os.environ.get("PBATCH", "64"))
run = start_notebook("04_bin_sweep", "demo", None, None, None, sys.argv[1])
data = data_lib.load_splits(run.dataset, run.sizes, run.profile.image_size, run.seed, fallback="samples")
exp = Experiment(run, data)
rss("experiment")
for nb in (50, 30):
    spec = ModelSpec(f"ce_{nb}_bins", loss="cross_entropy", head="classification", num_bins=nb)
    t = time.time(); exp.train(spec); rss(f"trained {nb} ({time.time()-t:.0f} s)")
binnings = {n: exp.binning(n) for n in (10, 30, 50)}
preds = {name: models.predict_ab(r.model, exp.test_L, r.binning, batch_size=BATCH) for name, r in exp.results.items()}
rss(f"predictions batch {BATCH}")
table = evaluation.build_metrics_table(exp.test_L, exp.test_ab, preds, binnings, seed=run.seed)
rss("table")
