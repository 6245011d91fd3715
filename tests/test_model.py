"""The shared GAN model: isolation of the two steps, distribution, k steps, API."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from tfgan_suite import data, distribute, networks
from tfgan_suite.errors import ConfigError
from tfgan_suite.models.base import call_frozen


def snapshot(network):
    return {v.path: v.numpy().copy() for v in network.variables}


def changed(before, network):
    return {v.path for v in network.variables if not np.array_equal(before[v.path], v.numpy())}


@pytest.fixture
def dcgan16():
    keras.utils.set_random_seed(0)
    return tg.build("dcgan", (16, 16, 1), g_filters=4, d_filters=4, latent_dim=4, seed=0)


def test_discriminator_step_never_touches_generator(dcgan16):
    m = dcgan16
    real = tf.random.uniform((8, 16, 16, 1), -1, 1, seed=1)
    g0, d0 = snapshot(m.generator), snapshot(m.discriminator)
    tf.function(m.discriminator_step)({"images": real})
    assert changed(g0, m.generator) == set()
    moved = changed(d0, m.discriminator)
    assert {v.path for v in m.discriminator.trainable_variables} <= moved
    assert any("moving_mean" in p for p in moved)  # D's own BN statistics do move
    assert int(m.g_optimizer.iterations) == 0 and int(m.d_optimizer.iterations) == 1


def test_generator_step_never_touches_discriminator(dcgan16):
    m = dcgan16
    real = tf.random.uniform((8, 16, 16, 1), -1, 1, seed=1)
    g0, d0 = snapshot(m.generator), snapshot(m.discriminator)
    tf.function(m.generator_step)({"images": real})
    assert changed(d0, m.discriminator) == set()  # BN moving statistics included
    moved = changed(g0, m.generator)
    assert {v.path for v in m.generator.trainable_variables} <= moved
    assert any("moving_variance" in p for p in moved)
    assert int(m.d_optimizer.iterations) == 0 and int(m.g_optimizer.iterations) == 1


def test_frozen_call_still_advances_dropout():
    d = networks.mlp_discriminator((6,), (32,), dropout=0.5)
    x = tf.ones((4, 6))
    a, b = call_frozen(d, x).numpy(), call_frozen(d, x).numpy()
    assert not np.allclose(a, b)


def test_k_discriminator_steps_per_generator_step():
    keras.utils.set_random_seed(0)
    m = tg.build("gan", (2,), disc_steps=3, seed=0)
    ds = data.load("toy:ring8").dataset(16, disc_steps=3, seed=0)
    logs = m.fit(ds, steps_per_epoch=4, epochs=1, verbose=0, shuffle=False).history
    assert int(m.g_optimizer.iterations) == 4 and int(m.d_optimizer.iterations) == 12
    assert np.isfinite(logs["d_loss"][0]) and np.isfinite(logs["g_loss"][0])


# Models whose discriminator loss has its own randomness or batch coupling:
# WGAN-GP's eps, DRAGAN's perturbation and global std, BEGAN's k_t (clipped
# from the global balance), EBGAN's pulling-away term over the global batch.
EQUIVALENCE_MODELS = {
    "gan": dict(),
    "wgan_gp": dict(gp_weight=1.0),
    "dragan": dict(gp_weight=1.0, d_norm="none"),
    "began": dict(lambda_k=0.5, code_dim=4),
    "ebgan": dict(pt_weight=1.0, code_dim=4),
    # the other losses of the family: WGAN's clipping after each critic update,
    # SN-GAN's power-iteration vectors (state updated on every replica). f-GAN
    # with JS: its KL and Pearson bounds (identity g_f) gave run-to-run
    # differences of ~1e-4 on ONE device under load (gone with Grappler off).
    "lsgan": dict(), "hinge": dict(), "fgan": dict(divergence="js"), "wgan": dict(),
    "sngan": dict(),
    # SyncBatchNorm: the global batch's statistics on every replica
    "gan+sync_batch": dict(model="gan", g_norm="sync_batch", d_norm="sync_batch"),
}


def _equivalence_model(name, strategy, init):
    kwargs = dict(g_norm="none")  # plain BatchNorm's statistics are per replica
    kwargs.update(EQUIVALENCE_MODELS[name])
    with strategy.scope():
        m = tg.build(kwargs.pop("model", name), (4, 4, 1), seed=7, latent_dim=3, disc_steps=2,
                     architecture="mlp", g_hidden_units=(16,), d_hidden_units=(16,),
                     # Plain SGD: an update proportional to the gradient, so a
                     # loss scaled wrongly by the replica count shows (Adam
                     # would normalise it away).
                     optimizer="sgd", beta1=0.0,
                     g_learning_rate=0.05, d_learning_rate=0.05, **kwargs)
    if init is not None:
        m.generator.set_weights(init[0])
        m.discriminator.set_weights(init[1])
    return m


@pytest.mark.parametrize("name", sorted(EQUIVALENCE_MODELS))
def test_two_replicas_step_equals_one_device_step(name):
    """One train step (2 D updates + 1 G update) on MirroredStrategy over 2
    logical CPUs moves every weight as one device does with the same global
    batch and noise: losses are averaged over the global batch, the noise
    (latent, penalty draws) is sliced from the global draw, batch statistics
    (DRAGAN's std, BEGAN's balance, EBGAN's PT) run over the global batch, and
    the data is laid out per replica."""
    k, batch = 2, 8
    x = np.random.default_rng(0).uniform(-1, 1, (k * batch, 4, 4, 1)).astype("float32")
    one = _equivalence_model(name, tf.distribute.OneDeviceStrategy("/cpu:0"), None)
    init = (one.generator.get_weights(), one.discriminator.get_weights())
    mirrored = distribute.make_strategy("mirrored", cpu_replicas=2)
    assert mirrored.num_replicas_in_sync == 2
    two = _equivalence_model(name, mirrored, init)

    if name == "began":  # away from k_t's clip at 0, so that its update shows
        one.k_t.assign(0.5)
        two.k_t.assign(0.5)
    ds1 = tf.data.Dataset.from_tensors(x)
    ds2 = tf.data.Dataset.from_tensors(x).map(
        lambda t: data.interleave_for_replicas((t,), k, 2))
    h1 = one.fit(ds1, epochs=1, steps_per_epoch=1, verbose=0).history
    h2 = two.fit(ds2, epochs=1, steps_per_epoch=1, verbose=0).history

    for net in ("generator", "discriminator"):
        w0 = init[0] if net == "generator" else init[1]
        w1 = getattr(one, net).get_weights()
        w2 = getattr(two, net).get_weights()
        assert any(not np.allclose(a, b) for a, b in zip(w0, w1))  # the step did move them
        for a, b in zip(w1, w2):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in h1:
        assert h1[key][0] == pytest.approx(h2[key][0], rel=1e-5, abs=1e-7), key
    if name == "began":
        k1, k2 = float(one.k_t.numpy()), float(two.k_t.numpy())
        assert abs(k1 - 0.5) > 1e-4 and k2 == pytest.approx(k1, rel=1e-5)


def test_generate_is_seeded(dcgan16):
    a = dcgan16.generate(3, seed=5).numpy()
    b = dcgan16.generate(3, seed=5).numpy()
    c = dcgan16.generate(3).numpy()
    d = dcgan16.generate(3).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(c, d)
    assert a.shape == (3, 16, 16, 1) and np.abs(a).max() <= 1.0


def test_build_inside_strategy_scope_and_overrides():
    strategy = distribute.make_strategy("mirrored", cpu_replicas=2)
    opt = keras.optimizers.SGD(0.1)
    with strategy.scope():
        m = tg.build("gan", (2,), g_optimizer=opt, latent_dim=5)
    assert m.g_optimizer is opt and opt.built
    assert m.latent_dim == 5 and m.hparams["g_activation"] == "leaky_relu"  # vector defaults
    assert "Mirrored" in type(m.generator.trainable_variables[0].value).__name__
    assert {"gan", "dcgan"} <= set(tg.list_models())


@pytest.mark.parametrize("kwargs, message", [
    (dict(not_a_param=1), "not_a_param"),
    (dict(latent_dim=0), "--latent_dim"),
    (dict(generator_loss="hinge"), "--generator_loss"),
    (dict(optimizer="adagrad"), "--optimizer"),
])
def test_build_rejects_bad_hparams(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        tg.build("gan", (28, 28, 1), **kwargs)


def test_model_data_mismatch_is_named():
    with pytest.raises(ConfigError, match="--model=dcgan"):
        tg.build("dcgan", (2,))
    with pytest.raises(ConfigError, match="Did you mean 'dcgan'"):
        tg.build("dcgna")


@pytest.mark.parametrize("size, ups", [(28, 2), (32, 3), (64, 4)])
def test_dcgan_networks_follow_the_guidelines(size, ups):
    g = networks.dcgan_generator(10, (size, size, 3), filters=8)
    d = networks.dcgan_discriminator((size, size, 3), filters=8)
    assert g.output_shape == (None, size, size, 3)
    assert d.output_shape == (None, 1)
    kinds = [type(l).__name__ for l in g.layers]
    assert "Dense" not in kinds and "Dense" not in [type(l).__name__ for l in d.layers]
    assert kinds.count("Conv2DTranspose") == ups + 1  # projection + upsamplings
    assert kinds[-2:] == ["Conv2DTranspose", "Activation"]  # no BN on G's output
    assert g.layers[-1].activation.__name__ == "tanh"
    d_kinds = [type(l).__name__ for l in d.layers]
    assert d_kinds[1:3] == ["Conv2D", "LeakyReLU"]  # no BN on D's input layer
    bns = [l for l in d.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(bns) == ups - 1 and all(type(l).__name__ == "FusedBatchNormalization"
                                       for l in bns)
    strided = [l for l in d.layers if type(l).__name__ == "Conv2D" and l.strides == (2, 2)]
    assert len(strided) == ups
    out = g(tf.random.normal((2, 10)), training=False).numpy()
    assert np.abs(out).max() <= 1.0


def test_dcgan_rejects_sizes_it_cannot_halve():
    with pytest.raises(ValueError, match="image size"):
        networks.dcgan_generator(4, (7, 7, 1))


def test_mixed_precision_step_is_finite():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    m = tg.build("dcgan", (16, 16, 1), g_filters=4, d_filters=4, latent_dim=4, seed=0)
    assert m.generator.layers[2].compute_dtype == "bfloat16"
    ds = tf.data.Dataset.from_tensors(tf.random.uniform((4, 16, 16, 1), -1, 1)).repeat()
    logs = m.fit(ds, steps_per_epoch=2, epochs=1, verbose=0).history
    assert np.isfinite(logs["d_loss"][0]) and np.isfinite(logs["g_loss"][0])
    assert m.generate(2, seed=1).dtype == tf.float32


def _sgd_gan(update, strategy=None, seed=0):
    strategy = strategy or tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        return tg.build("gan", (2,), seed=seed, update=update, optimizer="sgd", beta1=0.0,
                        g_learning_rate=0.1, d_learning_rate=0.1, latent_dim=3,
                        g_hidden_units=(5,), d_hidden_units=(6,), g_norm="none",
                        d_norm="none", minibatch_stddev=False)  # batch statistics: per replica


def test_simultaneous_update_takes_both_gradients_from_one_pass():
    """--update=simultaneous: D and G move by -lr * their gradients at the same
    point (one G(z), D on real and fake), computed here by hand with two tapes;
    the alternating update's G step differs (it sees the updated D and new noise)."""
    real = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    z = np.random.default_rng(2).normal(size=(8, 3)).astype("float32")
    sim = _sgd_gan("simultaneous")
    alt = _sgd_gan("alternating")
    alt.generator.set_weights(sim.generator.get_weights())
    alt.discriminator.set_weights(sim.discriminator.get_weights())
    g0, d0 = sim.generator.get_weights(), sim.discriminator.get_weights()
    for m in (sim, alt):
        m.sample_latent = lambda batch_size: tf.constant(z)  # the same noise every draw

    # By hand: the non-saturating GAN, one forward pass, both gradients.
    gen, disc = sim.generator, sim.discriminator
    with tf.GradientTape() as dt, tf.GradientTape() as gt:
        fake = gen(z, training=True)
        d_real, d_fake = disc(real, training=True), disc(fake, training=True)
        d_loss = tf.reduce_mean(tf.nn.softplus(-d_real) + tf.nn.softplus(d_fake))
        g_loss = tf.reduce_mean(tf.nn.softplus(-d_fake))
    d_grads = dt.gradient(d_loss, disc.trainable_variables)
    g_grads = gt.gradient(g_loss, gen.trainable_variables)
    want_d = [w - 0.1 * g.numpy() for w, g in zip(d0, d_grads)]
    want_g = [w - 0.1 * g.numpy() for w, g in zip(g0, g_grads)]

    logs = sim.fit(tf.data.Dataset.from_tensors(real), epochs=1, steps_per_epoch=1,
                   verbose=0).history
    assert logs["d_loss"][0] == pytest.approx(float(d_loss), rel=1e-5)
    assert logs["g_loss"][0] == pytest.approx(float(g_loss), rel=1e-5)
    for got, want in zip(sim.discriminator.get_weights(), want_d):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for got, want in zip(sim.generator.get_weights(), want_g):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    alt.fit(tf.data.Dataset.from_tensors(real), epochs=1, steps_per_epoch=1, verbose=0)
    for got, want in zip(alt.discriminator.get_weights(), want_d):  # the same D step
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(a, b, atol=1e-6)
                   for a, b in zip(alt.generator.get_weights(), want_g))


def test_simultaneous_update_on_two_replicas_equals_one_device():
    from conftest import step_on_one_and_two_replicas
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    one = _sgd_gan("simultaneous")
    two = _sgd_gan("simultaneous", distribute.make_strategy("mirrored", cpu_replicas=2))
    two.generator.set_weights(one.generator.get_weights())
    two.discriminator.set_weights(one.discriminator.get_weights())
    step_on_one_and_two_replicas(one, two, (x,), ("generator", "discriminator"))


def test_simultaneous_update_needs_one_discriminator_step():
    with pytest.raises(tg.ConfigError, match="--update=simultaneous .* needs --disc_steps=1"):
        tg.build("wgan", (2,), update="simultaneous", disc_steps=5)
    with pytest.raises(tg.ConfigError, match="--update"):
        tg.build("pix2pix", (16, 16, 3), update="simultaneous")


@pytest.mark.parametrize("replicas", [1, 2])
def test_a_multi_replica_trace_runs_with_automatic_gc_paused(replicas):
    """With several replicas the first train-function call (the trace, one
    thread per replica) runs with automatic garbage collection off, and turns
    it back on; one device traces as usual."""
    import gc
    strategy = (distribute.make_strategy("mirrored", cpu_replicas=2) if replicas == 2
                else tf.distribute.OneDeviceStrategy("/cpu:0"))
    with strategy.scope():
        m = tg.build("gan", (4, 4, 1), seed=0, latent_dim=3, architecture="mlp",
                     g_hidden_units=(8,), d_hidden_units=(8,))
    seen, step = [], m.train_step

    def spy(batch):
        seen.append(gc.isenabled())
        return step(batch)
    m.train_step = spy
    x = np.zeros((8, 4, 4, 1), np.float32)
    was_enabled = gc.isenabled()  # the test workers collect between tests (conftest)
    gc.enable()
    try:
        m.fit(tf.data.Dataset.from_tensors(x).repeat(), steps_per_epoch=2, epochs=1, verbose=0)
        after = gc.isenabled()
    finally:
        if not was_enabled:
            gc.disable()
    assert seen == [replicas == 1] * replicas  # traced once, in each replica's thread
    assert after


def test_build_with_a_seed_gives_the_same_weights_every_time():
    """``seed`` seeds the initialisers too (it used to seed only the noise: two
    builds with seed=7 started from different weights, and a BEGAN test that
    depended on them failed one run in three)."""
    def weights(seed):
        m = tg.build("dcgan", (8, 8, 1), seed=seed, latent_dim=3, g_filters=4, d_filters=4)
        return [w for net in ("generator", "discriminator") for w in getattr(m, net).get_weights()]
    a, b, c = weights(7), weights(7), weights(8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))


def test_uniform_latent_is_drawn_uniform_everywhere_z_is_drawn():
    """--latent_distribution=uniform: z in U(-1, 1) (variance 1/3) in training,
    in grids and sample (numpy), in generate() and in the exported graph."""
    keras.utils.set_random_seed(0)
    kw = dict(g_filters=4, d_filters=4, latent_dim=64, seed=0)
    m = tg.build("dcgan", (16, 16, 1), latent_distribution="uniform", **kw)
    seen = {}
    m.infer = lambda inputs: seen.setdefault("generate", inputs["z"])
    m.generate(256, seed=3)
    draws = {"training": m.sample_latent(256).numpy(),
             "numpy": m.draw_noise(np.random.default_rng(0), 256),
             "graph": m.noise_in_graph([256, 64], tf.constant([1, 2])).numpy(),
             "generate": np.asarray(seen["generate"])}
    for where, z in draws.items():
        assert z.shape == (256, 64), where
        assert z.min() >= -1.0 and z.max() <= 1.0, where
        assert abs(z.var() - 1 / 3) < 0.01, where
    assert m.export_metadata()["latent_distribution"] == "uniform"
    normal = tg.build("dcgan", (16, 16, 1), **kw)
    z = normal.sample_latent(256).numpy()
    assert abs(z.var() - 1.0) < 0.03 and np.abs(z).max() > 2.5


def test_uniform_latent_walks_are_straight_lines_inside_the_cube():
    m = tg.build("dcgan", (16, 16, 1), g_filters=4, d_filters=4, latent_dim=8, seed=0,
                 latent_distribution="uniform")
    seen = {}

    def capture(inputs):
        seen["z"] = inputs["z"]
        return np.zeros((len(inputs["z"]), 16, 16, 1), "float32")
    m.generate_from = capture
    m.interpolation_grid(rows=3, steps=5, seed=0)
    z = seen["z"].reshape(3, 5, 8)
    assert np.abs(z).max() <= 1.0
    np.testing.assert_allclose(z[:, 2], (z[:, 0] + z[:, 4]) / 2, atol=1e-6)  # the midpoint


def test_biggan_refuses_uniform_latent():
    with pytest.raises(ConfigError, match="--latent_distribution"):
        tg.build("biggan", (32, 32, 1), class_names=("a", "b"), latent_distribution="uniform")
