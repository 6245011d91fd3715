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
  once, before step 0 (``training_phases``), and are remembered in checkpoints. R's
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

from tfgan_suite import losses, networks
from tfgan_suite.hparams import DISC_STEPS, G_FILTERS, POOL_SIZE, HParam
from tfgan_suite.image_pool import ImagePool
from tfgan_suite.models.base import call_frozen
from tfgan_suite.models.contract import Phase
from tfgan_suite.models.image_to_image import ImageToImageGAN
from tfgan_suite.optimizers import copy_optimizer
from tfgan_suite.registry import register


@register("simgan", default_dataset="bundled:glyphs2mnist",
          description="SimGAN: refining synthetic images with unlabeled real ones "
                      "(Shrivastava et al. 2017)",
          defaults=dict(optimizer="adam", g_learning_rate=1e-3, d_learning_rate=2e-4,
                        beta1=0.5, pool_size=512),
          tiny=dict(g_filters=4, refiner_blocks=1, refiner_steps=1, pool_size=4,
                    refiner_pretrain_steps=1, disc_pretrain_steps=1),
          default_shape=(28, 28, 1))
class SimGAN(ImageToImageGAN):
    HPARAMS = (G_FILTERS, DISC_STEPS, POOL_SIZE,
               HParam("self_reg_weight", 0.1, "Self-regularisation weight lambda.", lower=0.0),
               HParam("refiner_steps", 2, "Refiner updates per step (Kg).", "int", lower=1),
               HParam("refiner_pretrain_steps", 1000, "Refiner pre-training updates "
                      "(self-regularisation only).", "int", lower=0),
               HParam("disc_pretrain_steps", 200, "Discriminator pre-training updates.",
                      "int", lower=0),
               HParam("refiner_blocks", 4, "ResNet blocks in the refiner.", "int", lower=1))
    metric_names = ("d_loss", "g_loss", "g_adv", "self_reg", "d_real_acc", "d_fake_acc")
    size_multiple = 1

    def __init__(self, networks_, **kwargs):
        super().__init__(networks_, **kwargs)
        self.pool = ImagePool(self.hparams["pool_size"], self.image_shape, name="history")
        agg = dict(trainable=False, aggregation="only_first_replica")
        self.adversarial_steps = keras.Variable(0, dtype="int64", name="adversarial_steps",
                                                **agg)
        self.pretrained = keras.Variable(0, dtype="int64", name="pretrained", **agg)
        self.pretrain_optimizer = None

    @classmethod
    def build_networks(cls, hp, data):
        return dict(generator=networks.simgan_refiner(data.shape, filters=hp["g_filters"],
                                                      num_blocks=hp["refiner_blocks"],
                                                      name="generator"),
                    discriminator=networks.simgan_discriminator(data.shape,
                                                                name="discriminator"))

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
        self.pretrain_optimizer = copy_optimizer(g_optimizer, "refiner_pretrain")
        self.pretrain_optimizer.build(self.g_variables())

    @property
    def step(self):
        return int(self.adversarial_steps.numpy())

    def extra_checkpoint_items(self):
        return dict(history=self.pool, pretrain_optimizer=self.pretrain_optimizer,
                    adversarial_steps=self.adversarial_steps, pretrained=self.pretrained)

    # ------------------------------------------------------------------ losses
    def refiner_loss(self, x, refined, adversarial=True):
        reg = losses.self_regularization_loss(x, refined)
        logs = {"self_reg": reg}
        loss = self.hparams["self_reg_weight"] * reg
        if adversarial:
            adv = losses.local_adversarial_loss(call_frozen(self.discriminator, refined), 1.0)
            loss += adv
            logs["g_adv"] = adv
        return loss, logs

    def discriminator_loss(self, real, refined):
        real_out = self.discriminator(real, training=True)
        fake_out = self.discriminator(refined, training=True)
        loss = (losses.local_adversarial_loss(real_out, 1.0)
                + losses.local_adversarial_loss(fake_out, 0.0))
        logs = {"d_real_acc": tf.reduce_mean(tf.cast(real_out > 0, tf.float32)),
                "d_fake_acc": tf.reduce_mean(tf.cast(fake_out < 0, tf.float32))}
        return loss, logs

    # ----------------------------------------------------------------- updates
    def refiner_update(self, x, optimizer, adversarial=True):
        with tf.GradientTape() as tape:
            refined = self.generator(x, training=True)
            loss, logs = self.refiner_loss(x, refined, adversarial)
        self.apply_gradients(optimizer, tape, loss, self.g_variables())
        return {"g_loss": loss, **logs}

    def discriminator_update(self, x, real, history=True):
        refined = tf.stop_gradient(call_frozen(self.generator, x, training=False))
        if history:
            refined = self.pool.history_half(refined, self.seed_generator)
        with tf.GradientTape() as tape:
            loss, logs = self.discriminator_loss(real, refined)
        self.apply_gradients(self.d_optimizer, tape, loss, self.d_variables())
        return {"d_loss": loss, **logs}

    def train_step(self, data):
        chunks = self.split_batch(self.unpack(data), self.batches_per_step(self.hparams))
        if self.phase == "refiner":
            self._track(self.refiner_update(chunks[0]["a"], self.pretrain_optimizer, False))
        elif self.phase == "discriminator":
            self._track(self.discriminator_update(chunks[0]["a"], chunks[0]["b"],
                                                  history=False))
        else:
            for i in range(self.hparams["refiner_steps"]):
                self._track(self.refiner_update(chunks[i]["a"], self.g_optimizer))
            for i in range(self.disc_steps):
                self._track(self.discriminator_update(chunks[i]["a"], chunks[i]["b"]))
            self.adversarial_steps.assign_add(1)
        return self._results()

    def training_phases(self):
        """The paper's pre-training, once: the refiner (self-regularisation only),
        then the discriminator; remembered in checkpoints (``pretrained``)."""
        if int(self.pretrained.numpy()):
            return []
        todo = [(name, int(self.hparams[key])) for name, key in (
            ("refiner", "refiner_pretrain_steps"), ("discriminator", "disc_pretrain_steps"))
            if int(self.hparams[key])]
        return [Phase(name, steps, (lambda: self.pretrained.assign(1))
                      if i == len(todo) - 1 else (lambda: None))
                for i, (name, steps) in enumerate(todo)]
