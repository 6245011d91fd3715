"""LSGAN (Mao et al., ICCV 2017): least-squares losses with the (a, b, c) coding.

    L_D = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2],  L_G = 1/2 E[(D(G(z)) - c)^2]

``--ls_coding=0,1,1`` (a=0, b=1, c=1: G wants D to call fakes real; the
paper's choice for its experiments) or ``-1,1,0`` (b - c = 1, b - a = 2: the
setting under which minimising the objective minimises the Pearson chi^2
divergence). D has a linear output. Adam(2e-4, beta1=0.5).
"""
from tfgan_suite import losses
from tfgan_suite.hparams import HParam
from tfgan_suite.models.gan import score_logs
from tfgan_suite.models.noise import NoiseToImageGAN
from tfgan_suite.registry import register

CODINGS = {"0,1,1": (0.0, 1.0, 1.0), "-1,1,0": (-1.0, 1.0, 0.0)}


@register("lsgan", default_dataset="bundled:mnist",
          description="Least-squares GAN (Mao et al. 2017)",
          defaults=dict(architecture="dcgan"), tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class LSGAN(NoiseToImageGAN):
    HPARAMS = (HParam("ls_coding", "0,1,1", "The (a, b, c) coding of the least-squares "
                      "targets.", "enum", choices=tuple(sorted(CODINGS))),)
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def discriminator_loss(self, real, fake, real_output, fake_output):
        a, b, _ = CODINGS[self.hparams["ls_coding"]]
        return (losses.least_squares_discriminator_loss(real_output, fake_output, a, b),
                score_logs(real_output, fake_output))

    def generator_loss(self, real, fake, fake_output):
        c = CODINGS[self.hparams["ls_coding"]][2]
        return losses.least_squares_generator_loss(fake_output, c), {}
