"""Small random datasets of every kind, in memory: for tests and smoke runs of a
model on data of the right shape without reading anything.

``source(kind, shape, num, seed, num_classes)`` returns a ``DataSource`` of
that kind whose images are smooth random fields (uint8, like decoded files) and
whose labels, when ``num_classes`` is given, are uniform class ids.
"""
import numpy as np
import tensorflow as tf

from tfgan_suite.data.source import DataSource


def _images(rng, num, shape):
    h, w, c = shape
    coarse = rng.uniform(0, 255, (num, max(2, h // 4), max(2, w // 4), c))
    smooth = tf.image.resize(coarse, (h, w), method="bilinear").numpy()
    return np.clip(smooth, 0, 255).astype(np.uint8)


def source(kind, shape, num=16, seed=0, num_classes=0, scale=4):
    """A ``DataSource`` of ``num`` random examples of ``kind`` and ``shape``
    ("superres": ``shape`` is the HR crop, LR images ``scale`` x smaller)."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in shape)
    spec = f"synthetic:{kind}"
    if kind == "vector":
        centres = rng.normal(size=(4, shape[0])) * 2
        points = (centres[rng.integers(0, 4, 64 * max(num, 16))]
                  + rng.normal(0, 0.1, (64 * max(num, 16), shape[0]))).astype("float32")

        def batches(batch_size, batch_seed=0):
            ds = tf.data.Dataset.from_tensor_slices(points)
            return ds.shuffle(len(points), seed=batch_seed).repeat().batch(
                batch_size, drop_remainder=True)
        return DataSource(spec=spec, kind="vector", shape=shape, batches=batches)
    if kind == "image":
        images = _images(rng, num, shape)
        labels = (rng.integers(0, num_classes, num) if num_classes else
                  np.full(num, -1)).astype(np.int32)
        names = tuple(str(i) for i in range(num_classes))
        return DataSource(spec=spec, kind="image", shape=shape, num_examples=num,
                          class_names=names or None, has_labels=bool(num_classes),
                          labels=labels if num_classes else None,
                          examples=lambda: tf.data.Dataset.from_tensor_slices(
                              (images, labels)))
    if kind == "superres":  # HR images of 2 x the crop, LR by bicubic x1/scale
        from tfgan_suite.data import superres
        hr = _images(rng, num, (2 * shape[0], 2 * shape[1], shape[2]))
        lr = np.stack([superres.downscale(x, scale).numpy() for x in hr])
        return DataSource(spec=spec, kind="superres", shape=shape, num_examples=num,
                          pair_examples=lambda: tf.data.Dataset.from_tensor_slices((lr, hr)),
                          scale=scale, info=dict(scale=scale))
    a, b = _images(rng, num, shape), _images(rng, num, shape)
    if kind == "paired":
        return DataSource(spec=spec, kind="paired", shape=shape, num_examples=num,
                          pair_examples=lambda: tf.data.Dataset.from_tensor_slices((a, b)),
                          load_size=shape[0])
    if kind == "unpaired":
        return DataSource(spec=spec, kind="unpaired", shape=shape, num_examples=num,
                          domain_examples=(lambda: tf.data.Dataset.from_tensor_slices(a),
                                           lambda: tf.data.Dataset.from_tensor_slices(b)),
                          domain_sizes=(num, num), load_size=shape[0])
    raise ValueError(f"no synthetic data of kind {kind!r}")
