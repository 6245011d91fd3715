"""Residual image-to-image networks: the CycleGAN generator and the SimGAN
refiner and local discriminator.

CycleGAN generator (Zhu, Park, Isola & Efros 2017, appendix 7.2, after Johnson,
Alahi & Fei-Fei 2016):

  c7s1-64, d128, d256, R256 x n, u128, u64, c7s1-3

  * c7s1-k: 7x7 convolution, stride 1, k filters, instance norm, ReLU, with
    3 pixels of reflection padding in front (the last one ends in tanh instead
    of norm + ReLU);
  * dk: 3x3 convolution, stride 2, k filters, instance norm, ReLU;
  * Rk: residual block of two 3x3 convolutions with k filters (reflection
    padding 1 before each, instance norm after each, ReLU after the first),
    added to the block's input;
  * uk: 3x3 fractionally-strided convolution, stride 1/2, k filters, instance
    norm, ReLU.

  n = 6 residual blocks for 128x128 training images and 9 for 256x256 and
  higher; here 9 when min(H, W) >= 256, else 6.

SimGAN (Shrivastava et al., "Learning from Simulated and Unsupervised Images
through Adversarial Training", CVPR 2017, section 4): a fully convolutional,
resolution-preserving refiner of ResNet blocks and a local discriminator whose
output is one real/fake decision per image patch.
"""
import keras
from keras import layers

from tfgan_suite.networks.norm import ReflectionPad2D, _check_norm, has_norm, normalization, spectral


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def resnet_generator(image_shape, out_channels=None, filters=64, num_blocks=None,
                     norm="instance", name="generator"):
    """image [B, H, W, C] -> image [B, H, W, out_channels] in [-1, 1] (float32).

    ``image_shape`` (H, W, C) sets the default ``num_blocks`` (9 if
    min(H, W) >= 256, else 6) and the input channels; ``out_channels``
    defaults to C. ``norm``: "instance" (CycleGAN), "batch" or "none". The
    input is (None, None, C): any H, W divisible by 4 work.
    """
    _check_norm(norm)
    h, w, c = image_shape
    if h % 4 or w % 4:
        raise ValueError(f"the ResNet generator halves the image twice; H and W "
                         f"must be multiples of 4, got {h}x{w}")
    if num_blocks is None:
        num_blocks = 9 if min(h, w) >= 256 else 6
    out_channels = int(c if out_channels is None else out_channels)
    normalise = has_norm(norm)

    def conv_norm_relu(x, ch, kernel, stride, prefix, relu=True):
        x = spectral(norm, layers.Conv2D(ch, kernel, strides=stride, padding="valid",
                          use_bias=not normalise, kernel_initializer=_init(),
                          name=prefix))(x)
        x = normalization(norm, name=f"{prefix}_norm")(x)
        if relu:
            x = layers.ReLU(name=f"{prefix}_relu")(x)
        return x

    x_in = keras.Input((None, None, c), name="x")
    x = ReflectionPad2D(3, name="c7s1_pad")(x_in)
    x = conv_norm_relu(x, filters, 7, 1, "c7s1")
    ch = filters
    for i in range(2):  # d128, d256
        ch *= 2
        x = layers.ZeroPadding2D(1, name=f"down_{i}_pad")(x)
        x = conv_norm_relu(x, ch, 3, 2, f"down_{i}")
    for b in range(num_blocks):
        y = ReflectionPad2D(1, name=f"res_{b}_pad_a")(x)
        y = conv_norm_relu(y, ch, 3, 1, f"res_{b}_a")
        y = ReflectionPad2D(1, name=f"res_{b}_pad_b")(y)
        y = conv_norm_relu(y, ch, 3, 1, f"res_{b}_b", relu=False)
        x = layers.Add(name=f"res_{b}_add")([x, y])
    for i in range(2):  # u128, u64
        ch //= 2
        x = spectral(norm, layers.Conv2DTranspose(ch, 3, strides=2, padding="same",
                                   use_bias=not normalise, kernel_initializer=_init(),
                                   name=f"up_{i}"))(x)
        x = normalization(norm, name=f"up_{i}_norm")(x)
        x = layers.ReLU(name=f"up_{i}_relu")(x)
    x = ReflectionPad2D(3, name="to_image_pad")(x)
    x = spectral(norm, layers.Conv2D(out_channels, 7, padding="valid", kernel_initializer=_init(),
                      name="to_image"))(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(x_in, x, name=name)


def simgan_refiner(image_shape, filters=64, num_blocks=4, name="refiner"):
    """synthetic image [B, H, W, C] -> refined image [B, H, W, C] in [-1, 1].

    Shrivastava et al. 2017, section 4 (eye gaze): a 3x3 convolution with 64
    feature maps, ``num_blocks`` ResNet blocks (two 3x3 convolutions with 64
    feature maps each, ReLU, identity skip), and a 1x1 convolution to the
    image's channels. No striding or pooling, so the refined image keeps the
    input's size and pixel alignment (the self-regularisation loss compares
    them pixel by pixel). The output ends in tanh, in float32.
    """
    c = int(image_shape[-1])
    x_in = keras.Input((None, None, c), name="x")
    x = layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal",
                      name="conv_in")(x_in)
    x = layers.ReLU(name="conv_in_relu")(x)
    for b in range(num_blocks):
        y = layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal",
                          name=f"res_{b}_a")(x)
        y = layers.ReLU(name=f"res_{b}_a_relu")(y)
        y = layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal",
                          name=f"res_{b}_b")(y)
        x = layers.Add(name=f"res_{b}_add")([x, y])
        x = layers.ReLU(name=f"res_{b}_relu")(x)
    x = layers.Conv2D(c, 1, kernel_initializer="he_normal", name="to_image")(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(x_in, x, name=name)


def simgan_discriminator(image_shape, name="discriminator"):
    """image [B, H, W, C] -> map of patch logits [B, h, w, 1] (float32).

    SimGAN's local adversarial discriminator (Shrivastava et al. 2017, section
    4): conv 3x3/2 with 96 maps, conv 3x3/2 with 64, max-pool 3x3/1, conv
    3x3/1 with 32, conv 1x1 with 32, conv 1x1 to the output, ReLU between.
    The paper ends in 2 maps and a softmax per patch; a softmax over two logits
    (a, b) is a sigmoid of a - b, so a single logit per patch with a sigmoid
    (cross-entropy) loss is the same two-class model with fewer parameters.
    With 'same' padding a 32x32 image gives an 8x8 map of patches (28x28: 7x7),
    each patch with its own loss term; the loss is their sum/mean.
    """
    c = int(image_shape[-1])
    x_in = keras.Input((None, None, c), name="x")
    x = x_in
    for i, (ch, k, s) in enumerate([(96, 3, 2), (64, 3, 2)]):
        x = layers.Conv2D(ch, k, strides=s, padding="same", kernel_initializer="he_normal",
                          name=f"conv_{i + 1}")(x)
        x = layers.ReLU(name=f"conv_{i + 1}_relu")(x)
    x = layers.MaxPooling2D(3, strides=1, padding="same", name="pool")(x)
    x = layers.Conv2D(32, 3, padding="same", kernel_initializer="he_normal",
                      name="conv_3")(x)
    x = layers.ReLU(name="conv_3_relu")(x)
    x = layers.Conv2D(32, 1, kernel_initializer="he_normal", name="conv_4")(x)
    x = layers.ReLU(name="conv_4_relu")(x)
    x = layers.Conv2D(1, 1, kernel_initializer="he_normal", name="conv_5")(x)
    x = layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(x_in, x, name=name)
