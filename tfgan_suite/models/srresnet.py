"""SRResNet: the super-resolution residual network trained on MSE (Ledig et al. 2017).

G: ``networks.srresnet_generator`` (16 residual blocks, two x2 sub-pixel
blocks for x4). Loss: the pixel-wise MSE between the SR output and the HR
crop, both in [-1, 1] (the SRResNet-MSE row of the paper's tables). Adam(1e-4,
beta1 = 0.9), batch 16 of 96 x 96 HR crops; the paper trains 10^6 updates on
ImageNet, the quick flagfiles a few thousand on the bundled photos. There is no
discriminator: the model has no adversarial player (``discriminator_networks``
is empty) and is the initialisation of SRGAN (``--init_from``).
"""
import tensorflow as tf

from tfgan_suite.models.superres import (SR_DEFAULTS, SR_TINY, SuperResolutionGAN, mse,
                                         psnr_of_mse)
from tfgan_suite.registry import register


@register("srresnet", default_dataset="bundled:photos",
          description="Super-resolution residual network, MSE (Ledig et al. 2017)",
          defaults=SR_DEFAULTS, tiny=SR_TINY, default_shape=(96, 96, 3),
          default_batch_size=16)
class SRResNet(SuperResolutionGAN):
    discriminator_networks = ()
    metric_names = ("g_loss", "psnr")

    @classmethod
    def build_networks(cls, hp, data):
        return dict(generator=cls.build_generator(hp, data))

    def train_step(self, data):
        batch = self.unpack(data)
        with tf.GradientTape() as tape:
            loss = mse(batch["hr"], self.generator(batch["lr"], training=True))
        self.apply_gradients(self.g_optimizer, tape, loss, self.g_variables())
        self._track({"g_loss": loss, "psnr": psnr_of_mse(loss)})
        return self._results()
