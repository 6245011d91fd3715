"""Normalisation, padding and dropout layers shared by the image-to-image networks.

* ``normalization(kind, name)``: batch norm (pix2pix), instance norm (CycleGAN;
  Ulyanov, Vedaldi & Lempitsky 2016: statistics per sample and per channel, over
  the spatial positions only) or nothing.
* ``ReflectionPad2D``: mirror padding without repeating the edge pixel, as used
  before the convolutions of the CycleGAN / Johnson et al. generator to avoid
  border artefacts.
* ``InferenceDropout``: dropout that can stay on at test time. pix2pix (Isola et
  al. 2017, section 3.1) gives its generator no explicit z; its only noise is
  dropout in the decoder, "applied at both training and test time".
"""
import keras
from keras import layers, ops

NORMS = ("batch", "instance", "none")


def normalization(kind, name=None):
    """Return a normalisation layer: kind is "batch", "instance" or "none".

    Instance norm is ``GroupNormalization`` with one group per channel, so the
    mean and variance are taken per sample and per channel over (H, W), and one
    sample's output does not depend on the rest of its batch. "none" gives an
    identity layer, so callers can always insert the returned layer.
    """
    if kind == "batch":
        return layers.BatchNormalization(name=name)
    if kind == "instance":
        return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)
    if kind == "none":
        return layers.Identity(name=name)
    raise ValueError(f"norm must be one of {', '.join(NORMS)}; got {kind!r}")


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
