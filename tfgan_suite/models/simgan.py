"""SimGAN: learning from simulated and unsupervised images (Shrivastava et al. 2017).

Data: unpaired, A = synthetic images, B = real images (``unpaired:PATH`` with
trainA/ = synthetic and trainB/ = real; offline: ``bundled:glyphs2mnist``).

* **Refiner** R (``generator``): ResNet blocks, same-size output
  (``networks.simgan_refiner``). Loss per image: the *local* adversarial loss
  summed over the discriminator's patches, sum_p BCE(D_p(R(x)), real), plus the
  self-regularisation lambda * ||R(x) - x||_1 (summed over pixels); mean over the
  batch. (The paper's D outputs the probability of "refined"; its
  -log(1 - D(R(x))) is this non-saturating term.)
* **Discriminator** D: a fully convolutional net giving one logit per local
  patch (``networks.simgan_discriminator``); loss summed over patches. Each
  update sees real images and a batch of refined images of which half are
  current and half come from a **history buffer** of refined images (then b/2
  random buffer slots are replaced by new refined images) --
  ``ImagePool.history_half``.
* **Algorithm 1**: per training step, Kg refiner updates (``--refiner_steps``)
  then Kd discriminator updates (``--disc_steps``), each on its own minibatch.
* **Pre-training** (section 3.4 / 4): R for ``--refiner_pretrain_steps`` (1000)
  updates with the self-regularisation loss only, then D for
  ``--disc_pretrain_steps`` (200) updates, before the adversarial game; both run
  once, before step 0 (``pretrain``), and are remembered in checkpoints. R's
  pre-training uses its own optimizer, so the main optimizers start fresh.
* Optimizer: the paper uses SGD with learning rate 0.001. With the losses
  scaled as here (batch mean of per-image sums) plain SGD at 0.001 barely moves
  the refiner (self-regularisation 215.6 -> 215.1 over 50 pre-training updates on
  glyphs2mnist, measured), so the default is Adam (R 1e-3, D 2e-4, beta1 0.5);
  ``--optimizer=sgd --g_learning_rate=0.001 --d_learning_rate=0.001`` gives the
  paper's.

``model.step`` counts adversarial training steps.
"""
import keras
import tensorflow as tf
from absl import flags

from tfgan_suite import networks
from tfgan_suite.image_pool import ImagePool
from tfgan_suite.models.base import call_frozen, replica_count
from tfgan_suite.models.translation import TranslationModel
from tfgan_suite.registry import register

flags.DEFINE_float("self_reg_weight", None, "simgan: self-regularisation weight lambda.")
flags.DEFINE_integer("refiner_steps", None, "simgan: refiner updates per step (Kg).",
                     lower_bound=1)
flags.DEFINE_integer("refiner_pretrain_steps", None, "simgan: refiner pre-training "
                     "updates (self-regularisation only).", lower_bound=0)
flags.DEFINE_integer("disc_pretrain_steps", None, "simgan: discriminator pre-training "
                     "updates.", lower_bound=0)
flags.DEFINE_integer("refiner_blocks", None, "simgan: ResNet blocks in the refiner.",
                     lower_bound=1)




def _patch_bce_sum(logits, label):
    """Per-image sum over patches of the binary cross-entropy, batch mean."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.fill(tf.shape(logits), float(label))
    per_patch = tf.nn.sigmoid_cross_entropy_with_logits(labels, logits)
    return tf.reduce_mean(tf.reduce_sum(per_patch, axis=[1, 2, 3]))


def self_regularization(x, refined):
    """||R(x) - x||_1 summed over pixels, mean over the batch."""
    diff = tf.abs(tf.cast(refined, tf.float32) - tf.cast(x, tf.float32))
    return tf.reduce_mean(tf.reduce_sum(diff, axis=[1, 2, 3]))


@register("simgan", default_dataset="bundled:glyphs2mnist",
          description="SimGAN: refining synthetic images with unlabeled real ones "
                      "(Shrivastava et al. 2017)",
          defaults=dict(latent_dim=1, optimizer="adam", g_learning_rate=1e-3,
                        d_learning_rate=2e-4, beta1=0.5, self_reg_weight=0.1,
                        refiner_steps=2, refiner_pretrain_steps=1000,
                        disc_pretrain_steps=200, pool_size=512, refiner_blocks=4,
                        g_filters=64),
          default_shape=(28, 28, 1))
class SimGAN(TranslationModel):
    metric_names = ("d_loss", "g_loss", "g_adv", "self_reg", "d_real_acc", "d_fake_acc")
    size_multiple = 1

    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.pool = ImagePool(self.hparams["pool_size"], self.image_shape, name="history")
        self.phase = "adversarial"
        agg = dict(trainable=False, aggregation="only_first_replica")
        self.adversarial_steps = keras.Variable(0, dtype="int64", name="adversarial_steps",
                                                **agg)
        self.pretrained = keras.Variable(0, dtype="int64", name="pretrained", **agg)
        self.pretrain_optimizer = None

    @classmethod
    def build_networks(cls, hp, data_shape):
        return (networks.simgan_refiner(data_shape, filters=hp["g_filters"],
                                        num_blocks=hp["refiner_blocks"], name="generator"),
                networks.simgan_discriminator(data_shape, name="discriminator"))

    @classmethod
    def batches_per_step(cls, hp):
        return max(int(hp["disc_steps"]), int(hp["refiner_steps"]))

    @classmethod
    def optimizer_updates(cls, hp, which):
        # Kg refiner updates per step (the refiner's pre-training has its own
        # optimizer); Kd discriminator updates after the D pre-training ones.
        if which == "g":
            return int(hp["refiner_steps"]), 0
        return int(hp["disc_steps"]), int(hp["disc_pretrain_steps"])

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        super().compile(g_optimizer, d_optimizer, **kwargs)
        inner = getattr(g_optimizer, "inner_optimizer", g_optimizer)
        config = dict(inner.get_config(), name="refiner_pretrain")
        self.pretrain_optimizer = type(inner).from_config(config)
        self.pretrain_optimizer.build(self.g_variables())

    @property
    def step(self):
        return int(self.adversarial_steps.numpy())

    def checkpoint_items(self):
        return dict(super().checkpoint_items(), history=self.pool,
                    pretrain_optimizer=self.pretrain_optimizer,
                    adversarial_steps=self.adversarial_steps, pretrained=self.pretrained)

    # ------------------------------------------------------------------ losses
    def refiner_loss(self, x, refined, adversarial=True):
        reg = self_regularization(x, refined)
        logs = {"self_reg": reg}
        loss = self.hparams["self_reg_weight"] * reg
        if adversarial:
            adv = _patch_bce_sum(call_frozen(self.discriminator, refined), 1.0)
            loss += adv
            logs["g_adv"] = adv
        return loss, logs

    def discriminator_loss_on(self, real, refined):
        real_out = self.discriminator(real, training=True)
        fake_out = self.discriminator(refined, training=True)
        loss = _patch_bce_sum(real_out, 1.0) + _patch_bce_sum(fake_out, 0.0)
        logs = {"d_real_acc": tf.reduce_mean(tf.cast(real_out > 0, tf.float32)),
                "d_fake_acc": tf.reduce_mean(tf.cast(fake_out < 0, tf.float32))}
        return loss, logs

    def losses_on(self, a, b):
        refined = call_frozen(self.generator, a)
        g_loss, _ = self.refiner_loss(a, refined)
        real_out = call_frozen(self.discriminator, b)
        fake_out = call_frozen(self.discriminator, refined)
        d_loss = _patch_bce_sum(real_out, 1.0) + _patch_bce_sum(fake_out, 0.0)
        return float(d_loss), float(g_loss)

    # ----------------------------------------------------------------- updates
    def refiner_update(self, x, optimizer, adversarial=True):
        with tf.GradientTape() as tape:
            refined = self.generator(x, training=True)
            loss, logs = self.refiner_loss(x, refined, adversarial)
            scaled = optimizer.scale_loss(loss / replica_count())
        self._apply(optimizer, tape, scaled, self.g_variables())
        return {"g_loss": loss, **logs}

    def discriminator_update(self, x, real, history=True):
        refined = tf.stop_gradient(call_frozen(self.generator, x, training=False))
        if history:
            refined = self.pool.history_half(refined, self.seed_generator)
        with tf.GradientTape() as tape:
            loss, logs = self.discriminator_loss_on(real, refined)
            scaled = self.d_optimizer.scale_loss(loss / replica_count())
        self._apply(self.d_optimizer, tape, scaled, self.d_variables())
        return {"d_loss": loss, **logs}

    def train_step(self, data):
        synthetic, real = self.unpack_pair(data)
        chunks = self.batches_per_step(self.hparams)
        syn = tf.split(synthetic, chunks) if chunks > 1 else [synthetic]
        rea = tf.split(real, chunks) if chunks > 1 else [real]
        if self.phase == "refiner":
            self._track(self.refiner_update(syn[0], self.pretrain_optimizer, False))
        elif self.phase == "discriminator":
            self._track(self.discriminator_update(syn[0], rea[0], history=False))
        else:
            for i in range(self.hparams["refiner_steps"]):
                self._track(self.refiner_update(syn[i], self.g_optimizer))
            for i in range(self.disc_steps):
                self._track(self.discriminator_update(syn[i], rea[i]))
            self.adversarial_steps.assign_add(1)
        return self._results()

    def _run_phase(self, phase, dataset, steps, verbose):
        self.phase = phase
        self.train_function = None
        try:
            print(f"SimGAN pre-training: {phase} for {steps} updates", flush=True)
            self.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=verbose, shuffle=False)
        finally:
            self.phase = "adversarial"
            self.train_function = None

    def pretrain(self, dataset, verbose=2):
        """Run the paper's pre-training once (refiner, then discriminator)."""
        if int(self.pretrained.numpy()):
            return
        if self.hparams["refiner_pretrain_steps"]:
            self._run_phase("refiner", dataset, self.hparams["refiner_pretrain_steps"], verbose)
        if self.hparams["disc_pretrain_steps"]:
            self._run_phase("discriminator", dataset, self.hparams["disc_pretrain_steps"],
                            verbose)
        self.pretrained.assign(1)

    def grid_rows(self, a, b):
        return [a, self.serve(a), b]
