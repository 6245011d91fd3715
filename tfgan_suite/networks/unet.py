"""pix2pix U-Net generator (Isola, Zhu, Zhou & Efros, "Image-to-Image
Translation with Conditional Adversarial Networks", CVPR 2017, appendix 6.1.1).

Notation of the paper: Ck = 4x4 convolution with k filters, stride 2, then
normalisation and a ReLU; CDk the same with dropout 0.5 after the
normalisation. For a 256x256 image:

  encoder  C64-C128-C256-C512-C512-C512-C512-C512          (256 -> 1x1)
  decoder  CD512-CD512-CD512-C512-C256-C128-C64, then a 4x4 transposed
           convolution to the output channels and tanh

Encoder ReLUs are leaky (slope 0.2), decoder ReLUs are not; there is no
normalisation on the first C64. Skip connections concatenate the output of
encoder layer i to decoder layer n - i (the U-Net). As in the authors' code
the innermost (bottleneck) layer is not normalised either: there the map is
1x1, where instance norm outputs a constant and batch norm of one sample
outputs zeros.

Here the depth follows the image: ``unet_depth`` = floor(log2(min(H, W)))
stride-2 layers (8 at 256 px, 5 at 32 px), with ``min(filters * 2**i,
max_filters)`` channels at encoder layer i and dropout on the first
``min(3, depth - 1)`` decoder layers. The decoder is the mirror image of the
encoder. The model's input is (None, None, C), so a generator built for one
size accepts any H, W that are multiples of ``2**depth``. The paper's only
noise source is the dropout, kept on at test time: see ``InferenceDropout``.
"""
import math

import keras
from keras import layers

from tfgan_suite.networks.norm import InferenceDropout, _check_norm, has_norm, normalization, spectral


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def unet_depth(image_size):
    """Number of stride-2 encoder layers for ``image_size`` (an int, or an
    (H, W) / (H, W, C) shape): floor(log2(min(H, W))).

    Raises ValueError when the smallest side is < 2 or a side is not a multiple
    of ``2**depth`` (the input must halve cleanly down to the bottleneck).
    """
    if isinstance(image_size, int):
        h = w = image_size
    else:
        h, w = (int(s) for s in tuple(image_size)[:2])
    side = min(h, w)
    if side < 2:
        raise ValueError(f"U-Net needs images of at least 2x2, got {h}x{w}")
    depth = int(math.floor(math.log2(side)))
    while 2 ** (depth + 1) <= side:  # guard against log2 round-off
        depth += 1
    while 2 ** depth > side:
        depth -= 1
    step = 2 ** depth
    if h % step or w % step:
        raise ValueError(
            f"U-Net of depth {depth} (from min side {side}) needs H and W to be "
            f"multiples of {step}; got {h}x{w}")
    return depth


def unet_generator(image_shape, out_channels=None, filters=64, max_filters=512,
                   norm="batch", dropout=0.5, dropout_at_inference=True,
                   name="generator"):
    """image [B, H, W, C] -> image [B, H, W, out_channels] in [-1, 1].

    ``image_shape`` (H, W, C) sets the depth (``unet_depth``) and the input
    channels; ``out_channels`` defaults to C. ``norm``: "batch" (pix2pix),
    "instance" or "none". ``dropout``: rate of the CD layers (0 disables them);
    ``dropout_at_inference`` keeps them on when ``training=False`` (pix2pix);
    flip it later with ``set_inference_dropout``. Output is float32.
    """
    _check_norm(norm)
    h, w, c = image_shape
    depth = unet_depth((h, w))
    out_channels = int(c if out_channels is None else out_channels)
    channels = [min(filters * 2 ** i, max_filters) for i in range(depth)]

    x_in = keras.Input((None, None, c), name="x")
    x = x_in
    skips = []
    for i, ch in enumerate(channels):
        normalise = has_norm(norm) and 0 < i < depth - 1
        x = spectral(norm, layers.Conv2D(ch, 4, strides=2, padding="same", use_bias=not normalise,
                          kernel_initializer=_init(), name=f"down_{i}"))(x)
        if normalise:
            x = normalization(norm, name=f"down_{i}_norm")(x)
        x = layers.LeakyReLU(0.2, name=f"down_{i}_lrelu")(x)
        skips.append(x)

    num_dropout = min(3, depth - 1) if dropout > 0 else 0
    # Decoder layer j mirrors encoder layer depth - 2 - j and is concatenated
    # with its output (same size, same channels).
    for j in range(depth - 1):
        k = depth - 2 - j
        normalise = has_norm(norm)
        x = spectral(norm, layers.Conv2DTranspose(channels[k], 4, strides=2, padding="same",
                                   use_bias=not normalise, kernel_initializer=_init(),
                                   name=f"up_{j}"))(x)
        if normalise:
            x = normalization(norm, name=f"up_{j}_norm")(x)
        if j < num_dropout:
            x = InferenceDropout(dropout, at_inference=dropout_at_inference,
                                 name=f"up_{j}_dropout")(x)
        x = layers.ReLU(name=f"up_{j}_relu")(x)
        x = layers.Concatenate(axis=-1, name=f"skip_{j}")([x, skips[k]])

    x = spectral(norm, layers.Conv2DTranspose(out_channels, 4, strides=2, padding="same",
                               kernel_initializer=_init(), name="to_image"))(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(x_in, x, name=name)
