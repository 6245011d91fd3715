"""Noise-to-image GANs whose networks grow (Karras et al. 2018): the schedule,
the fade-in and the stages, shared by ``progan`` and ``stylegan``.

Stage s works at 4 * 2^s pixels. With ``--progressive`` (default for progan),
stage 0 trains at 4x4 for ``--stable_steps``; each later stage first fades
its new blocks in, alpha going linearly 0 -> 1 over ``--fade_steps``, then
trains at its resolution for ``--stable_steps``; the last stage runs to the end
of training. Without it, the last stage trains from step 0 (alpha 1). Real
images reach D at the stage's resolution (2x2 average pooling per halving) and
are faded like G's output: (1 - alpha) * up(down(x)) + alpha * x.

The networks (``networks.progan._Grown``) hold every stage's variables from
construction, so every checkpoint loads at every stage; their python ``stage``
says how much of them a call runs, and ``alpha`` is an input. The stage is a
function of the training step (``stage_at``): a run killed in the middle of a
fade resumes at the same stage and alpha. ``stage_boundaries`` tells the
trainer where the graph changes and ``make_train_function`` traces the stage
of the current step. Adam's state is started over when the networks grow
(``optimizers.RestartableAdam``; the released code's ``reset_opt_for_new_lod``),
so new layers get fresh moments and bias correction.

Inference (grids, evaluation, ``serving_default``) runs the current stage and
upsamples it (nearest) to ``--image_size``; ``export --stage=N``
(``select_stage``) exports stage N's generator at its own resolution. The
generator's output is linear; what is shown or served is clipped to [-1, 1].
"""
import keras
import numpy as np
import tensorflow as tf

from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import HParam
from tfgan_suite.models.base import GANModel
from tfgan_suite.models.noise import NoiseToImageGAN
from tfgan_suite.networks.progan import (ProGANDiscriminator, downsample, lerp, num_stages,
                                         stage_filters, upsample)
from tfgan_suite.optimizers import RestartableAdam

GROWTH_HPARAMS = (
    HParam("progressive", True, "Grow G and D from 4x4 to the image size (else train at "
           "the image size from the start).", "bool"),
    HParam("fade_steps", 500, "Steps over which each new resolution fades in.", "int",
           lower=0),
    HParam("stable_steps", 500, "Steps at each resolution after its fade (the first: 4x4 "
           "alone); the last resolution trains to the end.", "int", lower=1),
)


def filters_for(hp, shape):
    """Feature maps per stage from --fmap_base / --fmap_max."""
    return stage_filters(shape[0], hp["fmap_base"], hp["fmap_max"])


class GrowingGAN(NoiseToImageGAN):
    """The growth schedule on top of the noise-to-image core."""

    HPARAMS = GROWTH_HPARAMS
    refused_tricks = {"feature_matching": "its discriminator has no named feature layers"}

    @classmethod
    def check_data(cls, hp, data):
        super().check_data(hp, data)
        h, w = data.shape[:2]
        try:
            if h != w or num_stages(h) < 1:
                raise ValueError("")
        except ValueError:
            raise ConfigError(f"--image_size={h}: --model={cls.model_name} needs square "
                              f"images of 4 x 2^n pixels (4, 8, 16, 32, 64, ...), got "
                              f"{h}x{w}") from None

    @classmethod
    def build_networks(cls, hp, data):
        """The model's generator and Progressive GAN's discriminator (both use it)."""
        return dict(generator=cls.build_growing_generator(hp, data.shape, "generator"),
                    discriminator=ProGANDiscriminator(data.shape[-1], filters_for(hp, data.shape),
                                                      name="discriminator"))

    @classmethod
    def build_growing_generator(cls, hp, shape, name):
        """The model's generator network (``networks.progan._Grown``)."""
        raise NotImplementedError

    def clone_generator(self):
        return self.build_growing_generator(self.hparams, self.data_spec.shape, "generator_ema")

    def __init__(self, networks_, **kwargs):
        super().__init__(networks_, **kwargs)
        self.num_stages = self.generator.num_stages
        self.full_size = int(self.data_spec.shape[0])
        first = self.stage_at(0)
        #: Highest stage entered (its optimizer restart done); checkpointed.
        self.grown_to = tf.Variable(first, dtype=tf.int64, trainable=False, name="grown_to",
                                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        #: Stage the current train function was traced for.
        self.traced_stage = None
        #: ``export --stage=N`` (None: the stage of the current step, at full size).
        self.export_stage = None
        self.inference_alpha = 1.0
        self._set_stage(first)

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
        if not hp["progressive"]:
            return 0
        return 0 if stage == 0 else hp["stable_steps"] + (stage - 1) * (
            hp["fade_steps"] + hp["stable_steps"])

    def stage_at(self, step):
        last = self.generator.num_stages - 1
        if not self.hparams["progressive"]:
            return last
        return max(s for s in range(last + 1) if self.stage_start(s) <= step)

    def alpha_at(self, step, stage):
        """Fade-in weight of ``stage``'s new blocks at ``step`` (python)."""
        fade = self.hparams["fade_steps"]
        if stage == 0 or fade == 0 or not self.hparams["progressive"]:
            return 1.0
        return float(np.clip((step - self.stage_start(stage)) / fade, 0.0, 1.0))

    def stage_boundaries(self):
        if not self.hparams["progressive"]:
            return ()
        return tuple(self.stage_start(s) for s in range(1, self.num_stages))

    @staticmethod
    def resolution(stage):
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
        if self.alpha_at(self.stage_start(stage), stage) == 1.0:  # no fade at this stage
            return tf.constant(1.0)
        done = tf.cast(self.g_optimizer.iterations, tf.float32) - float(self.stage_start(stage))
        return tf.clip_by_value(done / float(self.hparams["fade_steps"]), 0.0, 1.0)

    # ------------------------------------------------------------- training
    def unpack(self, data):
        """The real batch at the traced stage's resolution, faded like G's output."""
        batch = super().unpack(data)
        stage = self.generator.stage
        images = downsample(batch["images"], self.full_size // self.resolution(stage))
        if stage > 0 and self.hparams["progressive"]:
            images = lerp(upsample(downsample(images)), images, self.alpha())
        return dict(batch, images=images)

    def apply_gradients(self, optimizer, tape, loss, variables, grads=None):
        # Only the variables the traced stage runs (the others have no gradient;
        # both networks are at the same stage and name their layers alike).
        used = [i for i, v in enumerate(variables) if self.generator.runs(v)]
        super().apply_gradients(optimizer, tape, loss, [variables[i] for i in used],
                                None if grads is None else [grads[i] for i in used])

    def discriminator_input(self, examples):
        return (examples["images"], self.alpha())

    # ----------------------------------------------------------- inference
    def select_stage(self, stage):
        reached = self.stage_at(self.step)
        if not 0 <= stage < self.num_stages:
            raise ConfigError(f"--stage={stage}: this {self.model_name} has stages 0.."
                              f"{self.num_stages - 1} (4x4 .. {self.full_size}x"
                              f"{self.full_size})")
        if stage > reached or (not self.hparams["progressive"] and stage != reached):
            raise ConfigError(f"--stage={stage}: the run is at step {self.step}, in stage "
                              f"{reached}; stage {stage} has not been trained")
        self.export_stage = stage

    def sync_inference(self):
        """Set the inference generator to the stage being shown (eager)."""
        current = self.stage_at(self.step)
        stage = current if self.export_stage is None else self.export_stage
        self.inference_alpha = self.alpha_at(self.step, stage) if stage == current else 1.0
        self.inference_generator.stage = stage
        return stage

    def run_inference(self, generator, inputs, alpha):
        """The generator network's images for named ``inputs`` at ``alpha``."""
        raise NotImplementedError

    def infer(self, inputs):
        if tf.executing_eagerly():
            self.sync_inference()
        generator = self.inference_generator
        return self.shown(generator, self.run_inference(generator, inputs,
                                                        tf.constant(self.inference_alpha)))

    def shown(self, generator, images):
        """The generator's linear output as shown and served: at the image size
        (unless an earlier stage is exported), clipped to [-1, 1]."""
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
        meta.update(latent_dim=self.latent_dim, stage=stage, alpha=self.inference_alpha,
                    output_shape=[size, size, int(self.data_spec.shape[-1])])
        return meta
