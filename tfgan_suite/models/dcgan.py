"""DCGAN (Radford, Metz & Chintala, ICLR 2016).

The GAN game with the non-saturating generator loss, played by the all-
convolutional networks of ``tfgan_suite.networks.dcgan`` (strided convolutions,
BatchNorm, ReLU/LeakyReLU, tanh output), trained with the paper's
Adam(lr=2e-4, beta1=0.5) and N(0, 0.02) initialisation.
"""
from tfgan_suite.errors import ConfigError
from tfgan_suite.models.gan import GAN, GAN_DEFAULTS
from tfgan_suite.registry import register


@register("dcgan", default_dataset="bundled:mnist",
          description="Deep convolutional GAN (Radford et al. 2016)",
          defaults=dict(GAN_DEFAULTS, architecture="dcgan"))
class DCGAN(GAN):
    @classmethod
    def data_defaults(cls, data_kind):
        return {}

    @classmethod
    def check_data(cls, hp, data_kind, data_shape):
        if hp["architecture"] != "dcgan":
            raise ConfigError("--model=dcgan always uses --architecture=dcgan; "
                              "use --model=gan for MLP networks")
        super().check_data(hp, data_kind, data_shape)
