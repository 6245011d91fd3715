"""DRAGAN (Kodali, Abernethy, Hays & Kira, 2017): the GAN loss plus a gradient
penalty around the data.

    L_D = L_D^GAN + lambda * E[(||grad D(x + delta)||_2 - 1)^2],
    delta = 0.5 * std(x) * U[0, 1] per element  (``penalties.dragan_penalty``)

penalising sharp gradients of D near real points, where the paper traces mode
collapse to. lambda = 10; the non-saturating G loss; Adam(2e-4, beta1=0.5).
The penalty is per sample: the critic uses LayerNorm (``--d_norm=layer``).
"""
from tfgan_suite import losses, penalties
from tfgan_suite.hparams import HParam
from tfgan_suite.models.gan import sigmoid_logs
from tfgan_suite.models.noise import NoiseToImageGAN, check_per_sample_critic
from tfgan_suite.models.wgan_gp import GP_WEIGHT
from tfgan_suite.registry import register


@register("dragan", default_dataset="bundled:mnist",
          description="DRAGAN: GAN + gradient penalty around the data (Kodali et al. 2017)",
          defaults=dict(architecture="dcgan", d_norm="layer"), tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class DRAGAN(NoiseToImageGAN):
    cross_entropy_discriminator = True
    HPARAMS = (GP_WEIGHT,
               HParam("dragan_scale", 0.5, "Perturbation scale c in c * std(x) * U[0, 1].",
                      positive=True))
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty")

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        check_per_sample_critic(cls.model_name, hp)

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss = losses.minimax_discriminator_loss(real_output, fake_output,
                                                 self.hparams["label_smoothing"])
        gp = penalties.dragan_penalty(self.discriminator, real["images"],
                                      seed=self.seed_generator,
                                      scale=self.hparams["dragan_scale"])
        return (loss + self.hparams["gp_weight"] * gp,
                {**sigmoid_logs(real_output, fake_output), "gradient_penalty": gp})

    def generator_loss(self, real, fake, fake_output):
        return losses.non_saturating_generator_loss(fake_output), {}
