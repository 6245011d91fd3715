"""PatchGAN discriminator of pix2pix (Isola et al. 2017, section 3.2.2 and
appendix 6.1.2), also used by CycleGAN.

A PatchGAN classifies every N x N patch of the image as real or fake: it is a
fully convolutional net whose output is a map of logits, one per patch, where
N is the receptive field of an output unit. The paper's discriminators:

  * 1x1 "PixelGAN": C64-C128 with 1x1 convolutions, then a 1x1 convolution to
    one channel;
  * 16x16: C64-C128, 70x70: C64-C128-C256-C512, 286x286:
    C64-C128-C256-C512-C512-C512, followed by a convolution to one channel.

Ck = 4x4 convolution with k filters, normalisation, LeakyReLU(0.2); no
normalisation on the first C64. The layout is the authors' code's: every 4x4
convolution has one pixel of zero padding; the first n convolutions have
stride 2, the next one (channels doubled again, capped at 512) has stride 1,
and so does the final one to one channel. With r_n = 9 * 2**n - 2 this gives
receptive fields 16 (n=1), 70 (n=3) and 286 (n=5); a 256x256 input gives a
30x30 map for the 70x70 PatchGAN.
"""
import keras
from keras import layers

from tfgan_suite.networks.norm import _check_norm, has_norm, normalization, spectral


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _rf_of_depth(n):
    """Receptive field of the stack with n stride-2 layers (see module doc)."""
    return 9 * 2 ** n - 2


def _depth_for(receptive_field, image_shape):
    if receptive_field == "image":
        side = max(int(image_shape[0]), int(image_shape[1]))
        n = 1
        while _rf_of_depth(n) < side:
            n += 1
        return n
    for n in range(1, 12):
        if _rf_of_depth(n) == receptive_field:
            return n
    raise ValueError(
        "receptive_field must be 1, 16, 70, 286 (or another 9 * 2**n - 2: 34, "
        f"142, ...) or 'image'; got {receptive_field!r}")


def patchgan_discriminator(image_shape, receptive_field=70, filters=64,
                           norm="batch", condition_channels=0,
                           name="discriminator"):
    """image [B, H, W, C] -> patch logits [B, h, w, 1] (float32, no activation).

    ``receptive_field``: 1 (PixelGAN), 16, 70 (default), 286, or "image" for
    the smallest stack whose receptive field covers the whole ``image_shape``.
    ``norm``: "batch" (pix2pix), "instance" (CycleGAN) or "none".
    With ``condition_channels > 0`` the model is pix2pix's conditional D: it
    takes ``[condition, image]`` and concatenates them on the channel axis.
    Inputs are (None, None, channels), so any size works once built.
    """
    _check_norm(norm)
    c = int(image_shape[-1])
    image = keras.Input((None, None, c), name="image")
    if condition_channels > 0:
        condition = keras.Input((None, None, int(condition_channels)), name="condition")
        inputs = [condition, image]
        x = layers.Concatenate(axis=-1, name="condition_image")([condition, image])
    else:
        inputs = image
        x = image
    normalise = has_norm(norm)

    if receptive_field == 1:
        x = spectral(norm, layers.Conv2D(filters, 1, kernel_initializer=_init(), name="conv_0"))(x)
        x = layers.LeakyReLU(0.2, name="conv_0_lrelu")(x)
        x = spectral(norm, layers.Conv2D(filters * 2, 1, use_bias=not normalise,
                          kernel_initializer=_init(), name="conv_1"))(x)
        if normalise:
            x = normalization(norm, name="conv_1_norm")(x)
        x = layers.LeakyReLU(0.2, name="conv_1_lrelu")(x)
        x = spectral(norm, layers.Conv2D(1, 1, kernel_initializer=_init(), name="logit_conv"))(x)
    else:
        n = _depth_for(receptive_field, image_shape)
        ch = filters
        for i in range(n + 1):  # n stride-2 convolutions, then one of stride 1
            if i > 0:
                ch = min(ch * 2, 512)
            stride = 2 if i < n else 1
            norm_here = normalise and i > 0
            x = layers.ZeroPadding2D(1, name=f"conv_{i}_pad")(x)
            x = spectral(norm, layers.Conv2D(ch, 4, strides=stride, padding="valid",
                              use_bias=not norm_here, kernel_initializer=_init(),
                              name=f"conv_{i}"))(x)
            if norm_here:
                x = normalization(norm, name=f"conv_{i}_norm")(x)
            x = layers.LeakyReLU(0.2, name=f"conv_{i}_lrelu")(x)
        x = layers.ZeroPadding2D(1, name="logit_pad")(x)
        x = spectral(norm, layers.Conv2D(1, 4, padding="valid", kernel_initializer=_init(),
                          name="logit_conv"))(x)
    x = layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, x, name=name)


def _sublayers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _sublayers(layer)
        else:
            yield getattr(layer, "layer", layer) if isinstance(
                layer, keras.layers.Wrapper) else layer


def receptive_field(model):
    """Receptive field (in input pixels) of one output unit of a chain of
    convolutions and poolings, computed from the layers' kernel sizes,
    strides and dilations: r += (k_eff - 1) * jump, jump *= stride.

    Walks ``model.layers`` in order (nested models and wrappers such as
    ``SpectralNormalization`` included); layers without a kernel (activations,
    padding, normalisation, concatenation) do not change it. Returns an int, or
    an (rh, rw) pair if the two axes differ.
    """
    r = [1, 1]
    jump = [1, 1]
    for layer in _sublayers(model):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            raise ValueError(f"receptive_field does not handle {layer.name} "
                             "(a transposed convolution)")
        if isinstance(layer, keras.layers.Conv2D):
            kernel, strides = layer.kernel_size, layer.strides
            dilation = layer.dilation_rate
        elif isinstance(layer, (keras.layers.MaxPooling2D,
                                keras.layers.AveragePooling2D)):
            kernel, strides, dilation = layer.pool_size, layer.strides, (1, 1)
        else:
            continue
        for a in range(2):
            k_eff = dilation[a] * (kernel[a] - 1) + 1
            r[a] += (k_eff - 1) * jump[a]
            jump[a] *= strides[a]
    return r[0] if r[0] == r[1] else tuple(r)
