"""Reusable layers against NumPy references."""
import keras
import numpy as np
import pytest

from tfgan_suite.layers import (MinibatchDiscrimination, MinibatchStdDev, WeightNormDense,
                                initialize_weight_norm)


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


def test_weight_norm_data_dependent_init_standardises_each_layer_in_turn():
    import keras
    rng = np.random.default_rng(3)
    # Inputs far from standardised (offset 5, spread 3): a plain unit-length
    # direction passes both through.
    x = (5.0 + 3.0 * rng.normal(size=(200, 6))).astype("float32")
    inp = keras.Input((6,))
    h = WeightNormDense(8, train_scale=False, name="a")(inp)
    h = keras.layers.ReLU()(h)
    keras.layers.GaussianNoise(1.0)(h)  # a branch not on the path: ignored
    out = WeightNormDense(3, name="b")(h)
    inner = keras.Model(inp, out)
    outer_in = keras.Input((6,))
    model = keras.Model(outer_in, inner(outer_in))  # nested: the layers are found inside
    a_out = keras.Model(inner.input, inner.get_layer("a").output)
    before = a_out(x).numpy()
    assert abs(before.mean(0)).max() > 0.5  # not standardised by construction
    assert initialize_weight_norm(model, x) == 2
    first = a_out(x).numpy()
    np.testing.assert_allclose(first.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(first.std(0), 1.0, rtol=1e-3)
    # The second layer was standardised on what the *initialised* first passes on.
    second = model(x, training=False).numpy()
    np.testing.assert_allclose(second.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(second.std(0), 1.0, rtol=1e-3)
    # Only g and b changed: the directions are the random ones.
    np.testing.assert_allclose(np.linalg.norm(inner.get_layer("a").effective_kernel().numpy(),
                                              axis=0), 1.0 / before.std(0), rtol=1e-3)
    # Noise layers are on while initialising (the paper's code): the noisy
    # statistics are wider, so the noise-free outputs come out narrower than 1.
    noisy_in = keras.Input((6,))
    noisy = keras.Model(noisy_in, WeightNormDense(4, name="c")(
        keras.layers.GaussianNoise(0.9, seed=1)(noisy_in)))
    unit = x / 3.0  # spread 1: the noise nearly doubles the variance
    initialize_weight_norm(noisy, unit)
    assert noisy(unit, training=False).numpy().std(0).max() < 0.85
    # Later calls are ordinary ones.
    g = inner.get_layer("b").g.numpy().copy()
    model(x[:7] * 2.0, training=False)
    np.testing.assert_array_equal(inner.get_layer("b").g.numpy(), g)


@pytest.mark.parametrize("layer", [MinibatchStdDev(), MinibatchDiscrimination(2, 3),
                                   WeightNormDense(3, train_scale=False)])
def test_layers_serialise(layer):
    import keras
    clone = layer.__class__.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert keras.saving.get_registered_name(type(layer)).startswith("tfgan_suite>")


@pytest.mark.parametrize("shape", [(6, 5, 4, 3), (16, 7)])
def test_fused_batch_norm_equals_keras_batch_norm(shape):
    """Training output, gradients and moving statistics of the fused layer
    equal Keras' BatchNormalization's; inference is Keras' own."""
    import tensorflow as tf

    from tfgan_suite.layers import FusedBatchNormalization
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(2.0, 3.0, shape).astype("float32"))
    weights = tf.constant(rng.normal(size=shape).astype("float32"))
    fused = FusedBatchNormalization(momentum=0.8)
    plain = keras.layers.BatchNormalization(momentum=0.8)
    outs = {}
    for name, layer in (("fused", fused), ("plain", plain)):
        layer.build(shape)
        layer.gamma.assign(rng.normal(1.0, 0.2, shape[-1]).astype("float32"))
        layer.beta.assign(np.linspace(-1, 1, shape[-1]).astype("float32"))
        if name == "plain":
            plain.gamma.assign(fused.gamma)
            plain.beta.assign(fused.beta)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * weights)
        grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
        outs[name] = [y.numpy()] + [g.numpy() for g in grads] + [
            layer.moving_mean.numpy(), layer.moving_variance.numpy(),
            layer(x, training=False).numpy()]
    for a, b in zip(outs["fused"], outs["plain"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert not np.allclose(outs["fused"][5], 1.0)  # the moving variance did move


def test_fused_batch_norm_runs_the_fused_kernel_in_bfloat16():
    import tensorflow as tf

    from tfgan_suite.layers import FusedBatchNormalization
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    layer = FusedBatchNormalization()
    x = tf.random.normal((4, 3, 3, 2))
    graph = tf.function(lambda t: layer(t, training=True)).get_concrete_function(x).graph
    ops = [op for op in graph.get_operations() if op.type == "FusedBatchNormV3"]
    assert ops and ops[0].inputs[0].dtype == tf.bfloat16
    y = layer(tf.cast(x, tf.bfloat16), training=True)
    assert y.dtype == tf.bfloat16
    ref = (x - tf.reduce_mean(x, [0, 1, 2])) / tf.math.reduce_std(x, [0, 1, 2])
    np.testing.assert_allclose(tf.cast(y, tf.float32).numpy(), ref.numpy(), atol=0.05)


def _instance_norm_by_hand(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


@pytest.mark.parametrize("batch,dynamic", [(1, False), (3, False), (3, True)])
def test_fused_instance_norm_equals_group_norm_and_the_formula(batch, dynamic):
    """Training output and gradients of the fused layer equal Keras'
    GroupNormalization with one group per channel (and the formula by hand),
    for a batch of one (no transpose), of three, and of unknown size."""
    import tensorflow as tf

    from tfgan_suite.layers import FusedInstanceNormalization
    rng = np.random.default_rng(1)
    shape = (batch, 5, 4, 3)
    x = rng.normal(2.0, 3.0, shape).astype("float32")
    x[..., 1] *= 0.1  # channels on different scales
    weights = tf.constant(rng.normal(size=shape).astype("float32"))
    gamma = rng.normal(1.0, 0.3, 3).astype("float32")
    beta = np.array([-0.5, 0.0, 0.7], "float32")
    fused = FusedInstanceNormalization()
    group = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)
    outs = {}
    for name, layer in (("fused", fused), ("group", group)):
        layer.build(shape)
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)

        def step(t, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(t)
                y = layer(t, training=True)
                loss = tf.reduce_sum(y * weights)
            return [y] + tape.gradient(loss, [t, layer.gamma, layer.beta])
        spec = tf.TensorSpec((None,) + shape[1:]) if dynamic else tf.TensorSpec(shape)
        traced = tf.function(step, input_signature=[spec])
        kernels = {op.type for op in traced.get_concrete_function().graph.get_operations()}
        assert ("FusedBatchNormV3" in kernels) == (name == "fused")
        outs[name] = [t.numpy() for t in traced(x)]
        outs[name].append(layer(x, training=False).numpy())
    for a, b in zip(outs["fused"], outs["group"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(outs["fused"][0], _instance_norm_by_hand(x, gamma, beta),
                               rtol=1e-4, atol=1e-4)
    assert np.abs(outs["fused"][1]).max() > 1e-3  # a real gradient reached x


def test_fused_instance_norm_kernel_bfloat16_and_group_norm_checkpoints():
    import tensorflow as tf

    from tfgan_suite.layers import FusedInstanceNormalization
    from tfgan_suite.networks.norm import normalization
    layer = normalization("instance")
    assert isinstance(layer, FusedInstanceNormalization)
    # A checkpoint written with Keras' GroupNormalization restores into it.
    old = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)
    old.build((1, 4, 4, 3))
    old.gamma.assign([0.5, 2.0, 1.5])
    old.beta.assign([0.1, -0.2, 0.3])
    import tempfile
    path = tf.train.Checkpoint(norm=old).write(tempfile.mkdtemp() + "/ckpt")
    layer.build((1, 4, 4, 3))
    tf.train.Checkpoint(norm=layer).read(path).assert_consumed()
    np.testing.assert_array_equal(layer.gamma.numpy(), old.gamma.numpy())
    np.testing.assert_array_equal(layer.beta.numpy(), old.beta.numpy())
    clone = FusedInstanceNormalization.from_config(layer.get_config())
    assert clone.epsilon == layer.epsilon and clone.groups == -1
    # Under mixed precision the kernel runs in bfloat16 on the bfloat16 maps
    # a convolution hands it (Keras' group norm casts them to float32).
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        bf = FusedInstanceNormalization()
        x = tf.random.normal((2, 6, 6, 3), 1.0, 2.0)
        graph = tf.function(lambda t: bf(t, training=True)).get_concrete_function(
            tf.cast(x, tf.bfloat16)).graph
        kernels = [op for op in graph.get_operations() if op.type == "FusedBatchNormV3"]
        assert kernels and kernels[0].inputs[0].dtype == tf.bfloat16
        y = bf(tf.cast(x, tf.bfloat16), training=True)
        assert y.dtype == tf.bfloat16
        np.testing.assert_allclose(tf.cast(y, tf.float32).numpy(),
                                   _instance_norm_by_hand(x.numpy(), 1.0, 0.0), atol=0.05)
    finally:
        keras.mixed_precision.set_global_policy("float32")
