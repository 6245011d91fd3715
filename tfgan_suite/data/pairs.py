"""Two-domain image data for the image-to-image models (pix2pix, CycleGAN, SimGAN).

    paired:PATH      aligned pairs. Either PATH[/split]/A/ and PATH[/split]/B/ with
                     matching file names (``A/x.png`` pairs with ``B/x.jpg``), or
                     PATH[/split]/ holding images with A on the left half and B on
                     the right (the pix2pix datasets' layout).
    unpaired:PATH    PATH/trainA/, PATH/trainB/ (and testA/, testB/ for --split=test),
                     the CycleGAN datasets' layout; also SimGAN's synthetic (A) and
                     real (B) images.
    cycle_gan/NAME   TFDS CycleGAN sets (horse2zebra, monet2photo, ...): splits
                     trainA/trainB/testA/testB.
    bundled:edges2shoes, bundled:sneakers2boots, bundled:glyphs2mnist
                     offline tasks built from the bundled data (``bundled_tasks``).

A ``DataSource`` of kind "paired" yields (a, b) pairs; of kind "unpaired", an A
image and an independent B image per element. Examples are stored (and cached)
at ``load_size`` and randomly jittered to ``image_size`` in the pipeline: random
crop and random mirroring (pix2pix section 6.2 and CycleGAN: resize to 286,
random crop 256, i.e. load_size = round(image_size * 286 / 256)). The two images
of a pair are stacked on the channel axis before cropping and flipping, so they
always get the same crop and the same flip.
"""
import os
import pathlib

import tensorflow as tf
from absl import logging

from tfgan_suite.data import folder
from tfgan_suite.data.images import resize_and_crop, to_channels
from tfgan_suite.errors import DataError

OFFLINE_TRANSLATION_HINT = (
    "Offline alternatives: --dataset=bundled:sneakers2boots (unpaired, shipped with the "
    "package; --flagfile=flags/cyclegan_sneakers2boots_quick.cfg), bundled:edges2shoes "
    "(paired), bundled:glyphs2mnist, --dataset=unpaired:PATH (a folder with trainA/ and "
    "trainB/, e.g. an unzipped horse2zebra), or copy a prepared TFDS directory here and "
    "pass --data_dir=DIR.")
#: pix2pix / CycleGAN: resize 256-pixel images to 286 before a random 256 crop.
JITTER_RATIO = 286 / 256


def load_size_for(image_size, jitter):
    """Size images are stored at before the random crop to ``image_size``."""
    return int(round(image_size * JITTER_RATIO)) if jitter else int(image_size)


def jitter(images, image_size, seed):
    """Random crop to ``image_size`` and random horizontal flip, identical for
    every image of the tuple ``images`` (each uint8 [S, S, C_i]). ``seed`` is a
    stateless seed [2] (int64)."""
    channels = [int(im.shape[-1]) for im in images]
    stacked = tf.concat(list(images), axis=-1)
    crop_seed = tf.random.experimental.stateless_split(seed, 2)
    stacked = tf.image.stateless_random_crop(
        stacked, [image_size, image_size, sum(channels)], seed=crop_seed[0])
    stacked = tf.image.stateless_random_flip_left_right(stacked, seed=crop_seed[1])
    return tuple(tf.split(stacked, channels, axis=-1))


def _load(path, channels, size):
    image = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
    return resize_and_crop(to_channels(image, channels), size)


def split_dir(root, split, spec):
    """PATH/split when it exists (pix2pix datasets: train/, val/, test/), else PATH."""
    base = pathlib.Path(root).expanduser()
    if not base.is_dir():
        raise DataError(f"--dataset={spec}: the folder {base} does not exist")
    sub = base / split.split("[")[0]
    return sub if sub.is_dir() else base


def scan_files(path, spec):
    try:
        files, _, _, skipped, reasons = folder.scan(str(path))
    except DataError as e:
        raise DataError(f"--dataset={spec}: {str(e).split(': ', 1)[-1]} ({path})") from None
    if skipped:
        logging.warning("%s: skipped %d file(s) in %s: %s", spec, skipped, path,
                        "; ".join(reasons[:5]))
    return files


def match_pairs(files_a, files_b, root_a, root_b):
    """Pair files of A/ and B/ by relative path without extension.

    Returns (pairs, unmatched): ``pairs`` sorted by name, ``unmatched`` the
    names present on one side only.
    """
    def key(f, root):
        return os.path.splitext(os.path.relpath(f, root))[0]
    by_a = {key(f, root_a): f for f in files_a}
    by_b = {key(f, root_b): f for f in files_b}
    common = sorted(set(by_a) & set(by_b))
    unmatched = sorted(set(by_a) ^ set(by_b))
    return [(by_a[k], by_b[k]) for k in common], unmatched


def matched_files(dir_a, dir_b, spec):
    """(files of ``dir_a``, files of ``dir_b``) paired by name (``match_pairs``);
    names on one side only are ignored with a warning, no common name is an error."""
    pairs, unmatched = match_pairs(scan_files(dir_a, spec), scan_files(dir_b, spec),
                                   dir_a, dir_b)
    if unmatched:
        logging.warning("%s: %d file name(s) only on one side, ignored: %s", spec,
                        len(unmatched), ", ".join(unmatched[:5]))
    if not pairs:
        raise DataError(f"--dataset={spec}: no file name appears in both {dir_a} and {dir_b}")
    return [p[0] for p in pairs], [p[1] for p in pairs]


def paired_examples(path, split, image_size, channels, jitter_on, spec, swap=False):
    """(examples callable, count, info) for ``paired:PATH``."""
    root = split_dir(path, split, spec)
    load_size = load_size_for(image_size, jitter_on)
    if (root / "A").is_dir() and (root / "B").is_dir():
        a_files, b_files = matched_files(root / "A", root / "B", spec)

        def examples():
            ds = tf.data.Dataset.from_tensor_slices((a_files, b_files))
            ds = ds.map(lambda fa, fb: (_load(fa, channels, load_size),
                                        _load(fb, channels, load_size)),
                        num_parallel_calls=tf.data.AUTOTUNE)
            return ds.map(lambda a, b: (b, a)) if swap else ds
        layout = "A/ and B/ folders"
        count = len(a_files)
    else:
        files = scan_files(root, spec)

        def load_side_by_side(f):
            image = tf.io.decode_image(tf.io.read_file(f), channels=0, expand_animations=False)
            image = to_channels(image, channels)
            half = tf.shape(image)[1] // 2
            a, b = image[:, :half], image[:, half:2 * half]
            return resize_and_crop(a, load_size), resize_and_crop(b, load_size)

        def examples():
            ds = tf.data.Dataset.from_tensor_slices(files)
            ds = ds.map(load_side_by_side, num_parallel_calls=tf.data.AUTOTUNE)
            return ds.map(lambda a, b: (b, a)) if swap else ds
        layout = "A|B side by side"
        count = len(files)
    return examples, count, dict(layout=layout, folder=str(root), load_size=load_size)


def unpaired_examples(path, split, image_size, channels, jitter_on, spec):
    """((examples_a, examples_b), (count_a, count_b), info) for ``unpaired:PATH``."""
    base = pathlib.Path(path).expanduser()
    if not base.is_dir():
        raise DataError(f"--dataset={spec}: the folder {base} does not exist")
    split = split.split("[")[0]
    dirs = [base / f"{split}A", base / f"{split}B"]
    missing = [str(d) for d in dirs if not d.is_dir()]
    if missing:
        raise DataError(f"--dataset={spec} (--split={split}): expected the folders "
                        f"{split}A/ and {split}B/ in {base}; missing: {', '.join(missing)}")
    load_size = load_size_for(image_size, jitter_on)
    domains, counts = [], []
    for d in dirs:
        files = scan_files(d, spec)
        counts.append(len(files))

        def examples(files=files):
            ds = tf.data.Dataset.from_tensor_slices(files)
            return ds.map(lambda f: _load(f, channels, load_size),
                          num_parallel_calls=tf.data.AUTOTUNE)
        domains.append(examples)
    return tuple(domains), tuple(counts), dict(folders=[str(d) for d in dirs],
                                               load_size=load_size)


def tfds_cycle_gan(name, split, data_dir, image_size, channels, jitter_on):
    """Domains of a TFDS ``cycle_gan/NAME`` set: splits {split}A and {split}B."""
    from tfgan_suite.data import tfds_source
    builder = tfds_source.prepared_builder(name, data_dir, hint=OFFLINE_TRANSLATION_HINT)
    split = split.split("[")[0]
    load_size = load_size_for(image_size, jitter_on)
    domains, counts = [], []
    for side in "AB":
        sub = f"{split}{side}"
        if builder.info.splits and sub not in builder.info.splits:
            raise DataError(f"--dataset={name}: no split {sub!r}; splits: "
                            f"{list(builder.info.splits)}")
        # unknown (None) when the builder has no split metadata
        counts.append(builder.info.splits[sub].num_examples if builder.info.splits else None)

        def examples(sub=sub):
            ds = builder.as_dataset(split=sub, shuffle_files=True)
            return ds.map(lambda ex: resize_and_crop(to_channels(ex["image"], channels),
                                                     load_size),
                          num_parallel_calls=tf.data.AUTOTUNE)
        domains.append(examples)
    return tuple(domains), tuple(counts), dict(tfds=name, load_size=load_size)
