"""StyleGAN (Karras, Laine & Aila, CVPR 2019), sized down.

* The style-based generator (``networks/stylegan.py``): mapping network
  (``--mapping_layers``, 8 in the paper), learned constant input, AdaIN per
  layer from w, per-layer noise with learned per-channel scaling, the
  truncation trick on w (``--truncation_psi``, for grids, evaluation and the
  ``generate`` signature; 1 = off).
* Style-mixing regularisation (``--style_mixing=0.9``): that fraction of the
  generated samples takes w(z2) from a random crossover layer on.
* Progressive GAN's discriminator; the paper's FFHQ loss: non-saturating
  logistic with R1 (``--r1_gamma``, 10), Adam(1e-3, 0, 0.99), G EMA.
* Fixed-resolution training by default; ``--progressive`` grows G and D as
  Progressive GAN does (``models/growing.py``).

Exports ``serving_default(z, truncation_psi)``, ``mix(z1, z2, crossover)``
(w(z1) before layer ``crossover``, w(z2) from it on) and ``generate``; TFLite
for the first two (fixed noise maps: builtin ops, deterministic). Figures
(``sample --figure=``): ``style_mixing`` (coarse / middle / fine styles from a
second source, the paper's figure 3) and ``truncation`` (a psi sweep).
"""
import keras
import numpy as np
import tensorflow as tf

from tfgan_suite import losses
from tfgan_suite.distribute import draw_for_global_batch
from tfgan_suite.hparams import HParam
from tfgan_suite.models.contract import Grid, Signature, normal_inputs
from tfgan_suite.models.gan import score_logs
from tfgan_suite.models.growing import GrowingGAN, filters_for
from tfgan_suite.models.progan import FIXED_NETWORK_FLAGS, FMAP_HPARAMS
from tfgan_suite.networks.stylegan import StyleGANGenerator
from tfgan_suite.registry import register

_FIXED = "StyleGAN's networks are fixed: style-based G, Progressive GAN's D"
PSI_SWEEP = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)  # the paper's figure 8


@register("stylegan", default_dataset="bundled:fashion_mnist",
          description="StyleGAN (Karras et al. 2019), sized down: mapping network, AdaIN, "
                      "noise inputs, style mixing, truncation; non-saturating loss + R1",
          defaults=dict(latent_dim=128, optimizer="adam", g_learning_rate=1e-3,
                        d_learning_rate=1e-3, beta1=0.0, beta2=0.99, disc_steps=1,
                        g_ema=0.99, r1_gamma=10.0, progressive=False),
          default_shape=(32, 32, 1),
          tiny=dict(latent_dim=4, fmap_base=32, fmap_max=4, mapping_layers=2))
class StyleGAN(GrowingGAN):
    HPARAMS = FMAP_HPARAMS + (
        HParam("mapping_layers", 4, "Dense layers of the mapping network z -> w (the "
               "paper: 8).", "int", lower=1),
        HParam("style_mixing", 0.9, "Fraction of generated samples trained with two "
               "styles (mixing regularisation).", lower=0.0, below=1.000001),
        HParam("truncation_psi", 1.0, "Truncation of w at sampling time (grids, evaluation, "
               "generate): w_avg + psi (w - w_avg); 1: none."),
    )
    cross_entropy_discriminator = True
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "alpha")
    refused_tricks = dict(GrowingGAN.refused_tricks, **{n: _FIXED for n in FIXED_NETWORK_FLAGS})

    @classmethod
    def build_growing_generator(cls, hp, shape, name):
        return StyleGANGenerator(hp["latent_dim"], hp["latent_dim"], hp["mapping_layers"],
                                 shape[-1], filters_for(hp, shape), name=name)

    @property
    def num_layers(self):
        return self.generator.num_layers

    # --------------------------------------------------------------- training
    def generator_inputs(self, real, batch_size):
        """z, z2 and a crossover layer per sample: uniform in [1, layers of the
        stage) for a --style_mixing fraction of them, else no mixing."""
        def uniform(shape):
            return keras.random.uniform(shape, seed=self.seed_generator)
        draws = draw_for_global_batch(uniform, (batch_size, 2))
        layers = float(self.generator.layers_at())
        point = 1 + tf.cast(tf.floor(draws[:, 1] * (layers - 1.0)), tf.int32)
        mixing = draws[:, 0] < self.hparams["style_mixing"]
        crossover = tf.where(mixing, point, self.num_layers)
        return {"z": self.sample_latent(batch_size), "z2": self.sample_latent(batch_size),
                "crossover": crossover}

    def generator_args(self, inputs):
        return (inputs["z"], inputs["z2"], inputs["crossover"], tf.constant(1.0),
                self.alpha())

    def discriminator_loss(self, real, fake, real_output, fake_output):
        loss = losses.minimax_discriminator_loss(real_output, fake_output,
                                                 self.hparams["label_smoothing"])
        return loss, dict(score_logs(real_output, fake_output), alpha=self.alpha())

    def generator_loss(self, real, fake, fake_output):
        return losses.non_saturating_generator_loss(fake_output), {}

    # ------------------------------------------------------ what it produces
    def run_inference(self, generator, inputs, alpha):
        z = tf.convert_to_tensor(inputs["z"])
        n = tf.shape(z)[0]
        z2 = inputs.get("z2", z)
        crossover = tf.broadcast_to(
            tf.cast(inputs.get("crossover", self.num_layers), tf.int32), [n])
        psi = tf.cast(inputs.get("truncation_psi", self.hparams["truncation_psi"]), tf.float32)
        return generator((z, z2, crossover, psi, alpha), training=False)

    def export_signatures(self):
        # The noise family's generate(num_samples, seed), after our two.
        generate = [s for s in super().export_signatures() if s.name == "generate"]
        d = self.latent_dim

        def z_spec(batch, name="z"):
            return tf.TensorSpec((batch, d), tf.float32, name=name)

        def draw_psi(rng, specs):
            out = normal_inputs(rng, [s for s in specs if s.name == "z"])
            out["truncation_psi"] = np.float32(rng.uniform(0.5, 1.0))
            return out

        def draw_mix(rng, specs):
            out = normal_inputs(rng, [s for s in specs if s.name != "crossover"])
            out["crossover"] = np.int32(rng.integers(1, self.num_layers))
            return out

        def mix_specs(batch):
            return [z_spec(batch, "z1"), z_spec(batch, "z2"),
                    tf.TensorSpec((), tf.int32, name="crossover")]

        def psi_specs(batch):
            return [z_spec(batch), tf.TensorSpec((), tf.float32, name="truncation_psi")]

        return [
            Signature("serving_default",
                      lambda z, truncation_psi: self.infer(
                          {"z": z, "truncation_psi": truncation_psi}),
                      psi_specs(None), tflite="", draw=draw_psi, static_inputs=psi_specs),
            Signature("mix",
                      lambda z1, z2, crossover: self.infer(
                          {"z": z1, "z2": z2, "crossover": crossover}),
                      mix_specs(None), tflite="_mix", draw=draw_mix, static_inputs=mix_specs),
        ] + generate

    def export_metadata(self):
        meta = super().export_metadata()
        meta.update(num_style_layers=self.num_layers,
                    truncation_psi=self.hparams["truncation_psi"])
        return meta

    # ------------------------------------------------------------- figures
    def figures(self):
        return {"style_mixing": self.style_mixing_grid, "truncation": self.truncation_grid}

    def style_ranges(self):
        """(name, first layer, end layer) of the coarse / middle / fine styles:
        coarse up to 8x8, middle 16x16 and 32x32, fine above (as in the paper;
        fewer when the image is small)."""
        layers = self.generator.layers_at(self.sync_inference())
        cuts = [0, min(4, layers), min(8, layers), layers]
        names = ("coarse", "middle", "fine")
        return [(n, a, b) for n, a, b in zip(names, cuts, cuts[1:]) if b > a]

    def _styled(self, ws):
        generator = self.inference_generator
        self.sync_inference()
        images = generator.synthesis(tf.convert_to_tensor(ws), tf.constant(self.inference_alpha),
                                     training=False)
        return self.shown(generator, images).numpy()

    def style_mixing_grid(self, num=4, steps=2, seed=0):
        """Top row: ``num`` sources B; then for each style range, ``steps``
        sources A (first column) with that range of styles taken from each B."""
        rng = np.random.default_rng(seed)
        g = self.inference_generator
        psi = tf.constant(float(self.hparams["truncation_psi"]))
        za = self.draw_noise(rng, steps)
        zb = self.draw_noise(rng, num)
        n_layers = self.num_layers

        def ws(z):
            return g.styles(z, z, tf.fill([len(z)], n_layers), psi).numpy()

        wa, wb = ws(za), ws(zb)
        blank = np.full((1, *self.data_spec.shape), -1.0, "float32")
        rows = [np.concatenate([blank, self._styled(wb)])]
        for _, first, end in self.style_ranges():
            for i in range(steps):
                mixed = np.repeat(wa[i:i + 1], num, axis=0)
                mixed[:, first:end] = wb[:, first:end]
                rows.append(np.concatenate([self._styled(wa[i:i + 1]), self._styled(mixed)]))
        names = ", ".join(f"{n} (layers {a}-{b - 1})" for n, a, b in self.style_ranges())
        return Grid(np.concatenate(rows), cols=num + 1,
                    caption=f"style mixing: top row sources B; each block of {steps} rows "
                            f"takes B's {names} styles in turn")

    def truncation_grid(self, num=4, steps=len(PSI_SWEEP), seed=0):
        """``num`` rows, one column per psi of the paper's sweep (1 .. -1)."""
        z = self.draw_noise(np.random.default_rng(seed), num)
        psis = PSI_SWEEP[:steps] if steps <= len(PSI_SWEEP) else np.linspace(1, -1, steps)
        cols = [np.asarray(self.infer({"z": z, "truncation_psi": float(p)})) for p in psis]
        images = np.stack(cols, axis=1).reshape(-1, *self.data_spec.shape)
        return Grid(images, cols=len(psis),
                    caption="truncation psi = " + ", ".join(f"{p:g}" for p in psis))
