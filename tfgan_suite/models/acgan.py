"""Auxiliary classifier GAN (Odena, Olah & Shlens 2017).

G(z, c) is class-conditional; D sees the image alone and has two heads on one
trunk: the source (real or fake) and the class. With L_S the log-likelihood of
the correct source and L_C that of the correct class (on real and fake
images), D maximises L_S + L_C and G maximises L_C - L_S. Here G's -L_S is the
non-saturating -log D(G(z)) by default (``--generator_loss``), as for the GAN.
"""
import tensorflow as tf
from keras import layers

from tfgan_suite import losses
from tfgan_suite.models.coded import ConditionalGAN
from tfgan_suite.models.gan import GAN, sigmoid_logs
from tfgan_suite.networks import conditional as cnets
from tfgan_suite.registry import register


@register("acgan", default_dataset="bundled:mnist",
          description="Auxiliary classifier GAN (Odena et al. 2017): D with source and "
                      "class heads",
          defaults=dict(architecture="dcgan"),
          tiny=dict(g_filters=4, d_filters=4, latent_dim=4, embedding_dim=3))
class ACGAN(ConditionalGAN, GAN):
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "class_loss", "class_accuracy")

    @classmethod
    def build_discriminator(cls, hp, data):
        return cnets.headed_discriminator(hp, data.shape, {
            "source": lambda f: cnets.dense(1, hp, "source_logit")(f),
            "classes": lambda f: layers.Dense(data.num_classes, name="class_logits")(f),
        })

    def discriminator_input(self, examples):
        return examples["images"]

    def discriminator_loss(self, real, fake, real_output, fake_output):
        (real_source, real_classes), (fake_source, fake_classes) = real_output, fake_output
        source = losses.minimax_discriminator_loss(real_source, fake_source,
                                                   self.hparams["label_smoothing"])
        real_class = losses.class_cross_entropy(real["labels"], real_classes)
        fake_class = losses.class_cross_entropy(fake["labels"], fake_classes)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(
            tf.argmax(real_classes, -1, output_type=tf.int32), real["labels"]), tf.float32))
        logs = dict(sigmoid_logs(real_source, fake_source), class_loss=real_class,
                    class_accuracy=accuracy)
        return source + real_class + fake_class, logs

    def generator_loss(self, real, fake, fake_output):
        source, classes = fake_output
        adversarial = losses.GENERATOR_LOSSES[self.hparams["generator_loss"]](source)
        return adversarial + losses.class_cross_entropy(fake["labels"], classes), {}
