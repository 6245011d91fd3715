"""BEGAN (Berthelot, Schumm & Metz, 2017): boundary equilibrium GAN.

Autoencoder discriminator with the L1 energy L(v) = mean |v - D(v)|:

    L_D = L(x) - k_t L(G(z)),    L_G = L(G(z)),
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)

gamma = E[L(G(z))] / E[L(x)] at equilibrium trades diversity (high gamma) for
quality (``--began_gamma``, default 0.5); lambda_k = 0.001; k_0 = 0. The
convergence measure M_global = L(x) + |gamma L(x) - L(G(z))| is logged every
step. k_t is a model variable (checkpointed; under a distribution strategy the
balance is averaged over the replicas before the clipped update, so every
replica applies the global batch's update). Adam(1e-4, beta1=0.5), ELU
autoencoder.
"""
import keras
import tensorflow as tf

from tfgan_suite.distribute import global_mean
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import HParam
from tfgan_suite.models.ebgan import AUTOENCODER_DEFAULTS, AUTOENCODER_TINY, AutoencoderGAN
from tfgan_suite.registry import register


@register("began", default_dataset="bundled:mnist",
          description="Boundary equilibrium GAN (Berthelot et al. 2017)",
          defaults=dict(AUTOENCODER_DEFAULTS, g_learning_rate=1e-4, d_learning_rate=1e-4),
          tiny=AUTOENCODER_TINY)
class BEGAN(AutoencoderGAN):
    HPARAMS = (HParam("began_gamma", 0.5, "Diversity ratio gamma, in (0, 1].", positive=True),
               HParam("lambda_k", 0.001, "Learning rate of k_t.", lower=0.0))
    metric_names = ("d_loss", "g_loss", "k_t", "m_global")
    energy_norm = "l1"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.k_t = keras.Variable(0.0, trainable=False, aggregation="mean", name="k_t")

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        if not 0 < hp["began_gamma"] <= 1:
            raise ConfigError(f"--began_gamma must be in (0, 1], got {hp['began_gamma']}")

    def extra_checkpoint_items(self):
        return {"k_t": self.k_t}

    def discriminator_loss(self, real, fake, real_output, fake_output):
        l_real = tf.reduce_mean(self.energy(real["images"], real_output))
        l_fake = tf.reduce_mean(self.energy(fake["images"], fake_output))
        k = tf.convert_to_tensor(self.k_t)
        gamma = self.hparams["began_gamma"]
        # The balance of the global batch: k_t is one number shared by all
        # replicas, so each must clip the same update.
        self._balance = tf.stop_gradient(global_mean(gamma * l_real - l_fake))
        m_global = l_real + tf.abs(self._balance)
        return l_real - k * l_fake, {"k_t": k, "m_global": m_global}

    def after_discriminator_update(self):
        k = tf.clip_by_value(self.k_t + self.hparams["lambda_k"] * self._balance, 0.0, 1.0)
        self.k_t.assign(k)

    def generator_loss(self, real, fake, fake_output):
        return tf.reduce_mean(self.energy(fake["images"], fake_output)), {}
