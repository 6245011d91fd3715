"""What a model declares to the pipeline: the small value types it hands over.

``train``, ``sample``, ``evaluate``, ``export`` and the callbacks never ask what
kind of model they hold; they loop over these declarations:

* ``Grid``       what a sample grid shows (``model.grid_renderer(...)()``);
* ``EvalBatch``  one batch of what the metrics compare (``model.evaluation_batches``);
* ``Signature``  one exported serving function (``model.export_signatures()``);
* ``Phase``      a training phase run before the main loop (``model.training_phases()``).
"""
import dataclasses
from typing import Callable, Optional

import numpy as np


@dataclasses.dataclass
class Grid:
    """Samples to look at.

    ``images``: [N, H, W, C] in [-1, 1] tiled ``cols`` per row, or [N, D] points
    (toy data) plotted over ``reference`` points of the data. ``caption`` says
    what the rows/columns are.
    """

    images: np.ndarray
    cols: Optional[int] = None
    reference: Optional[np.ndarray] = None
    caption: str = ""

    @property
    def is_points(self):
        return np.ndim(self.images) == 2


@dataclasses.dataclass
class EvalBatch:
    """What the metrics see for one batch.

    ``generated``: images in [-1, 1] compared with the reference data
    (FID, KID, IS, precision/recall). ``targets``: paired ground truth for
    ``generated`` (L1, PSNR, SSIM). ``inputs``: the images the generator
    was given, measured the same way as the floor a model must beat
    (``identity_*``). ``extra``: per-image values averaged into the result
    under their names (e.g. CycleGAN's cycle-reconstruction errors).
    ``labels``: the class each generated image was asked to show (conditional
    models; InfoGAN's categorical code), scored by a classifier of the data.
    """

    generated: np.ndarray
    targets: Optional[np.ndarray] = None
    inputs: Optional[np.ndarray] = None
    extra: dict = dataclasses.field(default_factory=dict)
    labels: Optional[np.ndarray] = None
    #: Whether ``labels`` are the data's classes (label accuracy, intra-class
    #: FID) or only a grouping (InfoGAN's code: clustering accuracy).
    labels_are_classes: bool = True
    #: Name of the ``inputs`` floor in the results (``<floor_name>_psnr``, ...):
    #: "identity" for translators, "bicubic" for super-resolution.
    floor_name: str = "identity"
    #: PSNR / SSIM on the luma Y (ITU-R BT.601) instead of RGB, with ``border``
    #: pixels cropped on each side (the super-resolution protocol).
    luma: bool = False
    border: int = 0


@dataclasses.dataclass
class Signature:
    """One serving function of the exported generator.

    ``fn(*inputs)`` -> images in [-1, 1] (the exporter adds ``images_uint8``).
    ``inputs``: named ``tf.TensorSpec`` with a free batch dimension.
    ``tflite``: file-name suffix of its TFLite model ("" for the main one), or
    None when it is not converted (e.g. ``generate``, which draws random
    numbers). ``static_inputs(batch)``: the fully static specs TFLite gets.
    ``draw(rng, specs)``: example inputs (int8 calibration, parity checks).
    ``outputs``: what it returns: images (the exporter adds ``images_uint8``),
    or ``fn`` returns a dict of these names (e.g. a classifier's).
    """

    name: str
    fn: Callable
    inputs: list
    tflite: Optional[str] = None
    static_inputs: Optional[Callable] = None
    draw: Optional[Callable] = None
    outputs: tuple = ("images", "images_uint8")


@dataclasses.dataclass
class Phase:
    """A phase the trainer runs before the main loop: ``model.phase = name`` for
    ``steps`` steps of ``fit``, then ``finish()`` (which records it as done)."""

    name: str
    steps: int
    finish: Callable[[], None]


def normal_inputs(rng, specs):
    """N(0, 1) noise for every (float) input."""
    return {s.name: rng.standard_normal(s.shape).astype(s.dtype.as_numpy_dtype)
            for s in specs}


def uniform_images(rng, specs):
    """Images uniform in [-1, 1] for every input."""
    return {s.name: rng.uniform(-1, 1, s.shape).astype("float32") for s in specs}
