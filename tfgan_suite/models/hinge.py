"""The hinge-loss GAN (Lim & Ye 2017; the loss of SNGAN, SAGAN and BigGAN).

    L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))],   L_G = -E[D(G(z))]

D has a linear output. Adam(2e-4, beta1=0.5, beta2=0.999), one D step per G
step (setting C of Miyato et al. 2018). ``sngan`` adds spectral normalisation.
"""
import tensorflow as tf

from tfgan_suite import losses
from tfgan_suite.models.gan import GAN, GAN_DEFAULTS, TOY_LEARNING_RATES
from tfgan_suite.registry import register

HINGE_DEFAULTS = dict(GAN_DEFAULTS, architecture="dcgan")


@register("hinge", default_dataset="bundled:mnist",
          description="GAN with the hinge loss", defaults=HINGE_DEFAULTS)
class HingeGAN(GAN):
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")
    VECTOR_EXTRA = TOY_LEARNING_RATES

    def discriminator_loss(self, real, fake, real_output, fake_output):
        return (losses.hinge_discriminator_loss(real_output, fake_output),
                {"d_real": tf.reduce_mean(real_output), "d_fake": tf.reduce_mean(fake_output)})

    def generator_loss(self, real, fake, fake_output):
        return losses.hinge_generator_loss(fake_output), {}
