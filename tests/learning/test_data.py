"""Data sources, splits and robust decoding, on real images (../shared/data and the embedded photos)."""

from collections import Counter
import zipfile

import numpy as np
import pytest
import skimage.color
from PIL import Image

from colorize_utils import images
from colorize_utils.learning import data, pipeline, sources
from colorize_utils.binning import UniformBins


def _all_items(split):
    return split.paths if split.paths is not None else [image.tobytes() for image in split.images]


def test_tiny_imagenet_splits_are_disjoint_deterministic_and_balanced(shared_data):
    first = data.load_splits("tiny-imagenet", (400, 200, 200), seed=7, root=shared_data, download=False)
    again = data.load_splits("tiny-imagenet", (400, 200, 200), seed=7, root=shared_data, download=False)
    other = data.load_splits("tiny-imagenet", (400, 200, 200), seed=8, root=shared_data, download=False)
    assert first.report.sizes == {"train": 400, "val": 200, "test": 200}
    for name in data.SPLIT_NAMES:
        assert first[name].paths == again[name].paths
    assert first.train.paths != other.train.paths
    train, val, test = (set(first[name].paths) for name in data.SPLIT_NAMES)
    assert not (train & val) and not (train & test) and not (val & test)
    # test comes from the official val/ folder, train and val from train/
    assert all("/val/images/" in p for p in test) and all("/train/" in p for p in train | val)
    # sampled evenly across synsets: every class within one image of every other
    for split in (first.train, first.val, first.test):
        counts = Counter(split.labels)
        assert max(counts.values()) - min(counts.values()) <= 1
    assert len(Counter(first.train.labels)) >= 200


def test_tiny_imagenet_grayscale_images_are_excluded_and_counted(shared_data):
    loaded = data.load_splits("tiny-imagenet", (1500, 0, 0), seed=0, root=shared_data, download=False)
    assert loaded.report.skipped_gray > 0  # the real set has a few grayscale images
    rgb = loaded.train.rgb(64)
    assert not any(images.is_grayscale(image) for image in rgb)


def test_a_small_folder_is_split_in_proportion_and_too_small_is_refused(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    rng = np.random.default_rng(1)
    crops = sources.sample_crops(sources.natural_photos(("coffee",))["coffee"], 34, 64, rng)
    for index, crop in enumerate(crops):
        Image.fromarray(crop).save(folder / f"{index}.png")
    loaded = data.load_splits(f"folder:{folder}", (2000, 200, 1000), seed=0)
    assert loaded.report.sizes == {"train": 22, "val": 2, "test": 10}  # 34 files: 2000:200:1000 in proportion
    assert "34 images for train/val/test of 2000/200/1000: scaled in proportion to 22/2/10" in capsys.readouterr().out
    for path in list(folder.iterdir())[:25]:
        path.unlink()
    with pytest.raises(ValueError, match=r"Only \d+ usable color images are left for training .* at least 10"):
        data.load_splits(f"folder:{folder}", (2000, 200, 1000), seed=0)


def test_requesting_more_than_available_shrinks_and_says_so(shared_data):
    loaded = data.load_splits("cifar10", (5000, 10, 10), image_size=32, root=shared_data, download=False)
    assert loaded.report.sizes["train"] < 2000
    assert any("train: only" in note for note in loaded.report.notes)


def test_cifar10_folder_tree(shared_data):
    loaded = data.load_splits("cifar10", (100, 20, 50), image_size=32, seed=0, root=shared_data,
                              download=False)
    assert len(loaded.train) == 100 and len(loaded.test) == 50
    assert all("/cifar10/test/" in p for p in loaded.test.paths)
    assert set(loaded.train.labels) == {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                        "horse", "ship", "truck"}
    lightness, ab = pipeline.split_to_lab(loaded.test, 32)
    assert lightness.shape == (50, 32, 32, 1) and ab.shape == (50, 32, 32, 2)


def test_cifar10_without_data_or_network_is_a_clear_error(tmp_path, monkeypatch, capsys):
    with pytest.raises(RuntimeError, match="cifar10"):
        data.load_splits("cifar10", (10, 2, 2), image_size=32, root=tmp_path, download=False)
    monkeypatch.setattr(sources, "host_resolves", lambda host: False)  # offline: fail at once, no retries
    with pytest.raises(RuntimeError, match="cannot be reached"):
        data.load_splits("cifar10", (10, 2, 2), image_size=32, root=tmp_path, download=True)
    loaded = data.load_splits("cifar10", (10, 2, 2), image_size=32, root=tmp_path, fallback="samples")
    assert loaded.report.source == "samples" and "cifar10 unavailable" in loaded.report.notes[0]
    printed = capsys.readouterr().out.strip().splitlines()
    # one plain line (no Python warning, no nested brackets): tried, instead, how to supply real data
    assert len(printed) == 1 and "Using the embedded sample photos" in printed[0]
    assert "COLORIZE_DATA_DIR" in printed[0] and ").)" not in printed[0]


def test_tiny_imagenet_download_offline_fails_at_once_without_keras_trying(tmp_path, monkeypatch, capsys):
    import keras

    def no_download(*args, **kwargs):
        raise AssertionError("get_file must not be called when the host cannot be reached")

    monkeypatch.setattr(keras.utils, "get_file", no_download)
    monkeypatch.setattr(sources, "host_resolves", lambda host: host != "cs231n.stanford.edu")
    with pytest.raises(RuntimeError, match="cs231n.stanford.edu cannot be reached"):
        sources.download_tiny_imagenet(tmp_path)
    loaded = data.load_splits("auto", (8, 2, 2), root=tmp_path, download=True)
    printed = capsys.readouterr().out.strip().splitlines()
    assert loaded.report.source == "samples" and len(printed) == 1  # one line: tried, failed, what instead
    assert "download failed" in printed[0] and "cannot be reached" in printed[0]


def test_samples_are_split_by_photo_and_deterministic():
    first = data.load_splits("samples", (60, 12, 12), seed=3)
    again = data.load_splits("samples", (60, 12, 12), seed=3)
    assert set(first.test.labels) == {"chelsea"} and set(first.val.labels) == {"grace_hopper"}
    assert set(first.train.labels) == {"astronaut", "coffee", "rocket"}
    for name in data.SPLIT_NAMES:
        np.testing.assert_array_equal(first[name].images, again[name].images)
    assert first.train.images.shape == (60, 64, 64, 3)


def test_auto_without_tiny_imagenet_falls_back_to_samples_and_says_so(tmp_path, capsys):
    loaded = data.load_splits("auto", (8, 2, 2), root=tmp_path, download=False)
    assert "sample photos" in capsys.readouterr().out
    assert loaded.report.source == "samples"
    assert any("sample photos" in note for note in loaded.report.notes)


def test_auto_prefers_tiny_imagenet(shared_data):
    loaded = data.load_splits("auto", (8, 2, 2), root=shared_data, download=False)
    assert loaded.report.source == "tiny-imagenet"


def test_unknown_source_and_bad_sizes_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="Unknown data source"):
        data.load_splits("imagenet-21k", (8, 2, 2), root=tmp_path)
    with pytest.raises(ValueError, match="sizes"):
        data.load_splits("samples", (8, 2))
    with pytest.raises(FileNotFoundError, match="Tiny ImageNet not found"):
        data.load_splits("tiny-imagenet", (8, 2, 2), root=tmp_path, download=False)


def test_tiny_imagenet_download_and_extract(shared_data, tmp_path):
    """The real download code, fed a zip in the public archive's layout through a file:// URL."""
    source = shared_data / "tiny-imagenet-200"
    wnids = sorted(p.name for p in (source / "train").iterdir())[:3]
    archive = tmp_path / "served" / "tiny-imagenet-200.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("tiny-imagenet-200/wnids.txt", "\n".join(wnids) + "\n")
        for wnid in wnids:
            for image in sorted((source / "train" / wnid / "images").glob("*.JPEG"))[:6]:
                handle.write(image, f"tiny-imagenet-200/train/{wnid}/images/{image.name}")
    root = tmp_path / "data"
    found = sources.download_tiny_imagenet(root, origin=archive.as_uri())
    assert found == sources.find_tiny_imagenet(root)
    loaded = data.load_splits("tiny-imagenet", (9, 3, 3), root=root, download=False)
    assert loaded.report.sizes == {"train": 9, "val": 3, "test": 3}


def test_failed_download_says_where_to_put_the_folder(tmp_path):
    with pytest.raises(RuntimeError, match="tiny-imagenet-200"):
        sources.download_tiny_imagenet(tmp_path, origin=(tmp_path / "missing.zip").as_uri())


@pytest.fixture()
def awkward_folder(tmp_path):
    """Real color photos (crops of the photos shipped with scikit-image) saved in every awkward way, plus
    broken and grayscale files. Made here, so the test runs on a fresh clone without ../shared/data."""
    folder = tmp_path / "photos"
    (folder / "good").mkdir(parents=True)
    (folder / "odd").mkdir()
    rng = np.random.default_rng(0)
    crops = [crop for photo in sources.natural_photos(("astronaut", "coffee", "rocket")).values()
             for crop in sources.sample_crops(photo, 12, 64, rng)]
    color = [crop for crop in crops if not images.is_grayscale(crop)][:24]
    for index, crop in enumerate(color[:12]):
        Image.fromarray(crop).save(folder / "good" / f"photo_{index}.JPEG", quality=92)
    rgb = color[12:]
    Image.fromarray(rgb[0]).convert("CMYK").save(folder / "odd" / "cmyk.jpg")
    Image.fromarray(rgb[1]).convert("P", palette=Image.ADAPTIVE).save(folder / "odd" / "palette.png")
    rgba = Image.fromarray(rgb[2]).convert("RGBA")
    rgba.putalpha(200)
    rgba.save(folder / "odd" / "alpha.png")
    Image.fromarray(rgb[3]).save(folder / "odd" / "photo.webp", lossless=True)
    Image.fromarray(rgb[4]).save(folder / "odd" / "photo.bmp")
    Image.fromarray(rgb[5]).save(folder / "odd" / "photo.gif")
    Image.fromarray(rgb[6]).resize((96, 80)).save(folder / "odd" / "large.png")
    Image.fromarray(rgb[7]).save(folder / "odd" / "plain.png")
    Image.fromarray(rgb[8]).convert("L").save(folder / "odd" / "gray.jpg")
    Image.fromarray(np.repeat(rgb[9][..., :1], 3, axis=-1)).save(folder / "odd" / "gray_as_rgb.png")
    raw = (folder / "good" / "photo_0.JPEG").read_bytes()
    (folder / "odd" / "truncated.jpg").write_bytes(raw[: len(raw) // 2])
    (folder / "odd" / "not_an_image.png").write_bytes(b"this is not a png file")
    (folder / "odd" / "empty.jpg").write_bytes(b"")
    return folder


def test_folder_source_skips_and_counts_corrupt_and_gray_files(awkward_folder):
    loaded = data.load_splits(f"folder:{awkward_folder}", (100, 0, 0), seed=0)
    report = loaded.report
    assert report.skipped_corrupt == 3
    assert report.skipped_gray == 2
    assert report.sizes["train"] == 12 + 8
    assert report.converted == {"JPEG CMYK": 1, "PNG P": 1, "GIF P": 1, "PNG RGBA": 1, "WEBP RGB": 1}
    assert len(report.corrupt_examples) == 3 and "truncated.jpg" in " ".join(report.corrupt_examples)
    assert "3 unreadable, 2 grayscale" in report.summary()


def test_pipeline_decodes_awkward_files_like_pil(awkward_folder):
    loaded = data.load_splits(f"folder:{awkward_folder}", (100, 0, 0), seed=0)
    split = loaded.train
    assert any(split.needs_pil) and not all(split.needs_pil)
    tf_images = np.concatenate([batch for batch in pipeline.rgb_dataset(split, 64).batch(64)])
    pil_images = split.rgb(64)
    assert tf_images.shape == pil_images.shape == (len(split), 64, 64, 3)
    for path, tf_image, pil_image in zip(split.paths, tf_images, pil_images):
        difference = np.abs(tf_image.astype(int) - pil_image.astype(int))
        if path.endswith("large.png"):  # TF and PIL resample slightly differently
            assert np.mean(difference) <= 3, path
        elif path.lower().endswith((".jpeg", ".jpg")):  # two JPEG decoders: off by a level or two
            assert np.mean(difference) <= 2 and difference.max() <= 16, path
        else:  # lossless formats decode identically
            assert difference.max() == 0, path


def test_alpha_is_composited_on_white():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red, fully transparent
    rgb = images.pil_to_rgb(Image.fromarray(rgba, "RGBA"))
    assert (rgb == 255).all()


def test_sixteen_bit_images_are_scaled_not_clipped():
    gray16 = Image.fromarray(np.full((4, 4), 65535 // 2, dtype=np.uint16))
    rgb = images.pil_to_rgb(gray16)
    assert rgb.shape == (4, 4, 3) and abs(int(rgb[0, 0, 0]) - 128) <= 1


def test_make_dataset_yields_lab_pairs_and_bin_targets(shared_data):
    loaded = data.load_splits("tiny-imagenet", (40, 8, 8), seed=0, root=shared_data, download=False)
    batches = list(pipeline.make_dataset(loaded.train, 64, batch_size=16))
    assert [int(b[0].shape[0]) for b in batches] == [16, 16, 8]
    lightness, ab = batches[0]
    assert lightness.shape == (16, 64, 64, 1) and ab.shape == (16, 64, 64, 2)
    decoded = next(iter(pipeline.rgb_dataset(loaded.train, 64).batch(16))).numpy()
    reference = skimage.color.rgb2lab(decoded / 255.0)  # independent oracle
    np.testing.assert_allclose(lightness.numpy(), reference[..., :1], atol=1e-3)
    np.testing.assert_allclose(ab.numpy(), reference[..., 1:], atol=1e-3)
    reference_ab = reference[..., 1:]
    bins = UniformBins(10)
    _, targets = next(iter(pipeline.make_dataset(loaded.train, 64, batch_size=16, binning=bins)))
    assert targets.dtype.name == "int32" and targets.shape == (16, 64, 64, 2)
    agree = targets.numpy() == np.asarray(bins.encode(reference_ab))
    assert agree.mean() > 0.999  # only values within float error of a bin edge may differ


def test_shuffle_is_seeded(shared_data):
    loaded = data.load_splits("tiny-imagenet", (64, 0, 0), seed=0, root=shared_data, download=False)

    def first_batch(seed):
        dataset = pipeline.make_dataset(loaded.train, 64, batch_size=8, shuffle=True, seed=seed)
        return next(iter(dataset))[0].numpy()

    np.testing.assert_array_equal(first_batch(1), first_batch(1))
    assert not np.array_equal(first_batch(1), first_batch(2))


def test_training_pipelines_turn_tf_data_autotuning_off_and_keep_their_batches(shared_data, monkeypatch):
    """Autotuning stalled iterator deletion for 10-20 s (pipeline.finish_dataset). Both training pipelines
    turn it off, and the batches, in their order, are the same as with TensorFlow's default (autotuning on)."""
    import tensorflow as tf

    loaded = data.load_splits("tiny-imagenet", (40, 0, 0), seed=0, root=shared_data, download=False)
    images = loaded.train.rgb(64)
    bins = UniformBins(10)

    def build():
        return {"paper": pipeline.make_dataset(loaded.train, 64, batch_size=16, shuffle=True, seed=3, binning=bins),
                "colorizer": pipeline.make_colorizer_dataset(images, 8, 48, augment=True, seed=3, repeat=False)}

    def batches(dataset):
        return [[part.numpy() for part in batch] for batch in dataset]

    without = build()
    for name, dataset in without.items():
        assert dataset.options().autotune.enabled is False, name
    monkeypatch.setattr(pipeline, "finish_dataset", lambda dataset: dataset.prefetch(tf.data.AUTOTUNE))
    with_autotune = build()
    for name in without:
        assert with_autotune[name].options().autotune.enabled is not False
        for ours, theirs in zip(batches(without[name]), batches(with_autotune[name]), strict=True):
            for mine, default in zip(ours, theirs, strict=True):
                np.testing.assert_array_equal(mine, default)


def test_colorizer_pipeline_turns_tf_data_autotuning_off_without_real_data():
    """The option check of the test above, on synthetic images, so that it runs where ../shared/data is absent."""
    images = np.random.default_rng(0).integers(0, 256, (12, 64, 64, 3), dtype=np.uint8)
    dataset = pipeline.make_colorizer_dataset(images, 4, 48, augment=True, seed=0, repeat=False)
    assert dataset.options().autotune.enabled is False


def test_lab_cache_gives_the_same_epochs_as_converting_every_epoch(shared_data, monkeypatch):
    """Small splits are cached as float Lab, larger ones as uint8: both give the same shuffled batches, epoch
    after epoch, with values and with bin targets."""
    loaded = data.load_splits("tiny-imagenet", (40, 0, 0), seed=0, root=shared_data, download=False)
    bins = UniformBins(10)

    def two_epochs(binning):
        dataset = pipeline.make_dataset(loaded.train, 64, batch_size=16, shuffle=True, seed=3, binning=binning)
        return [[(x.numpy(), y.numpy()) for x, y in dataset] for _ in range(2)]

    for binning in (None, bins):
        lab_cached = two_epochs(binning)
        monkeypatch.setattr(pipeline, "LAB_CACHE_BYTES", 0)  # the uint8 path
        uint8_cached = two_epochs(binning)
        monkeypatch.undo()
        assert not np.array_equal(lab_cached[0][0][0], lab_cached[1][0][0])  # reshuffled each epoch
        for epoch_a, epoch_b in zip(lab_cached, uint8_cached):
            assert [len(x) for x, _ in epoch_a] == [16, 16, 8]
            for (x_a, y_a), (x_b, y_b) in zip(epoch_a, epoch_b):
                np.testing.assert_allclose(x_a, x_b, atol=1e-4)
                if binning is None:
                    np.testing.assert_allclose(y_a, y_b, atol=1e-4)
                else:
                    assert y_a.dtype == np.int32 and np.mean(y_a == y_b) > 0.999


def test_data_module_never_imports_pipeline():
    """pipeline imports data; data importing pipeline back (even lazily, inside a function) is a cycle."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(data))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            imported.add(module)
            imported.update(module.rstrip(".") + "." + alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not [name for name in imported if "pipeline" in name.split(".")], sorted(imported)


def test_tiny_imagenet_labels_have_readable_names(shared_data):
    loaded = data.load_splits("tiny-imagenet", (8, 2, 2), root=shared_data, download=False)
    assert loaded.label_names["n01443537"] == "goldfish"
    names = loaded.readable_labels("train", 3)
    assert len(names) == 3 and all(not name.startswith("n0") for name in names)


def test_the_numpy_colorizer_batches_are_full_even_with_fewer_images_than_a_batch():
    """The generator JAX uses instead of tf.data: endless streams span passes (no hang, no short batch),
    a single pass ends with a short batch, and without augmentation the targets are the centre crop's."""
    import itertools

    from colorize_utils.learning.pipeline import numpy_colorizer_batches, rgb_uint8_to_model_pair

    images = np.random.default_rng(0).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    endless = list(itertools.islice(numpy_colorizer_batches(images, 4, 8, True, 0, True, 4), 6))
    assert [len(lightness) for lightness, _ in endless] == [4] * 6
    assert endless[0][0].shape == (4, 8, 8, 1) and endless[0][1].shape == (4, 2, 2, 2)
    single = list(numpy_colorizer_batches(images, 4, 8, False, 0, False, 4))
    assert [len(lightness) for lightness, _ in single] == [4, 1]
    lightness, ab = (np.asarray(part) for part in rgb_uint8_to_model_pair(images[:4, 4:12, 4:12]))
    assert np.allclose(single[0][0], lightness, atol=1e-4)
    assert np.allclose(single[0][1], ab.reshape(4, 2, 4, 2, 4, 2).mean(axis=(2, 4)), atol=1e-3)


def test_the_numpy_colorizer_batches_are_the_same_built_on_threads_or_not():
    """Threads build the JAX path's batches ahead; the batches and their order must not depend on them."""
    import itertools

    from colorize_utils.learning.pipeline import numpy_colorizer_batches

    images = np.random.default_rng(1).integers(0, 256, (37, 24, 24, 3), dtype=np.uint8)
    for augment, repeat, count in ((True, True, 25), (False, False, None)):
        alone = list(itertools.islice(numpy_colorizer_batches(images, 8, 16, augment, 3, repeat, 4, workers=0),
                                      count))
        threaded = list(itertools.islice(numpy_colorizer_batches(images, 8, 16, augment, 3, repeat, 4, workers=3),
                                         count))
        assert len(alone) == len(threaded) == (count or 5)
        for (l_alone, ab_alone), (l_threaded, ab_threaded) in zip(alone, threaded):
            np.testing.assert_array_equal(l_alone, l_threaded)
            np.testing.assert_array_equal(ab_alone, ab_threaded)


def test_the_folder_data_source_uses_the_usable_files_and_counts_the_rest(corpus):
    # 16 files: unusable are empty, truncated, corrupt chunk, text, bomb and huge (above the pixel limit);
    # gray are sixteen_bit and gray.jpg. 8 usable images are too few to train on: refused, with the counts.
    with pytest.raises(ValueError, match=r"Only 8 usable color images(.|\n)*skipped: 6 unreadable, 2 grayscale"):
        data.load_splits(f"folder:{corpus}", (100, 0, 0), seed=0)
    loaded = data.load_splits(f"folder:{corpus}", (8, 0, 0), seed=0)
    assert loaded.report.sizes["train"] == 8


def test_a_missing_data_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="COLORIZE_DATA_DIR"):
        data.load_splits("tiny-imagenet", (8, 2, 2), root=tmp_path / "nowhere", download=False)


def photo_folder(root, counts: dict[str, int]):
    rng = np.random.default_rng(0)
    for source, count in counts.items():
        (root / source).mkdir(parents=True)
        for index in range(count):
            pixels = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / source / f"{index:03d}.png")
    return root


def test_the_photo_split_is_stratified_by_source_disjoint_and_independent_of_the_folder_path(tmp_path):
    counts = {"big": 60, "mid": 30, "small": 10}
    first = data.stratified_folder_splits(photo_folder(tmp_path / "a", counts), 10, 20, seed=3, image_size=16)
    second = data.stratified_folder_splits(photo_folder(tmp_path / "b", counts), 10, 20, seed=3, image_size=16)
    for split, size in (("val", 10), ("test", 20)):
        labels = first[split].labels
        assert len(labels) == size
        assert {source: labels.count(source) for source in counts} == {
            source: size * count // 100 for source, count in counts.items()}
    names = {split: [p.split("/a/", 1)[1] for p in first[split].paths] for split in data.SPLIT_NAMES}
    assert len(set().union(*names.values())) == 100 == sum(len(v) for v in names.values())
    # the same files go to the same splits in another folder: the split hashes relative paths only
    assert names == {split: [p.split("/b/", 1)[1] for p in second[split].paths] for split in data.SPLIT_NAMES}
    other_seed = data.stratified_folder_splits(tmp_path / "a", 10, 20, seed=4, image_size=16)
    assert sorted(other_seed.test.paths) != sorted(first.test.paths)
    with pytest.raises(ValueError, match="below the 100 photos"):
        data.stratified_folder_splits(tmp_path / "a", 60, 40)
