"""WGAN (Arjovsky, Chintala & Bottou, ICML 2017), Algorithm 1.

The critic D (linear output) estimates the Wasserstein-1 distance as
max_{||D||_L <= 1} E[D(x)] - E[D(G(z))]; the Lipschitz constraint is enforced
by clipping every critic weight to [-c, c] after each critic update. Defaults
are the paper's: c = 0.01, RMSProp(lr=5e-5), n_critic = 5 (on 5 distinct real
minibatches), batch 64. The estimate E[D(x)] - E[D(G(z))] is logged every
step as ``wasserstein``: the paper's "meaningful loss curve".
"""
import tensorflow as tf

from tfgan_suite import losses, penalties
from tfgan_suite.hparams import HParam
from tfgan_suite.models.noise import NoiseToImageGAN
from tfgan_suite.registry import register

WASSERSTEIN_DEFAULTS = dict(architecture="dcgan", disc_steps=5)


class WassersteinCritic(NoiseToImageGAN):
    """Shared by wgan and wgan_gp: the critic loss, the generator loss, the estimate."""

    metric_names = ("d_loss", "g_loss", "wasserstein")
    VECTOR_EXTRA = {}

    def critic_terms(self, real, fake, real_output, fake_output):
        estimate = tf.reduce_mean(real_output) - tf.reduce_mean(fake_output)
        return losses.wasserstein_critic_loss(real_output, fake_output), {"wasserstein": estimate}

    def discriminator_loss(self, real, fake, real_output, fake_output):
        return self.critic_terms(real, fake, real_output, fake_output)

    def generator_loss(self, real, fake, fake_output):
        return losses.wasserstein_generator_loss(fake_output), {}


@register("wgan", default_dataset="bundled:mnist",
          description="Wasserstein GAN with weight clipping (Arjovsky et al. 2017)",
          defaults=dict(WASSERSTEIN_DEFAULTS, optimizer="rmsprop", g_learning_rate=5e-5,
                        d_learning_rate=5e-5), tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class WGAN(WassersteinCritic):
    HPARAMS = (HParam("clip_value", 0.01, "Weight clipping bound c of the critic.",
                      positive=True),)

    def after_discriminator_update(self):
        penalties.clip_weights(self.discriminator, self.hparams["clip_value"])
