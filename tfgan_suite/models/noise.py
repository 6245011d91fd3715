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

from tfgan_suite import augment, layers, networks, penalties, tricks
from tfgan_suite.distribute import draw_for_global_batch
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import D_FILTERS, DISC_STEPS, G_FILTERS, HParam
from tfgan_suite.models.base import GANModel, call_frozen
from tfgan_suite.models.contract import EvalBatch, Grid, Signature, normal_inputs


def averaged_copy(copy, network):
    """``copy`` (a network shaped like ``network``, e.g. its clone) holding
    ``network``'s weights and frozen: the start of a moving average."""
    copy.set_weights(network.get_weights())
    copy.trainable = False
    return copy


def mirror_pairs(copy, network):
    """(copy's variable, network's variable, trainable) for every variable of
    ``network`` (a moving average's pairs); ValueError if ``copy`` is not shaped
    like it. Seed-generator states are left out."""
    trainable = {id(v) for v in network.trainable_variables}
    pairs = [(c, w, id(w) in trainable) for c, w in zip(copy.variables, network.variables)
             if not w.path.endswith("seed_generator_state")]

    # Wrapper layers (spectral normalisation) get fresh automatic names in the
    # clone: compare the layer/variable end of the paths and the shapes. A
    # variable of the network itself (StyleGAN's constant) has only its name
    # after the network's.
    def end(path, net):
        parts = path.split("/")
        return (parts[1:] if parts[0] == net.name else parts)[-2:]
    mismatched = [(c.path, w.path) for c, w, _ in pairs
                  if end(c.path, copy) != end(w.path, network) or c.shape != w.shape]
    if mismatched:
        raise ValueError(f"{copy.name} does not mirror {network.name}: {mismatched[:3]}")
    return pairs


def feature_extractor(discriminator, layer):
    """A model from D's inputs to the output of its layer ``layer`` (searched in
    nested models too, e.g. a conditional D's trunk); ConfigError naming the
    layers when there is none."""
    try:
        return keras.Model(discriminator.inputs, discriminator.get_layer(layer).output)
    except ValueError:
        pass
    for outer in discriminator.layers:
        if isinstance(outer, keras.Model) and layer in [l.name for l in outer.layers]:
            inner = keras.Model(outer.inputs, outer.get_layer(layer).output)
            node = outer._inbound_nodes[0]  # pylint: disable=protected-access
            return keras.Model(discriminator.inputs, inner(node.input_tensors[0]))
    names = [l.name for l in discriminator.layers]
    raise ConfigError(f"--feature_matching={layer}: the discriminator has no layer of "
                      f"that name (its layers: {', '.join(names)})")

# Examples for the data-dependent initialisation of weight-normalised layers
# (the semi-supervised GAN's code uses 500).
WEIGHT_NORM_INIT_SIZE = 500

#: Options of the MLP builders only, with their defaults (another
#: --architecture refuses any other value).
MLP_ONLY_DEFAULTS = {"d_weight_norm": False, "g_weight_norm": False, "d_input_noise": 0.0,
                     "d_hidden_noise": 0.0, "d_dropout": 0.0, "d_activation": "leaky_relu"}

NOISE_HPARAMS = (
    HParam("latent_dim", 100, "Dimension of the noise z.", "int", lower=1),
    HParam("latent_distribution", "normal", "Distribution of z: normal N(0, I), or uniform "
           "U(-1, 1) per dimension (the DCGAN paper's and the InfoGAN code's choice).", "enum",
           choices=("normal", "uniform")),
    DISC_STEPS,
    HParam("update", "alternating", "How a step updates the players: alternating (the "
           "papers' Algorithm 1: D on a fake batch, then G through the updated D on fresh "
           "noise) or simultaneous (one G(z) and one D pass, both gradients from it, as the "
           "TF DCGAN tutorial does; needs --disc_steps=1).", "enum",
           choices=("alternating", "simultaneous")),
)

NORM_CHOICES = networks.NORMS

NETWORK_HPARAMS = (
    HParam("architecture", "mlp", "Network family.", "enum", choices=networks.ARCHITECTURES),
    HParam("g_hidden_units", (256, 512, 1024), "mlp: generator hidden layer widths.",
           "int_list"),
    HParam("d_hidden_units", (512, 256), "mlp: discriminator hidden layer widths.",
           "int_list"),
    HParam("g_norm", "batch", "Normalisation in the generator (" + ", ".join(NORM_CHOICES)
           + "; instance needs dcgan).", "enum", choices=NORM_CHOICES),
    HParam("g_activation", "relu", "mlp: generator hidden activation (relu, leaky_relu, "
           "tanh, ...).", "str"),
    HParam("d_activation", "leaky_relu", "mlp: discriminator hidden activation (leaky_relu: "
           "LeakyReLU(0.2); relu, as the semi-supervised GAN's; or any Keras activation).",
           "str"),
    HParam("d_dropout", 0.0, "mlp: dropout rate in the discriminator.", lower=0.0),
    HParam("d_weight_norm", False, "mlp: weight normalisation (Salimans & Kingma 2016) of "
           "every discriminator layer, heads included, initialised from the data (the first 500 "
           "training examples, as the semi-supervised GAN's code does).", "bool"),
    HParam("g_weight_norm", False, "mlp: weight normalisation of the generator's output "
           "layer (the semi-supervised GAN's MNIST generator).", "bool"),
    HParam("d_input_noise", 0.0, "mlp: standard deviation of Gaussian noise added to the "
           "discriminator's input while training (semi-supervised GAN: 0.3).", lower=0.0),
    HParam("d_hidden_noise", 0.0, "mlp: standard deviation of Gaussian noise added to each "
           "discriminator hidden layer's output while training (semi-supervised GAN: 0.5).",
           lower=0.0),
    HParam("minibatch_stddev", False, "Minibatch standard-deviation feature in the "
           "discriminator (Karras et al. 2018): on D's input for mlp, on its last map for "
           "dcgan.", "bool"),
    HParam("minibatch_discrimination", False, "Minibatch discrimination (Salimans et al. "
           "2016): o(x_i) of a learned tensor T beside D's last hidden features.", "bool"),
    HParam("minibatch_kernels", 100, "Minibatch discrimination: kernels B.", "int", lower=1),
    HParam("minibatch_kernel_dim", 5, "Minibatch discrimination: dimension C of each "
           "kernel.", "int", lower=1),
    HParam("virtual_batch_norm", False, "Virtual batch normalisation in the generator "
           "(Salimans et al. 2016): its normalisation layers use a reference batch of "
           "inputs fixed at the start of training with each example.", "bool"),
    HParam("vbn_reference_size", 64, "Virtual batch norm: examples in the reference batch.",
           "int", lower=1),
    G_FILTERS,
    D_FILTERS,
    HParam("kernel_size", 4, "dcgan: convolution kernel size.", "int", lower=1),
    HParam("g_fc_units", 0, "dcgan: units of a fully connected layer before G's projection "
           "(0: none, the DCGAN paper; InfoGAN's MNIST generator: 1024).", "int", lower=0),
    HParam("d_fc_units", 0, "dcgan: units of a fully connected layer after D's last "
           "convolution (0: none; InfoGAN's MNIST discriminator: 1024).", "int", lower=0),
    HParam("d_norm", "auto", "Normalisation in the discriminator/critic (auto: the "
           "architecture's paper choice, batch for dcgan, none for mlp; instance needs "
           "dcgan).", "enum", choices=("auto",) + NORM_CHOICES),
    HParam("d_spectral_norm", False, "Spectral normalisation of every discriminator layer "
           "(keras.layers.SpectralNormalization).", "bool"),
)

#: Learning rates on the low-dimensional toy sets (faster than the image papers').
TOY_LEARNING_RATES = dict(g_learning_rate=5e-4, d_learning_rate=5e-4)


def check_per_sample_critic(model_name, hp):
    """Refuse critic settings that couple the samples of a batch (BatchNorm,
    the minibatch-std feature): a gradient penalty is per sample, so it
    assumes D(x_i) depends on x_i alone."""
    if networks.builders.d_norm(hp) in ("batch", "sync_batch"):
        raise ConfigError(f"--model={model_name}: the gradient penalty is per sample, so the "
                          "critic cannot use BatchNorm; use --d_norm=layer or none")
    for flag in ("minibatch_stddev", "minibatch_discrimination"):
        if hp[flag]:
            raise ConfigError(f"--model={model_name}: --{flag} couples the samples of a "
                              "batch, which the per-sample gradient penalty assumes it does "
                              "not")


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

    HPARAMS = NOISE_HPARAMS + NETWORK_HPARAMS + tricks.TRICK_HPARAMS
    data_kinds = ("image", "vector")
    #: Whether D is trained with a cross-entropy loss (--label_smoothing applies).
    cross_entropy_discriminator = False
    #: Stabilisation tricks this model refuses: {hyper-parameter: why}.
    refused_tricks = {}

    #: Defaults for low-dimensional (toy) data: small MLPs, as in the
    #: mode-collapse studies (Metz et al. 2017), LeakyReLU so no unit of a
    #: low-dimensional generator dies, no BatchNorm (it would couple the
    #: samples of a batch).
    VECTOR_NETWORK = dict(architecture="mlp", latent_dim=8, g_hidden_units=(128, 128),
                          d_hidden_units=(128, 128), g_norm="none", d_norm="auto",
                          g_activation="leaky_relu")
    #: Model-specific toy defaults, added to ``VECTOR_NETWORK``.
    VECTOR_EXTRA = TOY_LEARNING_RATES

    @classmethod
    def data_defaults(cls, data_kind):
        return {**cls.VECTOR_NETWORK, **cls.VECTOR_EXTRA} if data_kind == "vector" else {}

    @classmethod
    def refusals(cls):
        """{trick hyper-parameter: why this model cannot use it}."""
        refused = dict(cls.refused_tricks)
        if not cls.cross_entropy_discriminator:
            refused.setdefault("label_smoothing", "its discriminator loss is not a "
                               "cross-entropy with a real target to smooth")
        return refused

    @classmethod
    def validate_hparams(cls, hp):
        super().validate_hparams(hp)
        declared = cls.declarations()
        for name, why in cls.refusals().items():
            if name in hp and hp[name] != declared[name].default:
                raise ConfigError(f"--{name}: --model={cls.model_name} cannot use it ({why})")
        try:
            tricks.augment_policy(hp)
        except ValueError as e:
            raise ConfigError(f"--diffaugment={hp['diffaugment']}: {e}") from None
        if hp["update"] == "simultaneous" and hp.get("disc_steps", 1) != 1:
            raise ConfigError(f"--update=simultaneous takes both gradients from one pass, so "
                              f"it needs --disc_steps=1 (got {hp['disc_steps']})")
        if hp["architecture"] != "mlp":
            for flag, default in MLP_ONLY_DEFAULTS.items():
                if hp.get(flag, default) != default:
                    raise ConfigError(f"--{flag} is an option of the mlp networks; "
                                      f"--architecture={hp['architecture']} does not use it")
        if hp["architecture"] == "mlp":
            for flag in ("g_fc_units", "d_fc_units"):
                if hp.get(flag):
                    raise ConfigError(f"--{flag} is an option of the dcgan networks; the mlp "
                                      f"architecture sets its layers with --g_hidden_units / "
                                      f"--d_hidden_units")
        if hp["architecture"] == "mlp" and "instance" in (hp["g_norm"], hp["d_norm"]):
            flag = "--g_norm" if hp["g_norm"] == "instance" else "--d_norm"
            raise ConfigError(f"{flag}=instance normalises each channel over H, W; the mlp "
                              f"architecture has no feature maps (use layer or group)")

    @classmethod
    def check_data(cls, hp, data):
        super().check_data(hp, data)
        if data.kind != "image" and hp["diffaugment"]:
            raise ConfigError(f"--diffaugment augments images; the dataset gives "
                              f"{data.describe()}")
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
        return networks.builders.generator(hp, hp["latent_dim"], data_shape)

    @classmethod
    def build_discriminator(cls, hp, data_shape):
        return networks.builders.discriminator(hp, data_shape)

    def __init__(self, networks_, **kwargs):
        super().__init__(networks_, **kwargs)
        hp = self.hparams
        self.augment_policy = tricks.augment_policy(hp)
        for name, on in (("r1", hp["r1_gamma"] > 0), ("feature_matching", hp["feature_matching"])):
            if on:  # logged beside the model's own metrics
                self._trackers[name] = keras.metrics.Mean(name=name)
        self.feature_model = None
        if hp["feature_matching"]:
            self.feature_model = feature_extractor(self.discriminator, hp["feature_matching"])
        self.generator_ema = None
        if hp["g_ema"] > 0:
            self.generator_ema = averaged_copy(self.clone_generator(), self.generator)
            self.export_instead("generator", "generator_ema")
        self.g_history = self.d_history = None
        if hp["historical_averaging"] > 0:
            self.g_history = tricks.HistoricalAverage(self.g_variables(), "g_history")
            self.d_history = tricks.HistoricalAverage(self.d_variables(), "d_history")
        self.vbn_reference = None
        if hp["virtual_batch_norm"]:
            # Generator inputs of the reference batch, drawn once from the seed.
            drawn = self.sample_inputs(hp["vbn_reference_size"], seed=self.init_seed + 7919)
            self.vbn_reference = {k: tf.Variable(v, trainable=False, name=f"vbn_reference_{k}")
                                  for k, v in drawn.items()}

    def export_instead(self, name, replacement):
        """The export holds network ``replacement`` (e.g. an average) in place of
        ``name``."""
        self.export_networks = tuple(replacement if n == name else n
                                     for n in self.export_networks)

    def warm_start(self, source=None):
        """With ``--d_weight_norm``, D's weight-normalised layers start from the
        data-dependent initialisation on the first ``WEIGHT_NORM_INIT_SIZE``
        training examples (in file order, so every worker computes the same)."""
        super().warm_start(source)
        if not self.hparams.get("d_weight_norm") or source is None:
            return
        fields = ("images", "labels") if self.needs_labels else ("images",)
        dataset = source.dataset(WEIGHT_NORM_INIT_SIZE, shuffle=False, repeat=False,
                                 cache=False, fields=fields)  # one batch: nothing to cache
        batch = next(iter(dataset))
        examples = dict(zip(fields, batch if isinstance(batch, (tuple, list)) else (batch,)))
        count = layers.initialize_weight_norm(self.discriminator,
                                              self.discriminator_input(examples))
        if count:
            print(f"Initialised {count} weight-normalised layers of the discriminator from "
                  f"{WEIGHT_NORM_INIT_SIZE} training examples", flush=True)

    def extra_checkpoint_items(self):
        items = dict(super().extra_checkpoint_items())
        if self.generator_ema is not None:
            items["generator_ema"] = self.generator_ema
        if self.g_history is not None:
            items.update(self.g_history.checkpoint_items("g_history"))
            items.update(self.d_history.checkpoint_items("d_history"))
        if self.vbn_reference is not None:
            items.update({f"vbn_reference_{k}": v for k, v in self.vbn_reference.items()})
        return items

    def clone_generator(self):
        """A new network shaped like G (for --g_ema; weights copied by the caller)."""
        return keras.models.clone_model(self.generator)

    @property
    def inference_generator(self):
        """The generator grids, evaluation and export use: the moving average
        of G's weights with --g_ema, else G itself."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    @property
    def latent_dim(self):
        return int(self.hparams["latent_dim"])

    # ------------------------------------------------------------------ noise
    def sample_latent(self, batch_size):
        """Noise for this replica's ``batch_size`` examples, drawn for the global
        batch and sliced by replica id."""
        return draw_for_global_batch(lambda shape: self.random_latent(shape, self.seed_generator),
                                     (batch_size, self.latent_dim))

    @property
    def latent_distribution(self):
        """--latent_distribution: "normal" or "uniform"."""
        return self.hparams.get("latent_distribution", "normal")

    @property
    def uniform_latent(self):
        return self.latent_distribution == "uniform"

    def random_latent(self, shape, seed):
        """z of ``shape`` from a Keras seed (a SeedGenerator or an int), in the
        distribution of --latent_distribution."""
        if self.uniform_latent:
            return keras.random.uniform(shape, -1.0, 1.0, seed=seed)
        return keras.random.normal(shape, seed=seed)

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

    def run_generator(self, inputs, frozen):
        """G on named ``inputs`` in training mode (``frozen``: its variables
        untouched). With --virtual_batch_norm the reference inputs go first and
        their rows are dropped from the output."""
        if self.vbn_reference is not None:
            inputs = {k: tf.concat([tf.cast(self.vbn_reference[k], v.dtype), v], 0)
                      for k, v in inputs.items()}
        args = self.generator_args(inputs)
        images = call_frozen(self.generator, args) if frozen else self.generator(args,
                                                                                 training=True)
        if self.vbn_reference is not None:
            images = images[self.hparams["vbn_reference_size"]:]
        return images

    def instance_noise_sigma(self):
        """sigma_t of --instance_noise at this generator step."""
        steps = self.hparams["instance_noise_steps"] or self.run_steps or 10000
        return tricks.instance_noise_sigma(self.hparams["instance_noise"],
                                           self.g_optimizer.iterations, steps)

    def seen_by_discriminator(self, examples):
        """``examples`` as D sees them: augmented (--diffaugment), then with
        instance noise (--instance_noise); labels and codes unchanged."""
        images = examples["images"]
        if self.augment_policy:
            images = augment.diff_augment(images, self.augment_policy, self.seed_generator)
        if self.hparams["instance_noise"] > 0:
            noise = draw_for_global_batch(
                lambda shape: keras.random.normal(shape, seed=self.seed_generator,
                                                  dtype=images.dtype),
                tf.unstack(tf.shape(images)))
            images = images + self.instance_noise_sigma() * noise
        return dict(examples, images=images)

    def realness(self, output):
        """D's per-sample score in an output (the first head of a multi-head D)."""
        return output[0] if isinstance(output, (tuple, list)) else output

    def r1(self, real):
        """R1 = 1/2 E||grad_x D(x)||^2 on the real images D sees."""
        def critic(images, training=True):
            return self.realness(self.discriminator(
                self.discriminator_input(dict(real, images=images)), training=training))
        return penalties.r1_penalty(critic, real["images"])

    def real_output_and_r1(self, real):
        """D's output on the real batch and, with ``--r1_gamma``, R1 taken from
        that same forward pass (as StyleGAN's released code does): the input
        gradient comes from an inner tape around the one D call, so the step
        runs D twice (real, fake), not three times. R1 is None without it."""
        if self.hparams["r1_gamma"] <= 0:
            return self.discriminator(self.discriminator_input(real), training=True), None
        images = tf.convert_to_tensor(real["images"])
        with tf.GradientTape() as inner:
            inner.watch(images)
            output = self.discriminator(self.discriminator_input(dict(real, images=images)),
                                        training=True)
            score = tf.reduce_sum(tf.cast(self.realness(output), tf.float32))
        with tf.name_scope("gradient_penalty"):
            return output, penalties.r1_of_gradients(inner.gradient(score, images))

    def discriminator_objective(self, real, fake, real_output, fake_output, r1=None):
        """(loss, logs, total): the model's D loss on what D saw, and the total
        D descends with the tricks' terms (R1, historical averaging; ``r1`` when
        already computed with ``real_output``, see ``real_output_and_r1``)."""
        hp = self.hparams
        loss, logs = self.discriminator_loss(real, fake, real_output, fake_output)
        total = loss
        if hp["r1_gamma"] > 0:
            r1 = self.r1(real) if r1 is None else r1
            total += hp["r1_gamma"] * r1
            logs = dict(logs, r1=r1)
        if self.d_history is not None:
            total += hp["historical_averaging"] * self.d_history.penalty()
        return loss, logs, total

    def generator_objective(self, real, seen, fake_output, seen_real=None):
        """(loss, logs, total): the model's G loss on the fakes D saw (``seen``),
        with feature matching (on ``seen_real``, else a fresh view of ``real``)
        and historical averaging."""
        hp = self.hparams
        loss, logs = self.generator_loss(real, seen, fake_output)
        if self.feature_model is not None:
            if seen_real is None:
                seen_real = self.seen_by_discriminator(real)
            fm = tricks.feature_matching(
                call_frozen(self.feature_model, self.discriminator_input(seen_real)),
                call_frozen(self.feature_model, self.discriminator_input(seen)))
            logs = dict(logs, feature_matching=fm)
            loss = fm if hp["feature_matching_mode"] == "replace" else loss + fm
        total = loss
        if self.g_history is not None:
            total += hp["historical_averaging"] * self.g_history.penalty()
        return loss, logs, total

    def after_generator_update(self):
        """The EMA of G (--g_ema) follows every generator update."""
        if self.generator_ema is not None:
            tricks.ema_update(self.ema_pairs(), self.hparams["g_ema"])

    def discriminator_step(self, real):
        inputs = self.generator_inputs(real, self._batch_size(real))
        fake = dict(inputs, images=tf.stop_gradient(self.run_generator(inputs, frozen=True)))
        real, fake = self.seen_by_discriminator(real), self.seen_by_discriminator(fake)
        if self.d_history is not None:
            self.d_history.update()
        with tf.GradientTape() as tape:
            real_output, r1 = self.real_output_and_r1(real)
            fake_output = self.discriminator(self.discriminator_input(fake), training=True)
            loss, logs, total = self.discriminator_objective(real, fake, real_output,
                                                             fake_output, r1)
        self.apply_gradients(self.d_optimizer, tape, total, self.d_variables())
        self.after_discriminator_update()
        return {"d_loss": loss, **logs}

    def generator_step(self, real):
        inputs = self.generator_inputs(real, self._batch_size(real))
        if self.g_history is not None:
            self.g_history.update()
        with tf.GradientTape() as tape:
            fake = dict(inputs, images=self.run_generator(inputs, frozen=False))
            seen = self.seen_by_discriminator(fake)
            fake_output = call_frozen(self.discriminator, self.discriminator_input(seen))
            loss, logs, total = self.generator_objective(real, seen, fake_output)
        self.apply_gradients(self.g_optimizer, tape, total, self.g_variables())
        self.after_generator_update()
        return {"g_loss": loss, **logs}

    def train_step(self, data):
        if self.hparams["update"] != "simultaneous":
            return super().train_step(data)
        self._track(self.simultaneous_step(self.unpack(data)))
        return self._results()

    def simultaneous_step(self, real):
        """``--update=simultaneous``: one G(z), one D pass on the real and on the
        generated batch, and each player's gradient taken from that pass before
        either is applied (the TF DCGAN tutorial's step; k = 1). Every term of the
        alternating steps is kept (R1, historical averaging, feature matching,
        EMA); penalties that interpolate with fakes see them without a path to G."""
        inputs = self.generator_inputs(real, self._batch_size(real))
        for history in (self.d_history, self.g_history):
            if history is not None:
                history.update()
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = dict(inputs, images=self.run_generator(inputs, frozen=False))
            real_seen, fake_seen = self.seen_by_discriminator(real), \
                self.seen_by_discriminator(fake)
            real_output, r1 = self.real_output_and_r1(real_seen)
            fake_output = self.discriminator(self.discriminator_input(fake_seen), training=True)
            stopped = dict(fake_seen, images=tf.stop_gradient(fake_seen["images"]))
            d_loss, d_logs, d_total = self.discriminator_objective(real_seen, stopped,
                                                                   real_output, fake_output, r1)
            g_loss, g_logs, g_total = self.generator_objective(real, fake_seen, fake_output,
                                                               seen_real=real_seen)
        d_vars, g_vars = self.d_variables(), self.g_variables()
        d_grads = self.scaled_gradients(self.d_optimizer, d_tape, d_total, d_vars)
        g_grads = self.scaled_gradients(self.g_optimizer, g_tape, g_total, g_vars)
        self.apply_gradients(self.d_optimizer, d_tape, d_total, d_vars, d_grads)
        self.after_discriminator_update()
        self.apply_gradients(self.g_optimizer, g_tape, g_total, g_vars, g_grads)
        self.after_generator_update()
        return {"d_loss": d_loss, **d_logs, "g_loss": g_loss, **g_logs}

    def ema_pairs(self):
        """(EMA variable, G variable, trainable) for every variable of G."""
        return mirror_pairs(self.generator_ema, self.generator)

    # ------------------------------------------------------ what it produces
    def generate(self, num, seed=None):
        """``num`` samples from the generator in inference mode.

        With ``seed`` the noise is a pure function of it (repeatable, does not
        advance the model's generator); without, it comes from the model's
        ``SeedGenerator``.
        """
        z = self.random_latent((int(num), self.latent_dim),
                               self.seed_generator if seed is None else int(seed))
        return self.infer({"z": z})

    def infer(self, inputs):
        """Images of the inference generator (inference mode) for named inputs:
        what grids, evaluation and the unconditional exports show."""
        return self.inference_generator(self.generator_args(inputs), training=False)

    def draw_noise(self, rng, num):
        """z for ``num`` samples at inference (grids, evaluation, ``sample``) from
        a numpy Generator: N(0, I) or U(-1, 1) (--latent_distribution; BigGAN:
        truncated by ``--truncation``)."""
        shape = (int(num), self.latent_dim)
        if self.uniform_latent:
            return rng.uniform(-1.0, 1.0, shape).astype("float32")
        return rng.standard_normal(shape).astype("float32")

    def noise_in_graph(self, shape, key):
        """The same inside an exported graph (``generate``), from a stateless key."""
        if self.uniform_latent:
            return tf.random.stateless_uniform(shape, key, -1.0, 1.0)
        return tf.random.stateless_normal(shape, key)

    def sample_inputs(self, num, seed, data=None):
        rng = np.random.default_rng(seed)
        return {"z": self.draw_noise(rng, int(num))}

    def generate_from(self, inputs):
        return self.infer({k: tf.convert_to_tensor(v) for k, v in inputs.items()})

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
        z0, z1 = self.draw_noise(rng, 2 * rows).astype("float64").reshape(2, rows, -1)
        t = np.linspace(0.0, 1.0, steps)
        # Uniform z: a straight line stays inside the cube (the DCGAN paper's walks).
        walk = (z0[:, None] + t[None, :, None] * (z1 - z0)[:, None] if self.uniform_latent
                else slerp(z0, z1, t))
        z = walk.reshape(-1, self.latent_dim)
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
            noise = self.noise_in_graph(tf.stack([num_samples, self.latent_dim]),
                                        tf.stack([seed, 0]))
            return self.infer({"z": noise})

        return [
            Signature("serving_default", lambda z: self.infer({"z": z}), z,
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
                    latent_distribution=self.latent_distribution,
                    output_shape=list(self.generator.output_shape[1:]))
        return meta
