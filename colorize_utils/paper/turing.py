"""The colorization Turing test: people judge real vs colorized images; AdverSuc = colorized judged real.

    python -m colorize_utils.paper.turing runs/demo/turing/deck.npz          # take the test in a terminal
    python -m colorize_utils.paper.turing runs/demo/turing/deck.npz --report # scores so far

A *deck* (saved by notebook 06) holds the images in a fixed, seeded order: every test image appears once,
either real or colorized by one of the models, so nobody sees the same picture twice. `TuringTest` is the
plain scoring logic that the JupyterLab widget, the command line and the tests all drive. Every answer is
appended to a CSV, so several people (sessions) add up.

`fooling_proxy()` is an *automated stand-in*: a small real-vs-colorized CNN trained on held-apart images;
its test accuracy per model (50% = indistinguishable) is a proxy for the field's human fooling rate, not
a measurement of people.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REAL = "real"
ANSWER_COLUMNS = ["session", "timestamp", "trial", "image_id", "source", "is_real", "judged_real"]


@dataclass
class Trial:
    """One image shown to a person."""

    index: int
    image: np.ndarray
    source: str  # "real" or the model that colorized it
    image_id: str

    @property
    def is_real(self) -> bool:
        """True when the image is the original photo."""
        return self.source == REAL


def make_deck(real: np.ndarray, fakes: dict[str, np.ndarray], image_ids: list[str] | None = None,
              seed: int = 0) -> dict:
    """Assign each test image at random to 'real' or one model, then shuffle: a fixed, seeded deck."""
    if not fakes:
        raise ValueError("A Turing test needs at least one model's colorized images.")
    count = len(real)
    for name, images in fakes.items():
        if images.shape != real.shape:
            raise ValueError(f"{name}: colorized images {images.shape} do not match the real ones {real.shape}.")
    rng = np.random.default_rng(seed)
    sources = [REAL] + sorted(fakes)
    # Half real, half colorized (split evenly between the models), so 'always real' scores 50%.
    assignment = np.array([REAL if i % 2 == 0 else sorted(fakes)[(i // 2) % len(fakes)] for i in range(count)])
    rng.shuffle(assignment)
    order = rng.permutation(count)
    images = np.stack([real[i] if assignment[i] == REAL else fakes[assignment[i]][i] for i in order])
    ids = image_ids or [f"test_{i:05d}" for i in range(count)]
    return {"images": images, "sources": np.array([assignment[i] for i in order]),
            "image_ids": np.array([ids[i] for i in order]), "all_sources": np.array(sources), "seed": seed}


def save_deck(deck: dict, path: str | os.PathLike) -> Path:
    """Write a deck as .npz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **deck)
    return path


def load_deck(path: str | os.PathLike) -> dict:
    """Read a deck written by save_deck()."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No Turing-test deck at {path}; notebook 06 writes one.")
    with np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


class TuringTest:
    """Shows a deck's images one at a time and scores the answers."""

    def __init__(self, deck: dict, answers_csv: str | os.PathLike | None = None, session: str | None = None,
                 count: int | None = None, resume: bool = False):
        self.trials = [Trial(i, image, str(source), str(image_id)) for i, (image, source, image_id)
                       in enumerate(zip(deck["images"], deck["sources"], deck["image_ids"]))]
        if count is not None:
            if count < 1:
                raise ValueError(f"count must be at least 1; got {count}.")
            self.trials = self.trials[:count]  # the deck is shuffled: its first images are a fair sample
        self.answers: list[dict] = []
        self.answers_csv = Path(answers_csv) if answers_csv else None
        self.session = session or uuid.uuid4().hex[:8]
        if resume and self.answers_csv is not None:
            # Pick up where this session stopped: its answers so far count, and its next image is shown.
            self.answers = [row for row in read_answers(self.answers_csv) if row["session"] == self.session]

    @property
    def position(self) -> int:
        """How many trials have been answered."""
        return len(self.answers)

    @property
    def done(self) -> bool:
        """True once every image was judged."""
        return self.position >= len(self.trials)

    def current(self) -> Trial:
        """The trial to show next."""
        if self.done:
            raise IndexError("The test is finished: every image was judged.")
        return self.trials[self.position]

    def answer(self, judged_real: bool) -> dict:
        """Record the person's verdict on the current image (True = 'real'); appends it to the CSV."""
        trial = self.current()
        row = {"session": self.session, "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "trial": trial.index, "image_id": trial.image_id, "source": trial.source,
               "is_real": int(trial.is_real), "judged_real": int(bool(judged_real))}
        self.answers.append(row)
        if self.answers_csv is not None:
            append_answers(self.answers_csv, [row])
        return row

    def summary(self) -> dict:
        """AdverSuc per model and overall, and the share of real images judged real, with counts."""
        return summarize(self.answers)


def append_answers(path: Path, rows: list[dict]) -> None:
    """Append answer rows to a CSV (with a header when new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ANSWER_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerows(rows)


def read_answers(path: str | os.PathLike) -> list[dict]:
    """Every recorded answer (all sessions); empty when nobody has taken the test yet."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return [{**row, "is_real": int(row["is_real"]), "judged_real": int(row["judged_real"])}
                for row in csv.DictReader(handle)]


def summarize(answers: list[dict]) -> dict:
    """AdverSuc = colorized images judged real / colorized images shown, per model and overall."""
    fakes = [row for row in answers if not row["is_real"]]
    reals = [row for row in answers if row["is_real"]]
    per_model = {}
    for source in sorted({row["source"] for row in fakes}):
        shown = [row for row in fakes if row["source"] == source]
        fooled = sum(row["judged_real"] for row in shown)
        per_model[source] = {"shown": len(shown), "judged_real": fooled, "adversuc": fooled / len(shown)}
    fooled = sum(row["judged_real"] for row in fakes)
    real_ok = sum(row["judged_real"] for row in reals)
    return {
        "answers": len(answers), "sessions": len({row["session"] for row in answers}),
        "colorized_shown": len(fakes), "colorized_judged_real": fooled,
        "adversuc": fooled / len(fakes) if fakes else float("nan"),
        "real_shown": len(reals), "real_judged_real": real_ok,
        "real_judged_real_share": real_ok / len(reals) if reals else float("nan"),
        "per_model": per_model,
    }


def fooling_proxy(real_fit: np.ndarray, fake_fit: np.ndarray, real_eval: np.ndarray, fake_eval: np.ndarray,
                  epochs: int = 10, seed: int = 0, batch_size: int = 32) -> dict:
    """Train a small real-vs-colorized CNN on held-apart images; its accuracy on the eval images.

    50% means the classifier cannot tell the colorizations from real photos. A proxy, not people.
    """
    import keras
    from keras import layers

    from colorize_utils.learning.training import build_optimizer  # TensorFlow for the proxy only: the terminal test starts without it

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(real_fit.shape[1:])
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    classifier = keras.Model(inputs, outputs, name="real_vs_colorized")
    classifier.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    build_optimizer(classifier.optimizer, classifier.trainable_variables)  # one trace of the step, not two
    fit_x = np.concatenate([real_fit, fake_fit]).astype(np.float32)
    fit_y = np.concatenate([np.ones(len(real_fit)), np.zeros(len(fake_fit))]).astype(np.float32)
    classifier.fit(fit_x, fit_y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    eval_x = np.concatenate([real_eval, fake_eval]).astype(np.float32)
    eval_y = np.concatenate([np.ones(len(real_eval)), np.zeros(len(fake_eval))])
    # Called directly in batches: predict() would retrace a tf.function for every new classifier.
    scores = np.concatenate([keras.ops.convert_to_numpy(classifier(eval_x[i:i + 128], training=False))
                             for i in range(0, len(eval_x), 128)])
    predicted = scores[:, 0] > 0.5
    return {"accuracy": float(np.mean(predicted == eval_y)),
            "colorized_judged_real": float(np.mean(predicted[len(real_eval):])),
            "fit_images": int(len(fit_x)), "eval_images": int(len(eval_x))}


def _show_in_terminal(image: np.ndarray, scale: int, folder: Path, index: int, open_viewer: bool) -> Path:
    from PIL import Image

    path = folder / f"turing_{index:04d}.png"
    picture = Image.fromarray(image).resize((image.shape[1] * scale, image.shape[0] * scale), Image.NEAREST)
    picture.save(path)
    if open_viewer:
        picture.show()  # opens the system image viewer where there is one
    return path


def main(argv: list[str] | None = None, stdin=None) -> int:
    """Command line: take the test (answers r / c, q to stop) or print the scores so far."""
    parser = argparse.ArgumentParser(prog="python -m colorize_utils.paper.turing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("deck", help="a deck .npz written by notebook 06 (runs/<profile>/turing/deck.npz)")
    parser.add_argument("--count", type=int, default=None, help="judge only this many images (default: all)")
    parser.add_argument("--session", default=None,
                        help="your name for the answers file; rerun with the same name to resume (default: "
                             "your login name)")
    parser.add_argument("--answers", help="answers CSV (default: answers.csv beside the deck)")
    parser.add_argument("--report", action="store_true", help="print the scores of all answers so far and exit")
    parser.add_argument("--no-viewer", action="store_true", help="only save each image to a file; open no viewer")
    parser.add_argument("--scale", type=int, default=4, help="enlarge images by this factor")
    args = parser.parse_args(argv)
    stdin = stdin or sys.stdin
    deck_path = Path(args.deck)
    answers_csv = Path(args.answers) if args.answers else deck_path.with_name("answers.csv")
    if args.report:
        print(format_summary(summarize(read_answers(answers_csv))))
        return 0
    if not deck_path.is_file():
        print(f"No Turing-test deck at {deck_path}. Decks are written by notebook 06 (they are not kept in git): "
              "run `python -m colorize_utils.runner --only 03 04 05 06` (or the whole runner) first, then "
              "pass its runs/<profile>/turing/deck.npz.", file=sys.stderr)
        return 2
    if args.count is not None and args.count < 1:
        print(f"--count must be at least 1; got {args.count}.", file=sys.stderr)
        return 2
    import getpass

    session = args.session or getpass.getuser()
    test = TuringTest(load_deck(deck_path), answers_csv, session=session, count=args.count, resume=True)
    folder = answers_csv.parent / "turing_images"
    folder.mkdir(parents=True, exist_ok=True)
    display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("darwin", "win32")
    resumed = f" (resuming session {session!r} at image {test.position + 1})" if test.position else ""
    print(f"{len(test.trials)} images{resumed}. For each: r = real photo, c = colorized, q = stop. "
          f"Answers are saved as you go to {answers_csv}")
    while not test.done:
        path = _show_in_terminal(test.current().image, args.scale, folder, test.position,
                                 display and not args.no_viewer)
        where = "" if display and not args.no_viewer else " (no display: open this file to see it)"
        print(f"[{test.position + 1}/{len(test.trials)}] {path}{where}  real or colorized? [r/c/q] ", end="",
              flush=True)
        reply = stdin.readline()
        if not reply or reply.strip().lower().startswith("q"):
            break
        choice = reply.strip().lower()[:1]
        if choice not in ("r", "c"):
            print("please answer r (real), c (colorized) or q (quit)")
            continue
        test.answer(choice == "r")
    print(format_summary(test.summary()))
    return 0


def format_summary(score: dict) -> str:
    """The scores as text."""
    if not score["answers"]:
        return "No answers recorded yet."
    lines = [f"{score['answers']} answers from {score['sessions']} session(s)",
             f"AdverSuc (colorized judged real): {score['adversuc']:.1%} "
             f"({score['colorized_judged_real']} of {score['colorized_shown']})",
             f"real judged real: {score['real_judged_real_share']:.1%} "
             f"({score['real_judged_real']} of {score['real_shown']})"]
    lines += [f"  {model}: {v['adversuc']:.1%} ({v['judged_real']} of {v['shown']})"
              for model, v in score["per_model"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
