"""Generator and discriminator builders shared by the models.

Each builder returns a functional ``keras.Model``. Generators for images end in
tanh (images are float32 NHWC in [-1, 1]); generators for vector data (the toy
distributions) end in a linear layer so they can reach any coordinate.
Generator outputs are float32 even under a mixed-precision policy.
"""
from tfgan_suite.networks import builders
from tfgan_suite.networks.autoencoder import autoencoder_discriminator
from tfgan_suite.networks.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_suite.networks.mlp import mlp_discriminator, mlp_generator
from tfgan_suite.networks.norm import (NORMS, InferenceDropout, ReflectionPad2D,
                                       normalization, set_inference_dropout)
from tfgan_suite.networks.patchgan import patchgan_discriminator, receptive_field
from tfgan_suite.networks.resnet import (resnet_generator, simgan_discriminator,
                                         simgan_refiner)
from tfgan_suite.networks.srresnet import srgan_discriminator, srresnet_generator
from tfgan_suite.networks.unet import unet_depth, unet_generator

ARCHITECTURES = ("mlp", "dcgan")

__all__ = [
    "ARCHITECTURES",
    "NORMS",
    "builders",
    "InferenceDropout",
    "ReflectionPad2D",
    "autoencoder_discriminator",
    "dcgan_discriminator",
    "dcgan_generator",
    "mlp_discriminator",
    "mlp_generator",
    "normalization",
    "patchgan_discriminator",
    "receptive_field",
    "resnet_generator",
    "set_inference_dropout",
    "simgan_discriminator",
    "simgan_refiner",
    "srgan_discriminator",
    "srresnet_generator",
    "unet_depth",
    "unet_generator",
]
