"""Progressive GAN: the fade-in, the growth schedule, the real images at the
stage's resolution, the optimizer restart when the networks grow, a resume in
the middle of a fade, two replicas, and the command line through every stage
to an export of an earlier one. The contract (one step, grid, export, TFLite)
is covered by tests/test_contract.py."""
import json

import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from conftest import step_on_one_and_two_replicas
from tfgan_suite import distribute
from tfgan_suite.data import synthetic
from tfgan_suite.errors import ConfigError
from tfgan_suite.networks.progan import ProGANDiscriminator, ProGANGenerator

pytestmark = pytest.mark.slow

EVERY_NETWORK = ("generator", "discriminator", "generator_ema")

TINY = dict(latent_dim=4, fmap_base=32, fmap_max=4, fade_steps=4, stable_steps=2)


def _model(strategy=None, size=8, **kw):
    source = synthetic.source("image", (size, size, 1), num=16, seed=0)
    scope = strategy.scope() if strategy else tf.distribute.get_strategy().scope()
    with scope:
        return tg.build("progan", data=source, seed=3, **{**TINY, **kw}), source


def _pool(x, f):
    n, h, w, c = x.shape
    return x.reshape(n, h // f, f, w // f, f, c).mean(axis=(2, 4))


def _up(x, f=2):
    return x.repeat(f, axis=1).repeat(f, axis=2)


def test_fade_in_starts_at_the_previous_stage_upsampled_and_ends_at_the_new_block():
    g = ProGANGenerator(4, 1, [4, 4, 4])
    z = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    g.stage = 1
    previous = g((z, tf.constant(1.0))).numpy()  # 8x8, fade done
    g.stage = 2
    at0 = g((z, tf.constant(0.0))).numpy()
    np.testing.assert_allclose(at0, _up(previous), atol=1e-6)
    at1 = g((z, tf.constant(1.0))).numpy()
    new = g.to_rgb[2](g.features(tf.constant(z), 2)[1]).numpy()
    np.testing.assert_allclose(at1, new, atol=1e-6)
    half = g((z, tf.constant(0.5))).numpy()
    np.testing.assert_allclose(half, 0.5 * (at0 + at1), atol=1e-5)
    assert at1.shape == (3, 16, 16, 1) and not np.allclose(at0, at1)

    d = ProGANDiscriminator(1, [4, 4, 4])
    x = np.random.default_rng(1).normal(size=(4, 16, 16, 1)).astype("float32")
    d.stage = 1
    low = d((_pool(x, 2), tf.constant(1.0))).numpy()
    d.stage = 2
    np.testing.assert_allclose(d((x, tf.constant(0.0))).numpy(), low, rtol=1e-4, atol=1e-5)
    assert not np.allclose(d((x, tf.constant(1.0))).numpy(), low)


def test_growth_schedule_by_hand():
    model, _ = _model(size=16)
    # stable 2 at 4x4; then 8x8 fades over steps 2..6 and is stable to 8; 16x16 from 8
    assert model.stage_boundaries() == (2, 8)
    assert [model.stage_at(s) for s in (0, 1, 2, 7, 8, 100)] == [0, 0, 1, 1, 2, 2]
    assert [model.alpha_at(s, 1) for s in (2, 3, 4, 6, 7)] == [0.0, 0.25, 0.5, 1.0, 1.0]
    assert model.alpha_at(1, 0) == 1.0
    with pytest.raises(ConfigError, match="--image_size=24"):
        tg.build("progan", data=synthetic.source("image", (24, 24, 1), num=4, seed=0),
                 **TINY)


def test_real_images_reach_the_critic_at_the_stage_resolution_faded():
    model, _ = _model(size=16)
    model.g_optimizer.iterations.assign(3)  # stage 1, alpha 0.25
    model.make_train_function()
    x = np.random.default_rng(2).uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    got = model.unpack((tf.constant(x),))["images"].numpy()
    x8 = _pool(x, 2)
    np.testing.assert_allclose(got, 0.75 * _up(_pool(x8, 2)) + 0.25 * x8, atol=1e-6)


def _slots(optimizer, variable):
    i = optimizer._get_variable_index(variable)  # pylint: disable=protected-access
    return optimizer._momentums[i].numpy(), optimizer._velocities[i].numpy()  # noqa


def test_growing_restarts_adam_and_a_resume_mid_fade_keeps_alpha_and_state(tmp_path):
    model, source = _model(g_learning_rate=1e-3)
    ds = source.dataset(8, seed=0)
    model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)  # stage 0
    new = model.generator.convs[1][0].kernel
    assert np.abs(_slots(model.g_optimizer, model.generator.convs[0][0].kernel)[1]).max() > 0
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)  # step 2: enters stage 1, alpha 0
    assert int(model.grown_to.numpy()) == 1 and model.traced_stage == 1
    assert int(model.g_optimizer.restarted_at.numpy()) == 2
    before = new.numpy().copy()
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)  # step 3, alpha 0.25
    # Adam restarted at step 2, whose gradient for the new block was 0 (alpha 0):
    # at t = 2 each weight moves by lr * sqrt(1 + beta2) = 1.411 lr; without the
    # restart (t = 4) it would be lr * sqrt(1 + b2 + b2^2 + b2^3) = 1.985 lr.
    # (Weights whose gradient is near Adam's epsilon move less: the median and
    # the largest step are what the restart fixes.)
    moved = np.abs(new.numpy() - before)
    assert np.median(moved) == pytest.approx(1e-3 * np.sqrt(1.99), rel=1e-2)
    assert moved.max() <= 1e-3 * np.sqrt(1.99) * 1.001
    assert np.mean(np.abs(moved / (1e-3 * np.sqrt(1.99)) - 1) < 0.01) > 0.8

    # step 4: stage 1, alpha 0.5; a checkpoint, then one more step
    ckpt = tf.train.Checkpoint(**model.checkpoint_items())
    path = ckpt.save(str(tmp_path / "ckpt"))
    slots = _slots(model.g_optimizer, new)
    logs = model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0).history
    assert logs["alpha"][0] == 0.5

    again, _ = _model(g_learning_rate=1e-3)
    tf.train.Checkpoint(**again.checkpoint_items()).restore(path).assert_consumed()
    assert again.step == 4 and again.stage_at(again.step) == 1
    again.make_train_function()
    assert float(again.alpha().numpy()) == 0.5
    # not restarted again: the fade's optimizer state is the checkpoint's
    for a, b in zip(_slots(again.g_optimizer, again.generator.convs[1][0].kernel), slots):
        np.testing.assert_array_equal(a, b)


def test_two_replicas_step_equals_one_device_step_in_a_fade():
    x = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    kw = dict(optimizer="sgd", beta1=0.0, g_learning_rate=0.05, d_learning_rate=0.05,
              g_ema=0.5)
    one, _ = _model(tf.distribute.OneDeviceStrategy("/cpu:0"), **kw)
    two, _ = _model(distribute.make_strategy("mirrored", cpu_replicas=2), **kw)
    for net in EVERY_NETWORK:
        getattr(two, net).set_weights(getattr(one, net).get_weights())
    for m in (one, two):
        m.g_optimizer.iterations.assign(3)
        m.d_optimizer.iterations.assign(3)
    h1 = step_on_one_and_two_replicas(one, two, (x,), EVERY_NETWORK)
    assert h1["alpha"][0] == 0.25


@pytest.mark.cli
def test_cli_grows_through_every_stage_and_an_earlier_stage_exports(tmp_path):
    """The trainer ends a fit at the stage boundary (a checkpoint and a grid
    there); ``select_stage`` (export --stage) exports stage 0 at 4x4."""
    from tfgan_suite import exporter
    run, exports = tmp_path / "run", tmp_path / "exports"
    tg.run("train", "--model=progan", "--dataset=bundled:fashion_mnist",
           "--image_size=8", "--batch_size=4", "--latent_dim=4", "--fmap_base=32",
           "--fmap_max=4", "--fade_steps=4", "--stable_steps=2", "--save_every=100",
           "--sample_every=0", "--nojit_compile", f"--model_dir={run}",
           "--train_steps=7")
    steps = sorted(int(p.name.split("-")[1].split(".")[0])
                   for p in (run / "checkpoints").glob("ckpt-*.index"))
    assert steps == [2, 7], steps  # the end of stage 0, the end of the run
    grids = sorted(p.name for p in (run / "samples").glob("step_*.png"))
    assert grids == ["step_0000000.png", "step_0000002.png", "step_0000007.png"]
    model = tg.load_model(str(run))
    assert model.step == 7 and model.stage_at(model.step) == 1
    with pytest.raises(ConfigError, match="--stage=5"):
        model.select_stage(5)
    model.select_stage(0)
    exporter.write_saved_model(model, str(exports), "progan")
    loaded = tf.saved_model.load(str(exports / "progan" / "1"))
    meta = json.loads(loaded.signatures["metadata"]()["json"].numpy())
    assert meta["stage"] == 0 and meta["output_shape"] == [4, 4, 1]
    z = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    images = loaded.signatures["serving_default"](z=tf.constant(z))["images"].numpy()
    assert images.shape == (2, 4, 4, 1)
    model.generator_ema.stage = 0
    expected = np.clip(model.generator_ema((z, tf.constant(1.0))).numpy(), -1, 1)
    np.testing.assert_allclose(images, expected, atol=1e-5)
