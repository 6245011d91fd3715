"""One module per GAN; importing this package imports (and so registers) them all.

``base`` is the core every model derives from, ``noise`` and
``image_to_image`` the two families so far, ``contract`` the types a model
hands to the pipeline. Every other module here is one model: a new file is
found without being listed.
"""
import importlib
import pkgutil

from tfgan_suite.models.base import GANModel, call_frozen

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["GANModel", "call_frozen"]
