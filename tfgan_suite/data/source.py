"""``DataSource``: what a dataset spec resolves to, and its tf.data pipeline."""
import dataclasses
from typing import Callable, Optional

import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_suite.errors import DataError

from tfgan_suite.data.images import to_unit_range

#: Cache decoded images in memory when they take less than this.
CACHE_LIMIT_BYTES = 2 << 30
#: Memory budget of the shuffle buffer.
SHUFFLE_BUDGET_BYTES = 256 << 20


@dataclasses.dataclass
class DataSource:
    """A resolved dataset spec.

    ``kind`` is "image" (elements are float32 [H, W, C] in [-1, 1]) or "vector"
    (float32 [D] in the data's own coordinates, e.g. the toy mixtures).
    Image sources provide ``examples()``: a tf.data.Dataset of
    (uint8 [H, W, C] already resized, int32 label) before caching and shuffling.
    Vector sources provide ``batches(batch_size, seed)``: an infinite dataset of
    float32 batches.
    """

    spec: str
    kind: str
    shape: tuple
    num_examples: Optional[int] = None
    class_names: Optional[tuple] = None
    examples: Optional[Callable[[], tf.data.Dataset]] = None
    batches: Optional[Callable[[int, int], tf.data.Dataset]] = None
    has_labels: bool = False
    skipped: int = 0
    info: dict = dataclasses.field(default_factory=dict)
    #: "paired": () -> dataset of (a, b) uint8 pairs at ``load_size``.
    pair_examples: Optional[Callable[[], tf.data.Dataset]] = None
    #: "unpaired": ((() -> dataset of A images), (() -> dataset of B images)) at ``load_size``.
    domain_examples: Optional[tuple] = None
    domain_sizes: Optional[tuple] = None
    #: Stored size before the random crop to ``shape`` (image-to-image data).
    load_size: Optional[int] = None
    #: Every example's label in ``examples()`` order, when known without a pass.
    labels: Optional[np.ndarray] = None
    #: Indices of the examples that keep their label (``--num_labeled``); None: all.
    labeled: Optional[np.ndarray] = None
    #: "superres": HR / LR size ratio; ``pair_examples()`` gives full (lr, hr)
    #: uint8 images, ``shape`` is the HR training crop (``data.superres``).
    scale: Optional[int] = None

    @property
    def num_classes(self):
        return len(self.class_names) if self.class_names else None

    def describe(self):
        size = "infinite" if self.num_examples is None else f"{self.num_examples} examples"
        if self.kind == "unpaired":
            size = f"{self.domain_sizes[0]} A + {self.domain_sizes[1]} B images"
        elif self.kind == "paired":
            size = f"{self.num_examples} pairs"
        elif self.kind == "superres":
            size = (f"{self.num_examples} images, random {self.shape[0]}x{self.shape[1]} "
                    f"HR crops, LR x1/{self.scale}")
        extra = f", {self.num_classes} classes" if self.class_names else ""
        skipped = f", {self.skipped} files skipped" if self.skipped else ""
        return f"{self.spec}: {self.kind} {tuple(self.shape)}, {size}{extra}{skipped}"

    @property
    def is_two_domain(self):
        return self.kind in ("paired", "unpaired")

    @property
    def data_spec(self):
        """What a model needs to know: kind, shape, class names."""
        from tfgan_suite.data.spec import DataSpec
        return DataSpec(self.kind, tuple(self.shape), tuple(self.class_names or ()))

    def steps_per_epoch(self, step_batch):
        """Full batches of ``step_batch`` examples in one pass; None if infinite."""
        if self.num_examples is None or self.kind == "superres":
            return None  # super-resolution: an endless stream of random crops
        return self.num_examples // step_batch

    def dataset(self, batch_size, *, disc_steps=1, num_replicas=1, shuffle=True,
                repeat=True, seed=0, cache="auto", with_labels=None, labeled_stream=False,
                fields=None):
        """Batched pipeline of ``disc_steps * batch_size`` examples per element.

        ``batch_size`` is the *global* minibatch of one discriminator update.
        Each element feeds one train step (k discriminator updates on k real
        minibatches). With several replicas the examples are reordered so that
        replica r's slice of every minibatch j is exactly the slice a single
        device would use (see ``interleave_for_replicas``). Shapes are static
        (``drop_remainder=True``).

        Image elements are ``images`` or (``images``, ``labels``) with
        ``with_labels``; ``labeled_stream`` appends a minibatch of labelled
        examples only (``labeled_images``, ``labeled_labels``) drawn from their
        own shuffled stream (semi-supervised training: with 100 labels in 60,000
        a random minibatch would hold almost none). ``fields`` (a model's
        ``batch_fields``) sets both.
        """
        if fields is not None:
            with_labels = "labels" in fields
            labeled_stream = "labeled_images" in fields
        step_batch = batch_size * disc_steps
        if self.is_two_domain:
            ds = self._two_domain_dataset(step_batch, shuffle, repeat, seed, cache)
        elif self.kind == "superres":
            from tfgan_suite.data import superres
            ds = superres.training_pairs(self, step_batch, shuffle, repeat, seed, cache)
        elif self.kind == "vector":
            ds = self.batches(step_batch, seed)
        else:
            labels = self.has_labels if with_labels is None else with_labels
            ds = self._image_stream(self.examples, self.num_examples, step_batch, shuffle,
                                    repeat, seed, cache, labels)
            if labeled_stream:
                labeled = self._image_stream(self.labeled_examples, self.num_labeled,
                                             step_batch, shuffle, repeat, seed + 1, cache, True)
                ds = tf.data.Dataset.zip((ds, labeled)).map(
                    lambda a, b: (*(a if isinstance(a, tuple) else (a,)), *b))
        if num_replicas > 1 and disc_steps > 1:
            ds = ds.map(lambda *t: interleave_for_replicas(t, disc_steps, num_replicas),
                        num_parallel_calls=tf.data.AUTOTUNE)
        return training_options(ds).prefetch(tf.data.AUTOTUNE)

    def _image_stream(self, examples, count, step_batch, shuffle, repeat, seed, cache, labels):
        """Batches of ``examples()`` (uint8 image, label) in [-1, 1], with or
        without the labels."""
        element_bytes = max(1, int(tf.TensorShape(self.shape).num_elements()))
        cache_path = f"{cache}-labeled" if examples == self.labeled_examples else str(cache)
        ds = _cache_shuffle_repeat(examples(), count, element_bytes, shuffle, repeat, seed,
                                   cache, cache_path)
        if labels:
            ds = ds.map(lambda x, y: (to_unit_range(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        else:
            ds = ds.map(lambda x, y: to_unit_range(x), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(step_batch, drop_remainder=True, num_parallel_calls=tf.data.AUTOTUNE)

    # -------------------------------------------------------------- labels
    def label_array(self):
        """Every example's label (int32, -1 for none), in ``examples()`` order."""
        if self.labels is not None:
            return np.asarray(self.labels, np.int32)
        return np.fromiter((int(y) for _, y in self.examples().as_numpy_iterator()), np.int32)

    @property
    def num_labeled(self):
        return self.num_examples if self.labeled is None else len(self.labeled)

    def labeled_examples(self):
        """(image, label) of the labelled examples only."""
        if self.labeled is None:
            return self.examples()
        keep = tf.constant(self.labels >= 0)  # the masked labels of with_labeled_subset

        def kept(i, example):
            del example
            return keep[i]

        def drop_index(i, example):
            del i
            return example

        return self.examples().enumerate().filter(kept).map(drop_index)

    def with_labeled_subset(self, num_labeled, seed):
        """This source keeping ``num_labeled`` labels, balanced over the classes
        and chosen by ``seed``; every other example is labelled -1 (still used as
        unlabelled data)."""
        from tfgan_suite.data.labels import balanced_subset
        if not self.has_labels:
            raise DataError(f"--num_labeled: {self.spec} has no labels")
        labels = self.label_array()
        indices = balanced_subset(labels, num_labeled, self.num_classes, seed)
        masked_labels = np.full_like(labels, -1)
        masked_labels[indices] = labels[indices]
        table = tf.constant(masked_labels)
        examples = self.examples

        def masked():
            return examples().enumerate().map(lambda i, e: (e[0], table[i]))

        return dataclasses.replace(self, examples=masked, labeled=indices, labels=masked_labels)

    def _prepare(self, ds, count, shuffle, repeat, seed, cache):
        """Cache, shuffle and repeat a dataset of stored (uint8) image pairs."""
        size = self.load_size or self.shape[0]
        element_bytes = max(1, size * size * self.shape[-1] * 2)
        return _cache_shuffle_repeat(ds, count, element_bytes, shuffle, repeat, seed, cache,
                                     f"{cache}-{seed}")

    def _augment(self, images, seed_ds, augment):
        """Map a dataset of uint8 tuples to float [-1, 1] at ``shape``: random
        crop + mirror (same for every image of a tuple) when ``augment``."""
        from tfgan_suite.data.images import resize_and_crop
        from tfgan_suite.data.pairs import jitter
        size = int(self.shape[0])
        jittered = augment and self.load_size and self.load_size != size
        if jittered:
            ds = tf.data.Dataset.zip((images, seed_ds))
            ds = ds.map(lambda t, s: jitter(t if isinstance(t, tuple) else (t,), size, s),
                        num_parallel_calls=tf.data.AUTOTUNE)
        else:
            ds = images.map(lambda *t: tuple(resize_and_crop(x, size) for x in t),
                            num_parallel_calls=tf.data.AUTOTUNE)
        return ds.map(lambda *t: tuple(to_unit_range(x) for x in t) if len(t) > 1
                      else to_unit_range(t[0]), num_parallel_calls=tf.data.AUTOTUNE)

    def _two_domain_dataset(self, step_batch, shuffle, repeat, seed, cache, augment=None,
                            num=None):
        """Batches of (a, b); with ``num``, of the first ``num`` examples of each side
        only (which in-memory sources then transform alone)."""
        augment = shuffle if augment is None else augment
        seeds = tf.data.Dataset.random(seed=seed).batch(2)
        if self.kind == "paired":
            ds = self._prepare(_head(self.pair_examples, num), self.num_examples, shuffle,
                               repeat, seed, cache)
            ds = self._augment(ds, seeds, augment)
        else:
            sides = []
            for i, (examples, count) in enumerate(zip(self.domain_examples,
                                                      self.domain_sizes)):
                side = self._prepare(_head(examples, num), count, shuffle, repeat, seed + i,
                                     cache)
                sides.append(self._augment(side, tf.data.Dataset.random(seed=seed + 7 + i)
                                           .batch(2), augment))
            ds = tf.data.Dataset.zip(tuple(sides))
        return ds.batch(step_batch, drop_remainder=True, num_parallel_calls=tf.data.AUTOTUNE)

    def pairs(self, batch_size, num=None, augment=False):
        """Unshuffled, un-repeated batches of (a, b) in [-1, 1] at ``shape`` (the
        first ``num`` elements): inputs and targets for grids and evaluation."""
        ds = self._two_domain_dataset(1, False, False, 0, False, augment, num).unbatch()
        return ds.batch(batch_size)

    def domain(self, which):
        """One side ("a" or "b") of a two-domain source as an image source at
        ``shape`` (no augmentation), e.g. the real images FID compares with."""
        from tfgan_suite.data.images import resize_and_crop
        index = "ab".index(which)
        size = int(self.shape[0])
        if self.kind == "paired":
            def examples():
                return self.pair_examples().map(
                    lambda *t: (resize_and_crop(t[index], size), tf.constant(-1, tf.int32)))
            count = self.num_examples
        else:
            def examples():
                return self.domain_examples[index]().map(
                    lambda x: (resize_and_crop(x, size), tf.constant(-1, tf.int32)))
            count = self.domain_sizes[index]
        return DataSource(spec=f"{self.spec}#{which}", kind="image", shape=self.shape,
                          num_examples=count, examples=examples, info=dict(self.info))


def training_options(ds):
    """The options of a training stream: shard by data under multi-worker
    strategies, and no tf.data autotuning thread.

    Without the autotuner each ``AUTOTUNE`` map runs at min(16, cores) parallel
    calls (its starting point, which is also where it settles for these cheap
    maps) and ``prefetch(AUTOTUNE)`` still grows its buffer when it runs empty.
    The autotuner's thread sleeps for up to a minute between optimisations, and
    an iterator freed by the garbage collector (a model dropped in a notebook
    or a test, its ``fit`` iterator in a reference cycle) waits for that sleep
    to end: 7-23 s stalls, 9-18 of them in one test-suite run.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA)
    options.autotune.enabled = False
    return ds.with_options(options)


def caches(count, element_bytes, cache):
    """Whether ``_cache_shuffle_repeat`` caches ``count`` elements of
    ``element_bytes`` (in memory, or in a file when ``cache`` is a path)."""
    if cache == "auto":
        return (count or 0) * element_bytes < CACHE_LIMIT_BYTES
    return cache is not False


def _head(examples, num):
    """The dataset of ``examples()``, or of its first ``num`` elements."""
    if num is None:
        return examples()
    if hasattr(examples, "head"):
        return examples.head(num)
    return examples().take(num)


def _cache_shuffle_repeat(ds, count, element_bytes, shuffle, repeat, seed, cache, cache_path):
    """Cache (in memory when ``count`` elements of ``element_bytes`` fit under
    CACHE_LIMIT_BYTES with ``cache="auto"``, or in ``cache_path`` when ``cache``
    is a path), shuffle within SHUFFLE_BUDGET_BYTES, repeat."""
    if caches(count, element_bytes, cache):
        in_file = isinstance(cache, str) and cache != "auto"
        ds = ds.cache(cache_path if in_file else "")  # "": in memory
    if shuffle:
        buffer = max(1000, SHUFFLE_BUDGET_BYTES // element_bytes)
        ds = ds.shuffle(min(buffer, count) if count else buffer, seed=seed,
                        reshuffle_each_iteration=True)
    return ds.repeat() if repeat else ds


def interleave_for_replicas(tensors, disc_steps, num_replicas):
    """Reorder a step batch [k * B, ...] for ``num_replicas`` replicas.

    Distribution splits a global batch into contiguous per-replica slices, and
    the model splits each replica's slice into k minibatches. Laying the batch
    out as [replica, minibatch, example] makes minibatch j on replica r equal to
    rows [j*B + r*B/n, j*B + (r+1)*B/n) of the original: the same data one device
    would use for update j.
    """
    def one(t):
        shape = tf.shape(t)
        per = t.shape[0] // (disc_steps * num_replicas)
        t = tf.reshape(t, tf.concat([[disc_steps, num_replicas, per], shape[1:]], 0))
        rank = len(t.shape)
        t = tf.transpose(t, [1, 0, 2] + list(range(3, rank)))
        return tf.reshape(t, shape)

    out = tuple(one(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def log_skipped(spec, skipped, reasons):
    if skipped:
        logging.warning("%s: skipped %d file(s) that are not readable images: %s",
                        spec, skipped, "; ".join(reasons[:5]) + (" ..." if len(reasons) > 5 else ""))
