"""DRAGAN (Kodali, Abernethy, Hays & Kira, 2017): the GAN loss plus a gradient
penalty around the data.

    L_D = L_D^GAN + lambda * E[(||grad D(x + delta)||_2 - 1)^2],
    delta = 0.5 * std(x) * U[0, 1] per element  (``penalties.dragan_penalty``)

penalising sharp gradients of D near real points, where the paper traces mode
collapse to. lambda = 10; the non-saturating G loss; Adam(2e-4, beta1=0.5).
The penalty is per sample: the critic uses LayerNorm (``--d_norm=layer``).
"""
from absl import flags

from tfgan_suite import losses, penalties
from tfgan_suite.models.gan import (GAN, GAN_DEFAULTS, TOY_LEARNING_RATES,
                                    check_per_sample_critic)
from tfgan_suite.registry import register


flags.DEFINE_float("dragan_scale", None, "dragan: perturbation scale c in c * std(x) * U[0, 1] "
                   "(default 0.5).")


@register("dragan", default_dataset="bundled:mnist",
          description="DRAGAN: GAN + gradient penalty around the data (Kodali et al. 2017)",
          defaults=dict(GAN_DEFAULTS, architecture="dcgan", d_norm="layer", gp_weight=10.0,
                        dragan_scale=0.5))
class DRAGAN(GAN):
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty")
    VECTOR_EXTRA = TOY_LEARNING_RATES

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        check_per_sample_critic(cls.model_name, hp)

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss, logs = super().discriminator_loss(real, fake, real_output, fake_output)
        gp = penalties.dragan_penalty(self.discriminator, real, seed=self.seed_generator,
                                      scale=self.hparams["dragan_scale"])
        return loss + self.hparams["gp_weight"] * gp, {**logs, "gradient_penalty": gp}

    def generator_loss(self, real, fake, fake_output):
        return losses.non_saturating_generator_loss(fake_output), {}
