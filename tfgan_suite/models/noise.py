"""Noise-to-image GANs: G maps z ~ N(0, I) to an example, D scores examples.

``NoiseToImageGAN`` specialises the core for every model whose generator
takes noise: it draws z (for the global batch, each replica taking its slice,
so N replicas see the noise one device would), runs the discriminator and
generator steps with ``tf.GradientTape``, and declares its grid (a fixed noise
batch; a point plot over real samples for 2-D toy data), its evaluation
batches (generated images against the training data), and its export
(``serving_default(z)``, ``generate(num_samples, seed)`` drawing z inside the
graph). A model module only writes its two losses, and its networks if they
differ from the MLP / DCGAN pair chosen by ``--architecture``.

The loss hooks receive the whole batch: ``real`` and ``fake`` are dicts
(``real["images"]``; ``fake["images"]`` and the generator inputs such as
``fake["z"]``), so conditional models add labels without a side channel.
"""
import keras
import numpy as np
import tensorflow as tf

from tfgan_suite import networks
from tfgan_suite.distribute import draw_for_global_batch
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import D_FILTERS, DISC_STEPS, G_FILTERS, HParam
from tfgan_suite.models.base import GANModel, call_frozen
from tfgan_suite.models.contract import EvalBatch, Grid, Signature, normal_inputs

NOISE_HPARAMS = (
    HParam("latent_dim", 100, "Dimension of the noise z.", "int", lower=1),
    DISC_STEPS,
)

NETWORK_HPARAMS = (
    HParam("architecture", "mlp", "Network family.", "enum", choices=networks.ARCHITECTURES),
    HParam("g_hidden_units", (256, 512, 1024), "mlp: generator hidden layer widths.",
           "int_list"),
    HParam("d_hidden_units", (512, 256), "mlp: discriminator hidden layer widths.",
           "int_list"),
    HParam("g_batchnorm", True, "mlp: BatchNorm in the generator.", "bool"),
    HParam("g_activation", "relu", "mlp: generator hidden activation (relu, leaky_relu, "
           "tanh, ...).", "str"),
    HParam("d_dropout", 0.0, "mlp: dropout rate in the discriminator.", lower=0.0),
    HParam("d_minibatch_std", False, "mlp: minibatch standard-deviation feature in the "
           "discriminator (Karras et al. 2018).", "bool"),
    G_FILTERS,
    D_FILTERS,
    HParam("kernel_size", 4, "dcgan: convolution kernel size.", "int", lower=1),
    HParam("d_norm", "batch", "dcgan: normalisation in the discriminator/critic.", "enum",
           choices=("batch", "layer", "none")),
    HParam("d_spectral_norm", False, "Spectral normalisation of every discriminator layer "
           "(keras.layers.SpectralNormalization).", "bool"),
)

#: Learning rates on the low-dimensional toy sets (faster than the image papers').
TOY_LEARNING_RATES = dict(g_learning_rate=5e-4, d_learning_rate=5e-4)


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


def slerp(z0, z1, t):
    """Spherical interpolation between rows of z0 and z1 at fractions t ([T])."""
    z0n = z0 / np.linalg.norm(z0, axis=-1, keepdims=True)
    z1n = z1 / np.linalg.norm(z1, axis=-1, keepdims=True)
    omega = np.arccos(np.clip((z0n * z1n).sum(-1, keepdims=True), -1.0, 1.0))[:, None]
    so = np.sin(omega)
    t = np.asarray(t, np.float64)[None, :, None]
    lerp = (1 - t) * z0[:, None] + t * z1[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (np.sin((1 - t) * omega) * z0[:, None] + np.sin(t * omega) * z1[:, None]) / so
    return np.where(so > 1e-6, s, lerp)


class NoiseToImageGAN(GANModel):
    """Base of the GANs whose generator maps noise z to an example."""

    HPARAMS = NOISE_HPARAMS + NETWORK_HPARAMS
    data_kinds = ("image", "vector")

    #: Defaults for low-dimensional (toy) data: small MLPs, as in the
    #: mode-collapse studies (Metz et al. 2017), LeakyReLU so no unit of a
    #: low-dimensional generator dies, no BatchNorm (it would couple the
    #: samples of a batch).
    VECTOR_NETWORK = dict(architecture="mlp", latent_dim=8, g_hidden_units=(128, 128),
                          d_hidden_units=(128, 128), g_batchnorm=False,
                          g_activation="leaky_relu")
    #: Model-specific toy defaults, added to ``VECTOR_NETWORK``.
    VECTOR_EXTRA = TOY_LEARNING_RATES

    @classmethod
    def data_defaults(cls, data_kind):
        return {**cls.VECTOR_NETWORK, **cls.VECTOR_EXTRA} if data_kind == "vector" else {}

    @classmethod
    def check_data(cls, hp, data):
        super().check_data(hp, data)
        if data.kind != "image" and hp["architecture"] != "mlp":
            raise ConfigError(
                f"--model={cls.model_name} with --architecture={hp['architecture']} needs "
                f"images, but the dataset gives {data.describe()}; use --architecture=mlp "
                f"for toy data or an image dataset")
        if hp["architecture"] == "dcgan":
            h, w = data.shape[:2]
            try:
                if h != w:
                    raise ValueError(f"DCGAN needs square images, got {h}x{w}")
                networks.dcgan.spatial_plan(h)
            except ValueError as e:
                raise ConfigError(f"--image_size={h}: {e}") from None

    @classmethod
    def build_networks(cls, hp, data):
        return dict(generator=cls.build_generator(hp, data.shape),
                    discriminator=cls.build_discriminator(hp, data.shape))

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

    @property
    def latent_dim(self):
        return int(self.hparams["latent_dim"])

    # ------------------------------------------------------------------ noise
    def sample_latent(self, batch_size):
        """Noise for this replica's ``batch_size`` examples, drawn for the global
        batch and sliced by replica id."""
        return draw_for_global_batch(
            lambda shape: keras.random.normal(shape, seed=self.seed_generator),
            (batch_size, self.latent_dim))

    def generator_inputs(self, real, batch_size):
        """The generator's inputs for one step ({"z": ...}); conditional models
        add what they take from ``real`` (e.g. labels)."""
        return {"z": self.sample_latent(batch_size)}

    def generator_args(self, inputs):
        """What the generator network is called with, from its named inputs."""
        return inputs["z"]

    def discriminator_input(self, examples):
        """What D sees for a dict of examples ("images", and labels for
        conditional models)."""
        return examples["images"]

    # --------------------------------------------------------------- training
    def discriminator_loss(self, real, fake, real_output, fake_output):
        """Return (loss, extra_logs). Override."""
        raise NotImplementedError

    def generator_loss(self, real, fake, fake_output):
        """Return (loss, extra_logs). Override."""
        raise NotImplementedError

    def after_discriminator_update(self):
        """Hook run after every discriminator update (e.g. weight clipping)."""

    @staticmethod
    def _batch_size(real):
        images = real["images"]
        return images.shape[0] if images.shape[0] is not None else tf.shape(images)[0]

    def discriminator_step(self, real):
        inputs = self.generator_inputs(real, self._batch_size(real))
        fake = dict(inputs, images=tf.stop_gradient(
            call_frozen(self.generator, self.generator_args(inputs))))
        with tf.GradientTape() as tape:
            real_output = self.discriminator(self.discriminator_input(real), training=True)
            fake_output = self.discriminator(self.discriminator_input(fake), training=True)
            loss, logs = self.discriminator_loss(real, fake, real_output, fake_output)
        self.apply_gradients(self.d_optimizer, tape, loss, self.d_variables())
        self.after_discriminator_update()
        return {"d_loss": loss, **logs}

    def generator_step(self, real):
        inputs = self.generator_inputs(real, self._batch_size(real))
        with tf.GradientTape() as tape:
            fake = dict(inputs, images=self.generator(self.generator_args(inputs),
                                                      training=True))
            fake_output = call_frozen(self.discriminator, self.discriminator_input(fake))
            loss, logs = self.generator_loss(real, fake, fake_output)
        self.apply_gradients(self.g_optimizer, tape, loss, self.g_variables())
        return {"g_loss": loss, **logs}

    # ------------------------------------------------------ what it produces
    def generate(self, num, seed=None):
        """``num`` samples from the generator in inference mode.

        With ``seed`` the noise is a pure function of it (repeatable, does not
        advance the model's generator); without, it comes from the model's
        ``SeedGenerator``.
        """
        z = keras.random.normal(
            (int(num), self.latent_dim),
            seed=self.seed_generator if seed is None else int(seed))
        return self.generator(z, training=False)

    def sample_inputs(self, num, seed, data=None):
        rng = np.random.default_rng(seed)
        return {"z": rng.standard_normal((int(num), self.latent_dim)).astype("float32")}

    def generate_from(self, inputs):
        inputs = {k: tf.convert_to_tensor(v) for k, v in inputs.items()}
        return self.generator(self.generator_args(inputs), training=False)

    @property
    def grid_size(self):
        return 2000 if self.data_spec.kind == "vector" else 64

    def grid_renderer(self, data, num, seed):
        inputs = self.sample_inputs(num, seed)
        reference = None
        if self.data_spec.kind == "vector":  # a plot over real points of the data
            reference = next(iter(data.train.batches(num, seed + 1))).numpy()

        def render():
            return Grid(np.asarray(self.generate_from(inputs)), reference=reference,
                        caption=f"{num} samples from a fixed noise batch")
        return render

    def interpolation_grid(self, rows, steps, seed):
        rng = np.random.default_rng(seed)
        z0, z1 = rng.standard_normal((2, rows, self.latent_dim))
        z = slerp(z0, z1, np.linspace(0.0, 1.0, steps)).reshape(-1, self.latent_dim)
        images = self.generate_from({"z": z.astype("float32")})
        return Grid(np.asarray(images), cols=steps,
                    caption=f"{rows} latent walks of {steps} steps")

    def _require_images(self, what):
        if self.data_spec.kind != "image":
            raise ConfigError(f"{what} works on image models; this {self.model_name} was "
                              f"trained on {self.data_spec.describe()}")

    def evaluation_reference(self, source):
        self._require_images("evaluate (and --eval_every)")
        return source

    def evaluation_batches(self, source, num, batch_size, seed):
        self._require_images("evaluate (and --eval_every)")
        for i, start in enumerate(range(0, num, batch_size)):
            images = self.generate(min(batch_size, num - start), seed=seed + i)
            yield EvalBatch(generated=images.numpy())

    def export_signatures(self):
        self._require_images("export (use tfgan_suite.sample for toy data)")
        z = [tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")]

        def generate(num_samples, seed):
            noise = tf.random.stateless_normal(tf.stack([num_samples, self.latent_dim]),
                                               tf.stack([seed, 0]))
            return self.generator(noise, training=False)

        return [
            Signature("serving_default", lambda z: self.generator(z, training=False), z,
                      tflite="", draw=normal_inputs,
                      static_inputs=lambda b: [tf.TensorSpec((b, self.latent_dim),
                                                             tf.float32, name="z")]),
            Signature("generate", generate,
                      [tf.TensorSpec((), tf.int32, name="num_samples"),
                       tf.TensorSpec((), tf.int32, name="seed")]),
        ]

    def export_metadata(self):
        meta = super().export_metadata()
        meta.update(latent_dim=self.latent_dim,
                    output_shape=list(self.generator.output_shape[1:]))
        return meta
