"""BigGAN (Brock, Donahue & Simonyan 2019), sized down.

Class-conditional generation at scale, kept at its ingredients:

* G with conditional batch norm: each residual block's BN gains and biases
  come from a shared class embedding concatenated with that block's chunk of z
  (hierarchical latents); D with the projection head (Miyato & Koyama 2018);
* a self-attention block (Zhang et al. 2019) at ``--attention_resolution`` in
  both networks;
* spectral normalisation of every layer of G and D;
* the hinge loss, two D steps per G step, Adam(G 1e-4, D 4e-4, beta1 = 0,
  beta2 = 0.999);
* orthogonal regularisation of G's weights, beta ||W^T W * (1 - I)||_F^2 with
  beta = 1e-4 (``--orthogonal_reg``);
* a moving average of G's weights for sampling, evaluation and export
  (``--g_ema``, the stabilisation trick; 0.9999 in the paper, 0.999 here for
  short runs);
* the truncation trick at sampling time: ``--truncation=T`` draws z from the
  normal truncated to [-T, T] for grids, evaluation and the exported
  ``generate`` signature (0: no truncation). ``serving_default(z, labels)``
  uses the z it is given, so a client truncates its own.

Sized by ``--g_filters`` / ``--d_filters`` (the paper's ch, 96 at 128 px;
16 by default) and the image size (4 x 2^n).
"""
import dataclasses
import math

import numpy as np
import tensorflow as tf

from tfgan_suite import losses
from tfgan_suite.hparams import HParam
from tfgan_suite.layers import orthogonal_regularization
from tfgan_suite.models.coded import ConditionalGAN
from tfgan_suite.models.gan import score_logs
from tfgan_suite.models.progan import FIXED_NETWORK_FLAGS
from tfgan_suite.networks.biggan import biggan_discriminator, biggan_generator, num_blocks
from tfgan_suite.errors import ConfigError
from tfgan_suite.registry import register

_FIXED = "BigGAN's networks are fixed: conditional BN in G, spectral normalisation everywhere"


def truncated_normal(rng, shape, threshold):
    """N(0, 1) draws resampled until every value lies in [-threshold, threshold]."""
    z = rng.standard_normal(shape)
    if threshold > 0:
        bad = np.abs(z) > threshold
        while bad.any():
            z[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(z) > threshold
    return z.astype("float32")


def truncated_normal_in_graph(shape, key, threshold):
    """The same distribution from a stateless key, by the inverse CDF
    (``threshold`` a number or a scalar tensor; <= 0: no truncation)."""
    if not tf.is_tensor(threshold) and threshold <= 0:
        return tf.random.stateless_normal(shape, key)
    t = tf.cast(threshold, tf.float32)
    low = 0.5 * (1.0 + tf.math.erf(-tf.abs(t) / math.sqrt(2.0)))
    u = tf.random.stateless_uniform(shape, key, 0.0, 1.0)
    truncated = tf.math.ndtri(low + (1.0 - 2.0 * low) * u)
    return tf.where(t > 0, truncated, tf.random.stateless_normal(shape, key))


@register("biggan", default_dataset="bundled:fashion_mnist",
          description="BigGAN (Brock et al. 2019), sized down: conditional BN, projection D, "
                      "self-attention, hinge, spectral norm, orthogonal reg., G EMA, truncation",
          defaults=dict(latent_dim=120, g_filters=16, d_filters=16, embedding_dim=128,
                        disc_steps=2, g_learning_rate=1e-4, d_learning_rate=4e-4, beta1=0.0,
                        beta2=0.999, g_ema=0.999),
          default_shape=(32, 32, 1),
          tiny=dict(latent_dim=6, g_filters=4, d_filters=4, embedding_dim=3,
                    attention_resolution=8, disc_steps=1))
class BigGAN(ConditionalGAN):
    HPARAMS = (
        HParam("attention_resolution", 16, "Resolution of the self-attention block in G and "
               "D (0: none).", "int", lower=0),
        HParam("orthogonal_reg", 1e-4, "beta of the orthogonal regularisation of G.",
               lower=0.0),
        HParam("truncation", 0.0, "Truncation threshold of z at sampling time (0: none).",
               lower=0.0),
    )
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "orthogonal_reg")
    refused_tricks = {name: _FIXED for name in FIXED_NETWORK_FLAGS + ("d_spectral_norm",)}
    refused_tricks["latent_distribution"] = ("its z is normal, so that --truncation can "
                                             "resample it")

    @classmethod
    def check_data(cls, hp, data):
        super().check_data(hp, data)
        h, w = data.shape[:2]
        try:
            num_blocks(h)
            if h != w:
                raise ValueError(f"BigGAN needs square images, got {h}x{w}")
        except ValueError as e:
            raise ConfigError(f"--image_size={h}: {e}") from None

    @classmethod
    def build_generator(cls, hp, data_shape, data=None):
        return biggan_generator(hp["latent_dim"], data.num_classes, data_shape, hp["g_filters"],
                                hp["embedding_dim"], hp["attention_resolution"])

    @classmethod
    def build_discriminator(cls, hp, data):
        return biggan_discriminator(data.shape, data.num_classes, hp["d_filters"],
                                    hp["attention_resolution"])

    def orthogonal_kernels(self):
        """G's convolution and dense kernels (not the class embedding, not the
        conditional BN's gain and bias maps)."""
        return [v for v in self.generator.trainable_variables
                if v.path.endswith("kernel") and "cbn" not in v.path]

    def discriminator_loss(self, real, fake, real_output, fake_output):
        return (losses.hinge_discriminator_loss(real_output, fake_output),
                score_logs(real_output, fake_output))

    def generator_loss(self, real, fake, fake_output):
        ortho = tf.add_n([orthogonal_regularization(k, 1.0) for k in self.orthogonal_kernels()])
        loss = (losses.hinge_generator_loss(fake_output)
                + self.hparams["orthogonal_reg"] * ortho)
        return loss, {"orthogonal_reg": ortho}

    def draw_noise(self, rng, num):
        return truncated_normal(rng, (int(num), self.latent_dim), self.hparams["truncation"])

    def noise_in_graph(self, shape, key):
        threshold = getattr(self, "_served_truncation", None)
        return truncated_normal_in_graph(
            shape, key, self.hparams["truncation"] if threshold is None else threshold)

    def export_signatures(self):
        """The conditional signatures, with a ``truncation`` threshold input on
        ``generate`` (<= 0: plain normal z)."""
        signatures = super().export_signatures()
        plain = next(s for s in signatures if s.name == "generate")

        def generate(*args):
            self._served_truncation = args[-1]
            try:
                return plain.fn(*args[:-1])
            finally:
                self._served_truncation = None

        truncated = dataclasses.replace(
            plain, fn=generate,
            inputs=plain.inputs + [tf.TensorSpec((), tf.float32, name="truncation")])
        return [truncated if s is plain else s for s in signatures]
