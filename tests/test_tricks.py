"""Stabilisation tricks (``tricks``, ``augment``) and normalisation choices:
numerics against hand-computed values, what each changes in training, state
across checkpoints and replicas."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from tfgan_suite import augment, data, distribute, losses, networks, registry, tricks
from tfgan_suite.errors import ConfigError
from tfgan_suite.layers import AdaIN, MinibatchDiscrimination, VirtualBatchNormalization

IMAGES = np.random.default_rng(0).uniform(-1, 1, (16, 4, 4, 1)).astype("float32")
TINY = dict(latent_dim=3, architecture="mlp", g_hidden_units=(16,), d_hidden_units=(16,),
            g_norm="none", optimizer="sgd", beta1=0.0, g_learning_rate=0.05,
            d_learning_rate=0.05)


def build(name="gan", shape=(4, 4, 1), strategy=None, **kwargs):
    with (strategy or tf.distribute.get_strategy()).scope():
        return tg.build(name, shape, seed=7, **{**TINY, **kwargs})


def one_step(model, x=IMAGES, steps=1):
    ds = tf.data.Dataset.from_tensors(x).repeat()
    return model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0).history


def weights(network):
    return [w.copy() for w in network.get_weights()]


# ------------------------------------------------------------- feature matching
def test_feature_matching_is_the_squared_distance_of_means():
    real = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    fake = tf.constant([[0.0, 0.0], [2.0, 0.0]])
    # means (2, 3) and (1, 0): 1 + 9
    assert float(tricks.feature_matching(real, fake)) == pytest.approx(10.0)
    shuffled = tf.constant([[3.0, 4.0], [1.0, 2.0]])
    assert float(tricks.feature_matching(real, shuffled)) == 0.0


def test_feature_matching_step_moves_only_the_generator():
    m = build(feature_matching="features")
    d0, g0 = weights(m.discriminator), weights(m.generator)
    logs = tf.function(m.generator_step)({"images": tf.constant(IMAGES)})
    assert all(np.array_equal(a, b) for a, b in zip(d0, m.discriminator.get_weights()))
    assert all(not np.array_equal(a, b) for a, b in zip(g0, m.generator.get_weights()))
    # "replace": G's loss is the feature-matching term itself
    assert float(logs["g_loss"]) == pytest.approx(float(logs["feature_matching"]))
    assert float(logs["feature_matching"]) > 0


def test_feature_matching_layer_is_found_in_a_conditional_trunk():
    m = tg.build("cgan", data=data.load("bundled:mnist").data_spec, architecture="mlp",
                 g_hidden_units=(8,), d_hidden_units=(8,), latent_dim=4,
                 feature_matching="features", seed=0)
    images, labels = np.zeros((3, 28, 28, 1), "float32"), np.array([0, 1, 2], "int32")
    features = m.feature_model([images, labels])
    assert features.shape == (3, 8)


def test_unknown_feature_layer_is_named():
    with pytest.raises(ConfigError, match="--feature_matching=nope: .*no layer"):
        build(feature_matching="nope")


# ------------------------------------------------------ minibatch features
def test_minibatch_discrimination_separates_identical_from_varied_batches():
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
    same = np.ones((6, 5), "float32")
    varied = np.random.default_rng(1).normal(0, 3, (6, 5)).astype("float32")
    o_same = layer(same).numpy()[:, 5:]
    o_varied = layer(varied).numpy()[:, 5:]
    np.testing.assert_allclose(o_same, 5.0, rtol=1e-6)  # sum over j != i of exp(0)
    assert o_varied.max() < 4.0


@pytest.mark.parametrize("architecture", ["mlp", "dcgan"])
def test_minibatch_flags_reach_the_discriminator(architecture):
    shape = (16, 16, 1)
    kw = dict(architecture=architecture, g_filters=4, d_filters=4)
    plain = build(shape=shape, **kw).discriminator
    mbd = build(shape=shape, minibatch_discrimination=True, minibatch_kernels=7,
                minibatch_kernel_dim=2, **kw).discriminator
    std = build(shape=shape, minibatch_stddev=True, **kw).discriminator
    names = lambda d: {layer.name for layer in d.layers}  # noqa: E731
    assert "minibatch_discrimination" not in names(plain)
    assert mbd.get_layer("minibatch_discrimination").t.shape[-1] == 14
    assert mbd.get_layer("logit_input").output.shape[-1] == \
        np.prod(mbd.get_layer("features").output.shape[1:]) + 7
    assert {"minibatch_std", "minibatch_stddev"} & names(std)


# ---------------------------------------------------------- virtual batch norm
def test_vbn_normalises_with_reference_and_example_by_hand():
    layer = VirtualBatchNormalization(reference_size=2, epsilon=0.0)
    ref = np.array([[1.0], [3.0]], "float32")  # mean 2, mean square 5
    x = np.array([[5.0]], "float32")
    out = layer(np.concatenate([ref, x]), training=True).numpy()
    # example: mean (2*2 + 5)/3 = 3, mean square (2*5 + 25)/3 = 35/3, var 35/3 - 9 = 8/3
    assert out[2, 0] == pytest.approx((5 - 3) / np.sqrt(8 / 3), rel=1e-5)
    np.testing.assert_allclose(out[:2, 0], [-1.0, 1.0], rtol=1e-5)  # reference alone
    # at inference the stored statistics stand for the reference batch
    assert float(layer(x, training=False)[0, 0]) == pytest.approx(out[2, 0], rel=1e-5)


def test_vbn_output_of_an_example_does_not_depend_on_its_batch():
    layer = VirtualBatchNormalization(reference_size=4)
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(4, 3, 3, 2)).astype("float32")
    x = rng.normal(size=(1, 3, 3, 2)).astype("float32")
    others = [rng.normal(3, 5, size=(n, 3, 3, 2)).astype("float32") for n in (1, 6)]
    outs = [layer(np.concatenate([ref, x, o]), training=True).numpy()[4] for o in others]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)
    bn = keras.layers.BatchNormalization()
    a, b = (bn(np.concatenate([x, o]), training=True).numpy()[0] for o in others)
    assert not np.allclose(a, b)  # BatchNorm does depend on it


def test_vbn_generator_reference_batch_survives_a_checkpoint(tmp_path):
    m = build(virtual_batch_norm=True, vbn_reference_size=5, g_norm="batch")
    assert any(isinstance(layer, VirtualBatchNormalization) for layer in m.generator.layers)
    one_step(m)
    ref = m.vbn_reference["z"].numpy()
    stats = m.generator.get_layer("bn_0").reference_mean.numpy()
    assert ref.shape == (5, 3) and np.abs(stats).sum() > 0
    ckpt = tf.train.Checkpoint(**m.checkpoint_items())
    path = ckpt.save(str(tmp_path / "ckpt"))
    m2 = build(virtual_batch_norm=True, vbn_reference_size=5, g_norm="batch")
    m2.vbn_reference["z"].assign(np.zeros_like(ref))
    m2.compile(keras.optimizers.SGD(), keras.optimizers.SGD())
    tf.train.Checkpoint(**m2.checkpoint_items()).restore(path).expect_partial()
    np.testing.assert_array_equal(m2.vbn_reference["z"].numpy(), ref)
    np.testing.assert_array_equal(m2.generator.get_layer("bn_0").reference_mean.numpy(), stats)
    # and inference needs no reference batch: one example alone, same output
    z = np.random.default_rng(3).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(m2.generate_from({"z": z[:1]}), m2.generate_from({"z": z})[:1],
                               rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ label smoothing
def test_label_smoothing_changes_only_the_real_term():
    real, fake = tf.constant([0.3, -1.2]), tf.constant([0.5, 2.0])
    plain = float(losses.minimax_discriminator_loss(real, fake))
    smooth = float(losses.minimax_discriminator_loss(real, fake, 0.1))
    fake_term = float(tf.reduce_mean(tf.nn.softplus(fake)))
    real_smooth = float(tf.reduce_mean(0.9 * tf.nn.softplus(-real) + 0.1 * tf.nn.softplus(real)))
    assert smooth == pytest.approx(real_smooth + fake_term, rel=1e-6)
    assert plain - smooth == pytest.approx(float(tf.reduce_mean(tf.nn.softplus(-real)))
                                           - real_smooth, rel=1e-5)
    fake2 = tf.constant([-3.0, 0.0])  # the fake term moves the same with or without smoothing
    assert (float(losses.minimax_discriminator_loss(real, fake2, 0.1)) - smooth) == \
        pytest.approx(float(losses.minimax_discriminator_loss(real, fake2)) - plain, rel=1e-5)


@pytest.mark.parametrize("name, flag", [("wgan", "label_smoothing"), ("lsgan", "label_smoothing"),
                                        ("ebgan", "r1_gamma"), ("sgan", "feature_matching")])
def test_tricks_a_model_cannot_use_are_refused_in_one_line(name, flag):
    value = "features" if flag == "feature_matching" else 0.1
    with pytest.raises(ConfigError, match=f"--{flag}: --model={name} cannot use it"):
        registry.resolve_hparams(name, {flag: value})


def test_diffaugment_needs_images_and_known_policies():
    with pytest.raises(ConfigError, match="--diffaugment=blur"):
        build(diffaugment="blur")
    with pytest.raises(ConfigError, match="--diffaugment augments images"):
        tg.build("gan", data=data.load("toy:ring8").data_spec, diffaugment="color")


# ------------------------------------------------------- historical averaging
def test_historical_averaging_is_zero_at_first_and_follows_the_mean():
    v = tf.Variable([1.0, 2.0])
    h = tricks.HistoricalAverage([v], "h")
    h.update()
    assert float(h.penalty()) == 0.0
    history = [np.array([1.0, 2.0])]
    for value in ([3.0, 0.0], [2.0, 5.0]):
        v.assign(value)
        history.append(np.array(value))
        h.update()
    mean = np.mean(history, axis=0)
    assert float(h.penalty()) == pytest.approx(float(np.sum((history[-1] - mean) ** 2)))


def test_historical_averaging_in_training_counts_updates_of_each_player():
    m = build(historical_averaging=0.5, disc_steps=2)
    x = np.concatenate([IMAGES, IMAGES])
    one_step(m, x, steps=3)
    assert float(m.g_history.count.numpy()) == 3 and float(m.d_history.count.numpy()) == 6


# ------------------------------------------------------------- instance noise
def test_instance_noise_sigma_anneals_linearly_to_zero():
    sig = [float(tricks.instance_noise_sigma(0.4, s, 100)) for s in (0, 25, 100, 150)]
    np.testing.assert_allclose(sig, [0.4, 0.3, 0.0, 0.0], rtol=1e-6)


def test_instance_noise_reaches_what_d_sees_and_stops_at_the_end():
    m = build(instance_noise=0.5, instance_noise_steps=10)
    m.compile(keras.optimizers.SGD(), keras.optimizers.SGD())
    seen = m.seen_by_discriminator({"images": tf.zeros((2000, 2))})["images"].numpy()
    assert np.std(seen) == pytest.approx(0.5, rel=0.05)
    m.g_optimizer.iterations.assign(10)
    seen = m.seen_by_discriminator({"images": tf.zeros((5, 2))})["images"].numpy()
    assert np.all(seen == 0)


# ----------------------------------------------------------------------- R1
def test_r1_in_the_step_is_the_penalty_of_the_critic_on_real_data():
    m = build(r1_gamma=2.0)
    real = {"images": tf.constant(IMAGES)}
    expected = float(m.r1(real))
    x = tf.constant(IMAGES)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.reduce_sum(m.discriminator(x, training=True))
    g = tape.gradient(out, x).numpy().reshape(len(IMAGES), -1)
    assert expected == pytest.approx(0.5 * np.mean(np.sum(g ** 2, 1)), rel=1e-5)
    logs = tf.function(m.discriminator_step)(real)
    assert float(logs["r1"]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", ["gan", "cgan"])
def test_r1_from_the_real_forward_pass_has_the_separate_penaltys_gradients(name):
    """``real_output_and_r1`` takes R1 from the one D call on the real batch:
    the same output, the same R1 and the same D gradients of loss + gamma R1 as
    the separate R1 pass (``r1``), for an unconditional and a conditional D."""
    classes = {"class_names": ("a", "b", "c")} if name == "cgan" else {}
    m = build(name, r1_gamma=2.0, **classes)
    real = {"images": tf.constant(IMAGES)}
    if name == "cgan":
        real["labels"] = tf.constant(np.arange(16) % 3, tf.int32)
    variables = m.discriminator.trainable_variables

    def objective(merged):
        with tf.GradientTape() as tape:
            if merged:
                out, r1 = m.real_output_and_r1(real)
            else:
                out = m.discriminator(m.discriminator_input(real), training=True)
                r1 = m.r1(real)
            total = tf.reduce_sum(tf.square(m.realness(out))) + 2.0 * r1
        return out, r1, tape.gradient(total, variables)

    out_a, r1_a, grads_a = objective(True)
    out_b, r1_b, grads_b = objective(False)
    np.testing.assert_allclose(m.realness(out_a), m.realness(out_b), rtol=1e-6)
    assert float(r1_a) == pytest.approx(float(r1_b), rel=1e-6) and float(r1_a) > 0
    for a, b in zip(grads_a, grads_b):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)
    m0 = build(name, **classes)
    assert m0.real_output_and_r1(real)[1] is None  # no R1 without --r1_gamma


# -------------------------------------------------------------------- G EMA
def test_g_ema_follows_the_recurrence_and_is_what_export_and_sampling_use(tmp_path):
    decay = 0.8
    m = build(g_ema=decay)
    ema = weights(m.generator)
    for _ in range(3):
        one_step(m)
        ema = [decay * e + (1 - decay) * w for e, w in zip(ema, m.generator.get_weights())]
    for a, b in zip(ema, m.generator_ema.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert m.export_networks == ("generator_ema",)
    z = np.random.default_rng(0).normal(size=(3, 3)).astype("float32")
    np.testing.assert_allclose(m.generate_from({"z": z}), m.generator_ema(z), rtol=1e-6)
    assert not np.allclose(m.generate_from({"z": z}), m.generator(z))
    serve = m.export_signatures()[0].fn
    np.testing.assert_allclose(serve(tf.constant(z)), m.generator_ema(z), rtol=1e-6)


# ----------------------------------------------------------------- DiffAugment
def test_translate_and_cutout_move_pixels_as_asked():
    x = np.arange(2 * 4 * 4, dtype="float32").reshape(2, 4, 4, 1) + 1
    y = augment.translate(tf.constant(x), tf.constant([[1, 0], [0, -2]])).numpy()
    np.testing.assert_array_equal(y[0, 1:, :, 0], x[0, :-1, :, 0])
    np.testing.assert_array_equal(y[0, 0], 0)
    np.testing.assert_array_equal(y[1, :, :2, 0], x[1, :, 2:, 0])
    np.testing.assert_array_equal(y[1, :, 2:], 0)
    c = augment.cutout(tf.constant(x), tf.constant([[1, 1], [3, 3]]), (2, 2)).numpy()
    expected = x.copy()
    expected[0, 0:2, 0:2] = 0
    expected[1, 2:4, 2:4] = 0
    np.testing.assert_array_equal(c, expected)


def test_color_matches_the_formula():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 3, 3)).astype("float32")
    b, s, c = np.array([0.1, -0.2]), np.array([1.5, 0.0]), np.array([0.5, 1.2])
    y = augment.color(tf.constant(x), b, s, c).numpy()
    for i in range(2):
        e = x[i] + b[i]
        e = (e - e.mean(-1, keepdims=True)) * s[i] + e.mean(-1, keepdims=True)
        e = (e - e.mean()) * c[i] + e.mean()
        np.testing.assert_allclose(y[i], e, rtol=1e-5, atol=1e-6)


def test_diff_augment_under_tf_function_is_differentiable():
    seed = keras.random.SeedGenerator(0)
    x = tf.Variable(np.random.default_rng(1).uniform(-1, 1, (4, 8, 8, 3)).astype("float32"))

    @tf.function
    def grad():
        with tf.GradientTape() as tape:
            y = augment.diff_augment(x, augment.POLICIES, seed)
            loss = tf.reduce_sum(y * y)
        return y, tape.gradient(loss, x)

    y, g = grad()
    assert y.shape == x.shape and not np.allclose(y, x)
    assert g is not None and np.isfinite(g.numpy()).all() and np.abs(g.numpy()).sum() > 0
    y2, _ = grad()
    assert not np.allclose(y, y2)  # fresh parameters each call


def _affine(x, angle=0.0, scale=1.0, shift=(0.0, 0.0), fill=-1.0):
    n = len(x)
    return augment.affine(tf.constant(x), tf.fill([n], float(angle)), tf.fill([n], float(scale)),
                          tf.constant([shift] * n, tf.float32), fill).numpy()


def test_affine_identity_turn_and_shifts_against_hand_values():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 5, 5, 2)).astype("float32")
    np.testing.assert_array_equal(_affine(x), x)
    # A quarter turn counter-clockwise on screen is numpy's rot90 over (rows, cols).
    np.testing.assert_allclose(_affine(x, angle=np.pi / 2), np.rot90(x, 1, axes=(1, 2)),
                               atol=1e-5)
    assert not np.allclose(_affine(x, angle=-np.pi / 2), np.rot90(x, 1, axes=(1, 2)), atol=0.1)
    # Whole pixels: the same as DiffAugment's translate (zeros shifted in).
    np.testing.assert_allclose(_affine(x, shift=(1.0, -2.0), fill=0.0),
                               augment.translate(tf.constant(x), tf.constant([[1, -2]] * 2)),
                               atol=1e-6)
    # Half a pixel to the right: each pixel the mean of its neighbours, the
    # first column half the fill.
    y = _affine(x, shift=(0.0, 0.5), fill=-1.0)
    np.testing.assert_allclose(y[:, :, 1:], (x[:, :, 1:] + x[:, :, :-1]) / 2, atol=1e-6)
    np.testing.assert_allclose(y[:, :, 0], (x[:, :, 0] - 1) / 2, atol=1e-6)
    # Scale 2 about the centre of a 5x5 image: the centre stays, (2, 3) comes
    # from (2, 2.5), (0, 0) from (1, 1).
    z = _affine(x, scale=2.0)
    np.testing.assert_allclose(z[:, 2, 2], x[:, 2, 2], atol=1e-6)
    np.testing.assert_allclose(z[:, 2, 3], (x[:, 2, 2] + x[:, 2, 3]) / 2, atol=1e-6)
    np.testing.assert_allclose(z[:, 0, 0], x[:, 1, 1], atol=1e-6)


def test_random_affine_is_differentiable_fresh_each_call_and_identity_at_zero_strength():
    seed = keras.random.SeedGenerator(0)
    x = tf.Variable(np.random.default_rng(1).uniform(-1, 1, (4, 8, 8, 1)).astype("float32"))

    @tf.function
    def warp(rotation, scale, shift):
        with tf.GradientTape() as tape:
            y = augment.random_affine(x, seed, rotation, scale, shift)
            loss = tf.reduce_sum(y)
        return y, tape.gradient(loss, x)

    y, g = warp(15.0, 0.1, 0.1)
    assert not np.allclose(y, x) and np.isfinite(g.numpy()).all()
    # Bilinear weights of each output pixel sum to 1: the input gradient of the
    # sum totals the number of output pixels that landed inside the image.
    assert 0 < float(tf.reduce_sum(g)) <= 4 * 8 * 8 + 1e-3
    assert not np.allclose(warp(15.0, 0.1, 0.1)[0], y)
    y0, g0 = warp(0.0, 0.0, 0.0)
    np.testing.assert_allclose(y0, x, atol=1e-6)
    np.testing.assert_allclose(g0, np.ones(x.shape), atol=1e-6)
    bf16 = augment.random_affine(tf.cast(x, tf.bfloat16), seed, 15.0, 0.1, 0.1)
    assert bf16.dtype == tf.bfloat16


# ------------------------------------------------------------------ norms
def _norm_output(kind, x, rank=4):
    layer = networks.normalization(kind, rank=rank)
    return layer(x, training=True).numpy()


@pytest.mark.parametrize("kind, axes", [("batch", (0, 1, 2)), ("layer", (1, 2, 3)),
                                        ("instance", (1, 2))])
def test_each_norm_normalises_over_its_axes(kind, axes):
    x = np.random.default_rng(0).normal(2, 3, (4, 5, 5, 8)).astype("float32")
    y = _norm_output(kind, x)
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=axes), 1, atol=2e-2)


def test_group_norm_uses_groups_of_channels():
    x = np.random.default_rng(0).normal(2, 3, (2, 4, 4, 64)).astype("float32")
    y = _norm_output("group", x)  # gcd(64, 32) = 32 groups of 2 channels
    grouped = y.reshape(2, 4, 4, 32, 2)
    np.testing.assert_allclose(grouped.mean(axis=(1, 2, 4)), 0, atol=1e-4)
    assert np.abs(y.mean(axis=(1, 2))).max() > 1e-3  # not per channel


def test_sync_batch_statistics_agree_across_replicas_where_batch_does_not():
    strategy = distribute.make_strategy("mirrored", cpu_replicas=2)
    # replica 0 gets zeros, replica 1 fours (with a little spread each)
    spread = np.array([[-0.1], [0.1]] * 2, "float32")
    x = np.concatenate([0.0 + spread, 4.0 + spread])
    outputs = {}
    for kind in ("batch", "sync_batch"):
        with strategy.scope():
            layer = networks.normalization(kind, rank=2)
            layer.build((None, 1))
        ds = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensors(x).unbatch().batch(8))
        out = strategy.run(lambda t: layer(t, training=True), args=(next(iter(ds)),))
        outputs[kind] = [t.numpy() for t in strategy.experimental_local_results(out)]
    # per-replica statistics: each replica's own mean is removed
    np.testing.assert_allclose(outputs["batch"][0], outputs["batch"][1], atol=1e-5)
    assert abs(outputs["batch"][0].mean()) < 1e-5
    # global statistics (mean 2, std ~2): replica 0 below, replica 1 above
    assert outputs["sync_batch"][0].mean() == pytest.approx(-1.0, abs=0.01)
    assert outputs["sync_batch"][1].mean() == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("norm", ["sync_batch", "layer", "group", "spectral", "none"])
def test_norm_flags_build_and_train_dcgan(norm):
    m = build(shape=(16, 16, 1), architecture="dcgan", g_filters=4, d_filters=4,
              g_norm=norm, d_norm=norm)
    g0 = weights(m.generator)
    logs = one_step(m, np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 1)).astype("float32"))
    assert np.isfinite(logs["d_loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(g0, m.generator.get_weights()))
    if norm == "spectral":
        assert any(isinstance(layer, keras.layers.SpectralNormalization)
                   for layer in m.generator.layers + m.discriminator.layers)


def test_instance_norm_is_refused_for_mlp():
    with pytest.raises(ConfigError, match="--g_norm=instance"):
        build(g_norm="instance")


def test_image_to_image_norms_are_flags():
    m = tg.build("pix2pix", (32, 32, 3), g_filters=4, d_filters=4, receptive_field="16",
                 g_norm="group", d_norm="spectral")
    kinds = {type(layer).__name__ for layer in m.generator.layers}
    assert "_GroupNorm" in kinds
    assert any(isinstance(layer, keras.layers.SpectralNormalization)
               for layer in m.discriminator.layers)


def test_adain_moves_statistics_to_the_style():
    x = np.random.default_rng(0).normal(3, 2, (2, 6, 6, 4)).astype("float32")
    style = np.concatenate([np.full((2, 4), 0.5), np.full((2, 4), -1.0)], -1).astype("float32")
    y = AdaIN(epsilon=0.0)([x, style]).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), -1.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 0.5, atol=1e-4)
    target = np.random.default_rng(1).normal(-2, 0.3, (2, 3, 3, 4)).astype("float32")
    y = AdaIN(epsilon=0.0)([x, target]).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), target.mean(axis=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(1, 2)), target.std(axis=(1, 2)), rtol=1e-4)


# ------------------------------------------------------------- two replicas
STATEFUL_TRICKS = {
    "g_ema": dict(g_ema=0.7),
    "historical_averaging": dict(historical_averaging=0.3),
    "virtual_batch_norm": dict(virtual_batch_norm=True, vbn_reference_size=3, g_norm="batch"),
    "feature_matching": dict(feature_matching="features", feature_matching_mode="add"),
    "instance_noise+r1+diffaugment": dict(instance_noise=0.2, r1_gamma=1.0,
                                          diffaugment="color,cutout"),
}


@pytest.mark.parametrize("trick", sorted(STATEFUL_TRICKS))
def test_two_replicas_step_equals_one_device_step_with_trick(trick):
    """One train step (2 D updates + 1 G update) with the trick on, on 2
    mirrored logical CPUs and on one device, from the same weights and the same
    global batch: every weight and every piece of trick state agrees."""
    k, batch = 2, 8
    x = np.random.default_rng(0).uniform(-1, 1, (k * batch, 4, 4, 1)).astype("float32")
    kw = dict(disc_steps=2, **STATEFUL_TRICKS[trick])
    one = build(strategy=tf.distribute.OneDeviceStrategy("/cpu:0"), **kw)
    mirrored = distribute.make_strategy("mirrored", cpu_replicas=2)
    two = build(strategy=mirrored, **kw)
    for net in ("generator", "discriminator"):
        getattr(two, net).set_weights(getattr(one, net).get_weights())
    if one.generator_ema is not None:
        two.generator_ema.set_weights(one.generator_ema.get_weights())
    h1 = one.fit(tf.data.Dataset.from_tensors(x), epochs=1, steps_per_epoch=1,
                 verbose=0).history
    h2 = two.fit(tf.data.Dataset.from_tensors(x).map(
        lambda t: data.interleave_for_replicas((t,), k, 2)), epochs=1, steps_per_epoch=1,
        verbose=0).history
    for key in h1:
        assert h1[key][0] == pytest.approx(h2[key][0], rel=1e-4, abs=1e-6), key
    for net in ("generator", "discriminator", "generator_ema"):
        if getattr(one, net, None) is None:
            continue
        for a, b in zip(getattr(one, net).get_weights(), getattr(two, net).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    items1, items2 = one.extra_checkpoint_items(), two.extra_checkpoint_items()
    for name, var in items1.items():
        if isinstance(var, tf.Variable):
            np.testing.assert_allclose(var.numpy(), items2[name].numpy(), rtol=1e-4,
                                       atol=1e-6, err_msg=name)


def test_bare_feature_matching_flag_means_the_features_layer(flags_parsed):
    from tfgan_suite import train
    fv = flags_parsed(["--model=dcgan", "--feature_matching", "--g_ema=0.99"])
    overrides = train.hparam_overrides(registry.get("dcgan"))
    assert overrides["feature_matching"] == "features" and overrides["g_ema"] == 0.99
    fv = flags_parsed(["--model=dcgan", "--feature_matching=down_0_lrelu"])
    assert fv.feature_matching == "down_0_lrelu"
    flags_parsed(["--model=pix2pix", "--r1_gamma=1"])
    with pytest.raises(ConfigError, match="--r1_gamma is not read by --model=pix2pix"):
        train.hparam_overrides(registry.get("pix2pix"))


@pytest.mark.cli
@pytest.mark.slow
def test_tricks_from_the_command_line_to_an_export_of_the_ema_generator(tmp_path, capsys):
    """train with the stateful tricks on, resume, export: the SavedModel and the
    TFLite model compute the EMA generator, with no reference batch in them."""
    run, exports = tmp_path / "run", tmp_path / "exports"
    args = ["--model=dcgan", "--dataset=bundled:mnist", "--batch_size=8", "--g_filters=4",
            "--d_filters=4", "--latent_dim=5", "--save_every=3", "--sample_every=0",
            "--nojit_compile", f"--model_dir={run}", "--g_ema=0.9", "--virtual_batch_norm",
            "--vbn_reference_size=4", "--feature_matching", "--r1_gamma=1",
            "--instance_noise=0.1", "--diffaugment=translation,cutout",
            "--historical_averaging=0.01"]
    # the apps in this process (tg.run: the same code after flag parsing)
    tg.run("train", *args, "--train_steps=3")
    tg.run("train", *args, "--train_steps=5")
    assert "Resuming" in capsys.readouterr().out
    # (TFLite of the EMA generator: tests/test_contract.py)
    tg.run("export", f"--model_dir={run}", f"--export_dir={exports}", "--name=ema",
           "--formats=saved_model")
    model = tg.load_model(str(run))
    assert model.step == 5 and float(model.g_history.count.numpy()) == 5
    z = np.random.default_rng(0).normal(size=(2, 5)).astype("float32")
    served = tf.saved_model.load(str(exports / "ema" / "1"))
    out = served.signatures["serving_default"](z=tf.constant(z))["images"].numpy()
    np.testing.assert_allclose(out, model.generator_ema(z, training=False), atol=1e-5)
    assert not np.allclose(out, model.generator(z, training=False), atol=1e-4)
    names = {v.name for v in served.variables}
    assert not any("vbn_reference" in n for n in names)


ALL_TRICKS = dict(feature_matching="features", feature_matching_mode="add",
                  minibatch_discrimination=True, minibatch_kernels=3, minibatch_kernel_dim=2,
                  minibatch_stddev=True, virtual_batch_norm=True, vbn_reference_size=3,
                  label_smoothing=0.1, historical_averaging=0.01, instance_noise=0.1,
                  r1_gamma=0.5, g_ema=0.9, diffaugment="color,translation,cutout")


def _trick_families():
    """One model per family of trick handling: the first (by name) of the
    models that declare the trick flags with the same refusals, discriminator
    builder and need of labels (a new model with new handling gets its own)."""
    seen = {}
    for name in registry.list_models():
        spec = registry.get(name)
        if "g_ema" not in spec.declarations:
            continue
        key = (tuple(sorted(spec.cls.refusals())), spec.cls.build_discriminator.__qualname__,
               spec.cls.needs_labels)
        seen.setdefault(key, name)
    return sorted(seen.values())


def _non_default(declared):
    """A value of a hyper-parameter other than its default (to trip a refusal)."""
    if declared.type == "bool":
        return not declared.default
    if declared.type == "enum":
        return next(c for c in declared.choices if c != declared.default)
    if declared.type == "int":
        return ALL_TRICKS.get(declared.name, declared.default + 1)
    return ALL_TRICKS.get(declared.name, "features" if declared.type == "str" else 0.1)


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("name", _trick_families())
def test_every_model_with_the_trick_flags_trains_with_all_it_accepts(name, policy):
    """Every family of models declaring the trick flags (a new one too) trains
    one step with every trick it does not refuse, in float32 and in the mixed
    bfloat16 that ``train`` picks on CPUs with native bfloat16 (conftest resets
    the policy); the ones it refuses fail at build."""
    import keras

    from tfgan_suite.data import synthetic
    keras.mixed_precision.set_global_policy(policy)
    spec = registry.get(name)
    refused = spec.cls.refusals()
    accepted = {k: v for k, v in ALL_TRICKS.items() if k not in refused}
    source = synthetic.source("image", (16, 16, 1), num=8, seed=0,
                              num_classes=3 if spec.cls.needs_labels else 0)
    # Small MLPs and k = 1: the test is about the tricks, not the networks.
    hp = {**spec.tiny, "disc_steps": 1, **accepted}
    if "architecture" not in refused and spec.defaults.get("architecture") == "mlp":
        hp.update(g_hidden_units=(8,), d_hidden_units=(8,))
    try:  # critics with a per-sample penalty refuse the minibatch features
        registry.resolve_hparams(name, hp)
    except ConfigError as e:
        assert "couples the samples of a batch" in str(e)
        hp.update(minibatch_stddev=False, minibatch_discrimination=False)
    model = tg.build(name, data=source, seed=0, **hp)
    k = spec.cls.batches_per_step(model.hparams)
    ds = source.dataset(4, disc_steps=k, seed=0, fields=model.batch_fields)
    g0 = weights(model.generator)
    logs = model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values()), logs
    assert any(not np.array_equal(a, b) for a, b in zip(g0, model.generator.get_weights()))
    assert model.export_networks[0] == "generator_ema"
    assert np.all(np.isfinite(model.generate(2, seed=0)))
    for flag in refused:
        with pytest.raises(ConfigError, match=f"--{flag}: --model={name} cannot use it"):
            tg.build(name, data=source, seed=0,
                     **{**spec.tiny, flag: _non_default(spec.declarations[flag])})
