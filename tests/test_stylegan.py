"""StyleGAN: style mixing, truncation, noise inputs, the average w, the
figures, two replicas and the command line. The contract (one step, grid,
export of serving_default / mix / generate, TFLite) is tests/test_contract.py;
AdaIN's statistics are tested in tests/test_tricks.py."""
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from conftest import step_on_one_and_two_replicas
from tfgan_suite import distribute
from tfgan_suite.data import synthetic
from tfgan_suite.networks.stylegan import StyleGANGenerator

pytestmark = pytest.mark.slow

EVERY_NETWORK = ("generator", "discriminator", "generator_ema")

TINY = dict(latent_dim=4, fmap_base=32, fmap_max=4, mapping_layers=2)


def _model(strategy=None, size=8, **kw):
    source = synthetic.source("image", (size, size, 1), num=16, seed=0)
    scope = strategy.scope() if strategy else tf.distribute.get_strategy().scope()
    with scope:
        return tg.build("stylegan", data=source, seed=3, **{**TINY, **kw}), source


@pytest.fixture(scope="module")
def generator():
    g = StyleGANGenerator(4, 5, 2, 1, [4, 4, 4], seed=1)
    g.w_avg.assign(np.linspace(-1, 1, 5).astype("float32"))
    for layer in g.style_layers:  # give the noise inputs a say
        layer.noise_scale.assign(np.full(layer.noise_scale.shape, 0.5, "float32"))
    return g


def _z(n, seed):
    return np.random.default_rng(seed).normal(size=(n, 4)).astype("float32")


def test_style_mixing_takes_the_second_style_from_the_crossover_layer_on(generator):
    z1, z2 = _z(3, 0), _z(3, 1)
    w1, w2 = generator.map(z1).numpy(), generator.map(z2).numpy()
    crossover = np.array([1, 3, 6], "int32")  # 6 layers: the last takes no mixing
    ws = generator.styles(z1, z2, crossover, tf.constant(1.0)).numpy()
    assert ws.shape == (3, 6, 5)
    for i, c in enumerate(crossover):
        np.testing.assert_allclose(ws[i, :c], np.repeat(w1[i:i + 1], c, 0), rtol=1e-6)
        np.testing.assert_allclose(ws[i, c:], np.repeat(w2[i:i + 1], 6 - c, 0), rtol=1e-6)


def test_truncation_psi_zero_gives_the_average_w_and_one_leaves_w(generator):
    z = _z(3, 2)
    full = np.full(3, 6, "int32")
    at0 = generator.styles(z, z, full, tf.constant(0.0)).numpy()
    np.testing.assert_allclose(at0, np.broadcast_to(generator.w_avg.numpy(), at0.shape),
                               atol=1e-6)
    at1 = generator.styles(z, z, full, tf.constant(1.0)).numpy()
    np.testing.assert_allclose(at1[:, 0], generator.map(z).numpy(), rtol=1e-6)


def test_noise_is_fresh_in_training_and_fixed_in_inference(generator):
    z = _z(2, 3)
    args = (z, z, np.full(2, 6, "int32"), tf.constant(1.0), tf.constant(1.0))
    a, b = (generator(args, training=False).numpy() for _ in range(2))
    np.testing.assert_array_equal(a, b)
    c, d = (generator(args, training=True).numpy() for _ in range(2))
    assert not np.allclose(c, d)
    # with the noise scales at 0 (their initial value) training is deterministic too
    fresh = StyleGANGenerator(4, 5, 2, 1, [4, 4, 4], seed=1)
    e, f = (fresh(args, training=True).numpy() for _ in range(2))
    np.testing.assert_allclose(e, f, atol=1e-6)


def test_training_tracks_the_average_w_and_the_figures_use_it():
    model, source = _model(style_mixing=0.5)
    before = model.generator.w_avg.numpy().copy()
    model.fit(source.dataset(8, seed=0), steps_per_epoch=1, epochs=1, verbose=0)
    after = model.generator.w_avg.numpy()
    # one G update: w_avg = 0.995 * 0 + 0.005 * mean(w), nonzero; the EMA copy follows
    assert not np.allclose(after, before) and np.abs(after).max() < 0.05
    np.testing.assert_array_equal(model.generator_ema.w_avg.numpy(), after)

    grid = model.figures()["truncation"](num=3, seed=0)
    images = grid.images.reshape(3, 6, 8, 8, 1)
    np.testing.assert_allclose(images[:, 3], np.broadcast_to(images[0, 3], images[:, 3].shape),
                               atol=1e-6)  # psi = 0: every row is the average image
    assert not np.allclose(images[0, 0], images[1, 0])  # psi = 1: distinct samples
    np.testing.assert_allclose(images[:, 0], model.generate_from(
        {"z": model.draw_noise(np.random.default_rng(0), 3)}), atol=1e-6)

    mixing = model.figures()["style_mixing"](num=3, steps=2, seed=0)
    ranges = model.style_ranges()
    assert [r[0] for r in ranges] == ["coarse"]  # 8x8: 4 style layers, all coarse
    assert mixing.images.shape == ((1 + 2 * len(ranges)) * 4, 8, 8, 1)
    cells = mixing.images.reshape(-1, 4, 8, 8, 1)
    # taking all 4 (coarse) styles from B reproduces B
    np.testing.assert_allclose(cells[1, 1:], cells[0, 1:], atol=1e-5)


def test_two_replicas_step_equals_one_device_step():
    # 4x4: one resolution, its two style layers (mixing picks a crossover between them)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 4, 4, 1)).astype("float32")
    kw = dict(optimizer="sgd", beta1=0.0, g_learning_rate=0.05, d_learning_rate=0.05,
              g_ema=0.5, style_mixing=0.5, r1_gamma=1.0, size=4)
    one, _ = _model(tf.distribute.OneDeviceStrategy("/cpu:0"), **kw)
    two, _ = _model(distribute.make_strategy("mirrored", cpu_replicas=2), **kw)
    for net in EVERY_NETWORK:
        getattr(two, net).set_weights(getattr(one, net).get_weights())
    for layer in one.generator.style_layers + two.generator.style_layers:
        layer.noise_scale.assign(np.full(layer.noise_scale.shape, 0.3, "float32"))
    step_on_one_and_two_replicas(one, two, (x,), EVERY_NETWORK)


@pytest.mark.cli
def test_cli_trains_and_draws_its_figures(tmp_path, flags_parsed):
    run = tmp_path / "run"
    tg.run("train", "--model=stylegan", "--dataset=bundled:fashion_mnist",
           "--image_size=8", "--batch_size=4", "--latent_dim=4", "--fmap_base=32",
           "--fmap_max=4", "--mapping_layers=2", "--train_steps=2",
           "--sample_every=0", "--nojit_compile", f"--model_dir={run}")
    from tfgan_suite import sample
    png = tmp_path / "mixing.png"
    flags_parsed([f"--model_dir={run}", "--figure=style_mixing", f"--out={png}", "--num=3"])
    sample.sample_main()
    from PIL import Image

    from tfgan_suite import visualize
    grid = tg.load_model(str(run)).figures()["style_mixing"](num=3, seed=42)  # --seed default
    assert grid.images.shape == (3 * 4, 8, 8, 1)  # B row + 2 A rows (coarse only), 1 + 3 wide
    np.testing.assert_array_equal(np.asarray(Image.open(png)).reshape(-1),
                                  np.asarray(visualize.picture(grid)).reshape(-1))
    flags_parsed([f"--model_dir={run}", "--figure=nope", f"--out={png}"])
    with pytest.raises(tg.ConfigError, match="--figure=nope: stylegan draws style_mixing, "
                       "truncation"):
        sample.sample_main()
