"""Datasets by spec string (DESIGN.md section 4).

    mnist, fashion_mnist, cifar10, celeb_a, ...   TFDS names (--data_dir)
    folder:PATH                                   images below PATH (labels from sub-folders)
    bundled:mnist, bundled:fashion_mnist          real data shipped in the package (offline)
    toy:gaussian1d, toy:ring8, toy:grid25         synthetic distributions
  image-to-image (two domains, see ``pairs``):
    paired:PATH                                   aligned pairs (A/ + B/, or A|B images)
    unpaired:PATH                                 trainA/ trainB/ testA/ testB/
    cycle_gan/horse2zebra, ...                    TFDS CycleGAN sets
    bundled:edges2shoes, bundled:sneakers2boots, bundled:glyphs2mnist   offline tasks
  super-resolution (HR images at their own size, see ``superres``):
    bundled:photos, folder:PATH, paired:PATH (LR/ + HR/), div2k

``load(spec, ...)`` resolves a spec into a ``DataSource`` (checking that it can
be read: a missing folder, an unknown name or an offline TFDS download fail
here, before any model is built); ``DataSource.dataset(...)`` gives the batched
``tf.data`` pipeline.
"""
import difflib

import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_suite.data import bundled, bundled_tasks, folder, pairs, superres, tfds_source, toy
from tfgan_suite.data.images import (array_examples, resize_and_crop, to_channels, to_uint8,
                                     to_unit_range)
from tfgan_suite.data.run import DataOptions, RunData
from tfgan_suite.data.source import DataSource, interleave_for_replicas, log_skipped
from tfgan_suite.data.spec import DataSpec
from tfgan_suite.errors import DataError

SCHEMES = ("folder", "bundled", "toy", "paired", "unpaired")
EXAMPLES = ("bundled:mnist", "bundled:fashion_mnist", "toy:gaussian1d", "toy:ring8",
            "toy:grid25", "folder:PATH", "paired:PATH", "unpaired:PATH",
            "bundled:edges2shoes", "bundled:sneakers2boots", "bundled:glyphs2mnist", "bundled:photos",
            "or a TFDS name (mnist, fashion_mnist, cifar10, celeb_a, cycle_gan/horse2zebra, ...)")
#: Default image size of image-to-image folders and TFDS sets (the papers' 256).
PAIR_IMAGE_SIZE = 256

__all__ = ["DataSource", "DataSpec", "DataOptions", "RunData", "load", "interleave_for_replicas", "resize_and_crop",
           "to_channels", "to_uint8", "to_unit_range", "SCHEMES"]


def _unknown(spec):
    names = [e for e in EXAMPLES[:-1] if ":" in e]
    close = difflib.get_close_matches(spec, names + ["mnist", "fashion_mnist", "cifar10",
                                                     "celeb_a"], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return DataError(f"--dataset={spec!r} is not a known dataset.{hint} "
                     f"Valid datasets: {', '.join(EXAMPLES)}.")


def _check_image_args(image_size, channels):
    if image_size is not None and int(image_size) < 1:
        raise DataError(f"--image_size must be positive, got {image_size}")
    if channels not in (None, 0, 1, 3):
        raise DataError(f"--channels must be 1 or 3, got {channels}")


def load(spec, *, split="train", data_dir=None, image_size=None, channels=None,
         toy_mu=4.0, toy_sigma=0.5, jitter=True, swap=False, view=None, scale=4,
         rescale=1.0):
    """Resolve dataset ``spec`` into a ``DataSource``.

    ``image_size`` / ``channels`` default to the data's own (28 x 28 x 1 for
    MNIST, 64 and RGB for folders of images of any size, 256 and RGB for
    image-to-image folders and TFDS sets). Two-domain data: ``jitter`` stores
    images at 286/256 of ``image_size`` for the random crop; ``swap`` exchanges
    domains A and B (``--direction=b2a``). ``view="superres"`` reads the images
    as high-resolution images at their own size with LR made by ``scale``
    (``superres``: bundled:photos, folder:PATH, paired:PATH with LR/ and HR/, TFDS;
    ``rescale`` < 1: scale-augmented training crops).
    """
    _check_image_args(image_size, channels)
    channels = channels or None
    if view == "superres":
        return superres.load(spec, split, data_dir, image_size, channels, scale, rescale)
    if view is not None:
        raise DataError(f"unknown data view {view!r}")
    scheme, sep, rest = spec.partition(":")
    if sep and scheme in SCHEMES and not rest:
        raise DataError(f"--dataset={spec!r}: nothing after '{scheme}:'")
    if (sep and scheme in ("paired", "unpaired")) or spec.startswith("cycle_gan") or (
            sep and scheme == "bundled" and rest in bundled_tasks.TASKS):
        return _load_two_domain(spec, scheme, rest, split, data_dir, image_size, channels,
                                jitter, swap)
    if sep and scheme == "toy":
        batches, dim = toy.make_batches(rest, mu=toy_mu, sigma=toy_sigma)
        return DataSource(spec=spec, kind="vector", shape=(dim,), batches=batches,
                          info=dict(toy=rest, mu=toy_mu, sigma=toy_sigma))
    if sep and scheme == "bundled":
        images, labels, class_names = bundled.load_arrays(rest, split)
        size = int(image_size or images.shape[1])
        channels = channels or images.shape[-1]

        if size == images.shape[1] and channels == images.shape[-1]:
            def examples():
                return tf.data.Dataset.from_tensor_slices((images, labels))
        else:
            examples = array_examples(
                (images, labels), lambda x, y: (resize_and_crop(to_channels(x, channels), size), y),
                size * size * channels)
        return DataSource(spec=spec, kind="image", shape=(size, size, channels),
                          num_examples=len(images), class_names=class_names,
                          examples=examples, has_labels=True, labels=labels)
    if sep and scheme == "folder":
        files, labels, class_names, skipped, reasons = folder.scan(rest)
        log_skipped(spec, skipped, reasons)
        size = int(image_size or 64)
        channels = channels or 3
        return DataSource(spec=spec, kind="image", shape=(size, size, channels),
                          num_examples=len(files), class_names=class_names,
                          examples=folder.make_examples(files, labels, size, channels),
                          has_labels=labels is not None, skipped=skipped,
                          labels=None if labels is None else np.asarray(labels, np.int32),
                          info=dict(skipped_files=reasons))
    if not tfds_source.is_tfds_name(spec):  # "name", "name/config", "name:version"
        raise _unknown(spec)
    fields = tfds_source.load(spec, split, data_dir, image_size, channels)
    logging.info("TFDS %s/%s: %s", spec, split, fields["shape"])
    return DataSource(spec=spec, kind="image", **fields)


def _load_two_domain(spec, scheme, rest, split, data_dir, image_size, channels, jitter, swap):
    if scheme == "bundled":
        size = int(image_size or 32)
        channels = channels or 1
        load_size = pairs.load_size_for(size, jitter)
        first, second = bundled_tasks.arrays(rest, split)
        kind = bundled_tasks.TASKS[rest]

        def resized(x):
            return (resize_and_crop(to_channels(x, channels), load_size),)

        def stored(array):
            return array_examples((array,), resized, load_size * load_size * channels)
        info = dict(task=rest, load_size=load_size)
        if kind == "paired":
            def edges_and_photo(x):
                b, = resized(x)
                a = to_channels(bundled_tasks.edges(b[..., :1]), channels)
                return (b, a) if swap else (a, b)
            pair_examples = array_examples((second,), edges_and_photo,
                                           2 * load_size * load_size * channels)
            return DataSource(spec=spec, kind="paired", shape=(size, size, channels),
                              num_examples=len(second), pair_examples=pair_examples,
                              load_size=load_size, info=info)
        domains = (stored(first), stored(second))
        counts = (len(first), len(second))
    elif scheme == "paired":
        size = int(image_size or PAIR_IMAGE_SIZE)
        channels = channels or 3
        examples, count, info = pairs.paired_examples(rest, split, size, channels, jitter,
                                                      spec, swap)
        return DataSource(spec=spec, kind="paired", shape=(size, size, channels),
                          num_examples=count, pair_examples=examples,
                          load_size=info["load_size"], info=info)
    elif scheme == "unpaired":
        size = int(image_size or PAIR_IMAGE_SIZE)
        channels = channels or 3
        domains, counts, info = pairs.unpaired_examples(rest, split, size, channels, jitter,
                                                        spec)
    else:  # TFDS cycle_gan/NAME
        size = int(image_size or PAIR_IMAGE_SIZE)
        channels = channels or 3
        domains, counts, info = pairs.tfds_cycle_gan(spec, split, data_dir, size, channels,
                                                     jitter)
    if swap:
        domains, counts = domains[::-1], counts[::-1]
    return DataSource(spec=spec, kind="unpaired", shape=(size, size, channels),
                      num_examples=None if None in counts else max(counts),
                      domain_examples=tuple(domains),
                      domain_sizes=tuple(counts), load_size=info["load_size"], info=info)
