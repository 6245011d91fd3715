"""One module per GAN; importing this package registers them all."""
from tfgan_suite.models import dcgan, gan  # noqa: F401
from tfgan_suite.models.base import GANModel, call_frozen

__all__ = ["GANModel", "call_frozen"]
