# Run from the repository root:
#   python benchmarks/frontier_compare.py REFERENCE.npz CANDIDATE.npz [--out JSON]
"""Two networks at equal colorfulness, with paired intervals, on validation images only.

Each NPZ is `benchmarks/chroma_gain_probe.py --per-image` over the same images (the same counts and split). For
photos and Tiny images apart, and each colorfulness share of the truth's (0.75, 0.8, 0.82), each network's decoding
is its best mean PSNR among the decodings at least that colorful; the candidate's per-image PSNR minus the
reference's gets a 95% paired bootstrap interval over images (metrics.paired_bootstrap). The decodings are chosen on
the same images that score them, for both networks alike: a comparison of frontiers, not a release.
"""
import json
import sys
from pathlib import Path

import numpy as np

from colorize_utils import metrics
from colorize_utils.files import git_commit

SHARES = (0.75, 0.8, 0.82)
arguments = sys.argv[1:]
out = None
if "--out" in arguments:
    at = arguments.index("--out")
    out = Path(arguments[at + 1])
    del arguments[at:at + 2]
reference, candidate = (np.load(path) for path in arguments[:2])
if list(reference["names"]) != list(candidate["names"]):
    raise ValueError("the two NPZ files score different images: run both probes with the same counts and data.")


def best_decoding(probe, mask: np.ndarray, share: float):
    """(index, mean PSNR, share) of the decoding with the best mean PSNR among those at least `share` x the truth's
    colorfulness over `mask`'s images, or None."""
    truth = probe["truth_colorfulness"][mask].mean()
    shares = probe["colorfulness"][:, mask].mean(axis=1) / truth
    psnr = probe["psnr"][:, mask].mean(axis=1)
    eligible = np.flatnonzero(shares >= share)
    if len(eligible) == 0:
        return None
    best = eligible[np.argmax(psnr[eligible])]
    return int(best), float(psnr[best]), float(shares[best])


rows = []
for part, mask in (("photos", ~reference["tiny"]), ("tiny", reference["tiny"])):
    gray = float(reference["gray_psnr"][mask].mean())
    mean_color = float(reference["mean_color_psnr"][mask].mean()) if "mean_color_psnr" in reference else None
    for share in SHARES:
        chosen = {name: best_decoding(probe, mask, share) for name, probe in (("reference", reference), ("candidate", candidate))}
        if None in chosen.values():
            print(f"{part} share >= {share}: a network has no decoding that colorful")
            continue
        (ref_index, ref_psnr, ref_share), (new_index, new_psnr, new_share) = chosen["reference"], chosen["candidate"]
        mean, low, high = metrics.paired_bootstrap(candidate["psnr"][new_index, mask], reference["psnr"][ref_index, mask])
        row = {"part": part, "images": int(mask.sum()), "share_at_least": share, "gray_psnr": gray,
               "mean_color_psnr": mean_color,
               "reference": {"psnr": ref_psnr, "share": ref_share, "decoding": reference["decodings"][ref_index].tolist()},
               "candidate": {"psnr": new_psnr, "share": new_share, "decoding": candidate["decodings"][new_index].tolist()},
               "difference": [mean, low, high], "verdict": metrics.verdict(low, high, True)}
        rows.append(row)
        print(f"{part} ({row['images']} images, gray {gray:.2f}, mean color {mean_color or float('nan'):.2f}) share >= {share}: reference {ref_psnr:.3f} at {ref_share:.3f}, "
              f"candidate {new_psnr:.3f} at {new_share:.3f}; candidate - reference {mean:+.3f} [{low:+.3f}, {high:+.3f}] "
              f"{row['verdict']}  (decodings: size, alpha, T, gain)")
if out is not None:
    out.write_text(json.dumps({"reference": arguments[0], "candidate": arguments[1], "rows": rows,
                                "git_commit": git_commit()}, indent=1))
    print(f"wrote {out}")
