"""BigGAN, sized down: its parts against hand-computed values; the model
contract (training, grids, export) is covered by tests/test_contract.py."""
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from conftest import step_on_one_and_two_replicas
from tfgan_suite.data import synthetic
from tfgan_suite.errors import ConfigError
from tfgan_suite.layers import ConditionalBatchNorm, SelfAttention
from tfgan_suite.models.biggan import truncated_normal, truncated_normal_in_graph

pytestmark = pytest.mark.slow

EVERY_NETWORK = ("generator", "discriminator", "generator_ema")


@pytest.fixture(scope="module")
def tiny():
    source = synthetic.source("image", (16, 16, 1), num=8, seed=0, num_classes=3)
    model = tg.build("biggan", data=source, seed=0, latent_dim=6, g_filters=4, d_filters=4,
                     embedding_dim=3, attention_resolution=8, disc_steps=1, truncation=0.5)
    return source, model


def test_truncated_normal_stays_inside_the_threshold_and_is_seeded():
    a = truncated_normal(np.random.default_rng(0), (2000, 4), 0.5)
    b = truncated_normal(np.random.default_rng(0), (2000, 4), 0.5)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a).max() <= 0.5 and a.std() == pytest.approx(0.28, abs=0.02)
    g = truncated_normal_in_graph((4000,), tf.constant([1, 2]), 0.5).numpy()
    assert np.abs(g).max() <= 0.5 + 1e-6 and g.std() == pytest.approx(0.28, abs=0.02)
    # the exported generate's threshold is a tensor input; <= 0 turns it off
    g = truncated_normal_in_graph((4000,), tf.constant([1, 2]), tf.constant(0.5)).numpy()
    assert np.abs(g).max() <= 0.5 + 1e-6
    g = truncated_normal_in_graph((4000,), tf.constant([1, 2]), tf.constant(-1.0)).numpy()
    assert np.abs(g).max() > 2
    plain = truncated_normal(np.random.default_rng(0), (4000,), 0.0)
    assert np.abs(plain).max() > 2  # 0 turns truncation off


def test_generator_has_conditional_bn_attention_and_spectral_norm(tiny):
    _, model = tiny
    g, d = model.generator, model.discriminator
    assert sum(isinstance(layer, ConditionalBatchNorm) for layer in g.layers) == 4  # 2 blocks
    assert any(isinstance(layer, SelfAttention) for layer in g.layers)
    assert any(isinstance(layer, SelfAttention) for layer in d.layers)
    import keras
    weighted = [layer for layer in g.layers + d.layers
                if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    assert not weighted  # every conv / dense sits inside a SpectralNormalization wrapper


def test_labels_change_the_image_through_the_conditional_norms(tiny):
    _, model = tiny
    z = np.random.default_rng(0).normal(size=(2, 6)).astype("float32")
    # give the class embedding a say, then two labels must give two images
    emb = model.generator.get_layer("shared_embedding")
    emb.embeddings.assign(np.random.default_rng(1).normal(size=emb.embeddings.shape))
    for layer in model.generator.layers:
        if isinstance(layer, ConditionalBatchNorm):
            layer.gain.kernel.assign(np.full(layer.gain.kernel.shape, 0.3, "float32"))
    a = model.generator([z, np.array([0, 0], "int32")], training=False).numpy()
    b = model.generator([z, np.array([1, 1], "int32")], training=False).numpy()
    assert not np.allclose(a, b)


def test_generator_loss_carries_the_orthogonal_penalty(tiny):
    _, model = tiny
    kernels = model.orthogonal_kernels()
    assert kernels and not any("cbn" in k.path for k in kernels)
    fake_output = tf.constant([[0.5], [-1.0]])
    loss, logs = model.generator_loss({}, {}, fake_output)
    from tfgan_suite.layers import orthogonal_regularization
    ortho = sum(float(orthogonal_regularization(k, 1.0)) for k in kernels)
    assert float(logs["orthogonal_reg"]) == pytest.approx(ortho, rel=1e-4)
    assert float(loss) == pytest.approx(0.25 + 1e-4 * ortho, rel=1e-4)


def test_sampling_uses_truncated_noise(tiny):
    _, model = tiny
    z = model.sample_inputs(30, seed=0)["z"]
    assert np.abs(z).max() <= 0.5


def test_image_size_and_fixed_networks_are_checked():
    source = synthetic.source("image", (28, 28, 1), num=8, seed=0, num_classes=3)
    with pytest.raises(ConfigError, match="--image_size=28: .*4 x 2\\^n"):
        tg.build("biggan", data=source, g_filters=4, d_filters=4)
    with pytest.raises(ConfigError, match="--g_norm: --model=biggan cannot use it"):
        tg.build("biggan", (32, 32, 1), class_names=("a", "b"), g_norm="group")


def test_two_replicas_step_equals_one_device_step():
    """BigGAN's BatchNorms are cross-replica (as in the paper), so one step on 2
    mirrored logical CPUs matches one device with the same global batch:
    spectral norms' power iterations, the conditional BN statistics, the EMA."""
    from tfgan_suite import distribute
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 8).astype("int32")
    source = synthetic.source("image", (8, 8, 1), num=8, seed=0, num_classes=3)
    kw = dict(latent_dim=6, g_filters=4, d_filters=4, embedding_dim=3, attention_resolution=4,
              disc_steps=1, optimizer="sgd", beta1=0.0, g_learning_rate=0.05,
              d_learning_rate=0.05, g_ema=0.5)

    def make(strategy):
        with strategy.scope():
            return tg.build("biggan", data=source, seed=0, **kw)
    one = make(tf.distribute.OneDeviceStrategy("/cpu:0"))
    two = make(distribute.make_strategy("mirrored", cpu_replicas=2))
    for net in EVERY_NETWORK:
        getattr(two, net).set_weights(getattr(one, net).get_weights())
    step_on_one_and_two_replicas(one, two, (x, y), EVERY_NETWORK,
                                 weight_atol=1e-5)
