"""Image-to-image networks: PatchGAN, U-Net, ResNet generator, SimGAN, and the
normalisation / padding / dropout layers they share."""
import numpy as np
import pytest

import keras
from keras import layers

from tfgan_suite.networks import (InferenceDropout, ReflectionPad2D, normalization,
                                  patchgan_discriminator, receptive_field,
                                  resnet_generator, set_inference_dropout,
                                  simgan_discriminator, simgan_refiner, unet_depth,
                                  unet_generator)


def _rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------
# PatchGAN
# --------------------------------------------------------------------------

def test_70x70_patchgan_gives_a_30x30_map_at_256():
    d = patchgan_discriminator((256, 256, 3), filters=4)
    assert receptive_field(d) == 70
    assert tuple(d.compute_output_shape((1, 256, 256, 3))) == (1, 30, 30, 1)
    out = d(np.zeros((1, 256, 256, 3), "float32"), training=False)
    assert out.shape == (1, 30, 30, 1) and out.dtype == "float32"
    convs = [l for l in d.layers if isinstance(l, layers.Conv2D)]
    assert [l.strides[0] for l in convs] == [2, 2, 2, 1, 1]
    assert [l.filters for l in convs] == [4, 8, 16, 32, 1]
    # no normalisation after the first convolution, one after each of the others
    assert not any(l.name.startswith("conv_0_norm") for l in d.layers)
    assert sum(isinstance(l, layers.BatchNormalization) for l in d.layers) == 3


@pytest.mark.parametrize("rf,size,map_size", [(16, 64, 30), (1, 20, 20), (286, 256, 6)])
def test_patchgan_receptive_fields(rf, size, map_size):
    d = patchgan_discriminator((size, size, 3), receptive_field=rf, filters=2,
                               norm="instance")
    assert receptive_field(d) == rf
    assert tuple(d.compute_output_shape((2, size, size, 3))) == (2, map_size, map_size, 1)


def test_patchgan_default_channels_are_capped_at_512():
    d = patchgan_discriminator((256, 256, 3), receptive_field=286)
    convs = [l for l in d.layers if isinstance(l, layers.Conv2D)]
    # the paper's C64-C128-C256-C512-C512-C512, then the conv to one channel
    assert [l.filters for l in convs] == [64, 128, 256, 512, 512, 512, 1]


@pytest.mark.parametrize("shape,expected_rf", [((32, 32, 1), 34), ((64, 48, 3), 70),
                                               ((16, 16, 3), 16)])
def test_image_gan_covers_the_whole_image_with_the_smallest_stack(shape, expected_rf):
    d = patchgan_discriminator(shape, receptive_field="image", filters=2)
    rf = receptive_field(d)
    assert rf == expected_rf
    assert rf >= max(shape[:2])
    assert (rf + 2) // 2 - 2 < max(shape[:2])  # one stride-2 layer fewer would not cover it


def test_patchgan_rejects_unknown_receptive_fields():
    with pytest.raises(ValueError, match="50"):
        patchgan_discriminator((64, 64, 3), receptive_field=50)
    with pytest.raises(ValueError, match="weight"):
        patchgan_discriminator((64, 64, 3), norm="weight")


def test_conditional_patchgan_sees_condition_and_image():
    d = patchgan_discriminator((32, 32, 3), receptive_field=16, filters=4,
                               condition_channels=1)
    assert len(d.inputs) == 2
    assert [tuple(i.shape) for i in d.inputs] == [(None, None, None, 1),
                                                 (None, None, None, 3)]
    assert d.get_layer("conv_0").kernel.shape == (4, 4, 4, 4)  # 1 + 3 input channels
    cond = np.zeros((2, 32, 32, 1), "float32")
    img = _rng().normal(size=(2, 32, 32, 3)).astype("float32")
    out = d([cond, img], training=False).numpy()
    assert out.shape == (2, 14, 14, 1)
    # the condition matters
    out2 = d([cond + 1.0, img], training=False).numpy()
    assert np.abs(out - out2).max() > 1e-6


def test_patchgan_receptive_field_matches_a_perturbation_experiment():
    """RF 16, 64x64 input: perturb one input pixel and see which outputs change."""
    d = patchgan_discriminator((64, 64, 3), receptive_field=16, filters=4)
    assert receptive_field(d) == 16
    # All-ones kernels and a positive input keep every LeakyReLU in its linear
    # part and rule out cancellations, so each output moves by at least the
    # perturbation when (and only when) the pixel is inside its window.
    for layer in d.layers:
        if isinstance(layer, layers.Conv2D):
            layer.kernel.assign(np.ones(layer.kernel.shape, "float32"))
            if layer.use_bias:
                layer.bias.assign(np.zeros(layer.bias.shape, "float32"))
    x = _rng(1).uniform(size=(1, 64, 64, 3)).astype("float32")
    p, delta = 32, 1000.0
    x2 = x.copy()
    x2[0, p, p, 0] += delta
    out = d(np.concatenate([x, x2]), training=False).numpy()[..., 0]
    base = out[0]
    changed = np.abs(out[1] - base) > 1.0
    rows, cols = np.nonzero(changed)
    # Every layer pads by 1 pixel and the total stride is 2, so output o sees
    # input pixels 2*o - 5 ... 2*o - 5 + RF - 1 (RF = 16).
    expected = [o for o in range(base.shape[0]) if 2 * o - 5 <= p <= 2 * o - 5 + 15]
    assert expected == list(range(11, 19))
    assert sorted(set(rows)) == expected and sorted(set(cols)) == expected
    assert changed.sum() == len(expected) ** 2  # a full square block

    # Direct measurement of the RF of one output row: perturb each input row
    # in its own batch element and see which ones move output row 15.
    o = 15
    batch = np.repeat(x, 65, axis=0)  # the last element stays unperturbed
    batch[np.arange(64), np.arange(64), :, :] += delta
    out = d(batch, training=False).numpy()[..., 0]
    moved = np.abs(out[:64, o] - out[64, o]).max(axis=1)
    influencing = np.nonzero(moved > 1.0)[0]
    assert len(influencing) == 16
    assert influencing.tolist() == list(range(2 * o - 5, 2 * o - 5 + 16))


def test_receptive_field_counts_pooling_and_dilation():
    x = keras.Input((None, None, 1))
    y = layers.Conv2D(1, 3, dilation_rate=2)(x)          # 5
    y = layers.MaxPooling2D(2)(y)                         # 5 + 1 = 6, jump 2
    y = layers.Conv2D(1, 3)(y)                            # 6 + 2 * 2 = 10
    assert receptive_field(keras.Model(x, y)) == 10


# --------------------------------------------------------------------------
# U-Net
# --------------------------------------------------------------------------

def test_unet_depth_follows_the_image_size():
    assert unet_depth(256) == 8
    assert unet_depth(32) == 5
    assert unet_depth((32, 64, 3)) == 5
    assert unet_depth(2) == 1
    for bad in (1, 48, (32, 48)):
        with pytest.raises(ValueError):
            unet_depth(bad)
    with pytest.raises(ValueError, match="multiples of 32"):
        unet_generator((32, 48, 3))


def _stride2_convs(model):
    return [l for l in model.layers
            if type(l) is layers.Conv2D and l.strides == (2, 2)]


def test_unet_structure_at_32_pixels():
    g = unet_generator((32, 32, 3), out_channels=2, filters=8, max_filters=32)
    down = _stride2_convs(g)
    assert len(down) == 5
    assert [l.filters for l in down] == [8, 16, 32, 32, 32]
    ups = [l for l in g.layers if isinstance(l, layers.Conv2DTranspose)]
    assert [l.filters for l in ups] == [32, 32, 16, 8, 2]
    concats = [l for l in g.layers if isinstance(l, layers.Concatenate)]
    assert len(concats) == 4  # depth - 1 skip connections
    # the skip of decoder layer 0 is the output of encoder layer 3 (4x4 map) ...
    first_skip = concats[0]
    assert [tuple(t.shape[1:]) for t in first_skip.input] == [(None, None, 32)] * 2
    assert first_skip.input[1] is g.get_layer("down_3_lrelu").output
    # ... and the last one joins encoder layer 0 (16x16, 8 channels)
    assert concats[-1].input[1] is g.get_layer("down_0_lrelu").output
    # no normalisation on the first C64: its conv feeds the LeakyReLU directly
    assert g.get_layer("down_0_lrelu").input is g.get_layer("down_0").output
    assert g.get_layer("down_0").use_bias
    assert isinstance(g.get_layer("down_1_norm"), layers.BatchNormalization)
    # nor on the 1x1 bottleneck (as in the authors' code)
    assert g.get_layer("down_4_lrelu").input is g.get_layer("down_4").output
    # three CD layers
    drops = [l for l in g.layers if isinstance(l, InferenceDropout)]
    assert [l.name for l in drops] == ["up_0_dropout", "up_1_dropout", "up_2_dropout"]

    x = 10.0 * _rng().normal(size=(2, 32, 32, 3)).astype("float32")
    out = g(x, training=False).numpy()
    assert out.shape == (2, 32, 32, 2)
    assert np.abs(out).max() <= 1.0 and out.std() > 0
    # a generator built for 32 px runs on any multiple of 2**5
    out = g(_rng(1).normal(size=(1, 64, 96, 3)).astype("float32"), training=False)
    assert out.shape == (1, 64, 96, 2)


def test_unet_at_256_has_eight_levels_and_the_paper_channels():
    g = unet_generator((256, 256, 3), filters=2, max_filters=16)
    down = _stride2_convs(g)
    assert len(down) == 8
    assert [l.filters for l in down] == [2, 4, 8, 16, 16, 16, 16, 16]
    assert sum(isinstance(l, layers.Concatenate) for l in g.layers) == 7
    out = g(np.zeros((1, 256, 256, 3), "float32"), training=False)
    assert out.shape == (1, 256, 256, 3)
    # the default plan is the paper's C64-C128-C256-C512-C512-C512-C512-C512
    plan = [min(64 * 2 ** i, 512) for i in range(unet_depth(256))]
    assert plan == [64, 128, 256, 512, 512, 512, 512, 512]


def test_unet_output_is_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    g = unet_generator((8, 8, 3), filters=4)
    assert g.get_layer("down_0").compute_dtype == "float16"
    assert g.output.dtype == "float32"


# --------------------------------------------------------------------------
# InferenceDropout
# --------------------------------------------------------------------------

def test_inference_dropout_can_be_switched_off_at_inference():
    g = unet_generator((16, 16, 1), filters=4)
    x = _rng().normal(size=(2, 16, 16, 1)).astype("float32")
    a, b = g(x, training=False).numpy(), g(x, training=False).numpy()
    assert (a != b).mean() > 0.5  # dropout is the noise source at test time
    outer_in = keras.Input((None, None, 1))
    outer = keras.Model(outer_in, g(outer_in))  # nested model
    assert set_inference_dropout(outer, False) == 3
    assert all(not l.at_inference for l in g.layers if isinstance(l, InferenceDropout))
    a, b = outer(x, training=False).numpy(), outer(x, training=False).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, g.predict(x, verbose=0))
    assert set_inference_dropout(g, True) == 3
    assert (g.predict(x, verbose=0) != g.predict(x, verbose=0)).mean() > 0.5


def test_inference_dropout_always_drops_in_training():
    layer = InferenceDropout(0.5, at_inference=False, seed=3)
    x = np.ones((4, 64), "float32")
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    y1, y2 = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    for y in (y1, y2):
        assert set(np.unique(y)) == {0.0, 2.0}  # inverted dropout: kept x / (1 - p)
        assert 0.35 < (y == 0).mean() < 0.65
    assert not np.array_equal(y1, y2)


def test_layers_serialise():
    for layer in (InferenceDropout(0.3, at_inference=False, seed=1),
                  ReflectionPad2D((2, 1))):
        cfg = layer.get_config()
        clone = type(layer).from_config(cfg)
        assert clone.get_config() == cfg
        assert keras.saving.get_registered_name(type(layer)).startswith("tfgan_suite>")
    assert InferenceDropout(0.3, at_inference=False).get_config()["at_inference"] is False


# --------------------------------------------------------------------------
# normalisation and padding
# --------------------------------------------------------------------------

def test_instance_norm_is_per_sample_and_channel():
    rng = _rng(2)
    x = (rng.normal(size=(3, 8, 8, 4)) * [1.0, 5.0, 0.2, 3.0] + [0.0, 10.0, -4.0, 2.0])
    x = x.astype("float32")
    norm = normalization("instance", name="in")
    y = norm(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-3)
    x2 = x.copy()
    x2[1:] = 100.0 * rng.normal(size=x2[1:].shape)
    y2 = norm(x2, training=True).numpy()
    np.testing.assert_allclose(y2[0], y[0], atol=1e-6)  # other samples do not matter
    # batch norm (training mode), by contrast, mixes the batch
    bn = normalization("batch", name="bn")
    assert np.abs(bn(x2, training=True).numpy()[0] - bn(x, training=True).numpy()[0]).max() > 1e-2


def test_normalization_kinds():
    assert isinstance(normalization("batch", "a"), layers.BatchNormalization)
    x = np.arange(6, dtype="float32").reshape(1, 1, 2, 3)
    np.testing.assert_array_equal(normalization("none", "b")(x).numpy(), x)
    with pytest.raises(ValueError, match="'weight'"):
        normalization("weight", "c")


@pytest.mark.parametrize("pad", [1, 2, (2, 1)])
def test_reflection_pad_matches_numpy(pad):
    x = _rng(3).normal(size=(2, 5, 6, 3)).astype("float32")
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    expected = np.pad(x, [(0, 0), (ph, ph), (pw, pw), (0, 0)], mode="reflect")
    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, ReflectionPad2D(pad)(inp))  # unknown spatial dims
    np.testing.assert_array_equal(model(x).numpy(), expected)
    assert ReflectionPad2D(pad).compute_output_shape((None, None, 6, 3)) == (
        None, None, 6 + 2 * pw, 3)


# --------------------------------------------------------------------------
# ResNet generator and SimGAN
# --------------------------------------------------------------------------

def _num_residual_blocks(model):
    return sum(isinstance(l, layers.Add) for l in model.layers)


def test_resnet_generator_preserves_the_shape():
    g = resnet_generator((64, 64, 3), out_channels=1, filters=4)
    assert _num_residual_blocks(g) == 6
    assert sum(isinstance(l, layers.GroupNormalization) for l in g.layers) == 2 * 6 + 5
    assert [l.pad for l in g.layers if isinstance(l, ReflectionPad2D)] == (
        [(3, 3)] + [(1, 1)] * 12 + [(3, 3)])
    x = 5.0 * _rng().normal(size=(2, 64, 64, 3)).astype("float32")
    out = g(x, training=False).numpy()
    assert out.shape == (2, 64, 64, 1)
    assert np.abs(out).max() <= 1.0 and out.std() > 0
    assert g(x[:1, :32, :48], training=False).shape == (1, 32, 48, 1)
    # the bottleneck is a quarter of the image with 4 * filters channels
    assert tuple(g.get_layer("res_0_add").output.shape[1:]) == (None, None, 16)


def test_resnet_generator_block_count_follows_the_size():
    assert _num_residual_blocks(resnet_generator((256, 256, 3), filters=2)) == 9
    assert _num_residual_blocks(resnet_generator((128, 128, 3), filters=2)) == 6
    assert _num_residual_blocks(resnet_generator((32, 32, 3), filters=2,
                                                 num_blocks=2)) == 2
    with pytest.raises(ValueError, match="multiples of 4"):
        resnet_generator((30, 30, 3))


def test_simgan_refiner_keeps_the_size():
    r = simgan_refiner((35, 55, 1), filters=8, num_blocks=2)
    x = _rng().normal(size=(2, 35, 55, 1)).astype("float32")
    out = r(x).numpy()
    assert out.shape == (2, 35, 55, 1)
    assert np.abs(out).max() <= 1.0
    assert _num_residual_blocks(r) == 2
    assert len(_num_convs(r)) == 2 + 2 * 2


def _num_convs(model):
    return [l for l in model.layers if isinstance(l, layers.Conv2D)]


def test_simgan_discriminator_gives_a_map_of_patches():
    d = simgan_discriminator((32, 32, 3))
    assert [l.filters for l in _num_convs(d)] == [96, 64, 32, 32, 1]
    out = d(np.zeros((2, 32, 32, 3), "float32"))
    assert out.shape == (2, 8, 8, 1) and out.dtype == "float32"
    assert tuple(d.compute_output_shape((1, 28, 28, 3))) == (1, 7, 7, 1)
    # each patch sees only part of the image
    assert receptive_field(d) == 1 + 2 + 2 * 2 + 2 * 4 + 2 * 4  # 23 < 32


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_models_with_custom_layers_save_and_load(tmp_path):
    x = _rng(4).normal(size=(1, 16, 16, 3)).astype("float32")
    for model in (unet_generator((8, 8, 3), filters=4, dropout_at_inference=False),
                  resnet_generator((16, 16, 3), filters=2, num_blocks=1)):
        path = str(tmp_path / f"{model.name}_{len(model.layers)}.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        np.testing.assert_allclose(loaded(x, training=False).numpy(),
                                   model(x, training=False).numpy(), atol=1e-6)
        assert [l.at_inference for l in loaded.layers
                if isinstance(l, InferenceDropout)] == [
            l.at_inference for l in model.layers if isinstance(l, InferenceDropout)]
