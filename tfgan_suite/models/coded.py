"""GANs whose generator takes codes beside the noise: class labels (CGAN,
ACGAN) or InfoGAN's latent codes.

``CodedGAN`` specialises ``NoiseToImageGAN``: a model declares its ``codes``
(``Code``: a name, "class" ids with a number of classes, or "uniform" floats in
[-1, 1] of some size) and everything else follows from the declaration:

* training draws the codes of fake examples uniformly, for the global batch;
* the generator is ``networks.conditional.conditional_generator``: z and the
  encoded codes, concatenated;
* the sample grid is a *class grid*: one row per value of the first class code,
  one column per noise vector (the same noise down a column);
* ``sample --labels=3,3,7`` / ``--class_grid`` / ``--traverse=NAME`` (InfoGAN's
  Figure 2: a continuous code swept from -2 to 2 across the columns, one row per
  categorical value, all else fixed) go through ``requested_grid``;
* evaluation batches carry the class each image was asked to show
  (``EvalBatch.labels``: label accuracy by the domain classifier, or the
  clustering accuracy of InfoGAN's categorical code);
* the export takes the codes as named inputs, checks class ids in the graph
  (TF Serving answers an out-of-range label with an error, never a silent wrong
  class), and ``generate(num_samples, seed, <class code>)`` draws the codes in the
  graph (-1: uniformly).

``ConditionalGAN`` is the family of models whose class code is the data's label
(``batch_fields`` ("images", "labels")): D sees real images with their labels
and fakes with the labels they were generated for.
"""
import dataclasses

import keras
import numpy as np
import tensorflow as tf

from tfgan_suite.distribute import draw_for_global_batch
from tfgan_suite.errors import ConfigError
from tfgan_suite.hparams import HParam
from tfgan_suite.models.contract import EvalBatch, Grid, Signature
from tfgan_suite.models.noise import NoiseToImageGAN
from tfgan_suite.networks import conditional as cnets

LABEL_HPARAMS = (
    HParam("label_embedding", "onehot", "How G takes the label: one-hot or a learned "
           "embedding, concatenated to z.", "enum", choices=("onehot", "embedding")),
    HParam("embedding_dim", 50, "--label_embedding=embedding: its size.", "int", lower=1),
)


@dataclasses.dataclass(frozen=True)
class Code:
    """A generator input beside z: ``kind`` "class" (int32 ids below ``size``) or
    "uniform" (float32 [size] in [-1, 1])."""

    name: str
    kind: str
    size: int
    #: Name of the scalar input of ``generate`` that fixes it (class codes).
    scalar: str = ""

    def spec(self, batch=None):
        if self.kind == "class":
            return tf.TensorSpec((batch,), tf.int32, name=self.name)
        return tf.TensorSpec((batch, self.size), tf.float32, name=self.name)

    def draw(self, rng, num):
        if self.kind == "class":
            return rng.integers(0, self.size, num).astype("int32")
        return rng.uniform(-1, 1, (num, self.size)).astype("float32")


class CodedGAN(NoiseToImageGAN):
    """Noise-to-image GAN whose generator also takes ``codes``."""

    data_kinds = ("image",)
    family = "conditional"

    @classmethod
    def data_defaults(cls, data_kind):
        return {}

    @classmethod
    def codes_for(cls, hp, data):
        """[Code] of the generator for hyper-parameters ``hp`` and ``data``."""
        raise NotImplementedError

    @property
    def codes(self):
        return self.codes_for(self.hparams, self.data_spec)

    @property
    def class_code(self):
        """The first class code (the grid's rows), or None."""
        return next((c for c in self.codes if c.kind == "class"), None)

    @classmethod
    def encode(cls, hp, code, inp):
        """The float code the generator concatenates to z for ``code``."""
        if code.kind == "class":
            mode = hp.get("label_embedding", "onehot") if code.name == "labels" else "onehot"
            return cnets.encode_labels(inp, code.size, mode, hp.get("embedding_dim", 50),
                                       name=code.name)
        return inp

    @classmethod
    def build_generator(cls, hp, data_shape, data=None):
        codes = {}
        for code in cls.codes_for(hp, data):
            inp = keras.Input(code.spec().shape[1:], dtype=code.spec().dtype, name=code.name)
            codes[code.name] = (inp, cls.encode(hp, code, inp))
        return cnets.conditional_generator(hp, data_shape, codes)

    @classmethod
    def build_networks(cls, hp, data):
        return dict(generator=cls.build_generator(hp, data.shape, data),
                    discriminator=cls.build_discriminator(hp, data))

    # --------------------------------------------------------------- training
    def sample_codes(self, batch_size):
        """{name: tensor} of codes for this replica's ``batch_size`` fakes,
        uniform (drawn for the global batch, sliced by replica)."""
        out = {}
        for code in self.codes:
            if code.kind == "class":
                out[code.name] = draw_for_global_batch(
                    lambda shape, k=code.size: keras.random.randint(
                        shape, 0, k, dtype="int32", seed=self.seed_generator),
                    (batch_size,))
            else:
                out[code.name] = draw_for_global_batch(
                    lambda shape: keras.random.uniform(shape, -1.0, 1.0,
                                                       seed=self.seed_generator),
                    (batch_size, code.size))
        return out

    def generator_inputs(self, real, batch_size):
        return {"z": self.sample_latent(batch_size), **self.sample_codes(batch_size)}

    def generator_args(self, inputs):
        return [inputs["z"]] + [inputs[c.name] for c in self.codes]

    # ------------------------------------------------------ what it produces
    def generate(self, num, seed=None, **codes):
        """``num`` samples; codes not given are drawn (from ``seed``)."""
        rng = np.random.default_rng(seed)
        inputs = {"z": self.draw_noise(rng, int(num))}
        for code in self.codes:
            inputs[code.name] = (np.asarray(codes[code.name]) if code.name in codes
                                 else code.draw(rng, int(num)))
        return self.generate_from(inputs)

    def sample_inputs(self, num, seed, data=None, labels=None):
        """A class grid's inputs (one row per class, the noise and other codes
        shared down each column), or the given ``labels`` of the class code."""
        rng = np.random.default_rng(seed)
        code = self.class_code
        if labels is not None:
            num = len(labels)
        cols = num if code is None or labels is not None else max(1, num // code.size)
        rows = 1 if code is None or labels is not None else code.size
        column = {"z": self.draw_noise(rng, cols)}
        for c in self.codes:
            if c is not code:
                column[c.name] = c.draw(rng, cols)
        inputs = {k: np.concatenate([v] * rows) for k, v in column.items()}
        if code is not None:
            inputs[code.name] = (np.asarray(labels, np.int32) if labels is not None
                                 else np.repeat(np.arange(code.size, dtype=np.int32), cols))
        return inputs

    def _class_names(self, code):
        names = self.data_spec.class_names if code.name == "labels" else ()
        return list(names) or [str(i) for i in range(code.size)]

    def grid_renderer(self, data, num, seed):
        code = self.class_code
        inputs = self.sample_inputs(num, seed)
        cols = len(inputs["z"]) // code.size
        caption = (f"class grid: one row per {code.name} value "
                   f"({', '.join(self._class_names(code))}), {cols} noise vectors")

        def render():
            return Grid(np.asarray(self.generate_from(inputs)), cols=cols, caption=caption)
        return render

    @property
    def grid_size(self):
        return self.class_code.size * 8

    def requested_grid(self, num, seed, labels=None, traverse=None, class_grid=False):
        code = self.class_code
        if labels is not None:
            bad = [v for v in labels if not 0 <= v < code.size]
            if bad:
                raise ConfigError(f"--labels: {bad} out of range; {self.model_name} has "
                                  f"{code.size} classes ({', '.join(self._class_names(code))})")
            inputs = self.sample_inputs(len(labels), seed, labels=labels)
            names = self._class_names(code)
            return Grid(np.asarray(self.generate_from(inputs)), cols=len(labels),
                        caption=f"labels {', '.join(names[v] for v in labels)}")
        if traverse is not None:
            return self.traversal_grid(traverse, num, seed)
        return self.grid_renderer(None, code.size * num, seed)()

    def traversal_grid(self, name, steps, seed):
        """InfoGAN's Figure 2: one row per class-code value, continuous code
        ``name`` swept from -2 to 2 across ``steps`` columns, every other input
        fixed."""
        continuous = [c for c in self.codes if c.kind == "uniform"]
        names = [f"{c.name}:{i}" for c in continuous for i in range(c.size)]
        if name not in names:
            raise ConfigError(f"--traverse={name}: {self.model_name} has "
                              f"{'continuous codes ' + ', '.join(names) if names else 'no continuous code'}")
        code_name, index = name.split(":")
        rng = np.random.default_rng(seed)
        code = self.class_code
        z = np.repeat(self.draw_noise(rng, 1),
                      code.size * steps, 0)
        inputs = {"z": z, code.name: np.repeat(np.arange(code.size, dtype=np.int32), steps)}
        sweep = np.tile(np.linspace(-2.0, 2.0, steps, dtype=np.float32), code.size)
        for c in continuous:
            values = np.zeros((code.size * steps, c.size), np.float32)
            if c.name == code_name:
                values[:, int(index)] = sweep
            inputs[c.name] = values
        return Grid(np.asarray(self.generate_from(inputs)), cols=steps,
                    caption=f"{name} from -2 to 2 across, one row per {code.name} value")

    def evaluation_batches(self, source, num, batch_size, seed):
        self._require_images("evaluate (and --eval_every)")
        for i, start in enumerate(range(0, num, batch_size)):
            n = min(batch_size, num - start)
            rng = np.random.default_rng(seed + i)
            inputs = {"z": self.draw_noise(rng, n)}
            for c in self.codes:
                inputs[c.name] = c.draw(rng, n)
            code = self.class_code
            yield EvalBatch(generated=np.asarray(self.generate_from(inputs)),
                            labels=inputs[code.name], labels_are_classes=code.name == "labels")

    # ------------------------------------------------------------------ export
    #: Whether the export checks class ids in the graph (off for TFLite, whose
    #: builtin ops cannot raise errors).
    _check_inputs = True

    def _checked(self, inputs):
        if not self._check_inputs:
            return inputs
        for code in self.codes:
            if code.kind == "class":
                ids = inputs[code.name]
                tf.debugging.assert_greater_equal(
                    ids, 0, message=f"{code.name} must be >= 0")
                tf.debugging.assert_less(
                    ids, code.size, message=f"{code.name} must be < {code.size}")
        return inputs

    def export_signatures(self):
        codes = self.codes
        names = ["z"] + [c.name for c in codes]

        def serve(*args):
            inputs = self._checked(dict(zip(names, args)))
            return self.infer(inputs)

        def specs(batch=None):
            return ([tf.TensorSpec((batch, self.latent_dim), tf.float32, name="z")]
                    + [c.spec(batch) for c in codes])

        def draw(rng, spec_list):
            n = spec_list[0].shape[0]
            out = {"z": self.draw_noise(rng, n)}
            out.update({c.name: c.draw(rng, n) for c in codes})
            return out

        fixed = [c for c in codes if c.kind == "class"]

        def generate(num_samples, seed, *values):
            shape = tf.stack([num_samples, self.latent_dim])
            inputs = {"z": self.noise_in_graph(shape, tf.stack([seed, 0]))}
            for i, c in enumerate(codes):
                key = tf.stack([seed, i + 1])
                if c.kind == "class":
                    drawn = tf.random.stateless_uniform(tf.reshape(num_samples, [1]), key, 0,
                                                        c.size, dtype=tf.int32)
                    value = values[fixed.index(c)]
                    inputs[c.name] = tf.where(value < 0, drawn,
                                              tf.fill(tf.reshape(num_samples, [1]), value))
                else:
                    inputs[c.name] = tf.random.stateless_uniform(
                        tf.stack([num_samples, c.size]), key, -1.0, 1.0)
            inputs = self._checked(inputs)
            return self.infer(inputs)

        return [
            Signature("serving_default", serve, specs(), tflite="", draw=draw,
                      static_inputs=specs),
            Signature("generate", generate,
                      [tf.TensorSpec((), tf.int32, name="num_samples"),
                       tf.TensorSpec((), tf.int32, name="seed")]
                      + [tf.TensorSpec((), tf.int32, name=c.scalar) for c in fixed]),
        ]

    def tflite_mode(self):
        import contextlib

        @contextlib.contextmanager
        def unchecked():
            self._check_inputs = False
            try:
                yield
            finally:
                self._check_inputs = True
        return unchecked()

    def export_metadata(self):
        meta = super().export_metadata()
        meta["codes"] = [
            dict(name=c.name, kind=c.kind, size=c.size,
                 **({"classes": self._class_names(c)} if c.kind == "class" else
                    {"range": [-1.0, 1.0]}))
            for c in self.codes]
        return meta


class ConditionalGAN(CodedGAN):
    """A GAN conditioned on the data's class labels."""

    HPARAMS = LABEL_HPARAMS
    batch_fields = ("images", "labels")
    needs_labels = True

    @classmethod
    def codes_for(cls, hp, data):
        return [Code("labels", "class", data.num_classes, scalar="label")]

    def discriminator_input(self, examples):
        return [examples["images"], examples["labels"]]

    @classmethod
    def build_discriminator(cls, hp, data):
        raise NotImplementedError
