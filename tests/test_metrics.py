"""Metrics against independent reference computations."""
import numpy as np
import pytest
import scipy.linalg

from tfgan_suite.errors import ConfigError
from tfgan_suite.metrics import (FeatureStats, frechet_distance, inception_score,
                                 kernel_inception_distance, load_stats, precision_recall,
                                 psnr, save_stats, ssim)


def _reference_fid(x, y):
    """The textbook formula with scipy's general matrix square root."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)


def test_fid_matches_scipy_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 16))
    y = rng.normal(0.3, 1.5, size=(400, 16)) @ rng.normal(size=(16, 16)) * 0.3
    got = frechet_distance(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
    ref = _reference_fid(x, y)
    assert abs(got - ref) / ref < 1e-6


def test_fid_of_a_set_with_itself_is_zero_even_when_singular():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 8))
    mu, s = x.mean(0), np.cov(x, rowvar=False)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-6
    low_rank = rng.normal(size=(40, 3)) @ rng.normal(size=(3, 64))  # rank-3 covariance in 64-d
    mu, s = low_rank.mean(0), np.cov(low_rank, rowvar=False)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-6


def test_fid_of_known_gaussians():
    # N(0, I) vs N(m, 4I) in d dims: ||m||^2 + d (1 + 4 - 2*2) = ||m||^2 + d
    d, m = 5, np.full(5, 0.5)
    assert frechet_distance(np.zeros(d), np.eye(d), m, 4 * np.eye(d)) == pytest.approx(
        (m ** 2).sum() + d, rel=1e-12)


def test_streaming_stats_equal_batch_stats():
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, size=(1000, 6))
    stats = FeatureStats(6, keep=100)
    for part in np.array_split(x, 7):
        stats.update(part)
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov, np.cov(x, rowvar=False), rtol=1e-9, atol=1e-12)
    assert stats.count == 1000 and stats.features.shape == (100, 6)
    with pytest.raises(ValueError, match="at least 2 samples"):
        one = FeatureStats(6)
        one.update(x[:1])
        one.cov


def _brute_force_mmd2(x, y):
    def k(a, b):
        return (a @ b / len(a) + 1) ** 3
    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return kxx + kyy - 2 * kxy


def test_kid_matches_a_double_loop():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(12, 4)), rng.normal(0.5, 1.0, size=(12, 4))
    mean, std = kernel_inception_distance(x, y, num_subsets=1, subset_size=12)
    assert mean == pytest.approx(_brute_force_mmd2(x, y), rel=1e-10)
    assert std == 0.0
    # Two independent samples of one distribution: about 0; of shifted ones: clearly > 0.
    a, b = rng.normal(size=(400, 4)), rng.normal(size=(400, 4))
    same = kernel_inception_distance(a, b, num_subsets=20, subset_size=200)[0]
    shifted = kernel_inception_distance(a, b + 0.5, num_subsets=20, subset_size=200)[0]
    assert abs(same) < 0.05 < shifted


def test_inception_score_limits():
    one_class = np.zeros((100, 10))
    one_class[:, 3] = 1.0
    assert inception_score(one_class)[0] == pytest.approx(1.0)
    spread = np.eye(10)[np.arange(100) % 10]  # confident, every class equally often
    mean, std = inception_score(spread, splits=10)
    assert mean == pytest.approx(10.0) and std == pytest.approx(0.0, abs=1e-9)


def test_precision_recall():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(300, 2))
    assert precision_recall(real, real, k=3) == (1.0, 1.0)
    far = rng.normal(size=(300, 2)) + 100.0
    assert precision_recall(real, far, k=3) == (0.0, 0.0)
    # A generator covering half of the real manifold: full precision, about half recall.
    half = real[real[:, 0] > 0]
    p, r = precision_recall(real, half, k=3)
    assert p == 1.0 and 0.4 < r < 0.65


def test_precision_recall_brute_force():
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(30, 3)), rng.normal(0.5, 1.2, size=(25, 3))

    def radii(s):
        d = np.linalg.norm(s[:, None] - s[None], axis=-1)
        return np.sort(d, axis=1)[:, 3]

    def inside(points, centres):
        d = np.linalg.norm(points[:, None] - centres[None], axis=-1)
        return (d <= radii(centres)[None]).any(1).mean()

    assert precision_recall(real, fake, k=3) == pytest.approx((inside(fake, real),
                                                              inside(real, fake)))


def test_psnr_and_ssim():
    rng = np.random.default_rng(6)
    a = rng.uniform(-1, 1, size=(2, 16, 16, 3)).astype("float32")
    noise = 2 * 10 / 255.0  # +-10 grey levels
    b = np.clip(a + noise, -1, 1)
    mse = (((a + 1) * 127.5 - (b + 1) * 127.5) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(psnr(a, b), 10 * np.log10(255 ** 2 / mse), rtol=1e-4)
    np.testing.assert_allclose(ssim(a, a), 1.0, rtol=1e-6)
    assert psnr(a, b, y_channel=True, crop=2).shape == (2,)
    assert (ssim(a, b) < 1.0).all()


def test_stats_file_round_trip_and_extractor_mismatch(tmp_path):
    stats = FeatureStats(3)
    stats.update(np.random.default_rng(7).normal(size=(20, 3)))
    path = str(tmp_path / "ref.npz")
    save_stats(path, stats, "domain-mnist-abc", "bundled:mnist", "train")
    mu, sigma, count = load_stats(path, "domain-mnist-abc")
    np.testing.assert_allclose(mu, stats.mean)
    assert count == 20
    with pytest.raises(ConfigError, match="inception_v3"):
        load_stats(path, "inception_v3-keras-imagenet")
