import os, sys, gc, ctypes, time, psutil
TRIM = os.environ.get("TRIM") == "1"
libc = ctypes.CDLL("libc.so.6")
proc = psutil.Process()
def smaps():
    import collections
    tot=collections.Counter(); name=None; size=0
    for line in open("/proc/self/smaps"):
        parts=line.split()
        if "-" in parts[0] and len(parts)>=5 and not parts[0].endswith(":"):
            name = parts[5] if len(parts)>5 else "[anon]"
            if name.startswith("/"): name = "file"
        elif parts[0]=="Rss:":
            tot[name]+=int(parts[1])//1024
    return dict(tot)
def rss(tag):
    gc.collect()
    before = proc.memory_info().rss / 2**20
    msg = f"{tag}: rss {before:.0f} MiB"
    if TRIM:
        libc.malloc_trim(0)
        msg += f" -> trimmed {proc.memory_info().rss/2**20:.0f}"
    print(msg, smaps(), flush=True)
from colorize_utils import data as data_lib, evaluation, metrics
from colorize_utils.experiment import Experiment, ModelSpec
from colorize_utils.reporting import start_notebook
rss("imports")
run = start_notebook("04_bin_sweep", "demo", None, None, None, sys.argv[1])
data = data_lib.load_splits(run.dataset, run.sizes, run.profile.image_size, run.seed, fallback="samples")
rss("data")
exp = Experiment(run, data)
rss("experiment")
for nb in (50, 30, 10):
    spec = ModelSpec(f"ce_{nb}_bins", loss="cross_entropy", head="classification", num_bins=nb)
    t = time.time(); exp.train(spec); rss(f"trained {nb} ({time.time()-t:.0f} s)")
binnings = {n: exp.binning(n) for n in (10, 30, 50)}
preds = exp.predictions(exp.test_L, exp.test_ab)
rss("predictions")
table = evaluation.build_metrics_table(exp.test_L, exp.test_ab, preds, binnings, seed=run.seed)
rss("table")

regs=[];cur=None
for line in open("/proc/self/smaps"):
    parts=line.split()
    if "-" in parts[0] and not parts[0].endswith(":"):
        a,b=[int(x,16) for x in parts[0].split("-")]; cur=[ (b-a)>>20, parts[5] if len(parts)>5 else "[anon]", 0]; regs.append(cur)
    elif parts[0]=="Rss:": cur[2]=int(parts[1])>>10
regs=[r for r in regs if not r[1].startswith("/")]
regs.sort(key=lambda r:-r[2])
print("top anon", regs[:25]); import collections
print("size histogram", collections.Counter(r[0] for r in regs if r[2]>4))
print("peak (ru_maxrss)", __import__("resource").getrusage(0).ru_maxrss/1024)
