"""Generator and discriminator builders shared by the models.

Each builder returns a functional ``keras.Model``. Generators for images end in
tanh (images are float32 NHWC in [-1, 1]); generators for vector data (the toy
distributions) end in a linear layer so they can reach any coordinate.
Generator outputs are float32 even under a mixed-precision policy.
"""
from tfgan_suite.networks.autoencoder import autoencoder_discriminator
from tfgan_suite.networks.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_suite.networks.mlp import mlp_discriminator, mlp_generator

ARCHITECTURES = ("mlp", "dcgan")

__all__ = [
    "ARCHITECTURES",
    "autoencoder_discriminator",
    "dcgan_discriminator",
    "dcgan_generator",
    "mlp_discriminator",
    "mlp_generator",
]
