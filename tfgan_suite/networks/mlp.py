"""Fully connected networks: the original GAN's generator and discriminator."""
import math

import keras
from keras import layers

from tfgan_suite.layers import MinibatchDiscrimination, MinibatchStdDev, WeightNormDense
from tfgan_suite.networks.norm import _check_norm, has_norm, normalization, spectral


def mlp_generator(latent_dim, output_shape, hidden_units=(256, 512, 1024),
                  norm="batch", activation="relu", reference_size=None,
                  weight_norm_output=False, name="generator"):
    """z -> Dense/norm/``activation`` blocks -> output reshaped to ``output_shape``.

    ``norm``: one of ``norm.NORMS`` but "instance" (no maps here), or
    "virtual_batch". Image outputs (rank-3 ``output_shape``) end in tanh;
    vector outputs are linear. ``weight_norm_output`` weight-normalises the
    output layer (a trained length per output unit), as the semi-supervised
    GAN's MNIST generator does: without it, that generator under feature
    matching collapses to one speckled image within an epoch (measured).
    """
    output_shape = tuple(int(d) for d in output_shape)
    normalise = has_norm(norm)
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, units in enumerate(hidden_units):
        x = spectral(norm, layers.Dense(units, use_bias=not normalise, name=f"dense_{i}"))(x)
        if normalise:
            x = normalization(norm, name=f"bn_{i}", rank=2, reference_size=reference_size)(x)
        x = layers.Activation(activation, name=f"{activation}_{i}")(x)
    if weight_norm_output:
        x = WeightNormDense(math.prod(output_shape), name="out")(x)
    else:
        x = spectral(norm, layers.Dense(math.prod(output_shape), name="out"))(x)
    activation = "tanh" if len(output_shape) == 3 else "linear"
    x = layers.Activation(activation, dtype="float32", name=activation)(x)
    x = layers.Reshape(output_shape, dtype="float32", name="reshape")(x)  # float32 out
    return keras.Model(z, x, name=name)


def mlp_discriminator(input_shape, hidden_units=(512, 256), dropout=0.0,
                      minibatch_std=False, spectral_norm=False, norm="none",
                      minibatch_kernels=0, minibatch_kernel_dim=5, weight_norm=False,
                      input_noise=0.0, hidden_noise=0.0, activation="leaky_relu",
                      name="discriminator"):
    """x -> flatten -> Dense/norm/LeakyReLU(0.2) blocks -> one logit per sample
    (``activation="relu"``: ReLU, as in the semi-supervised GAN's discriminator).

    ``minibatch_std`` appends the batch's standard deviation to the *input*
    (Karras et al. 2018), which lets D see a too-narrow or collapsed batch of
    low-dimensional points directly. ``spectral_norm`` (or ``norm="spectral"``)
    wraps every Dense layer in ``keras.layers.SpectralNormalization``. The last
    hidden layer is ``features``; ``minibatch_kernels`` > 0 appends minibatch
    discrimination's features to it (Salimans et al. 2016); ``logit_input`` is
    what the logit reads. ``weight_norm`` builds every Dense layer with weight
    normalisation (``layers.WeightNormDense``); ``input_noise`` / ``hidden_noise``
    add Gaussian noise of that standard deviation to the input and to each
    hidden layer's output while training: the semi-supervised GAN's
    discriminator (Salimans et al. 2016: 0.3 and 0.5).
    """
    if norm == "instance":
        raise ValueError("instance norm needs feature maps; an MLP discriminator can use "
                         "batch, sync_batch, layer, group, spectral or none")
    _check_norm(norm)

    def dense(units, name, head=False):
        if weight_norm:  # the paper's code: fixed unit length in hidden layers
            return WeightNormDense(units, train_scale=head, name=name)
        return spectral("spectral" if spectral_norm else norm, layers.Dense(units, name=name))

    x_in = keras.Input(tuple(input_shape), name="x")
    x = layers.Flatten(name="flatten")(x_in)
    if input_noise:
        x = layers.GaussianNoise(input_noise, name="input_noise")(x)
    if minibatch_std:
        x = MinibatchStdDev(name="minibatch_std")(x)
    for i, units in enumerate(hidden_units):
        x = dense(units, f"dense_{i}")(x)
        if has_norm(norm):
            x = normalization(norm, name=f"norm_{i}", rank=2)(x)
        x = (layers.LeakyReLU(0.2, name=f"lrelu_{i}") if activation == "leaky_relu"
             else layers.Activation(activation, name=f"{activation}_{i}"))(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
        if hidden_noise and i < len(hidden_units) - 1:
            x = layers.GaussianNoise(hidden_noise, name=f"noise_{i}")(x)
    x = layers.Identity(name="features")(x)
    if hidden_noise and hidden_units:
        x = layers.GaussianNoise(hidden_noise, name=f"noise_{len(hidden_units) - 1}")(x)
    if minibatch_kernels:
        x = MinibatchDiscrimination(minibatch_kernels, minibatch_kernel_dim,
                                    name="minibatch_discrimination")(x)
    x = layers.Identity(name="logit_input")(x)
    x = dense(1, "logit", head=True)(x)
    x = layers.Activation("linear", dtype="float32", name="logit_f32")(x)
    return keras.Model(x_in, x, name=name)
