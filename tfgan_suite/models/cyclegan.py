"""CycleGAN: unpaired image-to-image translation (Zhu et al. 2017).

G: A -> B (``generator``) and F: B -> A (``generator_b2a``), ResNet generators
(9 blocks at 256 px, 6 below; instance norm, reflection padding); D_Y
(``discriminator``) and D_X (``discriminator_a``), 70 x 70 PatchGANs with
instance norm. One optimizer updates both generators and one both
discriminators, as in the authors' code.

Losses (``losses``): least-squares adversarial terms; cycle consistency
lambda * (|F(G(a)) - a|_1 + |G(F(b)) - b|_1) with lambda = 10; identity
``identity_weight`` * lambda * (|G(b) - b|_1 + |F(a) - a|_1) (0.5 * lambda by
default); each discriminator sees fakes from a 50-image history
(``image_pool.ImagePool``) and its loss is halved. Adam(2e-4, beta1 = 0.5).
Per step: update G and F together, then D_X and D_Y. The paper's schedule:
``--lr_constant_epochs=100 --lr_decay_epochs=100``.
"""
import tensorflow as tf

from tfgan_suite import losses, networks
from tfgan_suite.hparams import D_FILTERS, G_FILTERS, POOL_SIZE, HParam
from tfgan_suite.image_pool import ImagePool
from tfgan_suite.models.base import call_frozen
from tfgan_suite.models.image_to_image import (NORMS, RECEPTIVE_FIELD, TRANSLATION_DEFAULTS,
                                               TRANSLATION_TINY, ImageToImageGAN,
                                               patch_discriminator)
from tfgan_suite.registry import register


@register("cyclegan", default_dataset="cycle_gan/horse2zebra",
          description="Unpaired image-to-image translation with cycle consistency "
                      "(Zhu et al. 2017)",
          defaults=TRANSLATION_DEFAULTS, tiny=dict(TRANSLATION_TINY, resnet_blocks=1,
                                                   pool_size=2),
          default_shape=(32, 32, 1), default_batch_size=1)
class CycleGAN(ImageToImageGAN):
    HPARAMS = (G_FILTERS, D_FILTERS, RECEPTIVE_FIELD, *NORMS, POOL_SIZE,
               HParam("cycle_weight", 10.0, "Cycle-consistency weight lambda.", lower=0.0),
               HParam("identity_weight", 0.5, "Identity loss weight as a fraction of lambda "
                      "(0 turns it off).", lower=0.0),
               HParam("resnet_blocks", 0, "Residual blocks in the generators (0: 9 at >= "
                      "256 px, 6 below).", "int", lower=0))
    metric_names = ("d_loss", "g_loss", "g_gan", "cycle_loss", "identity_loss")
    generator_networks = ("generator", "generator_b2a")
    discriminator_networks = ("discriminator", "discriminator_a")
    directions = {"a2b": "generator", "b2a": "generator_b2a"}

    def __init__(self, networks_, **kwargs):
        super().__init__(networks_, **kwargs)
        size = int(self.hparams["pool_size"])
        self.pool_a = ImagePool(size, self.image_shape, name="pool_a")
        self.pool_b = ImagePool(size, self.image_shape, name="pool_b")

    @classmethod
    def build_networks(cls, hp, data):
        blocks = int(hp["resnet_blocks"]) or None

        def generator(name):
            return networks.resnet_generator(data.shape, filters=hp["g_filters"],
                                             num_blocks=blocks, norm=hp["g_norm"], name=name)
        # Built F, D_X, G, D_Y: the order of the first version, so that a seed
        # gives the same initial weights as before.
        f = generator("generator_b2a")
        d_x = patch_discriminator(hp, data.shape, name="discriminator_a")
        return dict(generator=generator("generator"),
                    discriminator=patch_discriminator(hp, data.shape),
                    generator_b2a=f, discriminator_a=d_x)

    def extra_checkpoint_items(self):
        return dict(pool_a=self.pool_a, pool_b=self.pool_b)

    def generator_losses(self, a, b, training=True):
        """(total, logs, F(b), G(a)) with both discriminators frozen."""
        G, F = self.generator, self.generator_b2a
        hp = self.hparams
        fake_b = G(a, training=training)
        fake_a = F(b, training=training)
        gan = (losses.squared_error_to(call_frozen(self.discriminator, fake_b), 1.0)
               + losses.squared_error_to(call_frozen(self.discriminator_a, fake_a), 1.0))
        cycle = (losses.cycle_loss(a, F(fake_b, training=training))
                 + losses.cycle_loss(b, G(fake_a, training=training)))
        total = gan + hp["cycle_weight"] * cycle
        identity = tf.constant(0.0)
        if hp["identity_weight"] > 0:
            identity = (losses.identity_loss(b, G(b, training=training))
                        + losses.identity_loss(a, F(a, training=training)))
            total += hp["identity_weight"] * hp["cycle_weight"] * identity
        logs = {"g_gan": gan, "cycle_loss": cycle, "identity_loss": identity}
        return total, logs, fake_a, fake_b

    def discriminator_loss(self, a, b, fake_a, fake_b):
        """Both discriminators: 0.5 * [MSE(D(real), 1) + MSE(D(fake), 0)] each."""
        def one(d, real, fake):
            return losses.least_squares_discriminator_loss(d(real, training=True),
                                                           d(fake, training=True))
        return one(self.discriminator, b, fake_b) + one(self.discriminator_a, a, fake_a)

    def train_step(self, data):
        batch = self.unpack(data)
        a, b = batch["a"], batch["b"]
        with tf.GradientTape() as tape:
            g_loss, logs, fake_a, fake_b = self.generator_losses(a, b)
        self.apply_gradients(self.g_optimizer, tape, g_loss, self.g_variables())
        fake_a = self.pool_a.query(tf.stop_gradient(fake_a), self.seed_generator)
        fake_b = self.pool_b.query(tf.stop_gradient(fake_b), self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = self.discriminator_loss(a, b, fake_a, fake_b)
        self.apply_gradients(self.d_optimizer, tape, d_loss, self.d_variables())
        self._track({"d_loss": d_loss, "g_loss": g_loss, **logs})
        return self._results()

    def grid_rows(self, a, b):
        fake_b = self.translate(a)
        fake_a = self.translate(b, "b2a")
        return [a, fake_b, self.translate(fake_b, "b2a"), b, fake_a, self.translate(fake_a)]

    def evaluation_extras(self, a, b, fake_b):
        """Cycle-reconstruction errors |F(G(a)) - a| and |G(F(b)) - b| per image."""
        back_a = self.translate(fake_b, "b2a").numpy()
        back_b = self.translate(self.translate(b, "b2a")).numpy()
        return {"cycle_l1_a": abs(back_a - a.numpy()).mean(axis=(1, 2, 3)),
                "cycle_l1_b": abs(back_b - b.numpy()).mean(axis=(1, 2, 3))}
