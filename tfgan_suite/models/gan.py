"""The original GAN (Goodfellow et al., 2014).

D maximises log D(x) + log(1 - D(G(z))); G either minimises log(1 - D(G(z)))
(``--generator_loss=minimax``, the game as written) or maximises log D(G(z))
(``non_saturating``, the paper's practical choice: same fixed point, useful
gradients while D still wins easily). Algorithm 1: k discriminator updates on k
real minibatches (``--disc_steps``), then one generator update.

Networks: multilayer perceptrons (``--architecture=mlp``, the paper's choice;
works on the toy distributions and on images) or DCGAN's convolutional pair
(``--architecture=dcgan``, images only).
"""
import tensorflow as tf

from tfgan_suite import losses
from tfgan_suite.hparams import HParam
from tfgan_suite.models.noise import TOY_LEARNING_RATES, NoiseToImageGAN
from tfgan_suite.registry import register

GENERATOR_LOSS = HParam("generator_loss", "non_saturating", "Generator objective.", "enum",
                        choices=tuple(sorted(losses.GENERATOR_LOSSES)))


def sigmoid_logs(real_output, fake_output):
    """Mean D(x) and D(G(z)) as probabilities (progress-bar diagnostics)."""
    return {"d_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_output, tf.float32))),
            "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_output, tf.float32)))}


def score_logs(real_output, fake_output):
    """Mean raw scores D(x) and D(G(z)) (linear-output critics)."""
    return {"d_real": tf.reduce_mean(tf.cast(real_output, tf.float32)),
            "d_fake": tf.reduce_mean(tf.cast(fake_output, tf.float32))}


@register("gan", default_dataset="bundled:mnist",
          description="Original GAN, MLP networks, minimax or non-saturating loss",
          tiny=dict(g_hidden_units=(8,), d_hidden_units=(8,), latent_dim=4))
class GAN(NoiseToImageGAN):
    HPARAMS = (GENERATOR_LOSS,)
    cross_entropy_discriminator = True
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")
    #: For the original GAN the minibatch-std feature in D on toy data: without
    #: it the plain game circles around the target's spread instead of
    #: settling on it (tests/test_gaussian1d.py, README).
    VECTOR_EXTRA = dict(minibatch_stddev=True, **TOY_LEARNING_RATES)

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss = losses.minimax_discriminator_loss(
            real_output, fake_output, self.hparams["label_smoothing"])
        return loss, sigmoid_logs(real_output, fake_output)

    def generator_loss(self, real, fake, fake_output):
        return losses.GENERATOR_LOSSES[self.hparams["generator_loss"]](fake_output), {}
