"""Super-resolution: SRResNet and SRGAN, their data, measures, tiling and export."""
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_suite as tg
from tfgan_suite import data, exporter, networks, tiling
from tfgan_suite.data import superres, synthetic
from tfgan_suite.layers import BicubicUpsample, PixelShuffle, PReLU
from tfgan_suite.metrics import image_quality

from conftest import REPO, write_png


def _tiny(name="srresnet", shape=(16, 16, 3), **hp):
    source = synthetic.source("superres", shape, num=8, seed=0)
    settings = dict(tg.registry.get(name).tiny, **hp)
    return tg.build(name, data=source, seed=0, **settings), source


# ----------------------------------------------------------------- networks
@pytest.mark.parametrize("scale", [2, 4, 8])
def test_generator_output_is_scale_times_any_input_size(scale):
    g = networks.srresnet_generator(3, scale, num_blocks=1, filters=4)
    for h, w in ((7, 7), (13, 5), (16, 21)):
        out = g(np.zeros((2, h, w, 3), np.float32))
        assert out.shape == (2, h * scale, w * scale, 3)


def test_srresnet_has_the_papers_layout():
    g = networks.srresnet_generator(3, 4)  # 16 blocks, 64 filters
    convs = [l for l in g.layers if isinstance(l, keras.layers.Conv2D)]
    assert convs[0].kernel_size == (9, 9) and convs[-1].kernel_size == (9, 9)
    assert len(convs) == 1 + 16 * 2 + 1 + 2 + 1
    assert sum(isinstance(l, PixelShuffle) for l in g.layers) == 2
    assert [l.filters for l in convs if l.name.startswith("up")] == [256, 256]
    d = networks.srgan_discriminator((96, 96, 3))
    dconvs = [l for l in d.layers if isinstance(l, keras.layers.Conv2D)]
    assert [l.filters for l in dconvs] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [l.strides[0] for l in dconvs] == [1, 2, 1, 2, 1, 2, 1, 2]
    assert d.output_shape == (None, 1)


def test_pixel_shuffle_matches_depth_to_space_semantics():
    # one pixel with 4 channels -> a 2x2 block read row by row
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 1, 4)
    np.testing.assert_array_equal(PixelShuffle(2)(x).numpy()[0, :, :, 0], [[0, 1], [2, 3]])
    # a known [1, 2, 2, 8] tensor against the reshape/transpose definition
    x = np.random.default_rng(0).normal(size=(1, 2, 2, 8)).astype(np.float32)
    r, c = 2, 2
    ref = x.reshape(1, 2, 2, r, r, c).transpose(0, 1, 3, 2, 4, 5).reshape(1, 4, 4, c)
    np.testing.assert_allclose(PixelShuffle(2)(x).numpy(), ref)


def test_prelu_slopes_are_per_channel_and_trainable():
    layer = PReLU(0.25)
    x = tf.constant(np.array([[[[-2.0, -2.0, 3.0]]]], np.float32))
    y = layer(x)
    assert layer.alpha.shape == (1, 1, 3) and layer.alpha in layer.trainable_weights
    np.testing.assert_allclose(y.numpy()[0, 0, 0], [-0.5, -0.5, 3.0])
    layer.alpha.assign([[[0.1, 0.5, 0.9]]])
    np.testing.assert_allclose(layer(x).numpy()[0, 0, 0], [-0.2, -1.0, 3.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    grad = tape.gradient(loss, layer.alpha).numpy()
    np.testing.assert_allclose(grad[0, 0], [-2.0, -2.0, 0.0])  # d/da = x where x < 0


# ----------------------------------------------------------------- tiling
def _small_rf_generator(scale=2):
    """Receptive field radius 2 input pixels (two 3x3 convolutions)."""
    x = inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(3 * scale * scale, 3, padding="same")(x)
    return keras.Model(inputs, PixelShuffle(scale)(x))


def test_tiled_inference_equals_whole_image_inference():
    g = _small_rf_generator()
    image = np.random.default_rng(1).uniform(-1, 1, (45, 61, 3)).astype(np.float32)
    whole = g(image[None]).numpy()[0]
    fn = lambda t: g(t).numpy()  # noqa: E731
    # context >= the receptive-field radius: equal everywhere
    tiled = tiling.upscale_tiled(fn, image, 2, window=16, context=2, overlap=2)
    assert tiled.shape == whole.shape
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    # no context: windows see zero padding at their inner edges -> differences,
    # but only within the receptive field of a seam (here 2 input = 4 output px)
    rough = tiling.upscale_tiled(fn, image, 2, window=16, context=0, overlap=2)
    diff = np.abs(rough - whole).max(-1)
    assert diff.max() > 1e-3
    stride = 16 - 2
    seams = [s for s in range(stride, 61, stride)]
    near = np.zeros(diff.shape, bool)
    for s in seams:  # window edges at s and s + 2 (the overlap), in output pixels
        near[max(0, 2 * s - 8):2 * (s + 2) + 8, :] = True
        near[:, max(0, 2 * s - 8):2 * (s + 2) + 8] = True
    assert diff[~near].max() < 1e-5
    # an image smaller than a window is taken whole; or, for a fixed-size network,
    # padded and cropped back (equal away from the padded edge)
    small = image[:5, :7]
    np.testing.assert_allclose(tiling.upscale_tiled(fn, small, 2, window=16, context=2),
                               g(small[None]).numpy()[0], atol=1e-5)
    fixed = lambda t: (g(t).numpy() if t.shape[1:3] == (16, 16) else None)  # noqa: E731
    padded = tiling.upscale_tiled(fixed, small, 2, window=16, context=2, fixed_size=True)
    np.testing.assert_allclose(padded[:6, :10], g(small[None]).numpy()[0, :6, :10], atol=1e-5)


# ------------------------------------------------------------- measurement
def test_psnr_and_ssim_on_luma_with_border_crop_match_hand_computation():
    # RGB (0.2, 0.4, 0.6) vs (0.2, 0.4, 0.7) in [0, 1]: Y differs by 24.966 * 0.1
    a = np.zeros((1, 12, 12, 3), np.float32) + np.array([0.2, 0.4, 0.6], np.float32)
    b = np.zeros((1, 12, 12, 3), np.float32) + np.array([0.2, 0.4, 0.7], np.float32)
    b[:, :1] = 1.0  # a one-pixel border that the crop must remove
    to_signed = lambda x: x * 2 - 1  # noqa: E731
    dy = 24.966 * 0.1
    expected = 10 * np.log10(255.0 ** 2 / dy ** 2)
    got = image_quality.psnr(to_signed(a), to_signed(b), y_channel=True, crop=1)
    np.testing.assert_allclose(got, [expected], rtol=1e-4)
    # SSIM of two constant images: luminance term only, (2 m1 m2 + C1) / (m1^2 + m2^2 + C1)
    ya = 16 + 65.481 * 0.2 + 128.553 * 0.4 + 24.966 * 0.6
    yb = ya + dy
    c1 = (0.01 * 255) ** 2
    want = (2 * ya * yb + c1) / (ya ** 2 + yb ** 2 + c1)
    b2 = b.copy()
    b2[:, :1] = b2[:, 1:2]
    a_big, b_big = np.tile(a, (1, 2, 2, 1)), np.tile(b2, (1, 2, 2, 1))
    got = image_quality.ssim(to_signed(a_big), to_signed(b_big), y_channel=True, crop=1)
    # tf.image.ssim works in float32 and takes the variance as E[y^2] - mu^2: at
    # Y ~ 130 that cancellation leaves ~1e-3 (eps32 * Y^2), i.e. ~2e-5 of the
    # result after dividing by C2 = 58.5 (3.3e-5 seen on an AVX-512 host); the
    # test still tells the luminance term (1 - 3.3e-4) from a perfect 1.
    np.testing.assert_allclose(got, [want], rtol=1e-4)
    assert got[0] < 1 - 2e-4


def test_bicubic_baseline_and_downscaling_are_tf_image_resize():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (32, 24, 3)).astype(np.uint8)
    lr = superres.downscale(tf.constant(hr), 4).numpy()
    ref = tf.image.resize(hr.astype(np.float32), (8, 6), "bicubic", antialias=True).numpy()
    np.testing.assert_array_equal(lr, np.clip(np.round(ref), 0, 255).astype(np.uint8))
    x = lr[None].astype(np.float32) / 127.5 - 1
    up = superres.bicubic_upscale(x, 4).numpy()
    np.testing.assert_allclose(up, np.clip(tf.image.resize(x, (32, 24), "bicubic"), -1, 1))


def test_evaluation_reports_model_and_bicubic_on_y_with_the_border(tmp_path):
    from tfgan_suite.metrics import evaluation
    model, source = _tiny()
    result = evaluation.evaluate(model, source, None, metrics=(), num_samples=3)
    assert result["num_images"] == 3 and result["luma"] and result["border"] == 4
    # the bicubic floor, recomputed by hand from the same pairs
    want = []
    for lr, hr in list(superres.full_pairs(source))[:3]:
        up = superres.bicubic_upscale(lr, 4)
        want.append(image_quality.psnr(up, hr, y_channel=True, crop=4)[0])
    np.testing.assert_allclose(result["bicubic_psnr"]["value"], np.mean(want), rtol=1e-5)
    assert {"psnr", "ssim", "bicubic_ssim"} <= set(result)


# ------------------------------------------------------------------- data
def test_bundled_photos_are_split_by_name():
    train = superres.photo_files("train")
    test = superres.photo_files("test")
    names = {os.path.splitext(os.path.basename(f))[0] for f in test}
    assert names == set(superres.PHOTOS_HELD_OUT) and len(train) == 7
    assert not set(train) & set(test)


def test_training_crops_are_aligned_and_in_range():
    source = data.load("bundled:photos", split="test", view="superres", scale=4,
                       image_size=32)
    full = {hr.shape: (lr, hr) for lr, hr in source.pair_examples().as_numpy_iterator()}
    lr_full, hr_full = max(full.values(), key=lambda p: p[1].size)
    crops_lr, crops_hr = superres.random_crops(tf.constant(lr_full), tf.constant(hr_full),
                                               32, 4, tf.constant([3, 4], tf.int64), 6,
                                               augment=False)
    for a, b in zip(crops_lr.numpy(), crops_hr.numpy()):
        # find the LR crop in the full LR image; the HR crop sits at 4x that place
        hits = [(y, x) for y in range(lr_full.shape[0] - 7) for x in range(lr_full.shape[1] - 7)
                if np.array_equal(lr_full[y:y + 8, x:x + 8], a)]
        assert any(np.array_equal(hr_full[4 * y:4 * y + 32, 4 * x:4 * x + 32], b)
                   for y, x in hits)
    lr, hr = next(iter(source.dataset(4, seed=0)))
    assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 32, 32, 3)
    assert -1.0 <= float(tf.reduce_min(hr)) and float(tf.reduce_max(hr)) <= 1.0


def test_augmented_crops_are_the_eight_turns_and_mirrors_of_aligned_crops():
    """Each augmented pair is one dihedral map of an aligned (LR, HR) crop pair,
    the same map for both; over 64 crops all 8 maps occur."""
    rng = np.random.default_rng(0)
    lr_full = rng.integers(0, 256, (12, 12, 3)).astype(np.uint8)  # random: one match only
    hr_full = rng.integers(0, 256, (48, 48, 3)).astype(np.uint8)
    maps = {(t, h, v): (lambda a, t=t, h=h, v=v: _dihedral(a, t, h, v))
            for t in (0, 1) for h in (0, 1) for v in (0, 1)}
    crops_lr, crops_hr = superres.random_crops(tf.constant(lr_full), tf.constant(hr_full), 16,
                                               4, tf.constant([5, 6], tf.int64), 64,
                                               augment=True)
    seen = set()
    for a, b in zip(crops_lr.numpy(), crops_hr.numpy()):
        found = [(key, y, x) for key, f in maps.items() for y in range(9) for x in range(9)
                 if np.array_equal(f(lr_full[y:y + 4, x:x + 4]), a)]
        assert len(found) == 1
        key, y, x = found[0]
        np.testing.assert_array_equal(maps[key](hr_full[4 * y:4 * y + 16, 4 * x:4 * x + 16]), b)
        seen.add(key)
    assert len(seen) == 8


def _dihedral(a, transpose, mirror, flip):
    a = a.transpose(1, 0, 2) if transpose else a
    a = a[:, ::-1] if mirror else a
    return a[::-1] if flip else a


def test_rescaled_crops_at_factor_one_have_the_whole_images_lr():
    """At factor 1 a rescaled crop is a crop of the HR image itself, and its LR
    (made from the crop's window only) equals the LR of the whole image on the
    same pixel grid: the margin covers the bicubic kernel's reach."""
    rng = np.random.default_rng(0)
    hr_full = rng.integers(0, 256, (60, 66, 3)).astype(np.uint8)
    crops_lr, crops_hr = superres.rescaled_crops(tf.constant(hr_full), 16, 4,
                                                 tf.constant([1, 2], tf.int64), 4, False,
                                                 smallest=1.0 - 1e-6)
    assert crops_lr.shape == (4, 4, 4, 3) and crops_hr.shape == (4, 16, 16, 3)
    margin = superres.RESCALE_MARGIN * 4
    for a, b in zip(crops_lr.numpy(), crops_hr.numpy()):
        (y, x), = [(y, x) for y in range(45) for x in range(51)
                   if np.array_equal(hr_full[y:y + 16, x:x + 16], b)]
        oy, ox = (y - margin) % 4, (x - margin) % 4  # the window's LR pixel grid
        region = hr_full[oy:oy + (60 - oy) // 4 * 4, ox:ox + (66 - ox) // 4 * 4]
        lr = superres.downscale(tf.constant(region), 4).numpy()
        ly, lx = (y - oy) // 4, (x - ox) // 4
        np.testing.assert_array_equal(lr[ly:ly + 4, lx:lx + 4], a)


def test_rescaled_crops_zoom_out_by_factors_in_the_range():
    """On a horizontal ramp (1 grey level per pixel) a crop downscaled by f has
    a slope of 1/f: between 1 and 2 for factors in [0.5, 1], spread over the
    range; the LR crop is the HR crop downscaled."""
    ramp = np.tile(np.arange(240, dtype=np.uint8)[None, :, None], (240, 1, 1))
    crops_lr, crops_hr = superres.rescaled_crops(tf.constant(ramp), 32, 4,
                                                 tf.constant([7, 8], tf.int64), 48, False,
                                                 smallest=0.5)
    slopes = np.array([np.mean(np.diff(h[:, :, 0].astype(float), axis=1))
                       for h in crops_hr.numpy()])
    assert slopes.min() > 0.95 and slopes.max() < 2.05
    assert slopes.min() < 1.2 and slopes.max() > 1.8
    lr_slopes = np.array([np.mean(np.diff(a[:, :, 0].astype(float), axis=1))
                          for a in crops_lr.numpy()])
    np.testing.assert_allclose(lr_slopes, 4 * slopes, rtol=0.05)


def test_rescale_reaches_the_training_pipeline_and_is_checked():
    source = data.load("bundled:photos", view="superres", scale=4, image_size=32,
                       rescale=0.5)
    assert source.info["rescale"] == 0.5
    lr, hr = next(iter(source.dataset(4, seed=0)))
    assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 32, 32, 3)
    low = tf.image.resize(hr, [8, 8], method="bicubic", antialias=True)
    assert float(tf.reduce_mean(tf.abs(low - lr))) < 0.05  # LR is HR downscaled
    model, _ = _tiny(rescale_min=0.5)
    assert model.data_options(model.hparams)["rescale"] == 0.5
    with pytest.raises(tg.ConfigError, match="--rescale_min=1.5"):
        tg.build("srresnet", data_shape=(16, 16, 3), rescale_min=1.5)


def test_paired_lr_hr_folders_load_and_a_wrong_scale_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (24, 32, 3)).astype(np.uint8)
    write_png(tmp_path / "ok" / "HR" / "x.png", hr)
    write_png(tmp_path / "ok" / "LR" / "x.png", hr[::4, ::4])
    source = data.load(f"paired:{tmp_path}/ok", view="superres", scale=4, image_size=16)
    lr_full, hr_full = next(source.pair_examples().as_numpy_iterator())
    assert lr_full.shape == (6, 8, 3) and hr_full.shape == (24, 32, 3)
    write_png(tmp_path / "bad" / "HR" / "x.png", hr)
    write_png(tmp_path / "bad" / "LR" / "x.png", hr[::2, ::2])
    bad = data.load(f"paired:{tmp_path}/bad", view="superres", scale=4, image_size=16)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not 4 x its LR"):
        next(bad.pair_examples().as_numpy_iterator())
    with pytest.raises(tg.DataError, match="brings its own LR"):
        data.load(f"paired:{tmp_path}/ok", view="superres", scale=4, image_size=16,
                  rescale=0.5)


def test_superres_models_refuse_other_data_and_bad_scales():
    with pytest.raises(tg.ConfigError, match="superres"):
        tg.build("srresnet", data=synthetic.source("image", (16, 16, 3)))
    with pytest.raises(tg.ConfigError, match="--scale=3"):
        tg.build("srresnet", data_shape=(24, 24, 3), scale=3)
    with pytest.raises(tg.DataError, match="multiple of --scale"):
        data.load("bundled:photos", view="superres", scale=4, image_size=30)


# ---------------------------------------------------------------- training
def test_vgg_content_loss_uses_the_named_layer_and_is_zero_for_identical_images():
    """Random VGG weights: the plumbing only (layer, shape, preprocessing)."""
    from tfgan_suite.networks import vgg
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    phi22 = vgg.vgg_features("vgg22", "random")
    phi54 = vgg.vgg_features("vgg54", "random")
    assert phi22(x).shape == (2, 16, 16, 128)  # block2_conv2: 1/2 resolution, 128 ch
    assert phi54(x).shape == (2, 2, 2, 512)  # block5_conv4: 1/16 resolution, 512 ch
    assert not phi54.trainable_weights
    model, _ = _tiny("srgan", content_loss="vgg22", vgg_weights="random")
    model.content_features()
    hr = tf.constant(x)
    assert float(model.content_loss(hr, hr)) == 0.0
    assert float(model.content_loss(hr, -hr)) > 0.0
    grey = x[..., :1]  # grey images are tiled to RGB
    np.testing.assert_allclose(phi22(grey), phi22(np.tile(grey, (1, 1, 1, 3))), atol=1e-4)


@pytest.mark.parametrize("channels", [1, 3])
def test_vgg_content_loss_has_gradients_for_grey_and_rgb_images(channels):
    """G's gradient flows through the VGG content loss for RGB and grey images
    (a tf.cond tiling grey to RGB once gave RGB inputs a gradient of the wrong
    shape: SRGAN-VGG could not train)."""
    from tfgan_suite.networks import vgg
    phi = vgg.vgg_features("vgg22", "random")
    x = tf.constant(np.random.default_rng(1).uniform(-1, 1, (2, 16, 16, channels)),
                    tf.float32)
    target = phi(tf.zeros_like(x))

    @tf.function
    def grad(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_mean(tf.square(phi(images, training=False) - target))
        return tape.gradient(loss, images)
    g = grad(x).numpy()
    assert g.shape == (2, 16, 16, channels) and np.abs(g).max() > 0


def test_vgg_loss_offline_without_weights_stops_with_one_line(monkeypatch):
    from tfgan_suite.networks import vgg

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: Name or service not known")
    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(tg.ConfigError, match="--content_loss=mse"):
        vgg.vgg_features("vgg54", "imagenet")
    with pytest.raises(tg.ConfigError, match="no such file"):
        vgg.vgg_features("vgg54", "/nonexistent/vgg19.h5")


def test_srgan_steps_move_both_players_with_the_weighted_adversarial_term():
    model, source = _tiny("srgan", adversarial_weight=0.5)
    ds = source.dataset(4, seed=0, fields=model.batch_fields)
    lr, hr = next(iter(ds))
    g0 = [w.numpy().copy() for w in model.generator.trainable_weights]
    d0 = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    logs = model.train_step((lr, hr))
    logs = {k: float(v) for k, v in logs.items()}
    np.testing.assert_allclose(logs["g_loss"], logs["content"] + 0.5 * logs["adversarial"],
                               rtol=1e-5)
    assert any(not np.array_equal(a, b.numpy()) for a, b in
               zip(g0, model.generator.trainable_weights))
    assert any(not np.array_equal(a, b.numpy()) for a, b in
               zip(d0, model.discriminator.trainable_weights))


def test_init_from_loads_generator_weights_and_not_optimizer_state(tmp_path, flags_parsed):
    from tfgan_suite import train
    run = tmp_path / "srresnet"
    flags_parsed(["--model=srresnet", "--dataset=bundled:photos", f"--model_dir={run}",
                  "--num_blocks=1", "--g_filters=4", "--image_size=16", "--batch_size=2",
                  "--train_steps=3", "--verbose=0", "--sample_every=0"])
    resnet = train.train()
    srgan, _ = _tiny("srgan", num_blocks=1, g_filters=4, init_from=str(run))
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in
               zip(srgan.generator.weights, resnet.generator.weights))
    srgan.warm_start()
    for a, b in zip(srgan.generator.weights, resnet.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(srgan.g_optimizer.iterations) == 0 and int(resnet.g_optimizer.iterations) == 3
    assert all(not np.any(v.numpy()) for v in srgan.g_optimizer.variables[1:])
    mismatched, _ = _tiny("srgan", num_blocks=2, g_filters=4, init_from=str(run))
    with pytest.raises(tg.ConfigError, match="does not match"):
        mismatched.warm_start()


def test_bicubic_layer_equals_tf_image_resize_borders_included():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 9, 13, 3)).astype(np.float32)
    for scale in (2, 4, 8):
        np.testing.assert_allclose(BicubicUpsample(scale)(x).numpy(),
                                   tf.image.resize(x, (9 * scale, 13 * scale), "bicubic"),
                                   atol=1e-5)


def test_global_bicubic_skip_starts_at_bicubic():
    g = networks.srresnet_generator(3, 4, num_blocks=1, filters=8, global_skip="bicubic")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 7, 9, 3)).astype(np.float32)
    np.testing.assert_allclose(g(x, training=False).numpy(),
                               superres.bicubic_upscale(x, 4).numpy(), atol=1e-5)


@pytest.mark.parametrize("skip", ["bicubic"])
def test_srresnet_beats_bicubic_on_its_training_crops_after_a_short_run(skip):
    """A small SRResNet with the bicubic skip on bundled-photo crops (x2): after
    100 steps its MSE on fixed training crops is below bicubic upscaling's.
    (The paper's network, without the skip, needs thousands of steps to reach
    bicubic: the README's quick run measures it.)"""
    source = data.load("bundled:photos", view="superres", scale=2, image_size=32)
    model = tg.build("srresnet", data=source, seed=0, scale=2, num_blocks=2, g_filters=16,
                     g_learning_rate=1e-3, global_skip=skip)
    ds = source.dataset(16, seed=0, fields=model.batch_fields)
    lr, hr = next(iter(source.dataset(64, seed=99)))

    def errors():
        sr = model.upscale(lr)
        return (float(tf.reduce_mean((sr - hr) ** 2)),
                float(tf.reduce_mean((superres.bicubic_upscale(lr, 2) - hr) ** 2)))
    before, bicubic = errors()
    model.fit(ds, steps_per_epoch=100, epochs=1, verbose=0)
    after, _ = errors()
    np.testing.assert_allclose(before, bicubic, rtol=1e-4)
    assert after < 0.95 * bicubic, (after, bicubic)


# ------------------------------------------------------------------ use
@pytest.mark.slow
def test_cli_upscales_a_folder_and_exports_dynamic_savedmodel_and_tiled_tflite(
        tmp_path, flags_parsed):
    import tfgan_suite.export  # noqa: F401  (defines its flags)
    from tfgan_suite import export, sample, train
    run = tmp_path / "run"
    flags_parsed(["--model=srresnet", f"--model_dir={run}", "--num_blocks=1",
                  "--g_filters=4", "--image_size=16", "--batch_size=2", "--train_steps=2",
                  "--verbose=0", "--sample_every=0", "--tflite_tile=16"])
    train.train()
    grid = tf.io.decode_png(tf.io.read_file(str(run / "samples" / "step_0000002.png")))
    assert grid.shape[0] > grid.shape[1] / 3  # three rows: bicubic, model, original
    # evaluate: PSNR/SSIM on Y against bicubic on the held-out photos, no feature
    # metric (nothing to download), the paper-shaped table printed
    from tfgan_suite import evaluate
    flags_parsed([f"--model_dir={run}"])
    result = evaluate.run_evaluation()
    assert result["split"] == "test" and result["num_images"] == 3 and "fid" not in result
    assert {"psnr", "ssim", "bicubic_psnr", "bicubic_ssim"} <= set(result)
    assert evaluate.paired_table(result)[2].split()[0] == "bicubic"
    # sample --input_dir: any size (odd, and bigger than one 128-pixel window)
    inputs = tmp_path / "in"
    rng = np.random.default_rng(0)
    write_png(inputs / "odd.png", rng.integers(0, 256, (13, 7, 3)))
    write_png(inputs / "big.png", rng.integers(0, 256, (150, 140, 3)))
    flags_parsed([f"--model_dir={run}", f"--input_dir={inputs}", f"--output_dir={tmp_path}/out"])
    sample.sample_main()
    shape = lambda p: tuple(tf.io.decode_png(tf.io.read_file(str(p))).shape)  # noqa: E731
    assert shape(tmp_path / "out" / "odd.png") == (52, 28, 3)
    assert shape(tmp_path / "out" / "big.png") == (600, 560, 3)
    # export: SavedModel with a dynamic size, TFLite at a fixed tile with builtin ops
    flags_parsed([f"--model_dir={run}", f"--export_dir={tmp_path}/export", "--name=sr",
                  "--formats=saved_model,tflite"])
    export.export_main()
    loaded = tf.saved_model.load(str(tmp_path / "export" / "sr" / "1"))
    model = tg.load_model(str(run))
    x = rng.uniform(-1, 1, (1, 11, 19, 3)).astype(np.float32)
    out = loaded.signatures["serving_default"](images=tf.constant(x))
    assert out["images"].shape == (1, 44, 76, 3) and out["images_uint8"].dtype == tf.uint8
    np.testing.assert_allclose(out["images"].numpy(), model.upscale(x).numpy(), atol=1e-5)
    meta = json.loads(loaded.signatures["metadata"]()["json"].numpy())
    assert meta["scale"] == 4 and meta["tflite_tile"] == 16 and meta["kind"] == "super_resolution"
    from ai_edge_litert.interpreter import Interpreter
    flat = (tmp_path / "export" / "tflite" / "sr" / "1" / "sr.tflite").read_bytes()
    interpreter = Interpreter(model_content=flat)
    ops = {d["op_name"] for d in interpreter._get_ops_details()}
    assert {"PRELU", "DEPTH_TO_SPACE"} <= ops
    # the LiteRT runner upscales a whole image through the 16-pixel model in tiles
    import sys
    sys.path.insert(0, os.path.join(REPO, "export", "mobile"))
    import run_tflite
    image = rng.integers(0, 256, (30, 21, 3)).astype(np.uint8)
    write_png(tmp_path / "photo.png", image)
    result = run_tflite.main(["--model", str(tmp_path / "export" / "tflite" / "sr" / "1" /
                                            "sr.tflite"), "--input", str(tmp_path / "photo.png"),
                              "--out", str(tmp_path / "photo_x4.png")])
    assert result.shape == (120, 84, 3)
    assert shape(tmp_path / "photo_x4.png") == (120, 84, 3)
    # the same tiles through Keras: float32 TFLite matches it to rounding
    keras_tiled = tiling.upscale_tiled(lambda t: model.upscale(t).numpy(),
                                       image.astype(np.float32) / 127.5 - 1, 4, window=16,
                                       context=2, overlap=1, fixed_size=True)
    keras_uint8 = np.clip(np.round((keras_tiled + 1) * 127.5), 0, 255)
    assert np.abs(result.astype(float) - keras_uint8).max() <= 1


def test_rest_client_sends_an_image_to_a_served_sr_model(tmp_path):
    """The REST client's --image against the local TF Serving stand-in of test_export."""
    import threading
    from http.server import HTTPServer

    from test_export import _FakeTFServing  # puts export/serving on the path

    import client_rest
    model, _ = _tiny()
    exporter.write_saved_model(model, str(tmp_path / "export"), "sr")
    _FakeTFServing.loaded = tf.saved_model.load(str(tmp_path / "export" / "sr" / "1"))
    server = HTTPServer(("127.0.0.1", 0), _FakeTFServing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        image = np.random.default_rng(0).integers(0, 256, (9, 13, 1)).astype(np.uint8)
        write_png(tmp_path / "small.png", np.repeat(image, 3, axis=-1))
        assert np.array_equal(client_rest.read_png(str(tmp_path / "small.png"))[..., :1], image)
        out = client_rest.main([f"--server=http://127.0.0.1:{server.server_port}",
                                "--model=sr", f"--image={tmp_path / 'small.png'}",
                                f"--out_dir={tmp_path / 'served'}"])
    finally:
        server.shutdown()
        server.server_close()
    assert out["images_uint8"].shape == (1, 36, 52, 3)
    want = model.upscale(np.repeat(image, 3, -1)[None].astype(np.float32) / 127.5 - 1)
    np.testing.assert_allclose(out["images"][0], want.numpy()[0], atol=1e-5)
    assert (tmp_path / "served" / "sr_000.png").exists()


@pytest.mark.parametrize("name", ["srresnet", "srgan"])
def test_sr_step_on_two_replicas_equals_one_device_step_without_batchnorm_effects(name):
    """The same update on 2 CPU replicas as on one device (gradients of the
    global-batch mean; SRGAN: its content + 1e-3 x adversarial loss and its
    discriminator too). BatchNorm normalises per replica, so the check uses
    networks whose BatchNorm sees identical halves: the batch is two crops twice
    (two, not one: BatchNorm over copies of one image has nothing to normalise,
    and the discriminator would get no gradient)."""
    source = synthetic.source("superres", (16, 16, 3), num=8, seed=0)
    lr, hr = next(iter(source.dataset(2, seed=0)))
    from conftest import step_on_one_and_two_replicas
    lr, hr = tf.concat([lr, lr], 0), tf.concat([hr, hr], 0)
    # Plain SGD: Adam would blow the float noise of zero gradients (the conv
    # biases before BatchNorm) up to steps of about its learning rate.
    hp = dict(tg.registry.get(name).tiny, optimizer="sgd", beta1=0.0, g_learning_rate=0.05,
              d_learning_rate=0.05)
    single = tg.build(name, data=source, seed=0, **hp)
    strategy = tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())
    with strategy.scope():
        mirrored = tg.build(name, data=source, seed=0, **hp)
    nets = [n for n in ("generator", "discriminator") if getattr(single, n, None) is not None]
    for net in nets:
        getattr(mirrored, net).set_weights(getattr(single, net).get_weights())
    before = {net: [w.numpy().copy() for w in getattr(single, net).trainable_weights]
              for net in nets}
    step_on_one_and_two_replicas(single, mirrored, (lr, hr), nets)
    for net in nets:  # the step moved each network
        assert any(not np.allclose(a, b.numpy()) for a, b in
                   zip(before[net], getattr(single, net).trainable_weights)), net
