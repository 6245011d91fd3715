"""SRResNet generator and SRGAN discriminator (Ledig et al. 2017, figure 4).

Generator (fully convolutional: any input size, output ``scale`` x larger):
9x9 conv(64) + PReLU; B residual blocks of [3x3 conv(64), BN, PReLU, 3x3
conv(64), BN] + skip; 3x3 conv(64), BN, + the long skip from the first layer;
log2(scale) sub-pixel blocks of [3x3 conv(256), depth_to_space(2), PReLU]; 9x9
conv to the image channels. PReLU slopes are per channel (shared over space),
initialised at 0.25 as in He et al. (2015). The output ends in tanh, the
suite's [-1, 1] convention (the paper's HR images are in [-1, 1] as well).

Discriminator (fixed input size): 3x3 conv(64) + LeakyReLU(0.2); seven 3x3
convs + BN + LeakyReLU with 64, 128, 128, 256, 256, 512, 512 filters and
strides alternating 2, 1, 2, 1 ... (so 64 s2, 128 s1, 128 s2, ...); dense(1024),
LeakyReLU(0.2), dense(1) -> a logit (the sigmoid is in the loss).
"""
import math

import keras
from keras import layers

from tfgan_suite.layers import BicubicUpsample, FusedBatchNormalization, PixelShuffle, PReLU


def prelu(name=None):
    """Per-channel PReLU (slopes shared over height and width), TFLite ``PRELU``."""
    return PReLU(0.25, name=name)


def bn(name):
    """BatchNorm with moving statistics that follow the last ~10 batches
    (momentum 0.9, PyTorch's default, which the SRGAN reimplementations use;
    Keras' 0.99 leaves inference statistics stale for hundreds of steps)."""
    return FusedBatchNormalization(momentum=0.9, name=name)


def srresnet_generator(channels=3, scale=4, num_blocks=16, filters=64, global_skip="none",
                       name="generator"):
    """SRResNet: LR [N, h, w, channels] in [-1, 1] -> SR [N, scale h, scale w, channels].

    ``global_skip="bicubic"`` (not in the paper): the network predicts a
    residual added to the bicubic upscaling of its input (as VDSR does), its
    last convolution initialised at zero so training starts from bicubic; the
    sum is clipped to [-1, 1] instead of going through tanh."""
    if scale not in (2, 4, 8):
        raise ValueError(f"scale must be 2, 4 or 8, got {scale}")
    x = inputs = keras.Input((None, None, channels), name="images")
    x = head = prelu("head_prelu")(layers.Conv2D(filters, 9, padding="same",
                                                 name="head_conv")(x))
    for i in range(num_blocks):
        y = layers.Conv2D(filters, 3, padding="same", name=f"block{i}_conv1")(x)
        y = prelu(f"block{i}_prelu")(bn(f"block{i}_bn1")(y))
        y = layers.Conv2D(filters, 3, padding="same", name=f"block{i}_conv2")(y)
        y = bn(f"block{i}_bn2")(y)
        x = layers.Add(name=f"block{i}_add")([x, y])
    x = layers.Conv2D(filters, 3, padding="same", name="trunk_conv")(x)
    x = bn("trunk_bn")(x)
    x = layers.Add(name="long_skip")([head, x])
    for i in range(int(math.log2(scale))):
        x = layers.Conv2D(filters * 4, 3, padding="same", name=f"up{i}_conv")(x)
        x = PixelShuffle(2, name=f"up{i}_shuffle")(x)
        x = prelu(f"up{i}_prelu")(x)
    if global_skip == "bicubic":
        x = layers.Conv2D(channels, 9, padding="same", kernel_initializer="zeros",
                          name="tail_conv")(x)
        x = layers.Add(name="global_skip")([BicubicUpsample(scale, name="bicubic")(inputs), x])
        out = layers.Activation(lambda t: keras.ops.clip(t, -1.0, 1.0), dtype="float32",
                                name="clip")(x)
    elif global_skip == "none":
        x = layers.Conv2D(channels, 9, padding="same", name="tail_conv")(x)
        out = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    else:
        raise ValueError(f"global_skip must be none or bicubic, got {global_skip!r}")
    return keras.Model(inputs, out, name=name)


def srgan_discriminator(hr_shape, filters=64, dense_units=1024, name="discriminator"):
    """The SRGAN discriminator on HR images of ``hr_shape``; returns logits [N, 1]."""
    x = inputs = keras.Input(tuple(hr_shape), name="images")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 3, padding="same", name="conv0")(x))
    widths = [filters, 2 * filters, 2 * filters, 4 * filters, 4 * filters, 8 * filters,
              8 * filters]
    for i, width in enumerate(widths):
        x = layers.Conv2D(width, 3, strides=2 if i % 2 == 0 else 1, padding="same",
                          name=f"conv{i + 1}")(x)
        x = layers.LeakyReLU(0.2)(bn(f"bn{i + 1}")(x))
    x = layers.Flatten()(x)
    x = layers.LeakyReLU(0.2)(layers.Dense(dense_units, name="dense")(x))
    out = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(inputs, out, name=name)
