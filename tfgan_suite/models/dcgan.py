"""DCGAN (Radford, Metz & Chintala, ICLR 2016).

The GAN game with the non-saturating generator loss, played by the all-
convolutional networks of ``tfgan_suite.networks.dcgan`` (strided convolutions,
BatchNorm, ReLU/LeakyReLU, tanh output), trained with the paper's
Adam(lr=2e-4, beta1=0.5) and N(0, 0.02) initialisation.
"""
from tfgan_suite.errors import ConfigError
from tfgan_suite.models.gan import GAN
from tfgan_suite.registry import register


@register("dcgan", default_dataset="bundled:mnist",
          description="Deep convolutional GAN (Radford et al. 2016)",
          defaults=dict(architecture="dcgan"), tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class DCGAN(GAN):
    data_kinds = ("image",)

    @classmethod
    def data_defaults(cls, data_kind):
        return {}

    @classmethod
    def check_data(cls, hp, data):
        if hp["architecture"] != "dcgan":
            raise ConfigError("--model=dcgan always uses --architecture=dcgan; "
                              "use --model=gan for MLP networks")
        super().check_data(hp, data)
