"""Export a trained generator: SavedModel for TF Serving, TFLite for phones.

SavedModel (``export_dir/name/version/``, TF Serving's layout), built with
``keras.export.ExportArchive``:

* ``serving_default``: the model's named inputs (``z`` float32 [batch,
  latent_dim] for unconditional models) -> ``images`` float32 [-1, 1] and
  ``images_uint8`` uint8 [0, 255];
* ``generate``: ``num_samples`` (int32 scalar) and ``seed`` (int32 scalar) ->
  the same outputs, with the noise drawn inside the graph (stateless, so a seed
  always gives the same images);
* ``metadata``: no inputs -> ``json``, a string with what a client needs
  (latent_dim, output shape, value range, class names, signatures). The same
  JSON is written to ``assets.extra/tfgan_metadata.json``.

TFLite (``export_dir/name.tflite`` float32, ``name_<q>.tflite`` for q in
float16 / dynamic / int8): converted with ``tf.lite.TFLiteConverter`` from a
SavedModel of the same archive with a static batch (default 1: GPU delegates
need static shapes), builtin ops only. Conversion needing a Select TF op fails
loudly. int8 is full-integer quantisation calibrated on noise (float input and
output kept for convenience).

Everything is written under a temporary name and renamed into place: a failed
export leaves nothing behind, and an existing version is replaced only with
``overwrite=True``.
"""
import contextlib
import json
import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfgan_suite.data.images import to_uint8
from tfgan_suite.errors import ExportError
from tfgan_suite.model_dir import atomic_write

QUANTIZATIONS = ("float16", "dynamic", "int8")
METADATA_FILE = os.path.join("assets.extra", "tfgan_metadata.json")


def _two_way(model):
    return model.export_kind == "image_to_image" and hasattr(model, "serve_b2a")


def signature_names(model):
    if model.export_kind == "image_to_image":
        return ["serving_default"] + (["translate_b2a"] if _two_way(model) else []) + ["metadata"]
    return ["serving_default", "generate", "metadata"]


def metadata(model):
    config = getattr(model, "config", {})
    if model.export_kind == "image_to_image":
        return {
            "model": model.model_name,
            "kind": model.export_kind,
            "latent_dim": 0,
            "train_image_shape": list(model.image_shape),
            "value_range": {"images": [-1.0, 1.0], "images_uint8": [0, 255]},
            "inputs": {"images": {"dtype": "float32",
                                  "shape": [None, None, None, model.image_shape[-1]]}},
            "size_multiple": model.size_multiple,
            "directions": ["a2b", "b2a"] if _two_way(model) else ["a2b"],
            "signatures": signature_names(model),
            "test_dropout": bool(model.hparams.get("test_dropout", False)),
            "tflite_test_dropout": False,
            "step": model.step,
            "dataset": config.get("dataset"),
        }
    return {
        "model": model.model_name,
        "kind": model.export_kind,
        "latent_dim": model.latent_dim,
        "output_shape": list(model.generator.output_shape[1:]),
        "value_range": {"images": [-1.0, 1.0], "images_uint8": [0, 255]},
        "class_names": list(config.get("class_names") or []),
        "inputs": {s.name: {"dtype": s.dtype.name, "shape": [d for d in s.shape]}
                   for s in model.serving_input_signature()},
        "signatures": signature_names(model),
        "step": model.step,
        "dataset": config.get("dataset"),
    }


def build_archive(model, batch=None, full=True):
    """An ExportArchive of the generator with the suite's signatures."""
    archive = keras.export.ExportArchive()
    archive.track(model.generator)

    def outputs(images):
        images = tf.cast(images, tf.float32)
        return {"images": images, "images_uint8": to_uint8(images)}

    archive.add_endpoint("serving_default", lambda *inputs: outputs(model.serve(*inputs)),
                         input_signature=model.serving_input_signature(batch))
    if model.export_kind == "image_to_image":
        if _two_way(model):
            archive.track(model.generator_b2a)
            archive.add_endpoint("translate_b2a",
                                 lambda images: outputs(model.serve_b2a(images)),
                                 input_signature=model.serving_input_signature(batch))
        if full:
            text = json.dumps(metadata(model))
            archive.add_endpoint("metadata", lambda: {"json": tf.constant(text)},
                                 input_signature=[])
        return archive
    if full:
        archive.add_endpoint(
            "generate",
            lambda num_samples, seed: outputs(model.serve(
                *model.random_serving_inputs(num_samples, seed))),
            input_signature=[tf.TensorSpec((), tf.int32, name="num_samples"),
                             tf.TensorSpec((), tf.int32, name="seed")])
        text = json.dumps(metadata(model))
        archive.add_endpoint("metadata", lambda: {"json": tf.constant(text)},
                             input_signature=[])
    return archive


def _check_existing(name_dir, version, model, overwrite):
    final = os.path.join(name_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise ExportError(f"{final} exists; pass --overwrite to replace it or choose "
                          f"another --version")
    for other in sorted(os.listdir(name_dir)) if os.path.isdir(name_dir) else []:
        meta_path = os.path.join(name_dir, other, METADATA_FILE)
        if other == str(version) or not os.path.exists(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        if (meta.get("model"), meta.get("latent_dim")) != (model.model_name, model.latent_dim):
            raise ExportError(
                f"{name_dir} holds version {other} of model {meta.get('model')!r} with "
                f"latent_dim {meta.get('latent_dim')}; this model is {model.model_name!r} with "
                f"latent_dim {model.latent_dim}: TF Serving would serve both under one name. "
                f"Use another --name.")
    return final


def write_saved_model(model, export_dir, name, version=1, overwrite=False):
    """Write the SavedModel to ``export_dir/name/version``; returns that path."""
    name_dir = os.path.join(export_dir, name)
    final = _check_existing(name_dir, version, model, overwrite)
    os.makedirs(name_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=name_dir, prefix=f".tmp-{version}-")
    try:
        out = os.path.join(tmp, "model")
        build_archive(model).write_out(out, verbose=False)
        os.makedirs(os.path.join(out, "assets.extra"), exist_ok=True)
        with open(os.path.join(out, METADATA_FILE), "w") as f:
            json.dump(metadata(model), f, indent=2)
        old = None
        if os.path.exists(final):
            old = os.path.join(tmp, "old")
            os.replace(final, old)
        os.replace(out, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


@contextlib.contextmanager
def deterministic(model):
    """pix2pix without test-time dropout while converting to TFLite: its dropout
    draws random numbers (StatelessRandomUniformV2), which is not a TFLite builtin
    op. The SavedModel keeps the model's own setting."""
    on = bool(getattr(model, "hparams", {}).get("test_dropout")) and hasattr(
        model, "set_test_dropout")
    if on:
        model.set_test_dropout(False)
    try:
        yield
    finally:
        if on:
            model.set_test_dropout(True)


class _Static:
    """Image-to-image model seen with a static input shape and one direction."""

    def __init__(self, model, direction):
        self._model, self.export_kind = model, "unconditional"
        self.generator = model.generator if direction == "a2b" else model.generator_b2a
        self.serve = model.serve if direction == "a2b" else model.serve_b2a
        self.serving_input_signature = model.static_serving_signature


def random_inputs(model, specs, rng):
    """Inputs for calibration and parity: N(0, 1) noise, or uniform images."""
    if model.export_kind == "image_to_image":
        return {s.name: rng.uniform(-1, 1, s.shape).astype("float32") for s in specs}
    return {s.name: rng.standard_normal(s.shape).astype(s.dtype.as_numpy_dtype) for s in specs}


def convert_tflite(model, quantization=None, static_batch=1, representative_samples=100,
                   seed=0, direction="a2b"):
    """TFLite flatbuffer bytes of the generator's ``serving_default`` (image-to-image
    models: ``direction``, at the training image size; pix2pix without test-time
    dropout, see ``deterministic``)."""
    with deterministic(model):
        return _convert_tflite(model, quantization, static_batch, representative_samples,
                               seed, direction)


def _convert_tflite(model, quantization, static_batch, representative_samples, seed,
                    direction):
    original = model
    if model.export_kind == "image_to_image":
        model = _Static(model, direction)
    if quantization not in (None, "float32") + QUANTIZATIONS:
        raise ExportError(f"--tflite_quantization={quantization!r} is not one of "
                          f"{', '.join(QUANTIZATIONS)}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "static")
        build_archive(model, batch=static_batch, full=False).write_out(path, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(
            path, signature_keys=["serving_default"])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantization in QUANTIZATIONS:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        elif quantization == "int8":
            specs = model.serving_input_signature(static_batch)
            rng = np.random.default_rng(seed)

            def representative():
                for _ in range(representative_samples):
                    yield random_inputs(original, specs, rng)

            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        try:
            return converter.convert()
        except Exception as e:  # the converter's errors name the op that failed
            raise ExportError(
                f"TFLite conversion ({quantization or 'float32'}) with builtin ops only failed: "
                f"{str(e)[-800:]}. A Select TF op would be needed; not exported.") from e


def tflite_path(export_dir, name, quantization=None):
    suffix = "" if quantization in (None, "float32") else f"_{quantization}"
    return os.path.join(export_dir, f"{name}{suffix}.tflite")


def write_bytes(path, data, overwrite=False):
    if os.path.exists(path) and not overwrite:
        raise ExportError(f"{path} exists; pass --overwrite to replace it")
    atomic_write(path, data)


def run_tflite(model_bytes, inputs):
    """Run ``serving_default`` of a TFLite model with LiteRT; returns its outputs."""
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_content=model_bytes)
    return interpreter.get_signature_runner("serving_default")(**inputs)


def psnr_uint8(a, b):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def parity(model, flatbuffers, num=4, seed=0, static_batch=1, direction="a2b"):
    """See ``_parity``; pix2pix compared without test-time dropout, as converted."""
    with deterministic(model):
        return _parity(model, flatbuffers, num, seed, static_batch, direction)


def _parity(model, flatbuffers, num, seed, static_batch, direction):
    """Compare TFLite outputs with Keras on ``num`` random inputs.

    Returns {"float32_max_abs_diff": ..., "<q>_psnr_db": ...}: float32 against
    the Keras generator (images in [-1, 1]); quantised variants against the
    float32 TFLite model (images_uint8, PSNR in dB).
    """
    rng = np.random.default_rng(seed)
    original = model
    if model.export_kind == "image_to_image":
        model = _Static(model, direction)
    specs = model.serving_input_signature(static_batch)
    report, reference = {}, []
    batches = [random_inputs(original, specs, rng) for _ in range(num)]
    float_out = [run_tflite(flatbuffers["float32"], b) for b in batches]
    keras_out = [model.serve(*[b[s.name] for s in specs]).numpy() for b in batches]
    report["float32_max_abs_diff"] = float(max(np.abs(f["images"] - k).max()
                                               for f, k in zip(float_out, keras_out)))
    reference = np.concatenate([f["images_uint8"] for f in float_out])
    for q, data in flatbuffers.items():
        if q == "float32":
            continue
        out = np.concatenate([run_tflite(data, b)["images_uint8"] for b in batches])
        report[f"{q}_psnr_db"] = psnr_uint8(out, reference)
    return report
