"""WGAN-GP (Gulrajani et al., NeurIPS 2017), Algorithm 1.

The WGAN critic objective plus a gradient penalty lambda * E[(||grad
D(x_hat)||_2 - 1)^2] at x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] one per
sample, the norm per sample over all non-batch axes
(``penalties.gradient_penalty``). Defaults are the paper's: lambda = 10,
n_critic = 5, Adam(1e-4, beta1=0, beta2=0.9), and no BatchNorm in the critic
(``--d_norm=layer`` by default, ``none`` also possible): the penalty is per
sample, BatchNorm would make each score depend on the whole batch.

Toy (vector) data: the paper's image setting captures no mode of toy:grid25 in
a few thousand steps. The defaults there (``VECTOR_EXTRA``, measured with
benchmarks/mode_coverage.py) are lambda = 1, Adam(1e-3, 0.5, 0.9), a 2-d
latent, and the learning rates constant for 20k steps then linearly down to 0
over 20k more (the authors' toy code: lambda = 0.1, Adam(1e-4, 0.5, 0.9),
100k steps). The decay is what puts samples within 3 std of the sharp modes;
past step 40,000 the rates are 0, so set --lr_constant_steps /
--lr_decay_steps to match a different --train_steps.
"""
from tfgan_suite import penalties
from tfgan_suite.hparams import HParam
from tfgan_suite.models.noise import check_per_sample_critic
from tfgan_suite.models.wgan import WASSERSTEIN_DEFAULTS, WassersteinCritic
from tfgan_suite.registry import register

GP_WEIGHT = HParam("gp_weight", 10.0, "Gradient penalty weight lambda.", lower=0.0)


@register("wgan_gp", default_dataset="bundled:mnist",
          description="Wasserstein GAN with gradient penalty (Gulrajani et al. 2017)",
          defaults=dict(WASSERSTEIN_DEFAULTS, optimizer="adam", g_learning_rate=1e-4,
                        d_learning_rate=1e-4, beta1=0.0, beta2=0.9, d_norm="layer"),
          tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class WGANGP(WassersteinCritic):
    HPARAMS = (GP_WEIGHT,)
    metric_names = ("d_loss", "g_loss", "wasserstein", "gradient_penalty")

    #: Toy-data defaults, with the small MLPs of ``GAN.VECTOR_NETWORK``: at 40,000
    #: steps 25/25 grid25 modes (76.7 +- 1.6 % high quality) and 8/8 ring8 modes
    #: (87.3 +- 0.7 %), seeds 0 and 1 (benchmarks/mode_coverage.py).
    VECTOR_EXTRA = dict(latent_dim=2, gp_weight=1.0, g_learning_rate=1e-3,
                        d_learning_rate=1e-3, beta1=0.5, lr_constant_steps=20000,
                        lr_decay_steps=20000)

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        check_per_sample_critic(cls.model_name, hp)

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss, logs = self.critic_terms(real, fake, real_output, fake_output)
        gp = penalties.gradient_penalty(self.discriminator, real["images"], fake["images"],
                                        seed=self.seed_generator)
        return loss + self.hparams["gp_weight"] * gp, {**logs, "gradient_penalty": gp}
