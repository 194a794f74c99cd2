import numpy as np, tracemalloc, subprocess
from colorize_utils import metrics
rng=np.random.default_rng(0)
L=rng.uniform(0,100,(1000,64,64,1)).astype('float32'); ab=rng.normal(0,20,(1000,64,64,2)).astype('float32')
t=metrics.Truth(L,ab)
print("commit", subprocess.run(["git","rev-parse","--short","HEAD"],capture_output=True,text=True).stdout.strip(),
      "dirty" if subprocess.run(["git","status","--porcelain","--untracked-files=no"],capture_output=True,text=True).stdout else "clean")
for name in ("rgb","ssim_moments","mean_colorfulness"):
    tracemalloc.start()
    getattr(t,name)
    cur,peak=tracemalloc.get_traced_memory(); tracemalloc.stop()
    print(f"Truth.{name}: kept {cur/2**20:.0f} MiB, peak {peak/2**20:.0f} MiB")
