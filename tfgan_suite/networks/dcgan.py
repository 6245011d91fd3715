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


def dcgan_generator(latent_dim, image_shape, filters=64, kernel_size=4,
                    name="generator"):
    """z [B, latent_dim] -> image [B, H, W, C] in [-1, 1]."""
    h, w, c = image_shape
    if h != w:
        raise ValueError(f"DCGAN expects square images, got {h}x{w}")
    base, n = spatial_plan(h)
    z = keras.Input((latent_dim,), name="z")
    x = layers.Reshape((1, 1, latent_dim), name="z_map")(z)
    ch = filters * 2 ** (n - 1)
    x = layers.Conv2DTranspose(ch, base, padding="valid", use_bias=False,
                               kernel_initializer=_init(), name="project")(x)
    x = layers.BatchNormalization(name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    for i in range(n - 1):
        ch //= 2
        x = layers.Conv2DTranspose(ch, kernel_size, strides=2, padding="same",
                                   use_bias=False, kernel_initializer=_init(),
                                   name=f"up_{i}")(x)
        x = layers.BatchNormalization(name=f"up_{i}_bn")(x)
        x = layers.ReLU(name=f"up_{i}_relu")(x)
    x = layers.Conv2DTranspose(c, kernel_size, strides=2, padding="same",
                               kernel_initializer=_init(), name="to_image")(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, x, name=name)


def _maybe_sn(layer, spectral_norm):
    return layers.SpectralNormalization(layer) if spectral_norm else layer


def dcgan_discriminator(image_shape, filters=64, kernel_size=4, norm="batch",
                        spectral_norm=False, name="discriminator"):
    """image [B, H, W, C] -> one logit (or critic score) per sample [B, 1].

    ``norm``: "batch" (DCGAN), "layer" (WGAN-GP's critic: BatchNorm would make
    each sample's score depend on the batch, which the per-sample gradient
    penalty assumes it does not) or "none". ``spectral_norm`` wraps every
    convolution in ``keras.layers.SpectralNormalization`` (SNGAN).
    """
    if norm not in ("batch", "layer", "none"):
        raise ValueError(f"norm must be batch, layer or none, got {norm!r}")
    h, w, c = image_shape
    if h != w:
        raise ValueError(f"DCGAN expects square images, got {h}x{w}")
    base, n = spatial_plan(h)
    x_in = keras.Input(tuple(image_shape), name="x")
    x = x_in
    ch = filters
    for i in range(n):
        normalise = i > 0 and norm != "none"  # no normalisation on the input layer
        x = _maybe_sn(layers.Conv2D(ch, kernel_size, strides=2, padding="same",
                                    use_bias=not normalise, kernel_initializer=_init(),
                                    name=f"down_{i}"), spectral_norm)(x)
        if normalise and norm == "batch":
            x = layers.BatchNormalization(name=f"down_{i}_bn")(x)
        elif normalise:
            x = layers.LayerNormalization(axis=[1, 2, 3], name=f"down_{i}_ln")(x)
        x = layers.LeakyReLU(0.2, name=f"down_{i}_lrelu")(x)
        ch *= 2
    x = _maybe_sn(layers.Conv2D(1, base, padding="valid", kernel_initializer=_init(),
                                name="logit_conv"), spectral_norm)(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Activation("linear", dtype="float32", name="logit")(x)
    return keras.Model(x_in, x, name=name)
