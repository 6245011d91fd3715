"""InfoGAN (Chen et al. 2016).

The generator takes noise z and latent codes c: a categorical code (10 values
on MNIST) and continuous codes uniform in [-1, 1] (2 on MNIST), with 62 noise
dimensions, as in the paper. An auxiliary distribution Q(c | x), a head on the
discriminator's trunk, lower-bounds the mutual information I(c; G(z, c)):

    L_I = E[log Q(c | G(z, c))] + H(c) <= I(c; G(z, c)).

D and Q minimise V_GAN(D) - lambda L_I, G minimises V_GAN(G) - lambda L_I, so
Q is trained with both players, as in the paper. Q is a softmax over the
categorical values and a factored Gaussian of unit variance for the continuous
codes; lambda is 1 for the categorical code and smaller for the continuous ones
(``--info_weight_continuous``, 0.1 here; the paper notes that continuous codes,
whose differential entropy is on another scale, need a smaller lambda).
Logged every step: ``mi_categorical`` = log K - cross-entropy (nats, at most
log 10 = 2.30) and ``q_continuous_nll``.

``--q_augment=affine`` (not in the paper) asks Q for the categorical code on
each fake through a random small rotation, scale and shift
(``augment.random_affine``), so the bound is on I(c; T(G(z, c))): a code value
can only be told apart by what survives such a warp (what digit it is), not by
slant, size or position. The idea is the identity-preserving transformations of
Elastic-InfoGAN (Ojha et al. 2020), here as a plain augmented view, not their
contrastive loss. The continuous codes (which may well learn slant) are still
read from the unwarped fakes.
"""
import math

import keras
import tensorflow as tf
from keras import layers

from tfgan_suite import augment, losses
from tfgan_suite.hparams import HParam
from tfgan_suite.layers import FusedBatchNormalization
from tfgan_suite.models.coded import Code, CodedGAN
from tfgan_suite.models.base import call_frozen
from tfgan_suite.models.gan import GAN, sigmoid_logs
from tfgan_suite.networks import conditional as cnets
from tfgan_suite.registry import register


def q_outputs(hp, features, num_categories, num_continuous):
    """Q on D's features: Dense(128)-BN-LeakyReLU (BN optional), then the
    categorical logits and the continuous means."""
    x = layers.Dense(hp["q_hidden_units"], name="q_dense")(features)
    if hp["q_batchnorm"]:
        x = FusedBatchNormalization(name="q_bn")(x)
    x = layers.LeakyReLU(0.2, name="q_lrelu")(x)
    return (layers.Dense(num_categories, name="q_categorical")(x),
            layers.Dense(num_continuous, name="q_continuous")(x))


@register("infogan", default_dataset="bundled:mnist",
          description="InfoGAN (Chen et al. 2016): categorical and continuous latent codes, "
                      "Q head on D's trunk",
          defaults=dict(architecture="dcgan", latent_dim=62, g_learning_rate=1e-3,
                        d_learning_rate=2e-4),
          tiny=dict(g_filters=4, d_filters=4, latent_dim=4, q_hidden_units=4,
                    num_categories=3, num_continuous=1))
class InfoGAN(CodedGAN, GAN):
    HPARAMS = (
        HParam("num_categories", 10, "Values of the categorical code.", "int", lower=2),
        HParam("num_continuous", 2, "Continuous codes, uniform in [-1, 1].", "int", lower=0),
        HParam("info_weight", 1.0, "lambda of the categorical code's information term.",
               lower=0.0),
        HParam("info_weight_continuous", 0.1, "lambda of the continuous codes' term.",
               lower=0.0),
        HParam("q_hidden_units", 128, "Units of Q's hidden layer.", "int", lower=1),
        HParam("q_batchnorm", True, "BatchNorm in Q's hidden layer.", "bool"),
        HParam("q_augment", "none", "affine: Q reads the categorical code from each fake "
               "through a random small rotation, scale and shift.", "enum",
               choices=("none", "affine")),
        HParam("q_augment_rotation", 15.0, "--q_augment: largest rotation, degrees.",
               lower=0.0),
        HParam("q_augment_scale", 0.1, "--q_augment: scale drawn from 1 +- this.", lower=0.0,
               below=1.0),
        HParam("q_augment_shift", 0.1, "--q_augment: largest shift, a fraction of the side.",
               lower=0.0),
    )
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "mi_categorical",
                    "q_continuous_nll")

    @classmethod
    def codes_for(cls, hp, data):
        codes = [Code("categorical", "class", hp["num_categories"], scalar="category")]
        if hp["num_continuous"]:
            codes.append(Code("continuous", "uniform", hp["num_continuous"]))
        return codes

    @classmethod
    def build_discriminator(cls, hp, data):
        image = keras.Input(tuple(data.shape), name="images")
        features = cnets.discriminator_features(hp, data.shape)(image)
        logit = cnets.dense(1, hp, "logit_dense")(features)
        categorical, continuous = q_outputs(hp, features, hp["num_categories"],
                                            max(1, hp["num_continuous"]))
        outputs = [cnets.f32(logit, "logit_out"), cnets.f32(categorical, "q_categorical_out"),
                   cnets.f32(continuous, "q_continuous_out")]
        return keras.Model(image, outputs, name="discriminator")

    def categorical_view(self, fake, fake_output, frozen):
        """Q's categorical logits for the fakes: from D's pass on them, or with
        --q_augment from a pass on a random warp of them (``frozen``: in G's
        step, D's variables and statistics untouched)."""
        hp = self.hparams
        if hp["q_augment"] == "none":
            return fake_output[1]
        warped = augment.random_affine(fake["images"], self.seed_generator,
                                       hp["q_augment_rotation"], hp["q_augment_scale"],
                                       hp["q_augment_shift"])
        inputs = self.discriminator_input(dict(fake, images=warped))
        output = (call_frozen(self.discriminator, inputs) if frozen
                  else self.discriminator(inputs, training=True))
        return output[1]

    def information_loss(self, fake, fake_output, frozen=False):
        """(lambda-weighted -L_I without the constant H(c), logs)."""
        q_continuous = fake_output[2]
        q_categorical = self.categorical_view(fake, fake_output, frozen)
        cross_entropy = losses.class_cross_entropy(fake["categorical"], q_categorical)
        loss = self.hparams["info_weight"] * cross_entropy
        nll = tf.constant(0.0)
        if self.hparams["num_continuous"]:
            nll = losses.gaussian_code_nll(fake["continuous"], q_continuous)
            loss += self.hparams["info_weight_continuous"] * nll
        logs = {"mi_categorical": math.log(self.hparams["num_categories"]) - cross_entropy,
                "q_continuous_nll": nll}
        return loss, logs

    def discriminator_loss(self, real, fake, real_output, fake_output):
        gan = losses.minimax_discriminator_loss(real_output[0], fake_output[0],
                                                self.hparams["label_smoothing"])
        info, logs = self.information_loss(fake, fake_output)
        return gan + info, dict(sigmoid_logs(real_output[0], fake_output[0]), **logs)

    def generator_loss(self, real, fake, fake_output):
        gan = losses.GENERATOR_LOSSES[self.hparams["generator_loss"]](fake_output[0])
        info, logs = self.information_loss(fake, fake_output, frozen=True)
        return gan + info, logs
