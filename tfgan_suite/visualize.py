"""Pictures of what a model makes: image grids and plots of toy samples, as PNG.

Everything is drawn with NumPy and written with ``tf.io.encode_png`` (no
plotting dependency), through a temporary file and a rename.
"""
import math

import numpy as np
import tensorflow as tf


def to_uint8(images):
    """float images in [-1, 1] -> uint8 [0, 255] (NumPy)."""
    images = np.asarray(images, np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def grid(images, cols=None, pad=2, pad_value=255):
    """Tile uint8 images [N, H, W, C] into one [rows*(H+pad)+pad, ..., C] image."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = to_uint8(images)
    n, h, w, c = images.shape
    cols = cols or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        out[y:y + h, x:x + w] = images[i]
    return out


def save_png(path, image):
    """Write a uint8 [H, W, C] array to ``path`` atomically."""
    image = np.asarray(image, np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    from tfgan_suite.model_dir import atomic_write
    atomic_write(path, tf.io.encode_png(image).numpy())


def _extent(*arrays, margin=0.1):
    both = np.concatenate([a.reshape(len(a), -1) for a in arrays], 0)
    lo, hi = both.min(0), both.max(0)
    span = np.maximum(hi - lo, 1e-3)
    return lo - margin * span, hi + margin * span


def plot_points(fake, real=None, size=256, bins=64):
    """A picture of low-dimensional samples, in the data's coordinates.

    2-D: a scatter of ``real`` (grey) and ``fake`` (red) points. 1-D: two
    histograms on shared bins (real grey, fake red, overlap dark). Returns uint8
    [size, size, 3].
    """
    fake = np.asarray(fake, np.float32)
    real = None if real is None else np.asarray(real, np.float32)
    canvas = np.full((size, size, 3), 255, np.uint8)
    arrays = [fake] + ([real] if real is not None else [])
    lo, hi = _extent(*arrays)
    if fake.shape[1] == 2:
        def draw(points, color):
            xy = ((points - lo) / (hi - lo) * (size - 1)).round().astype(int)
            xy = xy[(xy >= 0).all(1) & (xy < size).all(1)]
            for dx in (0, 1):
                for dy in (0, 1):
                    canvas[np.clip(size - 1 - xy[:, 1] - dy, 0, size - 1),
                           np.clip(xy[:, 0] + dx, 0, size - 1)] = color
        if real is not None:
            draw(real, (170, 170, 170))
        draw(fake, (220, 30, 30))
    elif fake.shape[1] == 1:
        edges = np.linspace(lo[0], hi[0], bins + 1)
        hists = [np.histogram(a[:, 0], edges, density=True)[0] for a in arrays]
        top = max(h.max() for h in hists) or 1.0
        # one histogram bar spans size / bins pixel columns
        heights = [np.repeat((h / top * (size - 10)).astype(int), -(-size // bins))[:size]
                   for h in hists]
        rows = np.arange(size)[:, None]
        fake_mask = rows >= size - heights[0][None, :]
        canvas[fake_mask] = (220, 30, 30)
        if real is not None:
            real_mask = rows >= size - heights[1][None, :]
            canvas[real_mask & ~fake_mask] = (170, 170, 170)
            canvas[real_mask & fake_mask] = (110, 20, 20)
    else:
        raise ValueError(f"plot_points draws 1-D or 2-D samples, got shape {fake.shape}")
    return canvas


def picture(samples):
    """The uint8 picture of a ``models.contract.Grid``: a tiled image grid, or a
    plot of 1-D / 2-D points over the reference points."""
    if samples.is_points:
        return plot_points(samples.images, samples.reference)
    return grid(samples.images, samples.cols)
