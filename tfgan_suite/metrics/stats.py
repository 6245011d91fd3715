"""Streaming feature statistics and cached reference statistics (``.npz``).

``FeatureStats`` accumulates features batch by batch: running sums in float64
for the mean and covariance (FID), plus, when asked, the features themselves up
to a limit (KID, precision/recall). Images are never stored.
"""
import io
import os

import numpy as np
from absl import logging

from tfgan_suite.errors import ConfigError
from tfgan_suite.model_dir import atomic_write


class FeatureStats:
    def __init__(self, dim, keep=0):
        self.dim = int(dim)
        self.count = 0
        self._sum = np.zeros(self.dim, np.float64)
        self._outer = np.zeros((self.dim, self.dim), np.float64)
        self.keep = int(keep)
        self._kept = []
        self._kept_count = 0

    def update(self, feats):
        f = np.asarray(feats, np.float64).reshape(len(feats), -1)
        if f.shape[1] != self.dim:
            raise ValueError(f"features of dimension {f.shape[1]}, expected {self.dim}")
        self.count += len(f)
        self._sum += f.sum(0)
        self._outer += f.T @ f
        if self._kept_count < self.keep:
            take = f[: self.keep - self._kept_count].astype(np.float32)
            self._kept.append(take)
            self._kept_count += len(take)

    @property
    def mean(self):
        return self._sum / max(self.count, 1)

    @property
    def cov(self):
        """Unbiased covariance (divides by n - 1)."""
        if self.count < 2:
            raise ValueError(f"a covariance needs at least 2 samples, got {self.count}")
        if self.count <= self.dim:
            logging.warning("covariance of %d-d features from only %d samples is singular; "
                            "FID from it is unreliable (use more samples)", self.dim, self.count)
        mu = self.mean
        return (self._outer - self.count * np.outer(mu, mu)) / (self.count - 1)

    @property
    def features(self):
        return np.concatenate(self._kept) if self._kept else np.zeros((0, self.dim), np.float32)


def save_stats(path, stats, extractor_id, dataset, split, features=None):
    """Write mean, covariance, count and provenance (and optionally the
    features, for KID and precision/recall) atomically to ``path`` (.npz)."""
    buffer = io.BytesIO()
    extra = {} if features is None else {"features": features}
    np.savez(buffer, mu=stats.mean, sigma=stats.cov, count=stats.count,
             extractor=extractor_id, dataset=dataset, split=split, **extra)
    atomic_write(path, buffer.getvalue())


def load_stats(path, extractor_id, features=False):
    """(mu, sigma, count) from ``path`` - plus the stored features (or None) with
    ``features=True``; an error if it was made by another extractor."""
    if not os.path.exists(path):
        raise ConfigError(f"reference statistics {path} do not exist")
    with np.load(path) as z:
        made_by = str(z["extractor"])
        if made_by != extractor_id:
            raise ConfigError(f"reference statistics {path} were computed with extractor "
                              f"{made_by!r}, not {extractor_id!r}: the FID would be "
                              f"meaningless; delete the file or pass the matching extractor")
        stats = (z["mu"], z["sigma"], int(z["count"]))
        if features:
            stats += (z["features"] if "features" in z else None,)
        return stats
