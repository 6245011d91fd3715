"""Progressive GAN (Karras, Aila, Laine & Lehtinen, ICLR 2018).

G and D grow together from 4x4 to ``--image_size``: stage 0 trains at 4x4 for
``--stable_steps``; each later stage (one resolution doubling) first fades its
new blocks in, alpha going linearly 0 -> 1 over ``--fade_steps``, then trains
at the new resolution for ``--stable_steps``. The last stage runs to the end
of training. Real images reach D at the stage's resolution (2x2 average
pooling per halving) and are faded too: (1 - alpha) * up(down(x)) + alpha * x.

* Networks (``networks/progan.py``): equalised learning rate everywhere, pixel
  norm after every conv of G, the minibatch-stddev feature at the end of D,
  a linear output (grids, evaluation and exports clip it to [-1, 1]).
* Loss: WGAN-GP (lambda = 10, one critic step) plus the drift term
  epsilon * E[D(x)^2], epsilon = 0.001 (``--drift``).
* Adam(1e-3, beta1 = 0, beta2 = 0.99) whose state is started over when the
  networks grow (``optimizers.RestartableAdam``; the released code's
  ``reset_opt_for_new_lod``): new layers get fresh moments and Adam's bias
  correction restarts. A moving average of G (``--g_ema``) is what grids,
  evaluation and exports use, as the paper's Gs: 0.999 in the paper (stages of
  tens of thousands of steps), 0.99 by default here, where a stage lasts a few
  hundred steps and a 1000-step average would still hold the initial weights.

Growth is a function of the training step (``stage_at``), so a run killed in
the middle of a fade resumes at the same stage and alpha; every checkpoint
holds every stage's variables. ``stage_boundaries`` tells the trainer where
the graph changes; ``make_train_function`` traces the stage of the current
step. Inference (grids, evaluation, ``serving_default``) runs the current
stage and upsamples it (nearest) to ``--image_size``; ``export --stage=N``
exports stage N's generator at its own resolution.
"""
import keras
import numpy as np
import tensorflow as tf

from tfgan_suite import penalties
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import HParam
from tfgan_suite.models.base import GANModel
from tfgan_suite.models.wgan import WassersteinCritic
from tfgan_suite.models.wgan_gp import GP_WEIGHT
from tfgan_suite.networks.progan import (ProGANDiscriminator, ProGANGenerator, downsample,
                                         lerp, num_stages, stage_filters, upsample)
from tfgan_suite.optimizers import RestartableAdam
from tfgan_suite.registry import register

_FIXED = "Progressive GAN's networks are fixed: equalised LR, pixel norm, minibatch stddev"


@register("progan", default_dataset="bundled:fashion_mnist",
          description="Progressive GAN (Karras et al. 2018): growing 4x4 -> image size with "
                      "fade-in, equalised LR, pixel norm, minibatch stddev, WGAN-GP + drift",
          defaults=dict(latent_dim=128, optimizer="adam", g_learning_rate=1e-3,
                        d_learning_rate=1e-3, beta1=0.0, beta2=0.99, disc_steps=1,
                        g_ema=0.99),
          default_shape=(32, 32, 1),
          tiny=dict(latent_dim=4, fmap_base=32, fmap_max=4, fade_steps=2, stable_steps=2))
class ProGAN(WassersteinCritic):
    HPARAMS = (
        GP_WEIGHT,
        HParam("drift", 0.001, "Weight epsilon of the drift term E[D(x)^2].", lower=0.0),
        HParam("fade_steps", 500, "Steps over which each new resolution fades in.", "int",
               lower=0),
        HParam("stable_steps", 500, "Steps at each resolution after its fade (the first: "
               "4x4 alone); the last resolution trains to the end.", "int", lower=1),
        HParam("fmap_base", 512, "Feature maps at resolution r: min(fmap_max, fmap_base / "
               "r) (the paper: 16384).", "int", lower=1),
        HParam("fmap_max", 64, "Most feature maps at any resolution (the paper: 512).",
               "int", lower=1),
    )
    metric_names = ("d_loss", "g_loss", "wasserstein", "gradient_penalty", "drift", "alpha")
    refused_tricks = {name: _FIXED for name in (
        "architecture", "g_norm", "d_norm", "virtual_batch_norm", "minibatch_stddev",
        "minibatch_discrimination")}
    refused_tricks["feature_matching"] = "its discriminator has no named feature layers"

    @classmethod
    def check_data(cls, hp, data):
        super().check_data(hp, data)
        h, w = data.shape[:2]
        try:
            if h != w or num_stages(h) < 1:
                raise ValueError("")
        except ValueError:
            raise ConfigError(f"--image_size={h}: Progressive GAN needs square images of "
                              f"4 x 2^n pixels (4, 8, 16, 32, 64, ...), got {h}x{w}") from None

    @classmethod
    def build_networks(cls, hp, data):
        return dict(generator=cls._generator(hp, data.shape, "generator"),
                    discriminator=ProGANDiscriminator(
                        data.shape[-1], cls._filters(hp, data.shape), name="discriminator"))

    @staticmethod
    def _filters(hp, shape):
        return stage_filters(shape[0], hp["fmap_base"], hp["fmap_max"])

    @classmethod
    def _generator(cls, hp, shape, name):
        return ProGANGenerator(hp["latent_dim"], shape[-1], cls._filters(hp, shape), name=name)

    def __init__(self, networks_, **kwargs):
        super().__init__(networks_, **kwargs)
        self.num_stages = self.generator.num_stages
        self.full_size = int(self.data_spec.shape[0])
        #: Highest stage entered (its optimizer restart done); checkpointed.
        self.grown_to = tf.Variable(0, dtype=tf.int64, trainable=False, name="grown_to",
                                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        #: Stage the current train function was traced for.
        self.traced_stage = None
        #: ``export --stage=N`` (None: the stage of the current step, at full size).
        self.export_stage = None
        self.inference_alpha = 1.0
        self._set_stage(0)

    def clone_generator(self):
        return self._generator(self.hparams, self.data_spec.shape, "generator_ema")

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        def restartable(opt):
            if isinstance(opt, keras.optimizers.Adam) and not isinstance(opt, RestartableAdam):
                return RestartableAdam.from_config(opt.get_config())
            return opt
        super().compile(restartable(g_optimizer), restartable(d_optimizer), **kwargs)

    def extra_checkpoint_items(self):
        return dict(super().extra_checkpoint_items(), grown_to=self.grown_to)

    # ------------------------------------------------------------- schedule
    def stage_start(self, stage):
        """First generator step of ``stage`` (its fade begins there)."""
        hp = self.hparams
        return 0 if stage == 0 else hp["stable_steps"] + (stage - 1) * (
            hp["fade_steps"] + hp["stable_steps"])

    def stage_at(self, step):
        return max(s for s in range(self.num_stages) if self.stage_start(s) <= step)

    def alpha_at(self, step, stage):
        """Fade-in weight of ``stage``'s new blocks at ``step`` (python)."""
        if stage == 0 or self.hparams["fade_steps"] == 0:
            return 1.0
        return float(np.clip((step - self.stage_start(stage)) / self.hparams["fade_steps"],
                             0.0, 1.0))

    def stage_boundaries(self):
        return tuple(self.stage_start(s) for s in range(1, self.num_stages))

    def resolution(self, stage):
        return 4 * 2 ** stage

    def _set_stage(self, stage):
        for network in (self.generator, self.discriminator, self.generator_ema):
            if network is not None:
                network.stage = stage

    def make_train_function(self, force=False):
        stage = self.stage_at(self.step)
        if stage != self.traced_stage:
            self.train_function = None
        if stage > int(self.grown_to.numpy()):  # entering it: fresh optimizer state
            for optimizer in (self.g_optimizer, self.d_optimizer):
                inner = getattr(optimizer, "inner_optimizer", optimizer)
                if isinstance(inner, RestartableAdam):
                    inner.restart()
            self.grown_to.assign(stage)
        self._set_stage(stage)
        self.traced_stage = stage
        return super().make_train_function(force)

    def alpha(self):
        """alpha of the traced stage at the current step (in the graph)."""
        stage = self.generator.stage
        if stage == 0 or self.hparams["fade_steps"] == 0:
            return tf.constant(1.0)
        done = tf.cast(self.g_optimizer.iterations, tf.float32) - float(self.stage_start(stage))
        return tf.clip_by_value(done / float(self.hparams["fade_steps"]), 0.0, 1.0)

    # ------------------------------------------------------------- training
    def unpack(self, data):
        """The real batch at the traced stage's resolution, faded like G's output."""
        batch = super().unpack(data)
        stage = self.generator.stage
        images = downsample(batch["images"], self.full_size // self.resolution(stage))
        if stage > 0:
            images = lerp(upsample(downsample(images)), images, self.alpha())
        return dict(batch, images=images)

    def apply_gradients(self, optimizer, tape, loss, variables):
        # Only the variables the traced stage runs (the others have no gradient;
        # both networks are at the same stage and name their layers alike).
        used = [v for v in variables if self.generator.runs(v)]
        super().apply_gradients(optimizer, tape, loss, used)

    def generator_args(self, inputs):
        return (inputs["z"], self.alpha())

    def discriminator_input(self, examples):
        return (examples["images"], self.alpha())

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss, logs = self.critic_terms(real, fake, real_output, fake_output)
        alpha = self.alpha()

        def critic(images, training=True):
            return self.discriminator((images, alpha), training=training)

        gp = penalties.gradient_penalty(critic, real["images"], fake["images"],
                                        seed=self.seed_generator)
        drift = tf.reduce_mean(tf.square(real_output))
        total = loss + self.hparams["gp_weight"] * gp + self.hparams["drift"] * drift
        return total, dict(logs, gradient_penalty=gp, drift=drift, alpha=alpha)

    # ----------------------------------------------------------- inference
    def select_stage(self, stage):
        reached = self.stage_at(self.step)
        if not 0 <= stage < self.num_stages:
            raise ConfigError(f"--stage={stage}: this progan grows through stages 0.."
                              f"{self.num_stages - 1} (4x4 .. {self.full_size}x"
                              f"{self.full_size})")
        if stage > reached:
            raise ConfigError(f"--stage={stage}: the run is at step {self.step}, in stage "
                              f"{reached}; stage {stage} has not been trained")
        self.export_stage = stage

    def sync_inference(self):
        """Set the inference networks to the stage being shown (eager)."""
        current = self.stage_at(self.step)
        stage = current if self.export_stage is None else self.export_stage
        self.inference_alpha = self.alpha_at(self.step, stage) if stage == current else 1.0
        self.inference_generator.stage = stage
        return stage

    def infer(self, inputs):
        if tf.executing_eagerly():
            self.sync_inference()
        generator = self.inference_generator
        images = generator((inputs["z"], tf.constant(self.inference_alpha)), training=False)
        if self.export_stage is None:
            images = upsample(images, self.full_size // generator.resolution())
        return tf.clip_by_value(images, -1.0, 1.0)

    def grid_renderer(self, data, num, seed):
        render = super().grid_renderer(data, num, seed)

        def staged():
            grid = render()
            stage = self.sync_inference()
            r = self.resolution(stage)
            grid.caption += f"; stage {stage} ({r}x{r}), alpha {self.inference_alpha:.2f}"
            return grid
        return staged

    def export_signatures(self):
        self.sync_inference()
        return super().export_signatures()

    def export_metadata(self):
        meta = GANModel.export_metadata(self)
        stage = self.sync_inference()
        size = self.full_size if self.export_stage is None else self.resolution(stage)
        meta.update(latent_dim=self.latent_dim, output_shape=[size, size, int(self.data_spec.shape[-1])], stage=stage,
                    alpha=self.inference_alpha)
        return meta
