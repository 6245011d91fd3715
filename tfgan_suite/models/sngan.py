"""SNGAN (Miyato, Kataoka, Koyama & Yoshida, ICLR 2018): the hinge loss with
spectral normalisation of every discriminator layer
(``keras.layers.SpectralNormalization``, one power iteration per call), which
bounds D's Lipschitz constant without a penalty. The discriminator has no
BatchNorm (``--d_norm=none``). Adam(2e-4, beta1=0.5, beta2=0.999), n_dis = 1.
"""
from tfgan_suite.models.hinge import HINGE_DEFAULTS, HingeGAN
from tfgan_suite.registry import register


@register("sngan", default_dataset="bundled:mnist",
          description="Spectrally normalised GAN with the hinge loss (Miyato et al. 2018)",
          defaults=dict(HINGE_DEFAULTS, d_spectral_norm=True, d_norm="none"),
          tiny=dict(g_filters=4, d_filters=4, latent_dim=4))
class SNGAN(HingeGAN):
    pass
