"""Layers of the high-resolution family (ProGAN, StyleGAN, BigGAN), against
hand-computed values."""
import numpy as np
import pytest
import tensorflow as tf

from tfgan_suite.layers import (ConditionalBatchNorm, EqualizedConv2D, EqualizedDense,
                                MinibatchStdDev, PixelNorm, SelfAttention,
                                orthogonal_regularization, truncate)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = np.random.default_rng(0).normal(3, 5, (2, 4, 4, 16)).astype("float32")
    y = PixelNorm()(x).numpy()
    np.testing.assert_allclose(np.mean(y ** 2, axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(y[0, 0, 0] / x[0, 0, 0], y[0, 0, 0, 0] / x[0, 0, 0, 0], rtol=1e-5)


@pytest.mark.parametrize("layer, x_shape, fan_in", [
    (EqualizedDense(64), (2, 512), 512), (EqualizedConv2D(32, 3), (2, 8, 8, 20), 9 * 20)])
def test_equalized_lr_stores_unit_normal_weights_and_applies_the_he_constant(layer, x_shape,
                                                                            fan_in):
    x = np.random.default_rng(0).normal(size=x_shape).astype("float32")
    y = layer(x).numpy()
    stored = layer.kernel.numpy()
    assert stored.std() == pytest.approx(1.0, abs=0.05) and abs(stored.mean()) < 0.05
    assert layer.scale == pytest.approx(np.sqrt(2.0 / fan_in))
    effective = stored * np.sqrt(2.0 / fan_in)
    if len(x_shape) == 2:
        np.testing.assert_allclose(y, x @ effective, rtol=1e-4, atol=1e-5)
    else:
        ref = tf.nn.conv2d(x, effective, 1, "SAME").numpy()
        np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_minibatch_stddev_equals_the_hand_computed_value():
    x = np.array([[[[1.0, 2.0]]], [[[3.0, 6.0]]]], "float32")  # [2, 1, 1, 2]
    y = MinibatchStdDev(epsilon=0.0)(x).numpy()
    # per-feature std over the batch: 1 and 2 -> mean 1.5, appended to every sample
    np.testing.assert_allclose(y[..., 2], 1.5, rtol=1e-6)
    np.testing.assert_array_equal(y[..., :2], x)
    # groups of 2 consecutive samples (Progressive GAN's groups of 4), one value each
    x4 = np.concatenate([x, np.array([[[[0.0, 0.0]]], [[[4.0, 0.0]]]], "float32")])
    y4 = MinibatchStdDev(epsilon=0.0, group_size=2)(x4).numpy()
    np.testing.assert_allclose(y4[:2, ..., 2], 1.5, rtol=1e-6)
    np.testing.assert_allclose(y4[2:, ..., 2], 1.0, rtol=1e-6)  # stds 2 and 0


def test_truncation_at_zero_is_the_average_and_at_one_the_input():
    w = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    avg = np.full((8,), 0.5, "float32")
    np.testing.assert_allclose(truncate(w, avg, 0.0), np.broadcast_to(avg, w.shape))
    np.testing.assert_allclose(truncate(w, avg, 1.0), w)
    np.testing.assert_allclose(truncate(w, avg, 0.7), avg + 0.7 * (w - avg), rtol=1e-6)


def test_conditional_batch_norm_gains_depend_on_the_condition():
    layer = ConditionalBatchNorm()
    x = np.random.default_rng(0).normal(size=(4, 3, 3, 2)).astype("float32")
    y_code = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
    layer([x, y_code], training=True)
    layer.gain.kernel.assign([[0.5, 0.5], [-0.5, 1.0]])
    out = layer([x, y_code], training=True).numpy()
    normalised = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + 1e-5)
    np.testing.assert_allclose(out[0], normalised[0] * np.array([1.5, 1.5]), rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(out[1], normalised[1] * np.array([0.5, 2.0]), rtol=1e-3,
                               atol=1e-4)


def test_self_attention_keeps_the_shape_and_is_the_identity_at_gamma_zero():
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    layer = SelfAttention()
    np.testing.assert_array_equal(layer(x).numpy(), x)
    layer.gamma.assign(0.5)
    y = layer(x).numpy()
    assert y.shape == x.shape and not np.allclose(y, x)


def test_orthogonal_regularization_is_zero_for_an_orthogonal_kernel():
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))
    assert float(orthogonal_regularization(q.astype("float32"), 1.0)) == pytest.approx(0.0,
                                                                                     abs=1e-9)
    w = np.array([[1.0, 1.0], [0.0, 1.0]], "float32")  # W^T W = [[1, 1], [1, 2]]
    assert float(orthogonal_regularization(w, 1.0)) == pytest.approx(2.0)
