"""Differentiable augmentation (Zhao, Liu, Lin, Zhu & Han, "Differentiable
Augmentation for Data-Efficient GAN Training", NeurIPS 2020).

D sees every image -- real or generated -- through the same random
augmentation, in D's step and in G's step, and the augmentations are made of
differentiable operations so G's gradient flows back through them. The
policies are the paper's, for images in [-1, 1] (NHWC):

* ``color``: brightness + U(-0.5, 0.5); saturation: the channel mean plus
  (x - channel mean) x U(0, 2); contrast: the image mean plus (x - image mean)
  x U(0.5, 1.5);
* ``translation``: a shift of up to 1/8 of the side in each direction, integer
  pixels, zeros shifted in;
* ``cutout``: a square of half the side (its centre anywhere on the image) set
  to zero.

Each transform is a pure function of the image and its random parameters
(``translate``, ``cutout``, ``color``), so it can be tested against hand-made
values; ``diff_augment`` draws the parameters -- per image, for the global
batch and sliced per replica, from a ``keras.random.SeedGenerator`` -- and
applies the policies in the paper's order (color, translation, cutout).

``affine`` / ``random_affine`` are a differentiable bilinear warp by a rotation,
a scale and a sub-pixel shift per image: small ones keep a digit's identity and
change its style, which InfoGAN's ``--q_augment`` uses.
"""
import math

import keras
import tensorflow as tf

from tfgan_suite.distribute import draw_for_global_batch

POLICIES = ("color", "translation", "cutout")


def parse_policy(text):
    """"translation,cutout" -> ("translation", "cutout"); ValueError naming the bad one."""
    names = tuple(p.strip() for p in str(text).split(",") if p.strip())
    for name in names:
        if name not in POLICIES:
            raise ValueError(f"unknown augmentation {name!r}; choose from {', '.join(POLICIES)}")
    return names


def translate(x, shifts):
    """Shift image i by ``shifts[i] = (dy, dx)`` pixels (integers): output pixel
    (h, w) is input pixel (h - dy, w - dx), zero where that is outside."""
    shape = tf.shape(x)
    h, w = shape[1], shape[2]
    shifts = tf.cast(shifts, tf.int32)
    rows = tf.range(h)[None, :] - shifts[:, :1]  # [N, H]
    cols = tf.range(w)[None, :] - shifts[:, 1:]  # [N, W]
    row_ok = tf.cast((rows >= 0) & (rows < h), x.dtype)
    col_ok = tf.cast((cols >= 0) & (cols < w), x.dtype)
    y = tf.gather(x, tf.clip_by_value(rows, 0, h - 1), axis=1, batch_dims=1)
    y = tf.gather(y, tf.clip_by_value(cols, 0, w - 1), axis=2, batch_dims=1)
    return y * row_ok[:, :, None, None] * col_ok[:, None, :, None]


def cutout(x, centres, size):
    """Zero a ``size`` = (sh, sw) rectangle of image i whose top-left corner is
    ``centres[i] - size // 2`` (clipped to the image)."""
    shape = tf.shape(x)
    h, w = shape[1], shape[2]
    centres = tf.cast(centres, tf.int32)
    top = centres[:, :1] - size[0] // 2
    left = centres[:, 1:] - size[1] // 2
    r = tf.range(h)[None, :]
    c = tf.range(w)[None, :]
    in_rows = (r >= top) & (r < top + size[0])  # [N, H]
    in_cols = (c >= left) & (c < left + size[1])  # [N, W]
    hole = tf.cast(in_rows[:, :, None] & in_cols[:, None, :], x.dtype)
    return x * (1.0 - hole[..., None])


def color(x, brightness, saturation, contrast):
    """The paper's colour jitter with per-image factors ([N] each)."""
    b = tf.reshape(tf.cast(brightness, x.dtype), (-1, 1, 1, 1))
    s = tf.reshape(tf.cast(saturation, x.dtype), (-1, 1, 1, 1))
    c = tf.reshape(tf.cast(contrast, x.dtype), (-1, 1, 1, 1))
    x = x + b
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * s + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * c + mean


def affine(x, angle, scale, shift, fill=-1.0):
    """Warp image i about its centre: rotate by ``angle[i]`` (radians,
    counter-clockwise on the displayed image), scale by ``scale[i]``, then shift
    by ``shift[i] = (dy, dx)`` pixels, with bilinear sampling; ``fill`` where
    the output maps outside the input. Differentiable in ``x``.

    Output pixel p (row, col, about the centre c) samples the input at
    c + R(angle)^-1 (p - c - shift) / scale, R the displayed-image rotation."""
    dtype = x.dtype
    x = tf.cast(x, tf.float32)
    h, w = int(x.shape[1]), int(x.shape[2])
    channels = x.shape[3]
    n = tf.shape(x)[0]
    angle = tf.reshape(tf.cast(angle, tf.float32), (-1, 1))
    scale = tf.reshape(tf.cast(scale, tf.float32), (-1, 1))
    shift = tf.cast(shift, tf.float32)
    rows, cols = tf.meshgrid(tf.range(h, dtype=tf.float32) - (h - 1) / 2,
                             tf.range(w, dtype=tf.float32) - (w - 1) / 2, indexing="ij")
    dy = tf.reshape(rows, (1, -1)) - shift[:, :1]  # [N, H*W]
    dx = tf.reshape(cols, (1, -1)) - shift[:, 1:]
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Rows grow downwards, so a counter-clockwise turn on screen is
    # (dy, dx) -> (cos dy - sin dx, sin dy + cos dx); its inverse samples.
    src_y = (cos * dy + sin * dx) / scale + (h - 1) / 2 + 1.0  # +1: the padding
    src_x = (-sin * dy + cos * dx) / scale + (w - 1) / 2 + 1.0
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=fill)
    flat = tf.reshape(padded, (n, (h + 2) * (w + 2), channels))
    y0, x0 = tf.floor(src_y), tf.floor(src_x)
    wy, wx = (src_y - y0)[..., None], (src_x - x0)[..., None]

    def corner(yy, xx):
        yy = tf.clip_by_value(tf.cast(yy, tf.int32), 0, h + 1)
        xx = tf.clip_by_value(tf.cast(xx, tf.int32), 0, w + 1)
        return tf.gather(flat, yy * (w + 2) + xx, axis=1, batch_dims=1)

    top = corner(y0, x0) * (1 - wx) + corner(y0, x0 + 1) * wx
    bottom = corner(y0 + 1, x0) * (1 - wx) + corner(y0 + 1, x0 + 1) * wx
    out = top * (1 - wy) + bottom * wy
    return tf.cast(tf.reshape(out, (n, h, w, channels)), dtype)


def random_affine(x, seed, rotation, scale, shift, fill=-1.0):
    """``affine`` with per-image parameters drawn from ``seed`` (for the global
    batch, sliced per replica): angle U(-rotation, rotation) degrees, scale
    U(1 - scale, 1 + scale), shift U(-shift, shift) x the side in each axis."""
    n = tf.shape(x)[0]
    h, w = int(x.shape[1]), int(x.shape[2])
    angle = _uniform(seed, (n,), -1.0, 1.0) * (rotation * math.pi / 180)
    factor = 1.0 + _uniform(seed, (n,), -1.0, 1.0) * scale
    offset = _uniform(seed, (n, 2), -1.0, 1.0) * tf.constant([[shift * h, shift * w]])
    return affine(x, angle, factor, offset, fill)


def _uniform(seed, shape, low, high):
    return draw_for_global_batch(
        lambda s: keras.random.uniform(s, low, high, seed=seed), shape)


def diff_augment(x, policy, seed):
    """``x`` [N, H, W, C] through the ``policy`` transforms with random
    parameters per image from ``seed`` (a SeedGenerator)."""
    n = tf.shape(x)[0]
    h, w = int(x.shape[1]), int(x.shape[2])
    for name in policy:
        if name == "color":
            x = color(x, _uniform(seed, (n,), -0.5, 0.5), _uniform(seed, (n,), 0.0, 2.0),
                      _uniform(seed, (n,), 0.5, 1.5))
        elif name == "translation":
            limit = tf.constant([h // 8, w // 8], tf.float32)
            u = _uniform(seed, (n, 2), 0.0, 1.0)
            # Integers in [-limit, limit], each equally likely.
            shifts = tf.cast(tf.floor(u * (2 * limit + 1)), tf.int32) - tf.cast(limit, tf.int32)
            x = translate(x, shifts)
        elif name == "cutout":
            size = (max(h // 2, 1), max(w // 2, 1))
            u = _uniform(seed, (n, 2), 0.0, 1.0)
            centres = tf.cast(tf.floor(u * tf.constant([h, w], tf.float32)), tf.int32)
            x = cutout(x, centres, size)
        else:
            raise ValueError(f"unknown augmentation {name!r}")
    return x
