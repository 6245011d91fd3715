"""Stabilisation tricks as flags on every noise-to-image model.

The techniques of Salimans et al. 2016 ("Improved Techniques for Training
GANs") and the ones practitioners added since, each a hyper-parameter of
``NoiseToImageGAN`` (so every unconditional, conditional, coded and
semi-supervised model reads them) and each refused with a one-line error by a
model it does not fit:

====================================  =========================================
``--feature_matching[=LAYER]``        G's loss: ||E f(x) - E f(G(z))||^2 on D's
                                      layer LAYER (``features``: D's last hidden
                                      layer), replacing the adversarial loss or
                                      added to it (``--feature_matching_mode``).
``--minibatch_discrimination``        D's features get o(x_i) of
                                      ``layers.MinibatchDiscrimination``.
``--minibatch_stddev``                D gets the minibatch standard deviation.
``--virtual_batch_norm``              G's normalisation layers use a reference
                                      batch of inputs fixed at the start.
``--label_smoothing=S``               D's real target 1 -> 1 - S (cross-entropy
                                      discriminators only).
``--historical_averaging=LAMBDA``     lambda ||theta - mean of past theta||^2,
                                      for each player.
``--instance_noise=SIGMA``            N(0, sigma_t^2) added to every image D
                                      sees, sigma_t annealed linearly to 0.
``--r1_gamma=GAMMA``                  gamma/2 E||grad_x D(x)||^2 on real data.
``--g_ema=DECAY``                     an exponential moving average of G, used
                                      for grids, evaluation and export.
``--diffaugment=POLICIES``            the same differentiable augmentation of
                                      every image D sees (``augment``).
====================================  =========================================

State (the EMA generator, the historical means, the VBN reference batch) lives
in variables: it is checkpointed with the model, and every replica holds the
same values (updates are computed from values that agree across replicas).
"""
import tensorflow as tf

from tfgan_suite import augment
from tfgan_suite.distribute import global_sum, replica_count
from tfgan_suite.hparams import HParam

#: --feature_matching with no value (rewritten by the command line).
DEFAULT_FEATURE_LAYER = "features"

TRICK_HPARAMS = (
    HParam("label_smoothing", 0.0, "One-sided label smoothing of D's real target "
           "(1 -> 1 - s; Salimans et al. 2016); cross-entropy discriminators.",
           lower=0.0, below=1.0),
    HParam("feature_matching", "", "Feature matching (Salimans et al. 2016): G's loss "
           "||E f(x) - E f(G(z))||^2 on D's layer of this name ('features', or bare "
           "--feature_matching: D's last hidden layer). Empty: off.", "str",
           bare=DEFAULT_FEATURE_LAYER),
    HParam("feature_matching_mode", "replace", "replace: feature matching is G's whole "
           "loss (the paper's); add: it is added to the model's own G loss.", "enum",
           choices=("replace", "add")),
    HParam("historical_averaging", 0.0, "Historical averaging weight lambda: lambda x "
           "||theta - mean of theta over the updates so far||^2 for each player "
           "(Salimans et al. 2016).", lower=0.0),
    HParam("instance_noise", 0.0, "Instance noise: std sigma of Gaussian noise added to "
           "every image D sees, annealed linearly to 0.", lower=0.0),
    HParam("instance_noise_steps", 0, "Generator steps over which --instance_noise "
           "anneals to 0 (0: the run's --train_steps).", "int", lower=0),
    HParam("r1_gamma", 0.0, "R1 penalty weight gamma: gamma/2 E||grad_x D(x)||^2 on real "
           "data (Mescheder et al. 2018).", lower=0.0),
    HParam("g_ema", 0.0, "Decay of an exponential moving average of the generator's "
           "weights, used for grids, evaluation and export (0: off; 0.999 typical).",
           lower=0.0, below=1.0),
    HParam("diffaugment", "", "Differentiable augmentation of every image D sees, real and "
           "generated (Zhao et al. 2020): comma list of color, translation, cutout.",
           "str"),
)


def gradient_scaled(value, factor):
    """``value`` unchanged, its gradient multiplied by ``factor``."""
    return value * factor - tf.stop_gradient(value * (factor - 1.0))


def feature_matching(real_features, fake_features):
    """||E f(x) - E f(G(z))||^2 with both means over the *global* batch.

    The real mean is a constant. Each replica's gradient flows through its own
    generated rows only and is scaled by the replica count, so after the
    per-replica scaling of ``GANModel.apply_gradients`` and the sum over
    replicas the update is the one-device update."""
    real = tf.reshape(tf.cast(real_features, tf.float32), (tf.shape(real_features)[0], -1))
    fake = tf.reshape(tf.cast(fake_features, tf.float32), (tf.shape(fake_features)[0], -1))
    n_real, n_fake = (tf.cast(tf.shape(t)[0], tf.float32) for t in (real, fake))
    real_sum, fake_sum, real_n, fake_n = global_sum(
        [tf.reduce_sum(real, 0), tf.stop_gradient(tf.reduce_sum(fake, 0)), n_real, n_fake])
    real_mean = tf.stop_gradient(real_sum / real_n)
    local = tf.reduce_sum(fake, 0)
    fake_mean = (local + tf.stop_gradient(fake_sum - local)) / fake_n
    loss = tf.reduce_sum(tf.square(real_mean - fake_mean))
    return gradient_scaled(loss, float(replica_count()))


def instance_noise_sigma(sigma, step, steps):
    """sigma x max(0, 1 - step / steps): linear annealing to 0 at ``steps``."""
    step = tf.cast(step, tf.float32)
    return sigma * tf.maximum(0.0, 1.0 - step / float(max(int(steps), 1)))


class HistoricalAverage:
    """The running mean of a player's weights over its updates so far and the
    penalty lambda ||theta - mean||^2 (Salimans et al. 2016, section 3.3).

    ``update()`` (before each update of the player) folds the current weights
    into the mean: mean_t = mean_{t-1} + (theta_t - mean_{t-1}) / t, so at the
    first update the mean is theta_1 and the penalty 0. The means and the count
    are variables (checkpointed); every replica holds the same weights, so the
    same means.
    """

    def __init__(self, variables, name):
        self.variables = list(variables)
        agg = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.count = tf.Variable(0.0, trainable=False, name=f"{name}_count", aggregation=agg)
        self.means = [tf.Variable(tf.zeros(v.shape, tf.float32), trainable=False,
                                  name=f"{name}_mean_{i}", aggregation=agg)
                      for i, v in enumerate(self.variables)]

    def update(self):
        t = self.count + 1.0
        for mean, v in zip(self.means, self.variables):
            mean.assign(mean + (tf.cast(v, tf.float32) - mean) / t)
        self.count.assign(t)

    def penalty(self):
        return tf.add_n([tf.reduce_sum(tf.square(tf.cast(v, tf.float32) - m))
                         for m, v in zip(self.means, self.variables)])

    def checkpoint_items(self, prefix):
        items = {f"{prefix}_count": self.count}
        items.update({f"{prefix}_mean_{i}": m for i, m in enumerate(self.means)})
        return items


def ema_update(pairs, decay, count=None):
    """ema <- d ema + (1 - d) w for trainable pairs, ema <- w for the others
    (moving statistics), in the cross-replica context so a mirrored variable
    is assigned once with the value every replica agrees on.

    d = ``decay``; with ``count`` (a variable holding the number of earlier
    updates, incremented here) d = min(decay, t / (t + 10)) at the t-th: the
    first update copies the weights and a young average does not cling to the
    starting ones (the num_updates schedule of TF's ExponentialMovingAverage).
    """
    def update(*_):
        d = decay
        if count is not None:
            t = tf.cast(count, tf.float32)
            d = tf.minimum(tf.constant(decay, tf.float32), t / (t + 10.0))
            count.assign_add(1.0)
        for ema, w, trainable in pairs:
            ema.assign(tf.cast(d, ema.dtype) * ema + (1.0 - tf.cast(d, ema.dtype)) * w
                       if trainable else w)

    ctx = tf.distribute.get_replica_context()
    if ctx is None:  # already cross-replica
        update()
    else:
        ctx.merge_call(update)


def augment_policy(hp):
    return augment.parse_policy(hp.get("diffaugment", ""))
