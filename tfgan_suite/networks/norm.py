"""Normalisation, padding and dropout layers shared by the network builders.

* ``normalization(kind, name)``: batch norm (pix2pix; ``sync_batch`` over all
  replicas), layer, instance norm (CycleGAN; Ulyanov, Vedaldi & Lempitsky 2016:
  statistics per sample and per channel, over the spatial positions only),
  group norm, virtual batch norm, or nothing; ``spectral(kind, layer)`` wraps
  the weighted layers for ``kind="spectral"``.
* ``ReflectionPad2D``: mirror padding without repeating the edge pixel, as used
  before the convolutions of the CycleGAN / Johnson et al. generator to avoid
  border artefacts.
* ``InferenceDropout``: dropout that can stay on at test time. pix2pix (Isola et
  al. 2017, section 3.1) gives its generator no explicit z; its only noise is
  dropout in the decoder, "applied at both training and test time".
"""
import math

import keras
from keras import layers, ops

NORMS = ("batch", "sync_batch", "layer", "instance", "group", "spectral", "none")


def has_norm(kind):
    """Whether ``kind`` inserts a normalisation layer (spectral normalisation
    rescales the weights instead, and "none" does nothing; "virtual_batch", the
    generators' VBN, does)."""
    if kind == "virtual_batch":
        return True
    _check_norm(kind)
    return kind not in ("spectral", "none")


def spectral(kind, layer):
    """``layer`` wrapped in ``keras.layers.SpectralNormalization`` when ``kind``
    is "spectral" (Miyato et al. 2018: W / sigma(W), sigma by power iteration),
    else ``layer`` itself."""
    return keras.layers.SpectralNormalization(layer) if kind == "spectral" else layer


def normalization(kind, name=None, rank=4, reference_size=None):
    """The normalisation layer of ``kind`` for inputs of ``rank`` (4: NHWC maps,
    2: [N, D] features). Statistics are over:

    * ``batch``: the batch (and H, W), per channel; moving averages at inference.
      Under a distribution strategy, over one replica's batch.
    * ``sync_batch``: the same over the *global* batch (all replicas agree;
      ``BatchNormalization(synchronized=True)``).
    * ``layer``: each sample, over all its features (H, W and C).
    * ``instance``: each sample and channel, over H, W (Ulyanov et al. 2016):
      ``GroupNormalization`` with one group per channel, trained with the fused
      kernel (``layers.FusedInstanceNormalization``). Maps only.
    * ``group``: each sample, over H, W and groups of channels (Wu & He 2018;
      gcd(C, 32) groups).
    * ``virtual_batch``: a reference batch together with the example
      (``layers.VirtualBatchNormalization``, size ``reference_size``).
    * ``spectral`` / ``none``: an identity layer (spectral normalisation wraps
      the weighted layers instead: ``spectral``), so callers can always insert
      the returned layer.
    """
    if kind == "virtual_batch":
        from tfgan_suite.layers import VirtualBatchNormalization
        return VirtualBatchNormalization(reference_size or 64, name=name)
    _check_norm(kind)
    if kind == "batch":
        from tfgan_suite.layers import FusedBatchNormalization
        return FusedBatchNormalization(name=name)
    if kind == "sync_batch":
        return layers.BatchNormalization(synchronized=True, name=name)
    if kind == "layer":
        return layers.LayerNormalization(axis=list(range(1, rank)), name=name)
    if kind == "instance":
        if rank < 3:
            raise ValueError("instance norm needs feature maps (it normalises each channel "
                             "over H, W); use layer or group for fully connected layers")
        from tfgan_suite.layers import FusedInstanceNormalization
        return FusedInstanceNormalization(epsilon=1e-5, name=name)
    if kind == "group":
        return _GroupNorm(name=name)
    return layers.Identity(name=name)


@keras.saving.register_keras_serializable(package="tfgan_suite")
class _GroupNorm(layers.GroupNormalization):
    """GroupNormalization with gcd(C, 32) groups, C read when built."""

    def __init__(self, groups=None, **kwargs):
        kwargs.setdefault("epsilon", 1e-5)
        super().__init__(groups=groups or 1, **kwargs)
        self._auto_groups = groups is None

    def build(self, input_shape):
        if self._auto_groups:
            self.groups = math.gcd(int(input_shape[-1]), 32)
        super().build(input_shape)

    def get_config(self):
        config = super().get_config()
        if self._auto_groups:
            config["groups"] = None
        return config


def _check_norm(kind):
    if kind not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}; got {kind!r}")


def _pair(value):
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"expected an int or a pair, got {value!r}")
    return value


@keras.saving.register_keras_serializable(package="tfgan_suite")
class ReflectionPad2D(keras.layers.Layer):
    """Reflection padding of an NHWC map: ``pad`` pixels on every side, or
    ``(pad_h, pad_w)``. Same as ``np.pad(x, ..., mode="reflect")`` (the edge pixel
    is not repeated), so each pad must be smaller than the padded side.
    Works with unknown (None) spatial dimensions.
    """

    def __init__(self, pad=1, **kwargs):
        super().__init__(**kwargs)
        self.pad = _pair(pad)

    def call(self, x):
        ph, pw = self.pad
        return ops.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        ph, pw = self.pad
        return (b, None if h is None else h + 2 * ph,
                None if w is None else w + 2 * pw, c)

    def get_config(self):
        return {**super().get_config(), "pad": list(self.pad)}


@keras.saving.register_keras_serializable(package="tfgan_suite")
class InferenceDropout(keras.layers.Layer):
    """Dropout that is also applied at inference while ``at_inference`` is True.

    With ``training=True`` it always drops (inverted dropout, kept units scaled
    by 1 / (1 - rate)); with ``training=False`` it drops only if
    ``at_inference``. ``at_inference`` is a plain Python attribute: it can be
    changed after the model is built (see ``set_inference_dropout``), and it is
    read when the layer is called, so a ``tf.function`` traced before the change
    keeps the old behaviour until it is traced again. The random stream comes
    from a ``keras.random.SeedGenerator`` owned by the layer, so two calls give
    two different masks.
    """

    def __init__(self, rate, at_inference=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.at_inference = bool(at_inference)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if self.rate > 0.0 and (training or self.at_inference):
            return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "at_inference": self.at_inference, "seed": self.seed}


def _walk(layer, seen):
    if id(layer) in seen:
        return
    seen.add(id(layer))
    yield layer
    for child in getattr(layer, "layers", None) or ():
        yield from _walk(child, seen)
    inner = getattr(layer, "layer", None)  # wrappers (e.g. TimeDistributed)
    if isinstance(inner, keras.layers.Layer):
        yield from _walk(inner, seen)


def set_inference_dropout(model, on):
    """Set ``at_inference`` on every ``InferenceDropout`` of ``model`` (nested
    models included) and return how many layers were changed.

    The cached ``predict`` / ``evaluate`` functions of the models involved are
    dropped so that the next ``model.predict`` traces again with the new value.
    """
    count = 0
    for layer in _walk(model, set()):
        if isinstance(layer, InferenceDropout):
            layer.at_inference = bool(on)
            count += 1
        elif isinstance(layer, keras.Model):
            for attr in ("predict_function", "test_function"):
                if getattr(layer, attr, None) is not None:
                    setattr(layer, attr, None)
    return count
