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
from absl import flags

from tfgan_suite import losses, networks
from tfgan_suite.errors import ConfigError
from tfgan_suite.models.base import GANModel
from tfgan_suite.registry import register

flags.DEFINE_enum("generator_loss", None, sorted(losses.GENERATOR_LOSSES),
                  "gan/dcgan: generator objective (default: non_saturating).")
flags.DEFINE_float("label_smoothing", None,
                   "gan/dcgan: one-sided label smoothing of D's real target (default 0).")


#: Learning rates on the low-dimensional toy sets (faster than the image papers').
TOY_LEARNING_RATES = dict(g_learning_rate=5e-4, d_learning_rate=5e-4)

GAN_DEFAULTS = dict(architecture="mlp", generator_loss="non_saturating",
                    label_smoothing=0.0,
                    g_hidden_units=(256, 512, 1024), d_hidden_units=(512, 256),
                    g_batchnorm=True, g_activation="relu", d_dropout=0.0,
                    d_minibatch_std=False,
                    g_filters=64, d_filters=64, kernel_size=4,
                    d_norm="batch", d_spectral_norm=False)


def check_per_sample_critic(model_name, hp):
    """Refuse critic settings that couple the samples of a batch (BatchNorm,
    the minibatch-std feature): a gradient penalty is per sample, so it
    assumes D(x_i) depends on x_i alone."""
    if hp["d_norm"] == "batch":
        raise ConfigError(f"--model={model_name}: the gradient penalty is per sample, so the "
                          "critic cannot use BatchNorm; use --d_norm=layer or none")
    if hp["d_minibatch_std"]:
        raise ConfigError(f"--model={model_name}: --d_minibatch_std couples the samples of a "
                          "batch, which the per-sample gradient penalty assumes it does not")


@register("gan", default_dataset="bundled:mnist",
          description="Original GAN, MLP networks, minimax or non-saturating loss",
          defaults=GAN_DEFAULTS)
class GAN(GANModel):
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    #: Defaults for low-dimensional (toy) data: small MLPs, as in the
    #: mode-collapse studies (Metz et al. 2017), LeakyReLU so no unit of a
    #: low-dimensional generator dies, no BatchNorm (it would couple the
    #: samples of a batch).
    VECTOR_NETWORK = dict(architecture="mlp", latent_dim=8, g_hidden_units=(128, 128),
                          d_hidden_units=(128, 128), g_batchnorm=False,
                          g_activation="leaky_relu")
    #: Model-specific toy defaults. For the original GAN the minibatch-std
    #: feature in D: without it the plain game circles around the target's
    #: spread instead of settling on it (tests/test_gaussian1d.py, README).
    VECTOR_EXTRA = dict(d_minibatch_std=True, **TOY_LEARNING_RATES)

    @classmethod
    def data_defaults(cls, data_kind):
        return {**cls.VECTOR_NETWORK, **cls.VECTOR_EXTRA} if data_kind == "vector" else {}

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        if hp["architecture"] not in networks.ARCHITECTURES:
            raise ConfigError(f"--architecture={hp['architecture']!r} is not one of "
                              f"{networks.ARCHITECTURES}")
        if hp["generator_loss"] not in losses.GENERATOR_LOSSES:
            raise ConfigError(f"--generator_loss={hp['generator_loss']!r} is not one of "
                              f"{sorted(losses.GENERATOR_LOSSES)}")
        if hp["d_norm"] not in ("batch", "layer", "none"):
            raise ConfigError(f"--d_norm={hp['d_norm']!r} is not one of batch, layer, none")
        if not 0.0 <= hp["label_smoothing"] < 1.0:
            raise ConfigError(f"--label_smoothing must be in [0, 1), got {hp['label_smoothing']}")

    @classmethod
    def check_data(cls, hp, data_kind, data_shape):
        if hp["architecture"] == "mlp" and data_kind in ("image", "vector"):
            return
        if data_kind != "image":
            raise ConfigError(
                f"--model={cls.model_name} with --architecture={hp['architecture']} needs "
                f"images, but the dataset "
                f"gives {data_kind} data of shape {tuple(data_shape)}; use "
                f"--architecture=mlp for toy data or an image dataset")
        super().check_data(hp, data_kind, data_shape)

    @classmethod
    def build_networks(cls, hp, data_shape):
        return cls.build_generator(hp, data_shape), cls.build_discriminator(hp, data_shape)

    @classmethod
    def build_generator(cls, hp, data_shape):
        if hp["architecture"] == "dcgan":
            return networks.dcgan_generator(hp["latent_dim"], data_shape, hp["g_filters"],
                                            hp["kernel_size"])
        return networks.mlp_generator(hp["latent_dim"], data_shape, hp["g_hidden_units"],
                                      hp["g_batchnorm"], hp["g_activation"])

    @classmethod
    def build_discriminator(cls, hp, data_shape):
        if hp["architecture"] == "dcgan":
            return networks.dcgan_discriminator(data_shape, hp["d_filters"], hp["kernel_size"],
                                                hp["d_norm"], hp["d_spectral_norm"])
        return networks.mlp_discriminator(data_shape, hp["d_hidden_units"], hp["d_dropout"],
                                          hp["d_minibatch_std"], hp["d_spectral_norm"])

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss = losses.minimax_discriminator_loss(
            real_output, fake_output, self.hparams["label_smoothing"])
        return loss, {"d_real": tf.reduce_mean(tf.sigmoid(real_output)),
                      "d_fake": tf.reduce_mean(tf.sigmoid(fake_output))}

    def generator_loss(self, real, fake, fake_output):
        return losses.GENERATOR_LOSSES[self.hparams["generator_loss"]](fake_output), {}
