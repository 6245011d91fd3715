"""Reusable layers against NumPy references."""
import numpy as np
import pytest

from tfgan_suite.layers import MinibatchDiscrimination, MinibatchStdDev, WeightNormDense


def test_minibatch_stddev_appends_the_batch_spread():
    x = np.random.default_rng(0).normal(size=(5, 3, 3, 4)).astype("float32")
    out = MinibatchStdDev()(x).numpy()
    assert out.shape == (5, 3, 3, 5)
    np.testing.assert_allclose(out[..., :4], x)
    expected = np.sqrt(x.var(axis=0) + 1e-8).mean()
    np.testing.assert_allclose(out[..., 4], expected, rtol=1e-5)
    same = MinibatchStdDev()(np.repeat(x[:1], 5, axis=0)).numpy()
    assert same[..., 4].max() < 1e-3  # a collapsed batch has (almost) no spread


def test_minibatch_discrimination_matches_the_paper_formula():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6)).astype("float32")
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    out = layer(x).numpy()
    t = layer.t.numpy()
    m = (x @ t).reshape(4, 3, 2)
    expected = np.zeros((4, 3))
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i] += np.exp(-np.abs(m[i] - m[j]).sum(-1))
    assert out.shape == (4, 9)
    np.testing.assert_allclose(out[:, :6], x)
    np.testing.assert_allclose(out[:, 6:], expected, rtol=1e-5, atol=1e-6)


def test_weight_norm_dense_is_g_times_the_unit_direction():
    import tensorflow as tf
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 5)).astype("float32")
    layer = WeightNormDense(4)
    layer(x)
    v = rng.normal(size=(5, 4)).astype("float32")
    g = np.array([0.5, 1.0, 2.0, 3.0], "float32")
    b = np.array([0.1, -0.2, 0.0, 0.3], "float32")
    layer.kernel.assign(v)
    layer.g.assign(g)
    layer.bias.assign(b)
    expected = x @ (v * g / np.linalg.norm(v, axis=0)) + b
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    # Scaling v leaves the layer unchanged: only its direction counts.
    layer.kernel.assign(7.0 * v)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    # A fixed scale is not trained; the gradient still reaches v.
    fixed = WeightNormDense(4, train_scale=False)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(fixed(x) ** 2)
    assert [w.name for w in fixed.trainable_weights] == ["v", "bias"]
    assert np.abs(tape.gradient(y, fixed.kernel).numpy()).sum() > 0
    np.testing.assert_allclose(np.linalg.norm(fixed.effective_kernel().numpy(), axis=0), 1.0,
                               rtol=1e-5)


@pytest.mark.parametrize("layer", [MinibatchStdDev(), MinibatchDiscrimination(2, 3),
                                   WeightNormDense(3, train_scale=False)])
def test_layers_serialise(layer):
    import keras
    clone = layer.__class__.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert keras.saving.get_registered_name(type(layer)).startswith("tfgan_suite>")
