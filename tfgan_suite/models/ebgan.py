"""EBGAN (Zhao, Mathieu & LeCun, ICLR 2017).

The discriminator is an autoencoder; its energy is the reconstruction error
D(x) = mean (x - Dec(Enc(x)))^2. With margin m:

    L_D = D(x) + max(0, m - D(G(z))),    L_G = D(G(z)) + lambda_pt * PT(Enc(G(z)))

The pulling-away term PT (``losses.pulling_away_term``, weight 0.1) pushes the
encoder codes of a generated batch apart, against mode collapse. Adam(2e-4,
beta1=0.5). ``--ebgan_margin`` default 1.0 (energies are per-pixel means of
images in [-1, 1]).
"""
import tensorflow as tf

from tfgan_suite import losses, networks
from tfgan_suite.distribute import gather_global
from tfgan_suite.hparams import HParam
from tfgan_suite.models.noise import TOY_LEARNING_RATES, NoiseToImageGAN
from tfgan_suite.registry import register

AUTOENCODER_DEFAULTS = dict(architecture="dcgan")
AUTOENCODER_TINY = dict(g_filters=4, d_filters=4, latent_dim=4, code_dim=4)


class AutoencoderGAN(NoiseToImageGAN):
    """Energy-based GANs: the discriminator is an autoencoder returning [reconstruction, code]."""

    HPARAMS = (HParam("code_dim", 64, "Autoencoder code size.", "int", lower=1),)
    VECTOR_EXTRA = dict(TOY_LEARNING_RATES, code_dim=16)
    energy_norm = "l2"
    refused_tricks = {
        name: "its discriminator is an autoencoder scoring by reconstruction energy"
        for name in ("r1_gamma", "feature_matching", "minibatch_stddev",
                     "minibatch_discrimination")}

    @classmethod
    def build_discriminator(cls, hp, data_shape):
        return networks.autoencoder_discriminator(
            data_shape, hp["code_dim"], hp["d_filters"], hp["d_hidden_units"],
            hp["kernel_size"], mlp=hp["architecture"] == "mlp")

    def energy(self, x, output):
        return losses.reconstruction_energy(x, output[0], self.energy_norm)


@register("ebgan", default_dataset="bundled:mnist",
          description="Energy-based GAN with the pulling-away term (Zhao et al. 2017)",
          defaults=AUTOENCODER_DEFAULTS, tiny=AUTOENCODER_TINY)
class EBGAN(AutoencoderGAN):
    HPARAMS = (HParam("ebgan_margin", 1.0, "Margin m of the energy hinge.", positive=True),
               HParam("pt_weight", 0.1, "Weight of the pulling-away term.", lower=0.0))
    metric_names = ("d_loss", "g_loss", "energy_real", "energy_fake", "pulling_away")

    def discriminator_loss(self, real, fake, real_output, fake_output):
        e_real = tf.reduce_mean(self.energy(real["images"], real_output))
        e_fake = self.energy(fake["images"], fake_output)
        loss = e_real + tf.reduce_mean(tf.nn.relu(self.hparams["ebgan_margin"] - e_fake))
        return loss, {"energy_real": e_real, "energy_fake": tf.reduce_mean(e_fake)}

    def generator_loss(self, real, fake, fake_output):
        # PT pairs every two samples of the global batch: gather all replicas'
        # codes (each replica then holds the whole term; the gradient of the
        # gather hands each replica its rows' share).
        pt = losses.pulling_away_term(gather_global(fake_output[1]))
        loss = (tf.reduce_mean(self.energy(fake["images"], fake_output))
                + self.hparams["pt_weight"] * pt)
        return loss, {"pulling_away": pt}
