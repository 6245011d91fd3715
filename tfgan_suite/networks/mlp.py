"""Fully connected networks: the original GAN's generator and discriminator."""
import math

import keras
from keras import layers

from tfgan_suite.layers import MinibatchStdDev


def mlp_generator(latent_dim, output_shape, hidden_units=(256, 512, 1024),
                  batchnorm=True, activation="relu", name="generator"):
    """z -> Dense/``activation`` blocks -> output reshaped to ``output_shape``.

    Image outputs (rank-3 ``output_shape``) end in tanh; vector outputs are linear.
    """
    output_shape = tuple(int(d) for d in output_shape)
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, use_bias=not batchnorm, name=f"dense_{i}")(x)
        if batchnorm:
            x = layers.BatchNormalization(name=f"bn_{i}")(x)
        x = layers.Activation(activation, name=f"{activation}_{i}")(x)
    x = layers.Dense(math.prod(output_shape), name="out")(x)
    activation = "tanh" if len(output_shape) == 3 else "linear"
    x = layers.Activation(activation, dtype="float32", name=activation)(x)
    x = layers.Reshape(output_shape, name="reshape")(x)
    return keras.Model(z, x, name=name)


def mlp_discriminator(input_shape, hidden_units=(512, 256), dropout=0.0,
                      minibatch_std=False, spectral_norm=False, name="discriminator"):
    """x -> flatten -> Dense/LeakyReLU(0.2) blocks -> one logit per sample.

    ``minibatch_std`` appends the batch's standard deviation to the input
    (Karras et al. 2018), which lets D see a too-narrow or collapsed batch.
    ``spectral_norm`` wraps every Dense layer in ``keras.layers.SpectralNormalization``.
    """
    def sn(layer):
        return layers.SpectralNormalization(layer) if spectral_norm else layer

    x_in = keras.Input(tuple(input_shape), name="x")
    x = layers.Flatten(name="flatten")(x_in)
    if minibatch_std:
        x = MinibatchStdDev(name="minibatch_std")(x)
    for i, units in enumerate(hidden_units):
        x = sn(layers.Dense(units, name=f"dense_{i}"))(x)
        x = layers.LeakyReLU(0.2, name=f"lrelu_{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    x = sn(layers.Dense(1, name="logit"))(x)
    x = layers.Activation("linear", dtype="float32", name="logit_f32")(x)
    return keras.Model(x_in, x, name=name)
