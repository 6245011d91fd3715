"""The core every GAN of the suite derives from, and the contract it declares.

``GANModel`` is a ``keras.Model`` holding named ``keras.Model`` networks (at
least ``generator`` and ``discriminator``), one optimizer for the generator
side and one for the discriminator side, metric trackers, and the k-step loop:
``train_step`` runs ``discriminator_step`` on k real minibatches, then
``generator_step`` once. Families specialise it (``noise.NoiseToImageGAN``,
``image_to_image.ImageToImageGAN``); a model module then says only what
differs: its networks, its losses, and its own ``train_step`` if the paper's
update order needs one.

Rules implemented here once, for every model:

* **Distribution.** Keras 3's optimizer *sums* gradients over replicas, so
  ``apply_gradients`` divides each loss (a per-replica mean) by the replica
  count: the update follows the mean over the *global* batch.
* **k discriminator steps on k distinct real batches.** The data pipeline
  delivers ``batches_per_step`` minibatches per train step and the step splits
  them (Algorithm 1 of Goodfellow et al. 2014).
* **Isolation.** ``call_frozen`` runs a network in training mode without
  changing its variables, so neither player's step moves the other's weights
  (BatchNorm statistics included).
* **Randomness** flows from ``self.seed_generator`` (``--seed``).

The contract (what the pipeline loops over, never asking the model's kind):
``data_kinds`` / ``check_data`` (what data it trains on), ``batch_fields`` (its
training batch), ``sample_inputs`` / ``generate_from`` (its generator's named
inputs), ``grid_renderer`` (its sample grid), ``evaluation_batches`` /
``evaluation_reference`` / ``evaluation_split`` (what the metrics compare),
``export_signatures`` / ``export_metadata`` / ``tflite_mode`` (what is served),
``training_phases`` (what runs before the main loop), ``stage_boundaries`` /
``select_stage`` (where a growing model's graph changes), ``figures`` (its own
pictures), ``apply_to_image`` and
``interpolation_grid`` (what ``sample`` can do with it).
"""
import contextlib
import gc

import keras
import tensorflow as tf

from tfgan_suite import hparams as hparams_lib
from tfgan_suite.distribute import replica_count
from tfgan_suite.errors import ConfigError
from tfgan_suite.optimizers import OPTIMIZER_HPARAMS


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


def apply_if(optimizer, grads, variables, condition):
    """``optimizer.apply_gradients`` when ``condition`` (the same on every
    replica), else nothing: no variable, slot or iteration count changes.

    The optimizer's cross-replica update uses ``merge_call``, which cannot run
    inside a ``cond`` in a replica context; so the ``cond`` runs in the
    cross-replica context, each branch calling back into the replicas (the
    scheme of Keras's ``LossScaleOptimizer``).
    """
    grads_and_vars = list(zip(grads, variables))
    if tf.__internal__.distribute.strategy_supports_no_merge_call():
        tf.cond(condition, lambda: _apply(optimizer, grads_and_vars),
                lambda: tf.constant(False))
        return

    def cross_replica(strategy, condition, grads_and_vars):
        first = strategy.experimental_local_results(condition)[0]

        def update():
            strategy.extended.call_for_each_replica(_apply, args=(optimizer, grads_and_vars))
            return tf.constant(True)

        tf.cond(first, update, lambda: tf.constant(False))

    tf.distribute.get_replica_context().merge_call(cross_replica,
                                                   args=(condition, grads_and_vars))


def _apply(optimizer, grads_and_vars):
    optimizer.apply_gradients(grads_and_vars)
    return tf.constant(True)


class GANModel(keras.Model):
    """Generator side + discriminator side, k:1 alternating updates."""

    #: Registry name, set by ``@registry.register``.
    model_name = None
    #: Hyper-parameters this class reads (subclasses add theirs).
    HPARAMS = OPTIMIZER_HPARAMS
    #: Kinds of data (``DataSpec.kind``) the model trains on.
    data_kinds = ("image",)
    #: Names of the fields of one training example, in dataset order: "images",
    #: "labels" (the data's class ids, -1 where unlabelled), "labeled_images" /
    #: "labeled_labels" (a second minibatch of labelled examples only).
    batch_fields = ("images",)
    #: Whether the model needs the data's class labels.
    needs_labels = False
    #: Networks updated by the generator / discriminator optimizer.
    generator_networks = ("generator",)
    discriminator_networks = ("discriminator",)
    #: Networks an export holds (None: the generator networks).
    export_networks = None
    #: Trackers shown in the progress bar and written to TensorBoard.
    metric_names = ("d_loss", "g_loss")
    #: Split the metrics compare with by default ("test": held-out data).
    evaluation_split = "train"
    #: What the exported generator does, for its metadata.
    family = "unconditional"
    #: ``evaluate``'s metrics when ``--metrics`` is not given (feature metrics;
    #: the paired measures of ``EvalBatch.targets`` are always computed).
    default_metrics = ("fid", "kid", "is", "pr")
    #: Whether the served generator is random for fixed inputs (e.g. pix2pix's
    #: test-time dropout); TFLite models never are (builtin ops only).
    stochastic_serving = False

    def __init__(self, networks, *, data, hparams, seed=None, **kwargs):
        kwargs.setdefault("name", self.model_name or "gan")
        super().__init__(**kwargs)
        self.network_names = tuple(networks)
        if self.export_networks is None:
            self.export_networks = self.generator_networks
        for name, network in networks.items():
            setattr(self, name, network)
        self.data_spec = data
        self.hparams = dict(hparams)
        self.disc_steps = int(self.hparams.get("disc_steps", 1))
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        #: --seed (fixed draws made at construction, e.g. a reference batch).
        self.init_seed = 0 if seed is None else int(seed)
        #: Generator steps the current run trains for (set by ``train``; read by
        #: schedules that span the run, e.g. instance noise).
        self.run_steps = None
        self._trackers = {n: keras.metrics.Mean(name=n) for n in self.metric_names}
        self.g_optimizer = None
        self.d_optimizer = None
        self.config = {}
        #: Name of the phase ``train_step`` runs (None: the main loop).
        self.phase = None
        #: "stop": updates are applied as computed (the NonFiniteGuard stops the
        #: run); "skip_step": an update whose loss or gradients are not finite on
        #: any replica is dropped and counted (set before training starts).
        self.nan_policy = "stop"
        # Dropped updates in all, and in a row for each side (reset by a
        # finite update of that side).
        def counter(name):
            return tf.Variable(0, dtype=tf.int64, trainable=False, name=name,
                               aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.skipped_updates = counter("skipped_updates")
        self.g_skipped_in_a_row = counter("g_skipped_in_a_row")
        self.d_skipped_in_a_row = counter("d_skipped_in_a_row")
        # A GAN wrapper has no call(): its networks are built, so is it.
        self.built = True

    # ------------------------------------------------------------ declarations
    @classmethod
    def declarations(cls):
        """{name: HParam} of every hyper-parameter the model reads."""
        return hparams_lib.collect(cls)

    @classmethod
    def data_options(cls, hp):
        """How the model reads its dataset: ``DataOptions`` fields (e.g. the
        super-resolution view and its scale); {} reads it as the spec says."""
        return {}

    def warm_start(self, source=None):
        """Initialise a fresh run from elsewhere (e.g. SRGAN from an SRResNet run:
        ``--init_from``) or from the training data ``source`` (data-dependent
        initialisation); called by ``train`` when no checkpoint was restored."""

    @classmethod
    def data_defaults(cls, data_kind):
        """Default overrides for a kind of data (e.g. the toy vectors)."""
        return {}

    @classmethod
    def validate_hparams(cls, hp):
        """Raise ConfigError naming the flag for an impossible value. The
        declared ranges are checked by ``registry.resolve_hparams``; override
        for constraints between parameters."""

    @classmethod
    def check_data(cls, hp, data):
        """Raise ConfigError when the model cannot train on ``data`` (a DataSpec)."""
        if data.kind not in cls.data_kinds:
            raise ConfigError(
                f"--model={cls.model_name} trains on {' or '.join(cls.data_kinds)} data, but "
                f"the dataset gives {data.describe()}")
        if cls.needs_labels and not data.class_names:
            raise ConfigError(
                f"--model={cls.model_name} needs class labels, but the dataset gives "
                f"{data.describe()} without labels; use a labelled dataset: bundled:mnist, "
                f"bundled:fashion_mnist, folder:PATH with one sub-folder per class, or a "
                f"TFDS dataset with a 'label' feature (and --num_labeled=N to keep N labels)")

    @classmethod
    def build_networks(cls, hp, data):
        """{name: keras.Model} for ``data``; must hold generator and discriminator."""
        raise NotImplementedError

    @classmethod
    def from_hparams(cls, hp, data, seed=None):
        return cls(cls.build_networks(hp, data), data=data, hparams=hp, seed=seed)

    @classmethod
    def batches_per_step(cls, hp):
        """Minibatches of real data one train step consumes (k by default)."""
        return int(hp.get("disc_steps", 1))

    @classmethod
    def optimizer_updates(cls, hp, which):
        """(updates per training step, updates before the first training step)
        of the "g" or "d" optimizer; ``make_optimizer`` fits the schedule to it."""
        return (int(hp.get("disc_steps", 1)) if which == "d" else 1), 0

    # ----------------------------------------------------------------- state
    def compile(self, g_optimizer, d_optimizer, **kwargs):
        """Attach one optimizer per side and build their slots now.

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

    def _variables_of(self, names):
        return [v for n in names for v in getattr(self, n).trainable_variables]

    def g_variables(self):
        """Variables the generator optimizer updates."""
        return self._variables_of(self.generator_networks)

    def d_variables(self):
        """Variables the discriminator optimizer updates."""
        return self._variables_of(self.discriminator_networks)

    @property
    def metrics(self):
        return list(self._trackers.values())

    @property
    def step(self):
        """Number of generator updates done so far (the training step)."""
        return int(self.g_optimizer.iterations.numpy())

    def after_restore(self):
        """Hook run once a checkpoint is restored (e.g. to fill in a late item the
        checkpoint did not hold)."""

    #: Checkpoint items a run started without them may lack (averages that a
    #: resumed run starts from the restored weights): restoring does not require them.
    late_checkpoint_items = ()

    def extra_checkpoint_items(self):
        """Model state beyond networks and optimizers (pools, k_t, ...)."""
        return {}

    def checkpoint_items(self):
        """Everything a checkpoint must hold to resume training exactly."""
        items = {name: getattr(self, name) for name in self.network_names}
        items.update(g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
                     noise_seed=self.seed_generator.state,
                     skipped_updates=self.skipped_updates,
                     g_skipped_in_a_row=self.g_skipped_in_a_row,
                     d_skipped_in_a_row=self.d_skipped_in_a_row)
        items.update(self.extra_checkpoint_items())
        return items

    # --------------------------------------------------------------- training
    def make_train_function(self, force=False):
        """Keras' train function; with several replicas, its first call (the
        trace) runs with Python's automatic garbage collection paused.

        MirroredStrategy traces the step in one thread per replica, in lock
        step. A full collection that starts in a replica thread runs the
        finalizers of TensorFlow objects (graphs, functions) left from earlier
        work, and with the other replica threads waiting that stalled a trace
        for 40-50 s here (a process that had built many models: the test
        suite). Collection resumes after the trace.
        """
        super().make_train_function(force)
        fn = self.train_function  # Keras sets it (and may return None)
        if (self.distribute_strategy.num_replicas_in_sync < 2
                or getattr(fn, "traces_without_gc", False)):
            return fn
        traced = []

        def train_function(iterator):
            if traced:
                return fn(iterator)
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                return fn(iterator)
            finally:
                traced.append(True)
                if was_enabled:
                    gc.enable()
        train_function.traces_without_gc = True
        self.train_function = train_function
        return train_function

    def scaled_gradients(self, optimizer, tape, loss, variables):
        """The gradients ``apply_gradients`` applies: of ``loss`` (a per-replica
        mean, computed under ``tape``), scaled so the summed replica gradients
        follow the global-batch mean."""
        # Backpropagation seeded with the scale: the gradient of scale * loss
        # (the loss-scale optimizer's scale, if any, divided by the replicas).
        scale = optimizer.scale_loss(tf.constant(1.0, loss.dtype)) / replica_count()
        return tape.gradient(loss, variables, output_gradients=tf.cast(scale, loss.dtype))

    def apply_gradients(self, optimizer, tape, loss, variables, grads=None):
        """One update of ``variables`` down ``loss`` (``grads``: its
        ``scaled_gradients`` when already taken)."""
        if grads is None:
            grads = self.scaled_gradients(optimizer, tape, loss, variables)
        if self.nan_policy != "skip_step":
            optimizer.apply_gradients(zip(grads, variables))
            return
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(t))
                                for t in [loss] + [g for g in grads if g is not None]])
        # Every replica must take the same branch: skip when any replica saw a
        # non-finite value.
        bad = tf.distribute.get_replica_context().all_reduce(
            tf.distribute.ReduceOp.SUM, tf.cast(tf.logical_not(finite), tf.float32))
        ok = tf.equal(bad, 0.0)
        apply_if(optimizer, grads, variables, ok)
        self.skipped_updates.assign_add(tf.cast(tf.logical_not(ok), tf.int64))
        in_a_row = (self.d_skipped_in_a_row if optimizer is self.d_optimizer
                    else self.g_skipped_in_a_row)
        in_a_row.assign(tf.where(ok, tf.constant(0, tf.int64), in_a_row + 1))

    def unpack(self, data):
        """A dataset element as {field: tensor} by ``batch_fields`` (extra
        elements, such as labels an unconditional model ignores, are dropped)."""
        items = tuple(data) if isinstance(data, (tuple, list)) else (data,)
        if len(items) < len(self.batch_fields):
            raise ValueError(f"{self.model_name} trains on {self.batch_fields}, got "
                             f"{len(items)} tensor(s) per element")
        return dict(zip(self.batch_fields, items))

    def split_batch(self, batch, parts):
        """``parts`` minibatches of a step batch (dicts of tensors)."""
        if parts == 1:
            return [batch]
        split = {k: tf.split(v, parts, axis=0) for k, v in batch.items()}
        return [{k: split[k][i] for k in batch} for i in range(parts)]

    def discriminator_step(self, batch):
        """One discriminator update on ``batch``; returns logs. Override."""
        raise NotImplementedError

    def generator_step(self, batch):
        """One generator update on ``batch``; returns logs. Override."""
        raise NotImplementedError

    def train_step(self, data):
        chunks = self.split_batch(self.unpack(data), self.disc_steps)
        for chunk in chunks:
            self._track(self.discriminator_step(chunk))
        self._track(self.generator_step(chunks[-1]))
        return self._results()

    def stage_boundaries(self):
        """Generator steps at which ``train_step``'s graph changes (e.g. Progressive
        GAN's growth): the trainer ends a ``fit`` at each, checkpoints and draws a
        grid, and the next ``fit`` traces the new stage."""
        return ()

    def select_stage(self, stage):
        """Show / export the generator of an earlier stage (``export --stage``)."""
        raise ConfigError(f"--stage={stage}: --model={self.model_name} does not grow; it "
                          f"has one generator")

    def training_phases(self):
        """Phases to run before the main loop, not yet done (``contract.Phase``)."""
        return []

    def run_phase(self, phase, dataset, verbose=2):
        """``phase.steps`` steps of ``fit`` with ``self.phase`` set, then ``finish``."""
        self.phase = phase.name
        self.train_function = None  # retrace: train_step branches on the phase
        try:
            print(f"{self.model_name}: {phase.name} phase, {phase.steps} steps", flush=True)
            self.fit(dataset, steps_per_epoch=phase.steps, epochs=1, verbose=verbose,
                     shuffle=False)
        finally:
            self.phase = None
            self.train_function = None
        phase.finish()

    def _results(self):
        results = {m.name: m.result() for m in self.metrics}
        if self.nan_policy == "skip_step":
            results["skipped_updates"] = tf.cast(self.skipped_updates, tf.float32)
            results["skipped_in_a_row"] = tf.cast(
                tf.maximum(self.g_skipped_in_a_row, self.d_skipped_in_a_row), tf.float32)
        if _multi_worker():
            # Keras reduces train_step outputs across workers with
            # reduce(MEAN, axis=0), which fails on scalars: give it [1] tensors.
            results = {k: tf.reshape(v, [1]) for k, v in results.items()}
        return results

    def _track(self, logs):
        for name, value in logs.items():
            if self.nan_policy == "skip_step":
                # A dropped update's loss would poison the running mean.
                finite = tf.reduce_all(tf.math.is_finite(value))
                value = tf.where(finite, value, tf.zeros_like(value))
                self._trackers[name].update_state(value, sample_weight=tf.cast(finite, value.dtype))
            else:
                self._trackers[name].update_state(value)

    # ------------------------------------------------------ what it produces
    def sample_inputs(self, num, seed, data=None):
        """{name: numpy array}: the generator's named inputs for ``num`` samples,
        a pure function of ``seed`` (``data``: a ``RunData`` for models whose
        inputs are data)."""
        raise NotImplementedError

    def generate_from(self, inputs):
        """Images in [-1, 1] for named generator ``inputs`` (inference mode)."""
        raise NotImplementedError

    def grid_renderer(self, data, num, seed):
        """A callable drawing the current model's ``Grid`` on inputs fixed now."""
        raise NotImplementedError

    @property
    def grid_size(self):
        """Samples in a training grid when ``--num_grid`` is not given."""
        return 64

    def requested_grid(self, num, seed, labels=None, traverse=None, class_grid=False):
        """The ``Grid`` of ``sample --labels`` / ``--traverse`` / ``--class_grid``."""
        flag = ("--labels" if labels is not None else "--traverse" if traverse is not None
                else "--class_grid")
        raise ConfigError(f"{flag}: {self.model_name} is not a conditional model (its "
                          f"generator takes no class or code)")

    def figures(self):
        """{name: fn(num, steps, seed) -> Grid}: the model's own pictures
        (``sample --figure=NAME``), e.g. StyleGAN's style-mixing grid."""
        return {}

    def interpolation_grid(self, rows, steps, seed):
        raise ConfigError(f"--interpolate: {self.model_name} has no latent space to walk")

    def apply_to_image(self, image, direction="a2b"):
        """Map one image [H, W, C] in [-1, 1] (``sample --input_dir``)."""
        raise ConfigError(f"--input_dir: {self.model_name} does not map images to images")

    def evaluation_reference(self, source):
        """The real images the metrics compare ``generated`` with."""
        return source

    def evaluation_batches(self, source, num, batch_size, seed):
        """Yield ``EvalBatch`` until ``num`` images (or the data) are used up."""
        raise NotImplementedError

    def export_signatures(self):
        """[``Signature``]: the serving functions; the first is ``serving_default``."""
        raise NotImplementedError

    def export_metadata(self):
        """What a client needs to call the export (JSON-ready)."""
        sigs = self.export_signatures()
        return {
            "model": self.model_name,
            "kind": self.family,
            "inputs": {s.name: {"dtype": s.dtype.name, "shape": list(s.shape)}
                       for s in sigs[0].inputs},
            "value_range": {"images": [-1.0, 1.0], "images_uint8": [0, 255]},
            "class_names": list(self.data_spec.class_names),
            "signatures": [s.name for s in sigs] + ["metadata"],
            "hparams": dict(self.hparams),
            "stochastic": bool(self.stochastic_serving),
            "step": self.step,
            "dataset": self.config.get("dataset"),
        }

    def tflite_mode(self):
        """Context in which the generator is converted to TFLite (builtin ops)."""
        return contextlib.nullcontext()
