"""Synthetic distributions for studying GAN training (``toy:NAME``).

* ``gaussian1d``: N(mu, sigma^2) in one dimension, the example of the classic
  GAN tutorials: learn to map noise to a Gaussian (``--toy_mu``, ``--toy_sigma``;
  defaults mu=4, sigma=0.5).
* ``ring8``: 8 Gaussians with std 0.02 evenly spaced on a circle of radius 2.
* ``grid25``: 25 Gaussians with std 0.05 at (-4 + 2i, -4 + 2j), i, j = 0..4.

The last two are the standard mode-collapse benchmarks. Samples are in these
coordinates (no rescaling), and so is everything ``sample`` writes for them.
Batches come from stateless random ops keyed by (seed, batch index): an
infinite, repeatable stream.
"""
import numpy as np
import tensorflow as tf

from tfgan_suite.errors import DataError

TOY = ("gaussian1d", "ring8", "grid25")


def mixture(name):
    """(means [M, D], std) of a toy mixture; gaussian1d is a single component."""
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([2 * np.cos(angles), 2 * np.sin(angles)], 1), 0.02
    if name == "grid25":
        g = np.arange(5) * 2.0 - 4.0
        return np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2), 0.05
    raise DataError(f"toy:{name} is not a mixture; toy sets: {', '.join('toy:' + t for t in TOY)}")


def mode_coverage(samples, name, num_std=3.0, min_count=20):
    """(modes captured, high-quality %) of 2-D ``samples`` of mixture ``name``
    under the VEEGAN / PacGAN protocol: a sample is high quality within
    ``num_std`` standard deviations of its nearest mode centre, and a mode is
    captured when at least ``min_count`` high-quality samples fall to it."""
    means, std = mixture(name)
    d = np.linalg.norm(np.asarray(samples)[:, None] - means[None], axis=-1)
    nearest, dist = d.argmin(1), d.min(1)
    hq = dist <= num_std * std
    counts = np.bincount(nearest[hq], minlength=len(means))
    return int((counts >= min_count).sum()), float(hq.mean() * 100)


def make_batches(name, mu=4.0, sigma=0.5):
    """Return (batches_fn(batch_size, seed) -> tf.data.Dataset, dim)."""
    if name == "gaussian1d":
        if not sigma > 0:
            raise DataError(f"--toy_sigma must be > 0, got {sigma}")

        def sample(batch, seed):
            return mu + sigma * tf.random.stateless_normal((batch, 1), seed)
        dim = 1
    elif name in ("ring8", "grid25"):
        means, std = mixture(name)
        means = tf.constant(means, tf.float32)

        def sample(batch, seed):
            seeds = tf.random.experimental.stateless_split(seed, 2)
            idx = tf.random.stateless_uniform((batch,), seeds[0], 0, means.shape[0], tf.int32)
            return tf.gather(means, idx) + std * tf.random.stateless_normal((batch, 2), seeds[1])
        dim = 2
    else:
        raise DataError(f"--dataset=toy:{name} is unknown; toy sets: "
                        + ", ".join("toy:" + t for t in TOY))

    def batches(batch_size, seed=0):
        return tf.data.Dataset.counter().map(
            lambda i: sample(batch_size, tf.stack([tf.cast(seed, tf.int64), i])),
            num_parallel_calls=tf.data.AUTOTUNE)

    return batches, dim
