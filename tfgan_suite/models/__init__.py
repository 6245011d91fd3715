"""One module per GAN; importing this package registers them all."""
from tfgan_suite.models import (began, dcgan, dragan, ebgan, fgan, gan, hinge,  # noqa: F401
                                lsgan, simgan, sngan, translation, wgan, wgan_gp)
from tfgan_suite.models.base import GANModel, call_frozen

__all__ = ["GANModel", "call_frozen"]
