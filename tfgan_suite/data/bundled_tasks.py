"""Offline image-to-image tasks built from the bundled real data.

* ``bundled:edges2shoes`` (paired, pix2pix): the footwear classes of
  Fashion-MNIST (sandal, sneaker, ankle boot); A is an edge map computed in the
  pipeline (Sobel gradient magnitude, thresholded), B the photo. Train: 9,000
  images of the bundled 30k training images; test: 3,000.
* ``bundled:sneakers2boots`` (unpaired, CycleGAN): Fashion-MNIST sneakers (A)
  and ankle boots (B).
* ``bundled:glyphs2mnist`` (unpaired, SimGAN): synthetic digit glyphs rendered
  here from stroke outlines with random pose and stroke width (A, "synthetic")
  and MNIST digits (B, "real").

Images are 28 x 28 grey; the pipeline resizes them (``--image_size``).
"""
import functools

import numpy as np
import tensorflow as tf

from tfgan_suite.data import bundled
from tfgan_suite.errors import DataError

FOOTWEAR = (5, 7, 9)  # sandal, sneaker, ankle boot
SNEAKER, ANKLE_BOOT = 7, 9
TASKS = {"edges2shoes": "paired", "sneakers2boots": "unpaired", "glyphs2mnist": "unpaired"}
GLYPHS_PER_SPLIT = {"train": 12000, "test": 2000}


def edges(image, threshold=0.25):
    """Edge map of a uint8 [H, W, 1] image (or a batch [N, H, W, 1], each image
    on its own): Sobel gradient magnitude above ``threshold`` x its maximum ->
    255, else 0 (uint8, same shape)."""
    single = image.shape.rank == 3
    x = tf.cast(image[None] if single else image, tf.float32) / 255.0
    grad = tf.image.sobel_edges(x)[..., 0, :]  # [N, H, W, 2] (dy, dx)
    magnitude = tf.norm(grad, axis=-1)
    peak = tf.maximum(tf.reduce_max(magnitude, axis=[1, 2], keepdims=True), 1e-6)
    out = tf.cast(magnitude > threshold * peak, tf.uint8)[..., None] * 255
    return out[0] if single else out


# Digit outlines as polylines in a unit box (x to the right, y down).
def _ellipse(cx, cy, rx, ry, n=20):
    t = np.linspace(0, 2 * np.pi, n + 1)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


_STROKES = {
    0: [_ellipse(0.5, 0.5, 0.27, 0.4)],
    1: [np.array([[0.35, 0.25], [0.52, 0.1], [0.52, 0.9]])],
    2: [np.array([[0.22, 0.3], [0.3, 0.14], [0.5, 0.08], [0.7, 0.14], [0.77, 0.3],
                  [0.68, 0.48], [0.22, 0.9], [0.8, 0.9]])],
    3: [np.array([[0.22, 0.16], [0.5, 0.08], [0.74, 0.2], [0.72, 0.38], [0.45, 0.48],
                  [0.74, 0.6], [0.77, 0.78], [0.52, 0.92], [0.2, 0.85]])],
    4: [np.array([[0.66, 0.9], [0.66, 0.1], [0.16, 0.65], [0.84, 0.65]])],
    5: [np.array([[0.78, 0.1], [0.3, 0.1], [0.26, 0.45], [0.5, 0.4], [0.74, 0.52],
                  [0.77, 0.75], [0.55, 0.92], [0.22, 0.85]])],
    6: [np.array([[0.7, 0.1], [0.42, 0.3], [0.26, 0.6], [0.3, 0.84], [0.5, 0.92],
                  [0.72, 0.82], [0.75, 0.62], [0.55, 0.5], [0.3, 0.58]])],
    7: [np.array([[0.2, 0.1], [0.8, 0.1], [0.42, 0.9]])],
    8: [_ellipse(0.5, 0.29, 0.21, 0.2), _ellipse(0.5, 0.7, 0.25, 0.21)],
    9: [_ellipse(0.5, 0.33, 0.24, 0.23), np.array([[0.74, 0.35], [0.7, 0.62], [0.45, 0.92]])],
}


def _glyph_pose(rng):
    """One glyph's random pose: (angle, shear, scale, half stroke width, dx, dy)."""
    angle = rng.uniform(-0.17, 0.17)
    shear = rng.uniform(-0.25, 0.1)
    scale = rng.uniform(17.0, 21.0)
    width = rng.uniform(0.9, 1.8)  # half stroke width, pixels
    shift = rng.uniform(-1.5, 1.5, 2)
    return np.array([angle, shear, scale, width, *shift])


def render_glyphs(digits, poses, size=28, chunk=256):
    """Glyphs uint8 [N, size, size]: a clean anti-aliased pen stroke through
    each digit's outline under its pose (``_glyph_pose``: a similarity + shear
    transform and a stroke width). Computed for all glyphs of a digit at once."""
    digits = np.asarray(digits)
    poses = np.asarray(poses, np.float64).reshape(len(digits), 6)
    out = np.zeros((len(digits), size, size), np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    pixels = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], 1)  # [P, 2]
    for digit in np.unique(digits):
        lines = _STROKES[int(digit)]
        start = np.concatenate([line[:-1] for line in lines]) - 0.5  # [S, 2] in the unit box
        end = np.concatenate([line[1:] for line in lines]) - 0.5
        for rows in np.array_split(np.flatnonzero(digits == digit),
                                   max(1, int(np.sum(digits == digit)) // chunk)):
            angle, shear, scale, width = (poses[rows, i] for i in range(4))
            cos, sin = np.cos(angle), np.sin(angle)
            # scale * rotation @ [[1, shear], [0, 1]], one [2, 2] matrix per glyph
            transform = scale[:, None, None] * np.stack(
                [np.stack([cos, cos * shear - sin], -1),
                 np.stack([sin, sin * shear + cos], -1)], 1)
            offset = size / 2 + poses[rows, None, 4:6]
            a = np.einsum("sk,njk->nsj", start, transform) + offset  # [n, S, 2]
            ab = np.einsum("sk,njk->nsj", end, transform) + offset - a
            # distance of pixel p to segment a + t ab, t in [0, 1], expanded so the
            # [n, P, S] terms are matrix products: (p - a).ab and |p - a|^2
            ab2 = np.maximum((ab * ab).sum(-1), 1e-9)[:, None]  # [n, 1, S]
            pa_ab = pixels @ ab.transpose(0, 2, 1) - (a * ab).sum(-1)[:, None]
            pa2 = ((pixels * pixels).sum(-1)[None, :, None] - 2 * pixels @ a.transpose(0, 2, 1)
                   + (a * a).sum(-1)[:, None])
            t = np.clip(pa_ab / ab2, 0.0, 1.0)
            d = np.sqrt(np.maximum(pa2 - t * (2 * pa_ab - t * ab2), 0.0).min(-1))  # [n, P]
            ink = np.clip(width[:, None] + 0.5 - d, 0.0, 1.0)
            out[rows] = (ink.reshape(-1, size, size) * 255).round().astype(np.uint8)
    return out


def render_glyph(digit, rng, size=28):
    """One synthetic glyph, uint8 [size, size], with a pose drawn from ``rng``."""
    return render_glyphs([digit], [_glyph_pose(rng)], size)[0]


@functools.lru_cache(maxsize=4)
def glyphs(split, num=None):
    """(images uint8 [N, 28, 28, 1], digits int32 [N]) of synthetic glyphs;
    deterministic for a split."""
    num = num or GLYPHS_PER_SPLIT[split]
    rng = np.random.default_rng({"train": 1000, "test": 2000}[split])
    digits = rng.integers(0, 10, num).astype(np.int32)
    poses = [_glyph_pose(rng) for _ in digits]
    return render_glyphs(digits, poses)[..., None], digits


def _split(split):
    split = split.split("[")[0]
    if split not in ("train", "test"):
        raise DataError(f"bundled tasks have splits 'train' and 'test', not {split!r}")
    return split


def arrays(task, split):
    """Arrays of a task: paired -> (a, b); unpaired -> (a_images, b_images).

    For edges2shoes, ``a`` is the photo too: its edge map is computed in the
    pipeline (``edges``) so it follows any resize.
    """
    if task not in TASKS:
        raise DataError(f"--dataset=bundled:{task} is not bundled; image-to-image tasks: "
                        + ", ".join(f"bundled:{t}" for t in TASKS))
    split = _split(split)
    if task == "glyphs2mnist":
        images, _, _ = bundled.load_arrays("mnist", split)
        return glyphs(split)[0], images
    images, labels, _ = bundled.load_arrays("fashion_mnist", split)
    if task == "edges2shoes":
        shoes = images[np.isin(labels, FOOTWEAR)]
        shoes = shoes[:9000] if split == "train" else shoes[:3000]
        return shoes, shoes
    return images[labels == SNEAKER], images[labels == ANKLE_BOOT]
