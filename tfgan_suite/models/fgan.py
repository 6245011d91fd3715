r"""f-GAN: variational divergence minimisation (Nowozin, Cseke & Tomioka, NeurIPS 2016).

For a convex f with f(1) = 0, D_f(P || Q) >= sup_T E_P[T(x)] - E_Q[f*(T(x))]
(f* the convex conjugate). The critic outputs V(x); T = g_f(V) maps it into the
domain of f*. The critic maximises F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))],
a lower bound on the divergence (logged as ``divergence``); the generator
minimises F (its part: -E_Q[f*(g_f(V(G(z))))]). Table 2 of the paper (``losses.DIVERGENCES``):

| ``--divergence`` | f(u) | g_f(v) | f*(t) |
|---|---|---|---|
| kl | u log u | v | exp(t - 1) |
| reverse_kl | -log u | -exp(-v) | -1 - log(-t) |
| pearson | (u - 1)^2 | v | t^2 / 4 + t |
| squared_hellinger | (sqrt(u) - 1)^2 | 1 - exp(-v) | t / (1 - t) |
| js | -(u + 1) log((1 + u) / 2) + u log u | log 2 - log(1 + exp(-v)) | -log(2 - exp(t)) |
| gan | u log u - (u + 1) log(u + 1) | -log(1 + exp(-v)) | -log(1 - exp(t)) |

(js is the Jensen-Shannon divergence times 2, as in the paper; gan is
2 JS - log 4, the original GAN's.) Functions are written stably (softplus).
"""
from tfgan_suite import losses
from tfgan_suite.hparams import HParam
from tfgan_suite.models.noise import NoiseToImageGAN
from tfgan_suite.registry import register


@register("fgan", default_dataset="bundled:mnist",
          description="f-GAN: variational divergence minimisation (Nowozin et al. 2016)",
          defaults=dict(architecture="dcgan"),
          tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class FGAN(NoiseToImageGAN):
    HPARAMS = (HParam("divergence", "kl", "The f-divergence (losses.DIVERGENCES).", "enum",
                      choices=tuple(sorted(losses.DIVERGENCES))),)
    metric_names = ("d_loss", "g_loss", "divergence")

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss = losses.f_divergence_critic_loss(self.hparams["divergence"], real_output,
                                               fake_output)
        return loss, {"divergence": -loss}

    def generator_loss(self, real, fake, fake_output):
        return losses.f_divergence_generator_loss(self.hparams["divergence"], fake_output), {}
