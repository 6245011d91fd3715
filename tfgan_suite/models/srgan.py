"""SRGAN: photo-realistic super-resolution with an adversarial loss (Ledig et al. 2017).

G: the SRResNet generator, initialised from an SRResNet run
(``--init_from=MODEL_DIR``: its generator weights, not its optimizer state),
as in the paper. D: ``networks.srgan_discriminator`` on HR crops. Losses:

    D minimises  BCE(D(I_HR), 1) + BCE(D(G(I_LR)), 0)
    G minimises  l_content + 1e-3 * BCE(D(G(I_LR)), 1)      (-log D(G(I_LR)))

with l_content the MSE in pixels (``--content_loss=mse``) or the MSE between
VGG19 feature maps phi_{2,2} / phi_{5,4} rescaled by 1/12.75
(``vgg22`` / ``vgg54``, the paper's SRGAN-VGG54 by default; ``networks.vgg``).
Adam(1e-4, beta1 = 0.9) for 10^5 updates, then 1e-5 for 10^5
(``--lr_drop_steps``); the quick flagfiles scale those step counts down.
Order per step, as in Algorithm 1: forward G, update D on the detached
output, update G against the updated D.
"""
import tensorflow as tf

from tfgan_suite import losses, networks
from tfgan_suite.networks import vgg
from tfgan_suite import model_dir as md
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import D_FILTERS, HParam
from tfgan_suite.models.base import call_frozen
from tfgan_suite.models.superres import (SR_DEFAULTS, SR_TINY, SuperResolutionGAN, mse,
                                         psnr_of_mse)
from tfgan_suite.optimizers import LR_DROP_HPARAMS
from tfgan_suite.registry import register


@register("srgan", default_dataset="bundled:photos",
          description="Photo-realistic super-resolution GAN (Ledig et al. 2017)",
          defaults=dict(SR_DEFAULTS, lr_drop_steps=100000),
          tiny=dict(SR_TINY, d_filters=4, content_loss="mse"),
          default_shape=(96, 96, 3), default_batch_size=16)
class SRGAN(SuperResolutionGAN):
    HPARAMS = (D_FILTERS,
               HParam("content_loss", "vgg54", "Content loss: mse (pixels), vgg22 or vgg54 "
                      "(VGG19 feature maps, rescaled by 1/12.75).", "enum",
                      choices=("mse", "vgg22", "vgg54")),
               HParam("adversarial_weight", 1e-3, "Weight of the adversarial loss.",
                      lower=0.0),
               HParam("vgg_weights", "imagenet", "VGG19 weights for the content loss: "
                      "imagenet (Keras download), a path to the notop .h5 file, or random "
                      "(tests only).", "str"),
               HParam("init_from", "", "SRResNet run directory whose generator weights "
                      "start the run (the paper's initialisation; '' = from scratch).",
                      "str"),
               HParam("d_dense_units", 1024, "Units of the discriminator's hidden dense "
                      "layer.", "int", lower=1)) + LR_DROP_HPARAMS
    metric_names = ("d_loss", "g_loss", "content", "adversarial", "psnr")

    @classmethod
    def build_networks(cls, hp, data):
        return dict(
            generator=cls.build_generator(hp, data),
            discriminator=networks.srgan_discriminator(data.shape, hp["d_filters"],
                                                       hp["d_dense_units"]))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._content_features = None

    def content_features(self):
        """The frozen VGG feature network (built on first use: inference never needs it)."""
        if self._content_features is None and self.hparams["content_loss"] != "mse":
            with self.distribute_strategy.scope():
                self._content_features = vgg.vgg_features(
                    self.hparams["content_loss"], self.hparams["vgg_weights"])
        return self._content_features

    def fit(self, *args, **kwargs):
        self.content_features()  # variables created before tracing; offline error early
        return super().fit(*args, **kwargs)

    def content_loss(self, hr, sr):
        if self.hparams["content_loss"] == "mse":
            return mse(hr, sr)
        phi = self._content_features
        return mse(phi(hr, training=False), phi(sr, training=False))

    def warm_start(self, source=None):
        init_from = self.hparams["init_from"]
        if not init_from:
            return
        other = md.load_model(init_from)
        keys = ("scale", "num_blocks", "g_filters", "global_skip")
        theirs = {k: other.hparams.get(k, "none" if k == "global_skip" else None)
                  for k in keys}
        mine = {k: self.hparams[k] for k in keys}
        if theirs != mine or len(other.generator.weights) != len(self.generator.weights):
            raise ConfigError(
                f"--init_from={init_from}: its generator ({other.model_name}, "
                f"{', '.join(f'{k}={v}' for k, v in theirs.items())}) does not match this "
                f"one ({', '.join(f'{k}={v}' for k, v in mine.items())})")
        for mine, theirs in zip(self.generator.weights, other.generator.weights):
            mine.assign(theirs)
        print(f"Initialised the generator from {init_from} (step {other.step}); optimizer "
              f"state starts fresh", flush=True)

    def train_step(self, data):
        batch = self.unpack(data)
        lr, hr = batch["lr"], batch["hr"]
        with tf.GradientTape() as g_tape:
            sr = self.generator(lr, training=True)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    d_loss = losses.minimax_discriminator_loss(
                        self.discriminator(hr, training=True),
                        self.discriminator(tf.stop_gradient(sr), training=True))
                self.apply_gradients(self.d_optimizer, d_tape, d_loss, self.d_variables())
            adversarial = losses.non_saturating_generator_loss(
                call_frozen(self.discriminator, sr))
            content = self.content_loss(hr, sr)
            g_loss = content + self.hparams["adversarial_weight"] * adversarial
        self.apply_gradients(self.g_optimizer, g_tape, g_loss, self.g_variables())
        self._track({"d_loss": d_loss, "g_loss": g_loss, "content": content,
                     "adversarial": adversarial, "psnr": psnr_of_mse(mse(hr, sr))})
        return self._results()
