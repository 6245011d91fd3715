"""Optimizers and the learning-rate schedule, built from a model's hyper-parameters.

Every model reads the same seven knobs (``OPTIMIZER_HPARAMS``): the optimizer
of both networks, one learning rate per network, Adam's betas (beta1 is SGD's
momentum), and a constant-then-linear-decay schedule counted in training steps.
"""
import keras
import tensorflow as tf

from tfgan_suite.hparams import HParam

OPTIMIZERS = ("adam", "rmsprop", "sgd")

OPTIMIZER_HPARAMS = (
    HParam("optimizer", "adam", "Optimizer of both networks.", "enum", choices=OPTIMIZERS),
    HParam("g_learning_rate", 2e-4, "Generator learning rate.", positive=True),
    HParam("d_learning_rate", 2e-4, "Discriminator learning rate.", positive=True),
    HParam("beta1", 0.5, "Adam beta_1 (SGD momentum).", lower=0.0),
    HParam("beta2", 0.999, "Adam beta_2.", lower=0.0),
    HParam("lr_constant_steps", 0, "Steps at the initial learning rates before the linear "
           "decay.", "int", lower=0),
    HParam("lr_decay_steps", 0, "Steps of linear decay of the learning rates to 0 "
           "(0: constant rates).", "int", lower=0),
)


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


#: SRGAN's schedule (declared by the models that use it): 1e-4, then 1e-5.
LR_DROP_HPARAMS = (
    HParam("lr_drop_steps", 0, "Steps at the initial learning rates before they are "
           "multiplied by --lr_drop_factor (0: never; SRGAN: 1e5 of its 2e5).", "int",
           lower=0),
    HParam("lr_drop_factor", 0.1, "Factor of the learning-rate drop.", positive=True),
)


@keras.saving.register_keras_serializable(package="tfgan_suite")
class StepDrop(keras.optimizers.schedules.LearningRateSchedule):
    """``lr`` for ``steps`` updates, then ``lr * factor`` (SRGAN: 1e-4 -> 1e-5)."""

    def __init__(self, lr, steps, factor):
        self.lr, self.steps, self.factor = float(lr), int(steps), float(factor)

    def __call__(self, step):
        return tf.where(tf.cast(step, tf.int64) < self.steps, tf.constant(self.lr),
                        tf.constant(self.lr * self.factor))

    def get_config(self):
        return dict(lr=self.lr, steps=self.steps, factor=self.factor)


def make_optimizer(hparams, which, updates=(1, 0), name=None):
    """Optimizer for network ``which`` ("g" or "d") from the hyper-parameters.

    The learning-rate schedule counts *training steps*, while the optimizer
    counts its own updates: ``updates = (per_step, before)`` says how many
    updates it makes per training step and how many before the first one
    (pre-training); the schedule is stretched and shifted to match
    (``GANModel.optimizer_updates``).
    """
    kind = hparams["optimizer"]
    lr = float(hparams[f"{which}_learning_rate"])
    if hparams["lr_decay_steps"]:
        per_step, before = updates
        lr = ConstantThenLinearDecay(lr, hparams["lr_constant_steps"] * per_step + before,
                                     hparams["lr_decay_steps"] * per_step)
    elif hparams.get("lr_drop_steps"):
        per_step, before = updates
        lr = StepDrop(lr, hparams["lr_drop_steps"] * per_step + before,
                      hparams["lr_drop_factor"])
    name = name or f"{which}_{kind}"
    if kind == "adam":
        return FusedAdam(lr, beta_1=hparams["beta1"], beta_2=hparams["beta2"], name=name)
    if kind == "rmsprop":
        return keras.optimizers.RMSprop(lr, name=name)
    if kind == "sgd":
        return keras.optimizers.SGD(lr, momentum=hparams["beta1"], name=name)
    raise ValueError(f"--optimizer={kind!r} is not one of {OPTIMIZERS}")


def copy_optimizer(optimizer, name):
    """A fresh optimizer of the same type and settings (no slots, no iterations)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return type(inner).from_config(dict(inner.get_config(), name=name))


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (inside a
    distribution strategy's update: the handle of this device's copy)."""
    return (variable.value if isinstance(variable, keras.Variable) else variable).handle


@keras.saving.register_keras_serializable(package="tfgan_suite")
class FusedAdam(keras.optimizers.Adam):
    """Keras' Adam, each dense update done by TensorFlow's fused kernel.

    Keras 3 writes Adam's update as a dozen element-wise ops per variable, each
    a pass over the variable's memory; ``ResourceApplyAdam`` updates m, v and
    the variable in one pass (CPU: sharded over threads, vectorised; it also
    has GPU and XLA kernels). It computes the same update as Keras' Adam
    (epsilon added to sqrt(v), the bias correction folded into the step
    size), with the same slot variables, so checkpoints of either load into
    the other. Sparse gradients (``IndexedSlices``, an embedding's) are made
    dense, as Keras' Adam makes them; AMSGrad takes Keras' path.
    """

    def step_count(self, dtype):
        """Adam's t for the update being made (1 for the first)."""
        return tf.cast(self.iterations + 1, dtype)

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        if isinstance(gradient, tf.IndexedSlices):  # Keras' Adam densifies them too
            gradient = tf.convert_to_tensor(gradient)
        dtype = variable.dtype
        t = self.step_count(dtype)
        b1 = tf.cast(self.beta_1, dtype)
        b2 = tf.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]), beta1_power=tf.pow(b1, t),
            beta2_power=tf.pow(b2, t), lr=tf.cast(learning_rate, dtype), beta1=b1, beta2=b2,
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype),
            use_locking=False)


@keras.saving.register_keras_serializable(package="tfgan_suite")
class RestartableAdam(FusedAdam):
    """Adam whose state can be started over in the middle of a run.

    ``restart()`` zeroes every first and second moment and restarts the bias
    correction: the next update is Adam's first (its step t counts updates
    since the restart, not ``iterations``, which keeps counting the run's
    steps). Progressive GAN's released code resets its optimizers this way
    whenever the networks grow, so the layers that appear start from a fresh
    state, as if their optimizer had been created with them.
    """

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.restarted_at = self.add_variable((), initializer="zeros", dtype="int64",
                                              name="restarted_at")

    def restart(self):
        """Start the state over at the current iteration (eager, between steps)."""
        for slot in list(self._momentums) + list(self._velocities):
            slot.assign(tf.zeros_like(slot))
        self.restarted_at.assign(tf.cast(self.iterations, "int64"))

    def step_count(self, dtype):
        return tf.cast(tf.cast(self.iterations, "int64") - self.restarted_at + 1, dtype)
