"""Image operations used by every image source (in-graph, tf.data friendly)."""
import numpy as np
import tensorflow as tf


def to_channels(image, channels):
    """Convert a decoded uint8 image [H, W, C?] (or a batch [N, H, W, C]) with C in
    {1, 2, 3, 4} to ``channels`` (1 or 3).

    Alpha channels are dropped; grey is tiled to RGB; RGB goes to grey with the
    ITU-R 601 weights of ``tf.image.rgb_to_grayscale``.
    """
    rank = image.shape.rank or 3
    c = tf.shape(image)[-1]
    image = tf.cond(tf.equal(c % 2, 0), lambda: image[..., :-1], lambda: image)
    c = tf.shape(image)[-1]
    if channels == 3:
        image = tf.cond(tf.equal(c, 1), lambda: tf.tile(image, [1] * (rank - 1) + [3]),
                        lambda: image)
    elif channels == 1:
        image = tf.cond(
            tf.equal(c, 3),
            lambda: tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))),
                            image.dtype),
            lambda: image)
    else:
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    return tf.ensure_shape(image, [None] * (rank - 1) + [channels])


def resize_and_crop(image, size):
    """Resize the shorter side to ``size`` (bilinear, antialiased) and centre-crop a square.

    Returns uint8 [size, size, C] (or [N, size, size, C] for a batch of images
    of one shape: each image comes out as it would alone). Images already
    ``size`` x ``size`` pass unchanged.
    """
    shape = tf.shape(image)
    h, w = shape[-3], shape[-2]

    def resize():
        scale = tf.cast(size, tf.float32) / tf.cast(tf.minimum(h, w), tf.float32)
        nh = tf.maximum(size, tf.cast(tf.round(tf.cast(h, tf.float32) * scale), tf.int32))
        nw = tf.maximum(size, tf.cast(tf.round(tf.cast(w, tf.float32) * scale), tf.int32))
        resized = tf.image.resize(image, [nh, nw], method="bilinear", antialias=True)
        resized = tf.image.resize_with_crop_or_pad(resized, size, size)
        return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

    same = tf.logical_and(tf.equal(h, size), tf.equal(w, size))
    out = tf.cond(same, lambda: tf.cast(image, tf.uint8), resize)
    return tf.ensure_shape(out, image.shape[:-3] + [size, size, image.shape[-1]])


def array_examples(arrays, transform, out_bytes, limit_bytes=512 << 20, chunk=4096):
    """``examples()`` for in-memory numpy ``arrays`` (a tuple, rows aligned):
    a dataset of ``transform(*rows)`` per example.

    ``transform`` maps tensors of one example, or of a batch of examples, to a
    tuple of tensors (``resize_and_crop``, ``to_channels`` and ``edges`` take
    both). When the transformed arrays take at most ``limit_bytes``
    (``out_bytes`` per example), they are computed once, on first use, a batch
    of ``chunk`` rows at a time, and the dataset slices them: 60,000 MNIST
    digits resized to 16 x 16 are ready in a fraction of a second instead of
    the 15 s of a per-example ``map`` filling the shuffle buffer. Larger
    results stream through a per-example ``map`` as before.
    """
    return ArrayExamples(arrays, transform, out_bytes, limit_bytes, chunk)


class ArrayExamples:
    """The ``examples()`` callable of ``array_examples``; ``head(n)`` gives the
    first ``n`` examples transforming only those rows (a grid's 8 held-out
    images without resizing the whole split first)."""

    def __init__(self, arrays, transform, out_bytes, limit_bytes, chunk):
        self.arrays, self.transform, self.chunk = arrays, transform, chunk
        self.count = len(arrays[0])
        self.precompute = self.count * out_bytes <= limit_bytes
        self._done = None

    def __call__(self):
        if not self.precompute:
            return self._streamed(self.arrays)
        if self._done is None:
            self._done = self._transformed(self.arrays)
        return tf.data.Dataset.from_tensor_slices(_unwrap(self._done))

    def head(self, n):
        if not self.precompute:  # too large to hold: stream the first n as well
            return self._streamed(tuple(a[:n] for a in self.arrays))
        if self._done is not None:
            rows = tuple(a[:n] for a in self._done)
        else:
            rows = self._transformed(tuple(a[:max(1, n)] for a in self.arrays))
            rows = tuple(r[:n] for r in rows)
        return tf.data.Dataset.from_tensor_slices(_unwrap(rows))

    def _streamed(self, arrays):
        ds = tf.data.Dataset.from_tensor_slices(arrays)
        return ds.map(lambda *t: _unwrap(self.transform(*t)), num_parallel_calls=tf.data.AUTOTUNE)

    def _transformed(self, arrays):
        """``transform`` of every row of ``arrays``, ``chunk`` rows at a time (numpy)."""
        parts = [self.transform(*(tf.constant(a[i:i + self.chunk]) for a in arrays))
                 for i in range(0, len(arrays[0]), self.chunk)]
        return tuple(np.concatenate([p[j].numpy() for p in parts])
                     for j in range(len(parts[0])))


def _unwrap(t):
    return t[0] if len(t) == 1 else tuple(t)


def to_unit_range(image):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255] (rounded, clipped).

    Written x * 127.5 + 127.5, not (x + 1) * 127.5: the TFLite int8 quantizer
    gives the intermediate x + 1 a scale of 1.0 (three levels over [0, 2]), and
    the uint8 output of full-int8 generators fell to ~19 dB PSNR against
    float32, where this form keeps ~45 dB.
    """
    images = tf.cast(images, tf.float32) * 127.5 + 127.5
    return tf.cast(tf.clip_by_value(tf.round(images), 0.0, 255.0), tf.uint8)
