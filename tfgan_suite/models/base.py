"""The shared GAN model every model of the suite derives from.

``GANModel`` is a ``keras.Model`` holding two separate ``keras.Model`` networks,
``generator`` and ``discriminator``, each with its own optimizer. Its
``train_step`` runs ``disc_steps`` (k) discriminator updates and then one
generator update, each with its own ``tf.GradientTape``. A model module only
says what differs: its networks (``build_networks``) and its two losses
(``discriminator_loss`` / ``generator_loss``).

Rules implemented here once, for every model:

* **Distribution.** Keras 3's optimizer *sums* gradients over replicas, so each
  loss (a per-replica mean) is divided by the replica count before the gradient:
  the update then follows the mean over the *global* batch. Noise is drawn for
  the global batch from the model's ``SeedGenerator`` (whose state is identical
  on all replicas) and each replica takes its own slice, so N replicas see
  exactly the noise one device would see with the same global batch.
* **k discriminator steps on k distinct real batches.** The data pipeline
  delivers ``k * batch_size`` real examples per train step (see
  ``tfgan_suite.data``); the step splits them into k minibatches, as in
  Algorithm 1 of Goodfellow et al. (2014).
* **Isolation.** In the discriminator step the generator runs through
  ``stateless_call`` (training mode, but its BatchNorm moving statistics are
  thrown away), and vice versa in the generator step, so neither step changes a
  single variable of the other network.
* **Randomness** flows from ``self.seed_generator`` (``--seed``).
"""
import keras
import tensorflow as tf

from tfgan_suite.distribute import draw_for_global_batch, replica_count
from tfgan_suite.errors import ConfigError

#: Hyper-parameters every model understands; models override the defaults.
BASE_HPARAMS = dict(
    latent_dim=100,
    disc_steps=1,
    optimizer="adam",
    g_learning_rate=2e-4,
    d_learning_rate=2e-4,
    beta1=0.5,
    beta2=0.999,
    lr_constant_steps=0,
    lr_decay_steps=0,
)

OPTIMIZERS = ("adam", "rmsprop", "sgd")


@keras.saving.register_keras_serializable(package="tfgan_suite")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``lr`` for ``constant_steps`` updates, then linearly down to 0 over
    ``decay_steps`` updates (the schedule of pix2pix and CycleGAN). With
    ``decay_steps`` = 0 the rate stays constant."""

    def __init__(self, lr, constant_steps, decay_steps):
        self.lr = float(lr)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        if self.decay_steps <= 0:
            return tf.constant(self.lr, tf.float32)
        step = tf.cast(step, tf.float32)
        frac = (step - self.constant_steps) / float(self.decay_steps)
        return self.lr * (1.0 - tf.clip_by_value(frac, 0.0, 1.0))

    def get_config(self):
        return dict(lr=self.lr, constant_steps=self.constant_steps,
                    decay_steps=self.decay_steps)


def make_optimizer(hparams, which, updates=None):
    """Optimizer for network ``which`` ("g" or "d") from the hyper-parameters.

    The learning-rate schedule counts *training steps*, while the optimizer
    counts its own updates: ``updates = (per_step, before)`` says how many
    updates it makes per training step and how many it makes before the first
    one (pre-training); the schedule is stretched and shifted to match.
    Default: ``disc_steps`` per step for the discriminator, 1 for the generator
    (``GANModel.optimizer_updates``).
    """
    name = hparams["optimizer"]
    lr = float(hparams[f"{which}_learning_rate"])
    if hparams["lr_decay_steps"]:
        per_step, before = updates or GANModel.optimizer_updates(hparams, which)
        lr = ConstantThenLinearDecay(lr, hparams["lr_constant_steps"] * per_step + before,
                                     hparams["lr_decay_steps"] * per_step)
    if name == "adam":
        return keras.optimizers.Adam(lr, beta_1=hparams["beta1"],
                                     beta_2=hparams["beta2"], name=f"{which}_adam")
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, name=f"{which}_rmsprop")
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=hparams["beta1"], name=f"{which}_sgd")
    raise ValueError(f"--optimizer={name!r} is not one of {OPTIMIZERS}")


def _is_rng_state(variable):
    return variable.path.endswith("seed_generator_state")


def call_frozen(network, inputs, training=True):
    """Run ``network`` in training mode without changing its variables.

    BatchNorm layers use batch statistics (as in the network's own step) but
    their moving averages are left untouched. Random-number state (dropout
    seeds) still advances, so masks differ from step to step.
    """
    outputs, new_non_trainable = network.stateless_call(
        [v.value for v in network.trainable_variables],
        [v.value for v in network.non_trainable_variables],
        inputs, training=training)
    for variable, value in zip(network.non_trainable_variables, new_non_trainable):
        if _is_rng_state(variable):
            variable.assign(value)
    return outputs


def _multi_worker():
    strategy = tf.distribute.get_strategy()
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())  # pylint: disable=protected-access


class GANModel(keras.Model):
    """Base class: generator + discriminator, k:1 alternating updates."""

    #: Registry name, set by ``@registry.register``.
    model_name = None
    #: Trackers shown in the progress bar and written to TensorBoard.
    metric_names = ("d_loss", "g_loss")

    def __init__(self, generator, discriminator, *, latent_dim, disc_steps=1,
                 seed=None, hparams=None, **kwargs):
        kwargs.setdefault("name", self.model_name or "gan")
        super().__init__(**kwargs)
        if int(disc_steps) < 1:
            raise ValueError(f"disc_steps must be >= 1, got {disc_steps}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.disc_steps = int(disc_steps)
        self.hparams = dict(hparams or {})
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self._trackers = {n: keras.metrics.Mean(name=n) for n in self.metric_names}
        self.g_optimizer = None
        self.d_optimizer = None
        # A GAN wrapper has no call(): its networks are built, so is it.
        self.built = True

    # ------------------------------------------------------------ construction
    @classmethod
    def build_networks(cls, hparams, data_shape):
        """Return (generator, discriminator) for ``data_shape``. Override."""
        raise NotImplementedError

    @classmethod
    def data_defaults(cls, data_kind):
        """Default overrides for "image" or "vector" data (e.g. toy sets)."""
        return {}

    @classmethod
    def validate_hparams(cls, hp):
        """Raise ConfigError naming the flag for an impossible value."""
        for key in ("latent_dim", "disc_steps"):
            if int(hp[key]) < 1:
                raise ConfigError(f"--{key} must be >= 1, got {hp[key]}")
        for key in ("lr_constant_steps", "lr_decay_steps"):
            if int(hp[key]) < 0:
                raise ConfigError(f"--{key} must be >= 0, got {hp[key]}")
        for key in ("g_learning_rate", "d_learning_rate"):
            if not float(hp[key]) > 0:
                raise ConfigError(f"--{key} must be > 0, got {hp[key]}")
        if hp["optimizer"] not in OPTIMIZERS:
            raise ConfigError(f"--optimizer={hp['optimizer']!r} is not one of {OPTIMIZERS}")

    @classmethod
    def check_data(cls, hp, data_kind, data_shape):
        """Raise ConfigError when the model cannot train on this data."""
        if data_kind != "image":
            raise ConfigError(
                f"--model={cls.model_name} trains on images, but the dataset gives "
                f"{data_kind} data of shape {tuple(data_shape)}; use an image dataset "
                f"(e.g. --dataset=bundled:mnist)")

    @classmethod
    def from_hparams(cls, hparams, data_shape, seed=None):
        generator, discriminator = cls.build_networks(hparams, tuple(data_shape))
        return cls(generator, discriminator, latent_dim=hparams["latent_dim"],
                   disc_steps=hparams["disc_steps"], seed=seed, hparams=hparams)

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        """Attach one optimizer per network and build their slots now.

        Call inside ``strategy.scope()`` when training distributed. Extra keyword
        arguments (``jit_compile``, ``steps_per_execution``...) go to Keras.
        """
        super().compile(optimizer=None, **kwargs)
        if keras.config.dtype_policy().name == "mixed_float16":
            g_optimizer = keras.optimizers.LossScaleOptimizer(g_optimizer)
            d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        g_optimizer.build(self.g_variables())
        d_optimizer.build(self.d_variables())

    def g_variables(self):
        """Variables the generator optimizer updates."""
        return self.generator.trainable_variables

    def d_variables(self):
        """Variables the discriminator optimizer updates."""
        return self.discriminator.trainable_variables

    @classmethod
    def batches_per_step(cls, hp):
        """Minibatches of real data one train step consumes (k by default)."""
        return int(hp["disc_steps"])

    @classmethod
    def optimizer_updates(cls, hp, which):
        """(updates per training step, updates before the first training step)
        of the "g" or "d" optimizer; ``make_optimizer`` fits the schedule to it."""
        return (int(hp["disc_steps"]) if which == "d" else 1), 0

    @property
    def metrics(self):
        return list(self._trackers.values())

    @property
    def step(self):
        """Number of generator updates done so far (the training step)."""
        return int(self.g_optimizer.iterations.numpy())

    def checkpoint_items(self):
        """Everything a checkpoint must hold to resume training exactly."""
        return dict(generator=self.generator, discriminator=self.discriminator,
                    g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
                    noise_seed=self.seed_generator.state)

    # ------------------------------------------------------------------ noise
    def sample_latent(self, batch_size):
        """Noise for this replica's ``batch_size`` examples.

        Drawn for the global batch and sliced by replica id, so the noise of a
        step does not depend on how many replicas share it.
        """
        return draw_for_global_batch(
            lambda shape: keras.random.normal(shape, seed=self.seed_generator),
            (batch_size, self.latent_dim))

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

    def sample_for_evaluation(self, num, seed):
        """Images the metrics compare with the data (numpy, [-1, 1]).

        Unconditional models: ``generate``. Conditional and image-to-image
        models override it (labels drawn from the data, translated images).
        """
        return self.generate(num, seed=seed).numpy()

    # ---------------------------------------------------------------- serving
    #: What the exported generator takes: "unconditional" (z), "conditional"
    #: (z, labels) or "image_to_image" (images).
    export_kind = "unconditional"

    def serving_input_signature(self, batch=None):
        """Named TensorSpecs of the ``serving_default`` signature."""
        return [tf.TensorSpec((batch, self.latent_dim), tf.float32, name="z")]

    def serve(self, z):
        """Images in [-1, 1] for the serving inputs (inference mode)."""
        return self.generator(z, training=False)

    def random_serving_inputs(self, num_samples, seed):
        """Serving inputs drawn inside the graph (the ``generate`` signature)."""
        return [tf.random.stateless_normal(tf.stack([num_samples, self.latent_dim]),
                                           tf.stack([seed, 0]))]

    # --------------------------------------------------------------- training
    def discriminator_loss(self, real, fake, real_output, fake_output):
        """Return (loss, extra_logs). Override."""
        raise NotImplementedError

    def generator_loss(self, real, fake, fake_output):
        """Return (loss, extra_logs). Override."""
        raise NotImplementedError

    def losses_on(self, real, z):
        """(discriminator loss, generator loss) on a fixed batch and noise,
        without updating anything (both networks in training mode)."""
        fake = call_frozen(self.generator, z)
        real_output = call_frozen(self.discriminator, real)
        fake_output = call_frozen(self.discriminator, fake)
        d_loss, _ = self.discriminator_loss(real, fake, real_output, fake_output)
        g_loss, _ = self.generator_loss(real, fake, fake_output)
        return float(d_loss), float(g_loss)

    def after_discriminator_update(self):
        """Hook run after every discriminator update (e.g. weight clipping)."""

    @staticmethod
    def unpack(data):
        """Split a dataset element into (examples, labels or None)."""
        if isinstance(data, (tuple, list)):
            return data[0], (data[1] if len(data) > 1 else None)
        return data, None

    def _apply(self, optimizer, tape, loss, variables):
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))

    def discriminator_step(self, real):
        batch = real.shape[0] if real.shape[0] is not None else tf.shape(real)[0]
        fake = tf.stop_gradient(call_frozen(self.generator, self.sample_latent(batch)))
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_output = self.discriminator(real, training=True)
            fake_output = self.discriminator(fake, training=True)
            loss, logs = self.discriminator_loss(real, fake, real_output, fake_output)
            scaled = self.d_optimizer.scale_loss(loss / replica_count())
        self._apply(self.d_optimizer, tape, scaled, variables)
        self.after_discriminator_update()
        return {"d_loss": loss, **logs}

    def generator_step(self, real):
        batch = real.shape[0] if real.shape[0] is not None else tf.shape(real)[0]
        z = self.sample_latent(batch)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            fake_output = call_frozen(self.discriminator, fake)
            loss, logs = self.generator_loss(real, fake, fake_output)
            scaled = self.g_optimizer.scale_loss(loss / replica_count())
        self._apply(self.g_optimizer, tape, scaled, variables)
        return {"g_loss": loss, **logs}

    def train_step(self, data):
        real, _ = self.unpack(data)
        chunks = tf.split(real, self.disc_steps, axis=0) if self.disc_steps > 1 else [real]
        for chunk in chunks:
            self._track(self.discriminator_step(chunk))
        self._track(self.generator_step(chunks[-1]))
        return self._results()

    def _results(self):
        results = {m.name: m.result() for m in self.metrics}
        if _multi_worker():
            # Keras reduces train_step outputs across workers with
            # reduce(MEAN, axis=0), which fails on scalars: give it [1] tensors.
            results = {k: tf.reshape(v, [1]) for k, v in results.items()}
        return results

    def _track(self, logs):
        for name, value in logs.items():
            self._trackers[name].update_state(value)
