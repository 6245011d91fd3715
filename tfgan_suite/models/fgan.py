r"""f-GAN: variational divergence minimisation (Nowozin, Cseke & Tomioka, NeurIPS 2016).

For a convex f with f(1) = 0, D_f(P || Q) >= sup_T E_P[T(x)] - E_Q[f*(T(x))]
(f* the convex conjugate). The critic outputs V(x); T = g_f(V) maps it into the
domain of f*. The critic maximises F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))],
a lower bound on the divergence (logged as ``divergence``); the generator
minimises F (its part: -E_Q[f*(g_f(V(G(z))))]). Table 2 of the paper:

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
import math

import tensorflow as tf
from absl import flags

from tfgan_suite.errors import ConfigError
from tfgan_suite.models.gan import GAN, GAN_DEFAULTS, TOY_LEARNING_RATES
from tfgan_suite.registry import register

LOG2 = math.log(2.0)

#: name -> (g_f, f*), both on float32 tensors.
DIVERGENCES = {
    "kl": (lambda v: v, lambda t: tf.exp(t - 1.0)),
    "reverse_kl": (lambda v: -tf.exp(-v), lambda t: -1.0 - tf.math.log(-t)),
    "pearson": (lambda v: v, lambda t: 0.25 * tf.square(t) + t),
    "squared_hellinger": (lambda v: 1.0 - tf.exp(-v), lambda t: t / (1.0 - t)),
    "js": (lambda v: LOG2 - tf.nn.softplus(-v), lambda t: -tf.math.log(2.0 - tf.exp(t))),
    "gan": (lambda v: -tf.nn.softplus(-v), lambda t: -tf.math.log(1.0 - tf.exp(t))),
}


def conjugate_of_activation(name, v):
    """f*(g_f(v)) in a numerically stable closed form where one exists."""
    v = tf.cast(v, tf.float32)
    if name == "squared_hellinger":  # t / (1 - t) with t = 1 - e^-v
        return tf.exp(v) - 1.0
    if name == "js":  # -log(2 - exp(log2 - softplus(-v))) = softplus(v) - log 2
        return tf.nn.softplus(v) - LOG2
    if name == "gan":  # -log(1 - sigmoid(v)) = softplus(v)
        return tf.nn.softplus(v)
    if name == "reverse_kl":  # -1 - log(exp(-v)) = v - 1
        return v - 1.0
    g, f_star = DIVERGENCES[name]
    return f_star(g(v))


def variational_bound(name, real_v, fake_v):
    """F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))]."""
    g, _ = DIVERGENCES[name]
    return (tf.reduce_mean(g(tf.cast(real_v, tf.float32)))
            - tf.reduce_mean(conjugate_of_activation(name, fake_v)))


flags.DEFINE_enum("divergence", None, sorted(DIVERGENCES), "fgan: the f-divergence.")


@register("fgan", default_dataset="bundled:mnist",
          description="f-GAN: variational divergence minimisation (Nowozin et al. 2016)",
          defaults=dict(GAN_DEFAULTS, architecture="dcgan", divergence="kl"))
class FGAN(GAN):
    metric_names = ("d_loss", "g_loss", "divergence")
    VECTOR_EXTRA = TOY_LEARNING_RATES

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        if hp["divergence"] not in DIVERGENCES:
            raise ConfigError(f"--divergence={hp['divergence']!r} is not one of "
                              f"{sorted(DIVERGENCES)}")

    def discriminator_loss(self, real, fake, real_output, fake_output):
        bound = variational_bound(self.hparams["divergence"], real_output, fake_output)
        return -bound, {"divergence": bound}

    def generator_loss(self, real, fake, fake_output):
        name = self.hparams["divergence"]
        return -tf.reduce_mean(conjugate_of_activation(name, fake_output)), {}
