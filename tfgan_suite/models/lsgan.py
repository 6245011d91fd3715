"""LSGAN (Mao et al., ICCV 2017): least-squares losses with the (a, b, c) coding.

    L_D = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2],  L_G = 1/2 E[(D(G(z)) - c)^2]

``--ls_coding=0,1,1`` (a=0, b=1, c=1: G wants D to call fakes real; the
paper's choice for its experiments) or ``-1,1,0`` (b - c = 1, b - a = 2: the
setting under which minimising the objective minimises the Pearson chi^2
divergence). D has a linear output. Adam(2e-4, beta1=0.5).
"""
import tensorflow as tf
from absl import flags

from tfgan_suite import losses
from tfgan_suite.errors import ConfigError
from tfgan_suite.models.gan import GAN, GAN_DEFAULTS, TOY_LEARNING_RATES
from tfgan_suite.registry import register

CODINGS = {"0,1,1": (0.0, 1.0, 1.0), "-1,1,0": (-1.0, 1.0, 0.0)}
flags.DEFINE_enum("ls_coding", None, sorted(CODINGS), "lsgan: the (a, b, c) coding.")


@register("lsgan", default_dataset="bundled:mnist",
          description="Least-squares GAN (Mao et al. 2017)",
          defaults=dict(GAN_DEFAULTS, architecture="dcgan", ls_coding="0,1,1"))
class LSGAN(GAN):
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")
    VECTOR_EXTRA = TOY_LEARNING_RATES

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        if hp["ls_coding"] not in CODINGS:
            raise ConfigError(f"--ls_coding={hp['ls_coding']!r} is not one of {sorted(CODINGS)}")

    def discriminator_loss(self, real, fake, real_output, fake_output):
        a, b, _ = CODINGS[self.hparams["ls_coding"]]
        return (losses.least_squares_discriminator_loss(real_output, fake_output, a, b),
                {"d_real": tf.reduce_mean(real_output), "d_fake": tf.reduce_mean(fake_output)})

    def generator_loss(self, real, fake, fake_output):
        c = CODINGS[self.hparams["ls_coding"]][2]
        return losses.least_squares_generator_loss(fake_output, c), {}
