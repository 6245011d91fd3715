"""Progressive GAN (Karras, Aila, Laine & Lehtinen, ICLR 2018).

G and D grow together from 4x4 to ``--image_size``, each new resolution faded
in (the schedule, stages and fade: ``models/growing.py``).

* Networks (``networks/progan.py``): equalised learning rate everywhere, pixel
  norm after every conv of G, the minibatch-stddev feature (groups of 4) at
  the end of D, a linear output.
* Loss: WGAN-GP (lambda = 10, one critic step) plus the drift term
  epsilon * E[D(x)^2], epsilon = 0.001 (``--drift``).
* Adam(1e-3, beta1 = 0, beta2 = 0.99), restarted when the networks grow.
* A moving average of G (``--g_ema``) is what grids, evaluation and exports
  use, as the paper's Gs: 0.999 in the paper (stages of tens of thousands of
  steps), 0.99 by default here, where a stage lasts a few hundred steps and a
  1000-step average would still hold the initial weights.
"""
import tensorflow as tf

from tfgan_suite import penalties
from tfgan_suite.hparams import HParam
from tfgan_suite.models.growing import GrowingGAN, filters_for
from tfgan_suite.models.wgan import WassersteinCritic
from tfgan_suite.models.wgan_gp import GP_WEIGHT
from tfgan_suite.networks.progan import ProGANGenerator
from tfgan_suite.registry import register

_FIXED = "Progressive GAN's networks are fixed: equalised LR, pixel norm, minibatch stddev"

FMAP_HPARAMS = (
    HParam("fmap_base", 512, "Feature maps at resolution r: min(fmap_max, fmap_base / r) "
           "(the paper: 16384).", "int", lower=1),
    HParam("fmap_max", 64, "Most feature maps at any resolution (the paper: 512).", "int",
           lower=1),
)
#: The network flags of the DCGAN / MLP builders, which the growing networks and BigGAN ignore.
FIXED_NETWORK_FLAGS = ("architecture", "g_norm", "d_norm", "virtual_batch_norm",
                       "minibatch_stddev", "minibatch_discrimination", "g_fc_units",
                       "d_fc_units", "d_weight_norm", "g_weight_norm", "d_input_noise",
                       "d_hidden_noise")


@register("progan", default_dataset="bundled:fashion_mnist",
          description="Progressive GAN (Karras et al. 2018): growing 4x4 -> image size with "
                      "fade-in, equalised LR, pixel norm, minibatch stddev, WGAN-GP + drift",
          defaults=dict(latent_dim=128, optimizer="adam", g_learning_rate=1e-3,
                        d_learning_rate=1e-3, beta1=0.0, beta2=0.99, disc_steps=1,
                        g_ema=0.99),
          default_shape=(32, 32, 1),
          tiny=dict(latent_dim=4, fmap_base=32, fmap_max=4, fade_steps=2, stable_steps=2))
class ProGAN(GrowingGAN, WassersteinCritic):
    HPARAMS = (GP_WEIGHT, HParam("drift", 0.001, "Weight epsilon of the drift term "
                                 "E[D(x)^2].", lower=0.0)) + FMAP_HPARAMS
    metric_names = ("d_loss", "g_loss", "wasserstein", "gradient_penalty", "drift", "alpha")
    refused_tricks = dict(GrowingGAN.refused_tricks, **{n: _FIXED for n in FIXED_NETWORK_FLAGS})

    @classmethod
    def build_growing_generator(cls, hp, shape, name):
        return ProGANGenerator(hp["latent_dim"], shape[-1], filters_for(hp, shape), name=name)

    def generator_args(self, inputs):
        return (inputs["z"], self.alpha())

    def run_inference(self, generator, inputs, alpha):
        return generator((inputs["z"], alpha), training=False)

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss, logs = self.critic_terms(real, fake, real_output, fake_output)
        alpha = self.alpha()

        def critic(images, training=True):
            return self.discriminator((images, alpha), training=training)

        gp = tf.cast(penalties.gradient_penalty(critic, real["images"], fake["images"],
                                                seed=self.seed_generator), tf.float32)
        drift = tf.reduce_mean(tf.square(tf.cast(real_output, tf.float32)))  # mixed precision
        total = loss + self.hparams["gp_weight"] * gp + self.hparams["drift"] * drift
        return total, dict(logs, gradient_penalty=gp, drift=drift, alpha=alpha)
