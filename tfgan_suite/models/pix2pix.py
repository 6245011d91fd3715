"""pix2pix: image-to-image translation with conditional GANs (Isola et al. 2017).

G: U-Net (``networks.unet``); D: PatchGAN (70 x 70 by default) on the
(input, output) pair. D minimises 0.5 * [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)]
("we divide the objective by 2 while optimizing D"); G minimises the
non-saturating cGAN loss BCE(D(x, G(x)), 1) + lambda * |y - G(x)|_1 with
lambda = 100. Adam(2e-4, beta1 = 0.5), batch 1.

Dropout (0.5 in the first decoder layers) is the only noise source and stays on
at test time (``--test_dropout``, default on); it is switched off while the
generator is converted to TFLite, where random ops are not builtins
(``tflite_mode``). Normalisation: the paper uses BatchNorm with the *test
batch's* statistics at test time, which at its batch size 1 is instance
normalisation; ``--g_norm=instance`` (default; ``--d_norm`` follows it) does exactly that at every batch
size, ``--g_norm=batch`` is Keras' BatchNorm (moving statistics at test).

Order per step, as in the reference code: forward G, update D on the detached
output, update G against the updated D.
"""
import contextlib

import tensorflow as tf

from tfgan_suite import losses, networks
from tfgan_suite.hparams import D_FILTERS, G_FILTERS, HParam
from tfgan_suite.models.base import call_frozen
from tfgan_suite.models.image_to_image import (NORMS, RECEPTIVE_FIELD, TRANSLATION_DEFAULTS,
                                               TRANSLATION_TINY, ImageToImageGAN,
                                               patch_discriminator)
from tfgan_suite.registry import register


def discriminator_loss(real_output, fake_output):
    """0.5 * [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)]."""
    return 0.5 * losses.minimax_discriminator_loss(real_output, fake_output)


@register("pix2pix", default_dataset="bundled:edges2shoes",
          description="Image-to-image translation with conditional GANs (Isola et al. 2017)",
          defaults=TRANSLATION_DEFAULTS, tiny=TRANSLATION_TINY,
          default_shape=(32, 32, 1), default_batch_size=1)
class Pix2Pix(ImageToImageGAN):
    HPARAMS = (G_FILTERS, D_FILTERS, RECEPTIVE_FIELD, *NORMS,
               HParam("l1_weight", 100.0, "Weight lambda of the L1 loss.", lower=0.0),
               HParam("test_dropout", True, "Keep dropout on at test time (the paper's "
                      "noise source).", "bool"))
    metric_names = ("d_loss", "g_loss", "g_gan", "g_l1")
    data_kinds = ("paired",)

    @classmethod
    def build_networks(cls, hp, data):
        return dict(
            generator=networks.unet_generator(
                data.shape, filters=hp["g_filters"], norm=hp["g_norm"],
                dropout_at_inference=hp["test_dropout"], name="generator"),
            discriminator=patch_discriminator(hp, data.shape,
                                              condition_channels=data.shape[-1]))

    @property
    def stochastic_serving(self):
        return bool(self.hparams["test_dropout"])

    @property
    def size_multiple(self):
        return 2 ** networks.unet_depth(self.image_shape[0])

    def set_test_dropout(self, on):
        """Turn dropout at test time on or off (the paper keeps it on)."""
        networks.set_inference_dropout(self.generator, bool(on))

    @contextlib.contextmanager
    def tflite_mode(self):
        on = bool(self.hparams["test_dropout"])
        self.set_test_dropout(False)
        try:
            yield
        finally:
            self.set_test_dropout(on)

    def generator_loss(self, b, fake, fake_output):
        gan = losses.non_saturating_generator_loss(fake_output)
        l1 = losses.l1_loss(b, fake)
        return gan + self.hparams["l1_weight"] * l1, {"g_gan": gan, "g_l1": l1}

    def train_step(self, data):
        batch = self.unpack(data)
        a, b = batch["a"], batch["b"]
        with tf.GradientTape() as g_tape:
            fake = self.generator(a, training=True)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    d_loss = discriminator_loss(
                        self.discriminator([a, b], training=True),
                        self.discriminator([a, tf.stop_gradient(fake)], training=True))
                self.apply_gradients(self.d_optimizer, d_tape, d_loss, self.d_variables())
            fake_out = call_frozen(self.discriminator, [a, fake])
            g_loss, logs = self.generator_loss(b, fake, fake_out)
        self.apply_gradients(self.g_optimizer, g_tape, g_loss, self.g_variables())
        self._track({"d_loss": d_loss, "g_loss": g_loss, **logs})
        return self._results()
