"""DCGAN networks (Radford, Metz & Chintala 2016), sized by the image.

The paper's guidelines, all followed here:
  * strided convolutions in D and fractionally-strided (transposed) ones in G,
    no pooling;
  * BatchNorm in both networks except D's input layer and G's output layer;
  * ReLU in G with a tanh output, LeakyReLU(0.2) in D;
  * no fully connected hidden layers: G's projection of z is a transposed
    convolution on a 1x1 map, D's last layer a convolution covering the whole
    remaining map;
  * weights initialised from N(0, 0.02).

The spatial plan comes from the image size: it is halved while it stays even
and >= 4, e.g. 28 -> 14 -> 7, 32 -> 16 -> 8 -> 4, 64 -> ... -> 4. G starts from
the smallest map with ``filters * 2**(n-1)`` channels and halves the channels at
every upsampling; D mirrors it.
"""
import keras
from keras import layers

from tfgan_suite.layers import MinibatchDiscrimination, MinibatchStdDev
from tfgan_suite.networks.norm import _check_norm, has_norm, normalization, spectral


def spatial_plan(image_size):
    """Return (base_size, num_upsamplings) for a square image of ``image_size``."""
    size, n = int(image_size), 0
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        n += 1
    if n == 0:
        raise ValueError(
            f"DCGAN needs an image size divisible by 2 down to a 4-8 pixel map; "
            f"got {image_size} (try 28, 32, 64, 128)")
    return size, n


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def dcgan_generator(latent_dim, image_shape, filters=64, kernel_size=4, norm="batch",
                    reference_size=None, fc_units=0, name="generator"):
    """z [B, latent_dim] -> image [B, H, W, C] in [-1, 1].

    ``norm`` (``norm.NORMS`` or "virtual_batch") goes after every layer but the
    output one; BatchNorm is the paper's. ``fc_units`` > 0 puts a fully
    connected hidden layer (with ``norm`` and ReLU) before the projection, as
    InfoGAN's MNIST generator does (FC 1024, then FC 7x7x128 = the projection).
    """
    h, w, c = image_shape
    if h != w:
        raise ValueError(f"DCGAN expects square images, got {h}x{w}")
    base, n = spatial_plan(h)
    normalise = has_norm(norm)

    def norm_layer(layer_name):
        return normalization(norm, name=layer_name, reference_size=reference_size)

    z = keras.Input((latent_dim,), name="z")
    x = z
    if fc_units:
        x = spectral(norm, layers.Dense(fc_units, use_bias=not normalise,
                                        kernel_initializer=_init(), name="fc"))(x)
        x = norm_layer("fc_bn")(x)
        x = layers.ReLU(name="fc_relu")(x)
    x = layers.Reshape((1, 1, int(x.shape[-1])), name="z_map")(x)
    ch = filters * 2 ** (n - 1)
    x = spectral(norm, layers.Conv2DTranspose(ch, base, padding="valid", use_bias=not normalise,
                                         kernel_initializer=_init(), name="project"))(x)
    x = norm_layer("project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    for i in range(n - 1):
        ch //= 2
        x = spectral(norm, layers.Conv2DTranspose(ch, kernel_size, strides=2, padding="same",
                                             use_bias=not normalise, kernel_initializer=_init(),
                                             name=f"up_{i}"))(x)
        x = norm_layer(f"up_{i}_bn")(x)
        x = layers.ReLU(name=f"up_{i}_relu")(x)
    x = spectral(norm, layers.Conv2DTranspose(c, kernel_size, strides=2, padding="same",
                                         kernel_initializer=_init(), name="to_image"))(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, x, name=name)


def dcgan_discriminator(image_shape, filters=64, kernel_size=4, norm="batch",
                        spectral_norm=False, minibatch_stddev=False, minibatch_kernels=0,
                        minibatch_kernel_dim=5, fc_units=0, name="discriminator"):
    """image [B, H, W, C] -> one logit (or critic score) per sample [B, 1].

    ``norm``: one of ``norm.NORMS``, after every convolution but the input
    layer's: "batch" (DCGAN), "layer" (WGAN-GP's critic: BatchNorm would make
    each sample's score depend on the batch, which the per-sample gradient
    penalty assumes it does not), "spectral" (SNGAN), ... ``spectral_norm``
    also wraps every convolution in ``keras.layers.SpectralNormalization``.

    The last hidden map is the layer ``features`` (feature matching's default);
    ``minibatch_stddev`` appends the minibatch standard deviation to it as one
    more channel (Karras et al. 2018), ``minibatch_kernels`` > 0 flattens it and
    appends minibatch discrimination's B = ``minibatch_kernels`` features
    (kernels of ``minibatch_kernel_dim`` dims, Salimans et al. 2016) before a
    dense logit. ``logit_input`` is what the logit layer reads.

    ``fc_units`` > 0 flattens the last map into a fully connected hidden layer
    (``norm``, LeakyReLU) that becomes ``features``, read by a dense logit:
    InfoGAN's MNIST discriminator (conv 64, conv 128-BN, FC 1024-BN).
    """
    _check_norm(norm)
    h, w, c = image_shape
    if h != w:
        raise ValueError(f"DCGAN expects square images, got {h}x{w}")
    base, n = spatial_plan(h)

    def sn(layer):
        return spectral("spectral" if spectral_norm else norm, layer)

    x_in = keras.Input(tuple(image_shape), name="x")
    x = x_in
    ch = filters
    for i in range(n):
        normalise = i > 0 and has_norm(norm)  # no normalisation on the input layer
        x = sn(layers.Conv2D(ch, kernel_size, strides=2, padding="same",
                             use_bias=not normalise, kernel_initializer=_init(),
                             name=f"down_{i}"))(x)
        if normalise:
            x = normalization(norm, name=f"down_{i}_{_SUFFIX.get(norm, 'norm')}")(x)
        x = layers.LeakyReLU(0.2, name=f"down_{i}_lrelu")(x)
        ch *= 2
    if fc_units:
        x = layers.Flatten(name="flatten_maps")(x)
        x = sn(layers.Dense(fc_units, use_bias=not has_norm(norm), kernel_initializer=_init(),
                            name="fc"))(x)
        if has_norm(norm):
            x = normalization(norm, name=f"fc_{_SUFFIX.get(norm, 'norm')}", rank=2)(x)
        x = layers.LeakyReLU(0.2, name="fc_lrelu")(x)
    x = layers.Identity(name="features")(x)
    if minibatch_stddev:
        x = MinibatchStdDev(name="minibatch_stddev")(x)
    if minibatch_kernels or fc_units:
        x = layers.Flatten(name="flatten_features")(x)
        if minibatch_kernels:
            x = MinibatchDiscrimination(minibatch_kernels, minibatch_kernel_dim,
                                        name="minibatch_discrimination")(x)
        x = layers.Identity(name="logit_input")(x)
        x = sn(layers.Dense(1, kernel_initializer=_init(), name="logit_dense"))(x)
    else:
        x = layers.Identity(name="logit_input")(x)
        x = sn(layers.Conv2D(1, base, padding="valid", kernel_initializer=_init(),
                             name="logit_conv"))(x)
        x = layers.Flatten(name="flatten")(x)
    x = layers.Activation("linear", dtype="float32", name="logit")(x)
    return keras.Model(x_in, x, name=name)


#: Layer-name suffixes of the normalisation layers (kept from the first
#: releases, so checkpoints keep their variable paths).
_SUFFIX = {"batch": "bn", "layer": "ln"}
