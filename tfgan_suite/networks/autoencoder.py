"""Autoencoder discriminators for the energy-based GANs (EBGAN, BEGAN).

The discriminator returns ``[reconstruction, code]``: its energy is the
reconstruction error, and EBGAN's pulling-away term works on the code.
Images: strided convolutions down to the DCGAN base map (see
``dcgan.spatial_plan``), a Dense code, and the mirror image up; vectors: MLPs.
"""

import math

import keras
from keras import layers

from tfgan_suite.networks.dcgan import spatial_plan


def autoencoder_discriminator(data_shape, code_dim=64, filters=32, hidden_units=(128, 128),
                              kernel_size=4, activation="elu", mlp=False, name="discriminator"):
    """``mlp=True`` (or vector data): fully connected encoder/decoder on the
    flattened input; otherwise convolutional."""
    data_shape = tuple(int(d) for d in data_shape)
    x_in = keras.Input(data_shape, name="x")
    if len(data_shape) == 1 or mlp:
        x = layers.Flatten(name="flatten")(x_in)
        for i, units in enumerate(hidden_units):
            x = layers.Dense(units, activation=activation, name=f"enc_{i}")(x)
        code = layers.Dense(code_dim, name="code")(x)
        x = code
        for i, units in enumerate(reversed(hidden_units)):
            x = layers.Dense(units, activation=activation, name=f"dec_{i}")(x)
        out = layers.Dense(math.prod(data_shape), name="reconstruction")(x)
        out = layers.Reshape(data_shape, name="reconstruction_shape")(out)
    else:
        h, _, c = data_shape
        base, n = spatial_plan(h)
        x, ch = x_in, filters
        for i in range(n):
            x = layers.Conv2D(ch, kernel_size, strides=2, padding="same",
                              activation=activation, name=f"enc_{i}")(x)
            ch *= 2
        code = layers.Dense(code_dim, name="code")(layers.Flatten(name="flatten")(x))
        ch //= 2
        x = layers.Dense(base * base * ch, activation=activation, name="dec_project")(code)
        x = layers.Reshape((base, base, ch), name="dec_map")(x)
        for i in range(n - 1):
            ch //= 2
            x = layers.Conv2DTranspose(ch, kernel_size, strides=2, padding="same",
                                       activation=activation, name=f"dec_{i}")(x)
        out = layers.Conv2DTranspose(c, kernel_size, strides=2, padding="same",
                                     name="reconstruction")(x)
    out = layers.Activation("linear", dtype="float32", name="reconstruction_f32")(out)
    code = layers.Activation("linear", dtype="float32", name="code_f32")(code)
    return keras.Model(x_in, [out, code], name=name)
