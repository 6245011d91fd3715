"""Image-to-image GANs: the generator maps an image of domain A to one of domain B.

``ImageToImageGAN`` specialises the core for pix2pix, CycleGAN and SimGAN.
It trains on two-domain data (``tfgan_suite.data.pairs``: each element is
(a, b), images in [-1, 1]) and declares, for the pipeline:

* its generator's input: held-out images a (``sample_inputs``), never noise;
* its grid: held-out inputs in columns, ``grid_rows`` below them;
* its evaluation: translated held-out images against domain B, with the
  ground truth when the data is paired and the untranslated inputs as the floor
  (``EvalBatch.targets`` / ``inputs``), on the test split;
* its export: one signature per direction it translates (``directions``),
  ``images`` [batch, H, W, C] of any size the generator's strides allow, TFLite
  at the training size;
* ``apply_to_image``: one image of any size, padded (reflection) up to a
  multiple of the generator's stride and cropped back.
"""
import numpy as np
import tensorflow as tf

from tfgan_suite import networks
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import HParam
from tfgan_suite.models.base import GANModel
from tfgan_suite.models.contract import EvalBatch, Grid, Signature, uniform_images

RECEPTIVE_FIELD = HParam("receptive_field", "70", "PatchGAN receptive field in pixels "
                         "(1 = PixelGAN, image = ImageGAN).", "enum",
                         choices=("1", "16", "70", "286", "image"))
NORMS = (G_NORM, D_NORM) = (
    HParam("g_norm", "instance", "Normalisation in the generator(s) (instance: BatchNorm with "
           "the test batch's statistics at batch 1, as in the papers).", "enum",
           choices=networks.NORMS),
    HParam("d_norm", "auto", "Normalisation in the discriminator(s) (auto: as --g_norm).",
           "enum", choices=("auto",) + networks.NORMS),
)


def d_norm(hp):
    """--d_norm with auto resolved (the generator's)."""
    return hp["g_norm"] if hp["d_norm"] == "auto" else hp["d_norm"]

#: The papers' optimisation: Adam(2e-4, beta1 = 0.5) for both networks.
TRANSLATION_DEFAULTS = dict(g_learning_rate=2e-4, d_learning_rate=2e-4, beta1=0.5,
                            beta2=0.999)
#: Tiny networks for the contract test.
TRANSLATION_TINY = dict(g_filters=4, d_filters=4, receptive_field="16")

#: Signature and TFLite names per direction.
_SIGNATURE = {"a2b": "serving_default", "b2a": "translate_b2a"}
_TFLITE = {"a2b": "", "b2a": "_b2a"}


def pad_to_multiple(image, multiple):
    """Reflection-pad [H, W, C] at the bottom/right up to multiples of ``multiple``
    (edge padding where the image is too small to reflect)."""
    h, w = image.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not ph and not pw:
        return image
    mode = "reflect" if ph < h and pw < w else "edge"
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode=mode)


def patch_discriminator(hp, data_shape, condition_channels=0, name="discriminator"):
    field = hp["receptive_field"]
    return networks.patchgan_discriminator(
        data_shape, receptive_field=field if field == "image" else int(field),
        filters=hp["d_filters"], norm=d_norm(hp), condition_channels=condition_channels,
        name=name)


class ImageToImageGAN(GANModel):
    """Base of the models translating images between two domains."""

    data_kinds = ("paired", "unpaired")
    batch_fields = ("a", "b")
    evaluation_split = "test"
    family = "image_to_image"
    #: direction -> the network translating in it.
    directions = {"a2b": "generator"}
    #: Input sides must be multiples of this (the generator's total stride).
    size_multiple = 4

    @classmethod
    def check_data(cls, hp, data):
        if data.kind not in cls.data_kinds:
            raise ConfigError(
                f"--model={cls.model_name} translates images between two domains and "
                f"needs {' or '.join(cls.data_kinds)} data, but the dataset gives "
                f"{data.describe()}; use e.g. --dataset=bundled:edges2shoes (paired), "
                f"bundled:sneakers2boots (unpaired), paired:PATH or unpaired:PATH")

    @property
    def image_shape(self):
        return tuple(self.data_spec.shape)

    # ------------------------------------------------------------ translation
    def translate(self, images, direction="a2b"):
        """Translate a batch (numpy or tensor, [-1, 1]) in ``direction``."""
        if direction not in self.directions:
            raise ConfigError(f"--direction={direction}: {self.model_name} translates "
                              f"{' and '.join(self.directions)} only")
        network = getattr(self, self.directions[direction])
        return network(tf.convert_to_tensor(images, tf.float32), training=False)

    def apply_to_image(self, image, direction="a2b"):
        image = np.asarray(image, np.float32)
        h, w = image.shape[:2]
        out = self.translate(pad_to_multiple(image, self.size_multiple)[None], direction)
        return np.asarray(out)[0, :h, :w]

    def grid_rows(self, a, b):
        """Rows of the sample grid for fixed inputs ``a``, ``b``."""
        return [a, self.translate(a), b]

    # ------------------------------------------------------ what it produces
    def sample_inputs(self, num, seed, data=None):
        del seed  # the first held-out images: no randomness
        source, _ = data.held_out()
        a, _ = next(iter(source.pairs(num, num=num)))
        return {"images": a.numpy()}

    def generate_from(self, inputs):
        return self.translate(inputs["images"])

    #: Widest training grid, in pixels: 8 columns up to 128 px, 4 at 256, 2 at 512.
    GRID_WIDTH = 1024

    @property
    def grid_size(self):
        """Held-out images in a grid: 8, fewer for large images (each column costs
        a generator pass per row, 0.36 s per 256-px image in CycleGAN's grid)."""
        return max(2, min(8, self.GRID_WIDTH // int(self.data_spec.shape[1])))

    def grid_renderer(self, data, num, seed):
        num = min(num, 16)
        source, split = data.held_out()
        a, b = next(iter(source.pairs(num, num=num)))

        def render():
            rows = [np.asarray(r) for r in self.grid_rows(a, b)]
            return Grid(np.concatenate(rows), cols=len(a),
                        caption=f"{len(rows)} rows of {len(a)} {split} images")
        return render

    def evaluation_reference(self, source):
        return source.domain("b")

    def evaluation_extras(self, a, b, fake):
        """Per-image values to average into the evaluation (override)."""
        return {}

    def evaluation_batches(self, source, num, batch_size, seed):
        del seed  # deterministic: the first ``num`` held-out pairs
        paired = source.kind == "paired"
        for a, b in source.pairs(batch_size, num=num):
            fake = self.translate(a)
            yield EvalBatch(generated=fake.numpy(), inputs=a.numpy(),
                            targets=b.numpy() if paired else None,
                            extra=self.evaluation_extras(a, b, fake))

    def export_signatures(self):
        channels = self.image_shape[-1]
        sigs = []
        for direction in self.directions:
            sigs.append(Signature(
                _SIGNATURE[direction], self._translator(direction),
                [tf.TensorSpec((None, None, None, channels), tf.float32, name="images")],
                tflite=_TFLITE[direction], draw=uniform_images,
                static_inputs=lambda b: [tf.TensorSpec((b, *self.image_shape), tf.float32,
                                                       name="images")]))
        return sigs

    def _translator(self, direction):
        network = getattr(self, self.directions[direction])
        return lambda images: network(images, training=False)

    def export_metadata(self):
        meta = super().export_metadata()
        meta.update(train_image_shape=list(self.image_shape), size_multiple=self.size_multiple,
                    directions=list(self.directions),
                    # keys of the first image-to-image exports, kept for their clients
                    latent_dim=0, test_dropout=bool(self.stochastic_serving),
                    tflite_test_dropout=False)
        return meta
