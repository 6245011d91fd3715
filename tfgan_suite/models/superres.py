"""Super-resolution models: the generator maps an LR image to one ``scale`` x larger.

``SuperResolutionGAN`` specialises the core for SRResNet and SRGAN. It asks the
data layer for the "superres" view of any image source (``data_view``: HR
images at their own size, LR made in the pipeline, ``data.superres``) and
trains on batches of aligned random crops (``lr``, ``hr``). It declares, for
the pipeline:

* its generator's input: LR crops of held-out images (``sample_inputs``);
* its grid: held-out crops in columns, rows bicubic | the model | original;
* its evaluation: the *full* held-out images, PSNR and SSIM on the luma (Y,
  BT.601) with ``scale`` border pixels cropped, the paper's protocol, with
  bicubic upscaling as the floor (``EvalBatch.floor_name``); no feature metric
  by default (``default_metrics``);
* its export: ``serving_default(images [batch, None, None, C])`` -> ``scale``
  x larger images, TFLite at a fixed ``--tflite_tile`` (windows tiled over a
  whole image by the LiteRT runner);
* ``apply_to_image``: any size, in overlapping tiles (``tiling``).
"""
import functools

import numpy as np
import tensorflow as tf

from tfgan_suite import tiling
from tfgan_suite.data import superres
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import HParam
from tfgan_suite.models.base import GANModel
from tfgan_suite.models.contract import EvalBatch, Grid, Signature

SCALE = HParam("scale", 4, "Upscaling factor (2, 4 or 8): log2(scale) x2 sub-pixel blocks.",
               "int", lower=2)
NUM_BLOCKS = HParam("num_blocks", 16, "Residual blocks of the SRResNet generator.", "int",
                    lower=1)
SR_FILTERS = HParam("g_filters", 64, "Channels of the SRResNet generator's convolutions.",
                    "int", lower=1)
GLOBAL_SKIP = HParam("global_skip", "none", "none: the paper's SRResNet; bicubic (not in "
                     "the paper): predict a residual over bicubic upscaling, starting from "
                     "bicubic (trains much faster on a CPU budget).", "enum",
                     choices=("none", "bicubic"))
RESCALE_MIN = HParam("rescale_min", 1.0, "Scale augmentation: each training crop comes "
                     "from its HR image downscaled by a random factor in [rescale_min, 1], "
                     "its LR made from that (1: off; e.g. 0.5).", "float", positive=True)
TFLITE_TILE = HParam("tflite_tile", 64, "Input side of the TFLite model (a fixed LR tile; "
                     "its output is scale x larger).", "int", lower=8)
#: The paper's optimisation: Adam(1e-4, beta1 = 0.9), batch 16 of 96 x 96 HR crops.
SR_DEFAULTS = dict(g_learning_rate=1e-4, d_learning_rate=1e-4, beta1=0.9, beta2=0.999)
SR_TINY = dict(num_blocks=1, g_filters=8, tflite_tile=8)


@functools.lru_cache(maxsize=4)
def _lr_photos(scale, channels):
    """The bundled training photos downscaled by ``scale`` (uint8 LR images)."""
    source = superres.load("bundled:photos", "train", None, 8 * scale, channels, scale)
    return [lr for lr, _ in source.pair_examples().as_numpy_iterator()]


def lr_photo_crops(scale):
    """A ``Signature.draw``: random crops of real LR photos (the bundled training
    photos downscaled by ``scale``), the inputs int8 calibration and the parity
    checks need -- uniform noise is far from what an SR model sees, and
    calibrating on it costs int8 ~30 dB of PSNR on photos."""
    def draw(rng, specs):
        out = {}
        for spec in specs:
            n, h, w, c = spec.shape
            photos = _lr_photos(scale, c)
            crops = []
            for _ in range(n):
                photo = photos[rng.integers(len(photos))]
                y = rng.integers(photo.shape[0] - h + 1)
                x = rng.integers(photo.shape[1] - w + 1)
                crops.append(photo[y:y + h, x:x + w])
            out[spec.name] = np.stack(crops).astype(np.float32) / 127.5 - 1.0
        return out
    return draw


def mse(a, b):
    return tf.reduce_mean(tf.square(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))


def psnr_of_mse(value):
    """PSNR (dB) of images in [-1, 1] (peak-to-peak 2) from their MSE."""
    return 10.0 * tf.math.log(4.0 / tf.maximum(value, 1e-12)) / tf.math.log(10.0)


class SuperResolutionGAN(GANModel):
    """Base of the models upscaling LR images by ``scale``."""

    HPARAMS = (SCALE, NUM_BLOCKS, SR_FILTERS, GLOBAL_SKIP, RESCALE_MIN, TFLITE_TILE)
    data_kinds = ("superres",)
    batch_fields = ("lr", "hr")
    evaluation_split = "test"
    family = "super_resolution"
    default_metrics = ()

    @classmethod
    def validate_hparams(cls, hp):
        if hp["scale"] not in (2, 4, 8):
            raise ConfigError(f"--scale={hp['scale']}: must be 2, 4 or 8")
        if hp["rescale_min"] > 1:
            raise ConfigError(f"--rescale_min={hp['rescale_min']}: a downscaling factor, "
                              f"in (0, 1]")

    @classmethod
    def data_options(cls, hp):
        return {"view": "superres", "scale": int(hp["scale"]),
                "rescale": float(hp["rescale_min"])}

    @classmethod
    def check_data(cls, hp, data):
        super().check_data(hp, data)
        if data.shape[0] % hp["scale"] or data.shape[1] % hp["scale"]:
            raise ConfigError(f"--image_size={data.shape[0]} (the HR crop) must be a "
                              f"multiple of --scale={hp['scale']}")

    @classmethod
    def build_generator(cls, hp, data):
        from tfgan_suite import networks
        return networks.srresnet_generator(data.shape[-1], hp["scale"], hp["num_blocks"],
                                           hp["g_filters"], hp["global_skip"])

    @property
    def scale(self):
        return int(self.hparams["scale"])

    @property
    def channels(self):
        return int(self.data_spec.shape[-1])

    # ------------------------------------------------------------ upscaling
    def upscale(self, lr):
        """SR images of a batch of LR images (numpy or tensor, [-1, 1])."""
        return self.generator(tf.convert_to_tensor(lr, tf.float32), training=False)

    def apply_to_image(self, image, direction="a2b"):
        """One image [H, W, C] of any size, upscaled in overlapping tiles."""
        del direction
        if np.shape(image)[-1] != self.channels:
            raise ConfigError(f"{self.model_name} takes {self.channels}-channel images")
        return tiling.upscale_tiled(lambda t: self.upscale(t).numpy(), image, self.scale)

    # ------------------------------------------------------ what it produces
    def _held_out_crops(self, data, num):
        source, split = data.held_out()
        lr, hr = superres.centre_crops(source, num)
        return lr, hr, source, split

    def sample_inputs(self, num, seed, data=None):
        del seed  # held-out crops at fixed places: no randomness
        lr, _, _, _ = self._held_out_crops(data, num)
        return {"images": lr}

    def generate_from(self, inputs):
        return self.upscale(inputs["images"])

    @property
    def grid_size(self):
        return 6

    def grid_renderer(self, data, num, seed):
        lr, hr, source, split = self._held_out_crops(data, min(num, 12))

        def render():
            rows = [superres.bicubic_upscale(lr, self.scale).numpy(),
                    np.asarray(self.upscale(lr)), hr]
            return Grid(np.concatenate(rows), cols=len(lr),
                        caption=f"rows: bicubic x{self.scale} | {self.model_name} | "
                                f"original; {len(lr)} crops of {source.spec} ({split})")
        return render

    def evaluation_batches(self, source, num, batch_size, seed):
        """One full held-out image per batch (sizes differ), up to ``num`` images."""
        del batch_size, seed
        for i, (lr, hr) in enumerate(superres.full_pairs(source)):
            if i >= num:
                return
            sr = self.apply_to_image(lr.numpy()[0])[None]
            yield EvalBatch(generated=sr, targets=hr.numpy(),
                            inputs=superres.bicubic_upscale(lr, self.scale).numpy(),
                            floor_name="bicubic", luma=True, border=self.scale)

    def export_signatures(self):
        tile = int(self.hparams["tflite_tile"])
        return [Signature(
            "serving_default", lambda images: self.generator(images, training=False),
            [tf.TensorSpec((None, None, None, self.channels), tf.float32, name="images")],
            tflite="", draw=lr_photo_crops(self.scale),
            static_inputs=lambda b: [tf.TensorSpec((b, tile, tile, self.channels),
                                                   tf.float32, name="images")])]

    def export_metadata(self):
        meta = super().export_metadata()
        meta.update(scale=self.scale, tflite_tile=int(self.hparams["tflite_tile"]),
                    train_image_shape=list(self.data_spec.shape),
                    tiling=dict(window=tiling.WINDOW, context=tiling.CONTEXT,
                                overlap=tiling.OVERLAP))
        return meta
