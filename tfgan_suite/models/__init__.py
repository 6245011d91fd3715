"""One module per GAN; importing this package registers them all.

``base`` is the core every model derives from, ``noise`` and
``image_to_image`` the two families so far, ``contract`` the types a model
hands to the pipeline.
"""
from tfgan_suite.models import (began, cyclegan, dcgan, dragan, ebgan, fgan,  # noqa: F401
                                gan, hinge, lsgan, pix2pix, simgan, sngan, wgan, wgan_gp)
from tfgan_suite.models.base import GANModel, call_frozen

__all__ = ["GANModel", "call_frozen"]
