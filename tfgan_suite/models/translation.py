"""Image-to-image translation: pix2pix (Isola et al. 2017) and CycleGAN (Zhu et al. 2017).

Both take two-domain data (``tfgan_suite.data.pairs``): each dataset element is
(a, b), images in [-1, 1]. ``generator`` maps A -> B; CycleGAN adds
``generator_b2a`` (F: B -> A) and ``discriminator_a`` (D_X); a single
generator optimizer updates both generators and a single discriminator
optimizer both discriminators, as in the authors' code. ``model.step`` counts
generator updates. Serving: ``serve(images)`` translates A -> B (and CycleGAN's
``serve_b2a`` B -> A); images of any size the generator's strides allow.

pix2pix
    G: U-Net (``networks.unet``), D: PatchGAN (70 x 70 by default) on the
    (input, output) pair. D minimises 0.5 * [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)]
    ("we divide the objective by 2 while optimizing D"); G minimises the
    non-saturating cGAN loss BCE(D(x, G(x)), 1) + lambda * |y - G(x)|_1 with
    lambda = 100. Adam(2e-4, beta1 = 0.5), batch 1. Dropout (0.5 in the first
    decoder layers) is the only noise source and stays on at test time
    (``--test_dropout``, default on). Normalisation: the paper uses BatchNorm with
    the *test batch's* statistics at test time, which at its batch size 1 is
    instance normalisation; ``--norm=instance`` (default) does exactly that at every
    batch size, ``--norm=batch`` is Keras' BatchNorm (moving statistics at test).
    Order per step, as in the reference code: forward G, update D on the detached
    output, update G against the updated D.

CycleGAN
    G, F: ResNet generators (9 blocks at 256 px, 6 below; instance norm,
    reflection padding); D_X, D_Y: 70 x 70 PatchGANs with instance norm. LSGAN
    losses; cycle loss lambda = 10 in both directions; identity loss
    ``identity_weight`` * lambda (0.5 * lambda by default) on |G(y) - y| and
    |F(x) - x|; each discriminator sees fakes from a 50-image history
    (``image_pool.ImagePool``) and its loss is halved; Adam(2e-4, beta1 = 0.5).
    Per step: update G and F together, then D_X and D_Y. Learning-rate schedule of
    the paper: ``--lr_constant_epochs=100 --lr_decay_epochs=100`` (train flags).
"""
import tensorflow as tf
from absl import flags

from tfgan_suite import losses, networks
from tfgan_suite.errors import ConfigError
from tfgan_suite.image_pool import ImagePool
from tfgan_suite.models.base import GANModel, call_frozen, replica_count
from tfgan_suite.registry import register

flags.DEFINE_float("l1_weight", None, "pix2pix: weight lambda of the L1 loss (default 100).")
flags.DEFINE_enum("receptive_field", None, ["1", "16", "70", "286", "image"],
                  "pix2pix/cyclegan: PatchGAN receptive field (1 = PixelGAN, image = ImageGAN).")
flags.DEFINE_enum("norm", None, ["batch", "instance", "none"],
                  "pix2pix/cyclegan: normalisation in both networks.")
flags.DEFINE_boolean("test_dropout", None, "pix2pix: keep dropout on at test time "
                     "(the paper's noise source; default on).")
flags.DEFINE_float("cycle_weight", None, "cyclegan: cycle-consistency weight lambda (default 10).")
flags.DEFINE_float("identity_weight", None, "cyclegan: identity loss weight as a fraction "
                   "of lambda (default 0.5; 0 turns it off).")
flags.DEFINE_integer("pool_size", None, "cyclegan/simgan: images in each history buffer "
                     "(0: none).", lower_bound=0)
flags.DEFINE_integer("resnet_blocks", None, "cyclegan: residual blocks in the generators "
                     "(0: 9 at >= 256 px, 6 below).", lower_bound=0)

TRANSLATION_DEFAULTS = dict(latent_dim=1, g_learning_rate=2e-4, d_learning_rate=2e-4,
                            beta1=0.5, beta2=0.999, g_filters=64, d_filters=64,
                            receptive_field="70")


def _receptive_field(value):
    return value if value == "image" else int(value)


def patch_discriminator(hp, data_shape, condition_channels=0, name="discriminator"):
    return networks.patchgan_discriminator(
        data_shape, receptive_field=_receptive_field(hp["receptive_field"]),
        filters=hp["d_filters"], norm=hp["norm"], condition_channels=condition_channels,
        name=name)


class TranslationModel(GANModel):
    """Shared plumbing of the image-to-image models."""

    export_kind = "image_to_image"
    #: Data kinds the model trains on.
    data_kinds = ("paired", "unpaired")

    def __init__(self, generator, discriminator, *, image_shape, extra=None, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.image_shape = tuple(image_shape)
        for name, network in (extra or {}).items():
            setattr(self, name, network)

    @classmethod
    def from_hparams(cls, hparams, data_shape, seed=None):
        built = cls.build_networks(hparams, tuple(data_shape))
        extra = built[2] if len(built) > 2 else None
        return cls(built[0], built[1], image_shape=tuple(data_shape), extra=extra,
                   latent_dim=hparams["latent_dim"], disc_steps=hparams["disc_steps"],
                   seed=seed, hparams=hparams)

    @classmethod
    def check_data(cls, hp, data_kind, data_shape):
        if data_kind not in cls.data_kinds:
            raise ConfigError(
                f"--model={cls.model_name} translates images between two domains and "
                f"needs {' or '.join(cls.data_kinds)} data, but the dataset gives {data_kind} "
                f"data; use e.g. --dataset=bundled:edges2shoes (paired), "
                f"bundled:sneakers2boots (unpaired), paired:PATH or unpaired:PATH")

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        for key in ("g_filters", "d_filters"):
            if key in hp and int(hp[key]) < 1:
                raise ConfigError(f"--{key} must be >= 1, got {hp[key]}")

    @staticmethod
    def unpack_pair(data):
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("image-to-image models train on (a, b) pairs of images")
        return data[0], data[1]

    #: Input sides must be multiples of this (the generator's total stride).
    size_multiple = 4

    def serving_input_signature(self, batch=None):
        return [tf.TensorSpec((batch, None, None, self.image_shape[-1]), tf.float32,
                              name="images")]

    def static_serving_signature(self, batch=1):
        """Fully static input (TFLite): the training image size."""
        return [tf.TensorSpec((batch, *self.image_shape), tf.float32, name="images")]

    def serve(self, images):
        return self.generator(images, training=False)

    def translate(self, images, direction="a2b"):
        """Translate a batch (numpy or tensor, [-1, 1]) in ``direction``."""
        if direction == "a2b":
            return self.serve(tf.convert_to_tensor(images, tf.float32))
        if direction == "b2a" and hasattr(self, "serve_b2a"):
            return self.serve_b2a(tf.convert_to_tensor(images, tf.float32))
        raise ConfigError(f"--direction={direction}: {self.model_name} translates "
                          f"{'a2b and b2a' if hasattr(self, 'serve_b2a') else 'a2b only'}")

    def grid_rows(self, a, b):
        """Rows of the sample grid for fixed inputs ``a``, ``b``. Override."""
        return [a, self.serve(a), b]

    def random_serving_inputs(self, num_samples, seed):
        raise NotImplementedError("image-to-image models have no generate signature")

    def sample_for_evaluation(self, num, seed):
        raise NotImplementedError("image-to-image models are evaluated on translated test "
                                  "images (tfgan_suite.metrics.evaluation.evaluate)")


def _mse(output, target):
    """LSGAN generator term as in the CycleGAN code: mean (D(G(x)) - 1)^2."""
    return tf.reduce_mean(tf.square(tf.cast(output, tf.float32) - target))


def _bce(logits, label):
    labels = tf.fill(tf.shape(logits), float(label))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))


@register("pix2pix", default_dataset="bundled:edges2shoes",
          description="Image-to-image translation with conditional GANs (Isola et al. 2017)",
          defaults=dict(TRANSLATION_DEFAULTS, l1_weight=100.0, norm="instance",
                        test_dropout=True),
          default_shape=(32, 32, 1), default_batch_size=1)
class Pix2Pix(TranslationModel):
    metric_names = ("d_loss", "g_loss", "g_gan", "g_l1")
    data_kinds = ("paired",)

    @classmethod
    def build_networks(cls, hp, data_shape):
        generator = networks.unet_generator(
            data_shape, filters=hp["g_filters"], norm=hp["norm"],
            dropout_at_inference=hp["test_dropout"], name="generator")
        discriminator = patch_discriminator(hp, data_shape,
                                            condition_channels=data_shape[-1])
        return generator, discriminator

    @property
    def size_multiple(self):
        return 2 ** networks.unet_depth(self.image_shape[0])

    def set_test_dropout(self, on):
        """Turn dropout at test time on or off (the paper keeps it on)."""
        networks.set_inference_dropout(self.generator, bool(on))

    def losses_on(self, a, b):
        """(D loss, G loss) on a fixed batch without updating anything."""
        fake = call_frozen(self.generator, a)
        d_loss = self._d_loss(call_frozen(self.discriminator, [a, b]),
                              call_frozen(self.discriminator, [a, fake]))
        g_loss, _ = self._g_loss(b, fake, call_frozen(self.discriminator, [a, fake]))
        return float(d_loss), float(g_loss)

    @staticmethod
    def _d_loss(real_out, fake_out):
        return 0.5 * (_bce(real_out, 1.0) + _bce(fake_out, 0.0))

    def _g_loss(self, b, fake, fake_out):
        gan = _bce(fake_out, 1.0)
        l1 = tf.reduce_mean(tf.abs(b - fake))
        return gan + self.hparams["l1_weight"] * l1, {"g_gan": gan, "g_l1": l1}

    def train_step(self, data):
        a, b = self.unpack_pair(data)
        n = replica_count()
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as g_tape:
            fake = self.generator(a, training=True)
            with g_tape.stop_recording():
                d_vars = self.discriminator.trainable_variables
                with tf.GradientTape() as d_tape:
                    d_loss = self._d_loss(self.discriminator([a, b], training=True),
                                          self.discriminator([a, tf.stop_gradient(fake)],
                                                             training=True))
                    scaled = self.d_optimizer.scale_loss(d_loss / n)
                self._apply(self.d_optimizer, d_tape, scaled, d_vars)
            fake_out = call_frozen(self.discriminator, [a, fake])
            g_loss, logs = self._g_loss(b, fake, fake_out)
            scaled = self.g_optimizer.scale_loss(g_loss / n)
        self._apply(self.g_optimizer, g_tape, scaled, g_vars)
        self._track({"d_loss": d_loss, "g_loss": g_loss, **logs})
        return self._results()

    def grid_rows(self, a, b):
        return [a, self.serve(a), b]


@register("cyclegan", default_dataset="cycle_gan/horse2zebra",
          description="Unpaired image-to-image translation with cycle consistency "
                      "(Zhu et al. 2017)",
          defaults=dict(TRANSLATION_DEFAULTS, norm="instance", cycle_weight=10.0,
                        identity_weight=0.5, pool_size=50, resnet_blocks=0),
          default_shape=(32, 32, 1), default_batch_size=1)
class CycleGAN(TranslationModel):
    metric_names = ("d_loss", "g_loss", "g_gan", "cycle_loss", "identity_loss")

    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        size = int(self.hparams["pool_size"])
        self.pool_a = ImagePool(size, self.image_shape, name="pool_a")
        self.pool_b = ImagePool(size, self.image_shape, name="pool_b")

    @classmethod
    def build_networks(cls, hp, data_shape):
        blocks = int(hp["resnet_blocks"]) or None

        def gen(name):
            return networks.resnet_generator(data_shape, filters=hp["g_filters"],
                                             num_blocks=blocks, norm=hp["norm"], name=name)
        extra = dict(generator_b2a=gen("generator_b2a"),
                     discriminator_a=patch_discriminator(hp, data_shape,
                                                         name="discriminator_a"))
        return gen("generator"), patch_discriminator(hp, data_shape), extra

    def g_variables(self):
        return self.generator.trainable_variables + self.generator_b2a.trainable_variables

    def d_variables(self):
        return (self.discriminator.trainable_variables
                + self.discriminator_a.trainable_variables)

    def checkpoint_items(self):
        return dict(super().checkpoint_items(), generator_b2a=self.generator_b2a,
                    discriminator_a=self.discriminator_a, pool_a=self.pool_a,
                    pool_b=self.pool_b)

    def serve_b2a(self, images):
        return self.generator_b2a(images, training=False)

    def _generator_losses(self, a, b, training=True):
        G, F = self.generator, self.generator_b2a
        hp = self.hparams
        fake_b = G(a, training=training)
        fake_a = F(b, training=training)
        rec_a = F(fake_b, training=training)
        rec_b = G(fake_a, training=training)
        gan = (_mse(call_frozen(self.discriminator, fake_b), 1.0)
               + _mse(call_frozen(self.discriminator_a, fake_a), 1.0))
        cycle = cycle_loss(a, rec_a) + cycle_loss(b, rec_b)
        total = gan + hp["cycle_weight"] * cycle
        identity = tf.constant(0.0)
        if hp["identity_weight"] > 0:
            identity = identity_loss(b, G(b, training=training)) + identity_loss(
                a, F(a, training=training))
            total += hp["identity_weight"] * hp["cycle_weight"] * identity
        logs = {"g_gan": gan, "cycle_loss": cycle, "identity_loss": identity}
        return total, logs, fake_a, fake_b

    def _discriminator_loss(self, a, b, fake_a, fake_b):
        def one(d, real, fake):  # 0.5 * [MSE(D(real), 1) + MSE(D(fake), 0)]
            return losses.least_squares_discriminator_loss(d(real, training=True),
                                                           d(fake, training=True))
        return one(self.discriminator, b, fake_b) + one(self.discriminator_a, a, fake_a)

    def losses_on(self, a, b):
        g_loss, _, fake_a, fake_b = self._generator_losses(a, b)
        d_loss = self._discriminator_loss(a, b, fake_a, fake_b)
        return float(d_loss), float(g_loss)

    def train_step(self, data):
        a, b = self.unpack_pair(data)
        n = replica_count()
        g_vars = self.g_variables()
        with tf.GradientTape() as tape:
            g_loss, logs, fake_a, fake_b = self._generator_losses(a, b)
            scaled = self.g_optimizer.scale_loss(g_loss / n)
        self._apply(self.g_optimizer, tape, scaled, g_vars)
        fake_a = self.pool_a.query(tf.stop_gradient(fake_a), self.seed_generator)
        fake_b = self.pool_b.query(tf.stop_gradient(fake_b), self.seed_generator)
        d_vars = self.d_variables()
        with tf.GradientTape() as tape:
            d_loss = self._discriminator_loss(a, b, fake_a, fake_b)
            scaled = self.d_optimizer.scale_loss(d_loss / n)
        self._apply(self.d_optimizer, tape, scaled, d_vars)
        self._track({"d_loss": d_loss, "g_loss": g_loss, **logs})
        return self._results()

    def grid_rows(self, a, b):
        fake_b = self.serve(a)
        fake_a = self.serve_b2a(b)
        return [a, fake_b, self.serve_b2a(fake_b), b, fake_a, self.serve(fake_a)]


def cycle_loss(x, reconstruction):
    """Mean absolute error |F(G(x)) - x|_1 (per pixel), CycleGAN eq. 2."""
    return tf.reduce_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(reconstruction, tf.float32)))


def identity_loss(x, mapped):
    """Mean absolute error |G(y) - y|_1 (per pixel), CycleGAN section 5.2."""
    return tf.reduce_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(mapped, tf.float32)))


__all__ = ["Pix2Pix", "CycleGAN", "TranslationModel", "cycle_loss", "identity_loss"]
