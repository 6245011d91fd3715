"""Conditional GAN (Mirza & Osindero 2014).

G(z, y) and D(x, y): the label y enters the generator (one-hot or a learned
embedding, concatenated to z) and the discriminator, which plays the GAN game
on (image, label) pairs: real images with their labels against fakes with the
labels they were generated for. In D the label enters as one-hot maps
concatenated to the image channels (``--conditioning=concat``), or through the
projection discriminator of Miyato & Koyama (2018), D(x, y) = psi(phi(x)) +
embed(y) . phi(x) (``--conditioning=projection``). DCGAN networks by default,
MLPs with ``--architecture=mlp`` (the paper's choice).
"""
from tfgan_suite.hparams import HParam
from tfgan_suite.models.coded import ConditionalGAN
from tfgan_suite.models.gan import GAN
from tfgan_suite.networks import conditional as cnets
from tfgan_suite.registry import register

CONDITIONING = HParam("conditioning", "concat", "How D takes the label: one-hot maps beside "
                      "the image channels, or a projection (Miyato & Koyama 2018).", "enum",
                      choices=("concat", "projection"))


@register("cgan", default_dataset="bundled:mnist",
          description="Conditional GAN (Mirza & Osindero 2014), concat or projection D",
          defaults=dict(architecture="dcgan"),
          tiny=dict(g_filters=4, d_filters=4, latent_dim=4, embedding_dim=3))
class CGAN(ConditionalGAN, GAN):
    HPARAMS = (CONDITIONING,)

    @classmethod
    def build_discriminator(cls, hp, data):
        if hp["conditioning"] == "projection":
            return cnets.projection_discriminator(hp, data.shape, data.num_classes)
        return cnets.concat_discriminator(hp, data.shape, data.num_classes)
