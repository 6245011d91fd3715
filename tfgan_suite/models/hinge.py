"""The hinge-loss GAN (Lim & Ye 2017; the loss of SNGAN, SAGAN and BigGAN).

    L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))],   L_G = -E[D(G(z))]

D has a linear output. Adam(2e-4, beta1=0.5, beta2=0.999), one D step per G
step (setting C of Miyato et al. 2018). ``sngan`` adds spectral normalisation.
"""
from tfgan_suite import losses
from tfgan_suite.models.gan import score_logs
from tfgan_suite.models.noise import NoiseToImageGAN
from tfgan_suite.registry import register

HINGE_DEFAULTS = dict(architecture="dcgan")


@register("hinge", default_dataset="bundled:mnist",
          description="GAN with the hinge loss", defaults=HINGE_DEFAULTS,
          tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class HingeGAN(NoiseToImageGAN):
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def discriminator_loss(self, real, fake, real_output, fake_output):
        return (losses.hinge_discriminator_loss(real_output, fake_output),
                score_logs(real_output, fake_output))

    def generator_loss(self, real, fake, fake_output):
        return losses.hinge_generator_loss(fake_output), {}
