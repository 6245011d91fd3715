"""Image-to-image models: pix2pix, CycleGAN, SimGAN (training, losses, phases,
evaluation, TFLite)."""
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from tfgan_suite import data
from tfgan_suite.errors import ConfigError
from tfgan_suite.models.base import call_frozen
from tfgan_suite.models.contract import Phase


def _pair_batch(n=2, size=64, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (n, size, size, channels)).astype("float32")
    return a, np.tanh(a[..., ::-1] * 2).astype("float32")


def _snapshot(variables):
    return [v.numpy().copy() for v in variables]


def _moved(before, variables):
    return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


@pytest.mark.parametrize("name,size,hp", [
    ("pix2pix", 64, dict(g_filters=8, d_filters=8)),
    # cyclegan: every network moving is checked by tests/test_contract.py
    ("simgan", 64, dict(g_filters=8, refiner_blocks=1, refiner_steps=1, pool_size=4,
                        refiner_pretrain_steps=0, disc_pretrain_steps=0)),
])
def test_each_model_trains_in_rgb_with_finite_losses_and_moves_its_networks(name, size, hp):
    model = tg.build(name, (size, size, 3), seed=0, **hp)
    a, b = _pair_batch(size=size)
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()
    nets = [model.generator, model.discriminator] + [
        getattr(model, n) for n in ("generator_b2a", "discriminator_a") if hasattr(model, n)]
    before = [_snapshot(n.trainable_variables) for n in nets]
    logs = model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert model.step == 2
    for net, snap in zip(nets, before):
        assert all(_moved(snap, net.trainable_variables)), net.name
    out = model.translate(a)
    assert out.shape == a.shape and float(tf.reduce_max(tf.abs(out))) <= 1.0


def test_pix2pix_dropout_is_its_noise_at_test_time_unless_turned_off():
    model = tg.build("pix2pix", (32, 32, 1), seed=0, g_filters=4, d_filters=4)
    a, _ = _pair_batch(1, 32, 1)
    assert not np.allclose(model.translate(a).numpy(), model.translate(a).numpy())
    model.set_test_dropout(False)
    np.testing.assert_array_equal(model.translate(a).numpy(), model.translate(a).numpy())


def test_pix2pix_discriminator_sees_input_output_pairs():
    model = tg.build("pix2pix", (32, 32, 1), seed=0, g_filters=4, d_filters=4)
    assert len(model.discriminator.inputs) == 2
    assert model.size_multiple == 32


def test_pix2pix_losses_follow_the_paper_on_a_fixed_batch():
    """G's loss on a fixed batch falls with training (it is dominated by 100 x L1,
    which G minimises directly)."""
    model = tg.build("pix2pix", (32, 32, 1), seed=0, g_filters=8, d_filters=8,
                     test_dropout=False, g_learning_rate=2e-3)
    a, b = _pair_batch(4, 32, 1)
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()
    def g_loss():
        fake = call_frozen(model.generator, a)
        return float(model.generator_loss(b, fake, call_frozen(model.discriminator,
                                                              [a, fake]))[0])
    g0 = g_loss()
    model.fit(ds, steps_per_epoch=15, epochs=1, verbose=0)
    g1 = g_loss()
    assert g1 < 0.9 * g0


def test_cyclegan_optimizers_cover_both_networks_of_each_kind():
    model = tg.build("cyclegan", (32, 32, 1), seed=0, g_filters=4, d_filters=4,
                     resnet_blocks=1)
    g_ids = {id(v) for v in model.g_variables()}
    assert {id(v) for v in model.generator_b2a.trainable_variables} <= g_ids
    assert {id(v) for v in model.discriminator_a.trainable_variables} <= {
        id(v) for v in model.d_variables()}
    assert set(model.checkpoint_items()) >= {"generator_b2a", "discriminator_a", "pool_a",
                                             "pool_b"}


def test_cyclegan_identity_weight_zero_drops_the_term():
    model = tg.build("cyclegan", (32, 32, 1), seed=0, g_filters=4, d_filters=4,
                     resnet_blocks=1, identity_weight=0.0)
    a, b = _pair_batch(2, 32, 1)
    _, logs, _, _ = model.generator_losses(a, b)
    assert float(logs["identity_loss"]) == 0.0
    with_id = tg.build("cyclegan", (32, 32, 1), seed=0, g_filters=4, d_filters=4,
                       resnet_blocks=1)
    _, logs, _, _ = with_id.generator_losses(a, b)
    assert float(logs["identity_loss"]) > 0.0


def test_simgan_schedule_counts_training_steps():
    """Kg refiner updates per step stretch the refiner's schedule; the D
    pre-training updates shift the discriminator's."""
    model = tg.build("simgan", (16, 16, 1), g_filters=4, refiner_blocks=1, refiner_steps=2,
                     disc_steps=1, disc_pretrain_steps=5, lr_constant_steps=10,
                     lr_decay_steps=30)
    g = model.g_optimizer._learning_rate.get_config()  # the schedule object
    d = model.d_optimizer._learning_rate.get_config()
    assert (g["constant_steps"], g["decay_steps"]) == (20, 60)
    assert (d["constant_steps"], d["decay_steps"]) == (15, 30)


def test_simgan_pretraining_moves_only_the_network_of_its_phase():
    model = tg.build("simgan", (16, 16, 1), seed=0, g_filters=4, refiner_blocks=1,
                     refiner_pretrain_steps=2, disc_pretrain_steps=2, pool_size=4)
    a, b = _pair_batch(4, 16, 1)
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()
    r0, d0 = _snapshot(model.generator.trainable_variables), _snapshot(
        model.discriminator.trainable_variables)
    model.run_phase(Phase("refiner", 2, lambda: None), ds, verbose=0)
    assert all(_moved(r0, model.generator.trainable_variables))
    assert not any(_moved(d0, model.discriminator.trainable_variables))
    r1 = _snapshot(model.generator.trainable_variables)
    model.run_phase(Phase("discriminator", 2, lambda: None), ds, verbose=0)
    assert not any(_moved(r1, model.generator.trainable_variables))
    assert all(_moved(d0, model.discriminator.trainable_variables))
    assert model.step == 0 and int(model.g_optimizer.iterations.numpy()) == 0
    assert [p.name for p in model.training_phases()] == ["refiner", "discriminator"]
    model.training_phases()[-1].finish()  # the last phase records the pre-training
    assert model.training_phases() == []  # done: not run again (it is checkpointed)


def _same_steps_on_one_and_two_replicas(make, nets, tensors, steps=1):
    """``make(strategy)`` on one device and on 2 mirrored logical CPUs, the second
    given the first's weights; ``steps`` training steps of each on the global
    batch ``tensors``, whose logs and ``nets`` weights must agree after each
    step, and which must move the one-device weights. Returns (one, two, logs)."""
    from conftest import step_on_one_and_two_replicas

    from tfgan_suite import distribute
    one = make(tf.distribute.OneDeviceStrategy("/cpu:0"))
    two = make(distribute.make_strategy("mirrored", cpu_replicas=2))
    for net in nets:
        getattr(two, net).set_weights(getattr(one, net).get_weights())
    before = [w.copy() for net in nets for w in getattr(one, net).get_weights()]
    for _ in range(steps):
        logs = step_on_one_and_two_replicas(one, two, tensors, nets, weight_atol=1e-5)
    after = [w for net in nets for w in getattr(one, net).get_weights()]
    assert any(not np.allclose(x, y) for x, y in zip(before, after))
    return one, two, logs


def _assert_pool_is_global(one_pool, two_pool):
    """Both replicas hold the pool that one device holds."""
    copies = [v.numpy() for v in two_pool.images.values]
    np.testing.assert_allclose(copies[0], copies[1])
    np.testing.assert_allclose(copies[0], one_pool.images.numpy(), atol=1e-5)


def test_cyclegan_step_on_two_replicas_equals_one_device_step_with_its_image_pools():
    """Both generators and both discriminators, the cycle and identity terms
    and the image pools: one step on 2 mirrored logical CPUs moves every weight
    as one device does with the same global batch of 4. The pools hold 2
    images, so the first two fakes fill them and the last two go through the
    swap rule; the pools are global (the same on every replica and on one
    device). Instance norm is per image."""
    def make(strategy):
        with strategy.scope():
            return tg.build("cyclegan", (16, 16, 1), seed=0, g_filters=4, d_filters=4,
                            resnet_blocks=1, pool_size=2, receptive_field="16")
    one, two, logs = _same_steps_on_one_and_two_replicas(
        make, ("generator", "generator_b2a", "discriminator", "discriminator_a"),
        _pair_batch(4, 16, 1))
    assert logs["cycle_loss"][0] > 0 and logs["identity_loss"][0] > 0
    for name in ("pool_a", "pool_b"):
        _assert_pool_is_global(getattr(one, name), getattr(two, name))


@pytest.mark.parametrize("norms", [("instance", "instance"), ("batch", "sync_batch")])
def test_pix2pix_step_on_two_replicas_equals_one_device_step(norms):
    """U-Net G, PatchGAN D on (input, output) pairs, the L1 term: one step on 2
    mirrored logical CPUs (one image per replica) moves every weight as one
    device does with the same global batch of 2. Instance norm is per image;
    BatchNorm over the global batch needs ``sync_batch`` on the replicas, which
    must then match plain ``batch`` on one device. The decoder's dropout is a
    random draw per device, so its rate is set to 0 here. Plain SGD makes the
    weights after the step a faithful record of the gradients: Adam's first
    update, lr * g / (|g| + eps), turns a gradient at rounding level (the fused
    instance norm reduces a batch of 2 and of 1 in different orders) into a
    full step of either sign."""
    import keras

    from tfgan_suite.networks.norm import InferenceDropout, _walk

    def make(strategy):  # norms[0] on one device, norms[1] on 2 replicas
        with strategy.scope():
            model = tg.build("pix2pix", (16, 16, 1), seed=0, g_filters=4, d_filters=4,
                             g_norm=norms[strategy.num_replicas_in_sync - 1],
                             receptive_field="16",
                             g_optimizer=keras.optimizers.SGD(0.1),
                             d_optimizer=keras.optimizers.SGD(0.1))
        dropouts = [x for x in _walk(model.generator, set()) if isinstance(x, InferenceDropout)]
        assert dropouts
        for layer in dropouts:
            layer.rate = 0.0
        return model
    _, _, logs = _same_steps_on_one_and_two_replicas(make, ("generator", "discriminator"),
                                                     _pair_batch(2, 16, 1))
    assert logs["g_l1"][0] > 0 and logs["d_loss"][0] > 0


def test_simgan_steps_on_two_replicas_equal_one_device_steps_with_its_history():
    """SimGAN's adversarial phase with the history buffer of refined images: two
    steps on 2 mirrored logical CPUs move refiner and discriminator as one
    device does with the same global batch of 4. The buffer holds 4 images:
    the first step fills it, the second shows D half current, half stored
    images and stores the new ones in random slots."""
    def make(strategy):
        with strategy.scope():
            model = tg.build("simgan", (16, 16, 1), seed=0, g_filters=4, refiner_blocks=1,
                             refiner_steps=1, pool_size=4, refiner_pretrain_steps=0,
                             disc_pretrain_steps=0)
        assert model.training_phases() == []
        return model
    one, two, logs = _same_steps_on_one_and_two_replicas(
        make, ("generator", "discriminator"), _pair_batch(4, 16, 1), steps=2)
    assert logs["d_loss"][0] > 0
    _assert_pool_is_global(one.pool, two.pool)
    assert int(one.pool.count.numpy()) == 4


def test_cyclegan_trains_under_mirrored_strategy():
    strategy = tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())
    with strategy.scope():
        model = tg.build("cyclegan", (16, 16, 1), seed=0, g_filters=4, d_filters=4,
                         resnet_blocks=1, pool_size=2, receptive_field="16")
    a, b = _pair_batch(4, 16, 1)
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()
    logs = model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert [int(c.numpy()) for c in model.pool_a.count.values] == [2, 2]


def test_translation_models_refuse_single_domain_data():
    with pytest.raises(ConfigError, match="two domains"):
        tg.build("cyclegan", (32, 32, 1), data_kind="image")
    with pytest.raises(ConfigError, match="paired"):
        tg.build("pix2pix", (32, 32, 1), data_kind="unpaired")


def test_evaluation_identity_floor_matches_hand_computation():
    from tfgan_suite.metrics import evaluation, image_quality
    source = data.load("bundled:edges2shoes", split="test", jitter=False)
    model = tg.build("pix2pix", source.shape, seed=0, g_filters=4, d_filters=4)
    result = evaluation.evaluate(model, source, None, [], num_samples=6, batch_size=4,
                                 split="test")
    a, b = next(iter(source.pairs(6, num=6)))
    assert result["num_images"] == 6
    assert result["identity_l1"]["value"] == pytest.approx(
        float(np.abs(a.numpy() - b.numpy()).mean()), rel=1e-5)
    assert result["identity_psnr"]["value"] == pytest.approx(
        float(image_quality.psnr(a, b).mean()), rel=1e-5)
    assert "l1" in result and "ssim" in result


def test_pix2pix_tflite_is_converted_without_test_dropout_and_matches_keras():
    pytest.importorskip("ai_edge_litert")
    from tfgan_suite import exporter
    model = tg.build("pix2pix", (32, 32, 1), seed=0, g_filters=4, d_filters=4)
    flat = exporter.convert_tflite(model)  # dropout (random ops) would not convert
    report = exporter.parity(model, {"float32": flat}, num=2)
    assert report["float32_max_abs_diff"] < 1e-4
    # the SavedModel side keeps the paper's noise
    a, _ = _pair_batch(1, 32, 1)
    assert not np.allclose(model.translate(a).numpy(), model.translate(a).numpy())


def test_epoch_schedule_flags_become_steps(flags_parsed):
    from tfgan_suite import registry, train
    flags_parsed(["--model=cyclegan", "--lr_constant_epochs=2", "--lr_decay_epochs=3"])
    source = data.load("bundled:sneakers2boots")
    hp = registry.resolve_hparams("cyclegan", {}, source.kind)
    out = train.epoch_schedule(hp, {}, source, 4, "cyclegan")
    per_epoch = 3021 // 4  # the larger domain, as in CycleGAN
    assert (out["lr_constant_steps"], out["lr_decay_steps"]) == (2 * per_epoch, 3 * per_epoch)
    with pytest.raises(ConfigError, match="epochs or in steps"):
        train.epoch_schedule(hp, {"lr_decay_steps": 5}, source, 4, "cyclegan")


def test_models_without_noise_draw_none_when_sampled_or_evaluated():
    """pix2pix's inputs are held-out images; neither its grid nor its evaluation
    touches the model's noise stream (nor asks for a latent size)."""
    source = data.load("bundled:edges2shoes", split="test", jitter=False)
    model = tg.build("pix2pix", data=source, seed=0, g_filters=4, d_filters=4,
                     test_dropout=False)
    run_data = data.RunData(data.DataOptions("bundled:edges2shoes"), held_out=(source, "test"))
    state = model.seed_generator.state.numpy().copy()
    inputs = model.sample_inputs(3, seed=1, data=run_data)
    assert set(inputs) == {"images"}
    grid = model.grid_renderer(run_data, 3, seed=1)()
    from tfgan_suite.metrics import evaluation
    evaluation.evaluate(model, source, None, [], num_samples=4, batch_size=2, split="test")
    np.testing.assert_array_equal(model.seed_generator.state.numpy(), state)
    assert grid.images.shape == (9, 32, 32, 1) and grid.cols == 3
    assert "latent_dim" not in model.hparams
    meta = model.export_metadata()  # the first exports' keys, for their clients
    assert (meta["latent_dim"], meta["test_dropout"], meta["stochastic"]) == (0, False, False)
    with_dropout = tg.build("pix2pix", data=source, g_filters=4, d_filters=4)
    assert with_dropout.export_metadata()["test_dropout"] is True
