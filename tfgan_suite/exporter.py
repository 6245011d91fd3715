"""Export a trained generator: SavedModel for TF Serving, TFLite for phones.

The model declares what is exported (``model.export_signatures()``, a list of
``models.contract.Signature``); this module only loops over it.

SavedModel (``export_dir/name/version/``, TF Serving's layout), built with
``keras.export.ExportArchive``: every declared signature, each returning
``images`` float32 [-1, 1] and ``images_uint8`` uint8 [0, 255] -- e.g.
``serving_default(z)`` and ``generate(num_samples, seed)`` (noise drawn inside
the graph, stateless) for noise models, ``serving_default(images)`` and
``translate_b2a(images)`` for CycleGAN -- plus ``metadata``: no inputs ->
``json``, what a client needs (inputs, output shape, value range, class names,
signatures). The same JSON is written to ``assets.extra/tfgan_metadata.json``.

TFLite (``export_dir/tflite/name/version/name<suffix>.tflite`` float32 and
``..._<q>.tflite`` for q in float16 / dynamic / int8, one file per signature
that declares a ``tflite`` suffix): converted with ``tf.lite.TFLiteConverter``
from a SavedModel of that signature with a static batch (default 1: GPU
delegates need static shapes), builtin ops only. Conversion needing a Select
TF op fails loudly. int8 is full-integer quantisation calibrated on the
signature's example inputs (float input and output kept for convenience).

Everything is written under a temporary name and renamed into place: a failed
export leaves nothing behind, and an existing version is replaced only with
``overwrite=True``.
"""
import dataclasses
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
#: TFLite files live in ``export_dir/TFLITE_DIR/name/version/`` (beside the
#: SavedModels, outside TF Serving's ``export_dir/name``).
TFLITE_DIR = "tflite"


def metadata(model):
    """What a client needs (``model.export_metadata()``), plus the TFLite files."""
    meta = model.export_metadata()
    meta["tflite"] = {s.name: s.tflite for s in model.export_signatures()
                      if s.tflite is not None}
    return meta


def _outputs(images):
    if isinstance(images, dict):  # a signature with its own outputs (e.g. classify)
        return images
    images = tf.cast(images, tf.float32)
    return {"images": images, "images_uint8": to_uint8(images)}


def _endpoint(fn):
    return lambda *inputs: _outputs(fn(*inputs))


def build_archive(model, signatures, static_batch=None, with_metadata=True):
    """An ExportArchive of the generator networks with ``signatures`` (each
    returning ``images`` and ``images_uint8``), at a static batch for TFLite."""
    archive = keras.export.ExportArchive()
    for name in model.export_networks:
        archive.track(getattr(model, name))
    for sig in signatures:
        specs = sig.inputs if static_batch is None else sig.static_inputs(static_batch)
        archive.add_endpoint(sig.name, _endpoint(sig.fn), input_signature=specs)
    if with_metadata:
        text = json.dumps(metadata(model))
        archive.add_endpoint("metadata", lambda: {"json": tf.constant(text)},
                             input_signature=[])
    return archive


def _describe_inputs(meta):
    return ", ".join(f"{k} {v['dtype']} {v['shape']}" for k, v in
                     sorted((meta.get("inputs") or {}).items()))


def _check_existing(name_dir, version, model, overwrite):
    final = os.path.join(name_dir, str(version))
    if os.path.exists(final) and not overwrite:
        raise ExportError(f"{final} exists; pass --overwrite to replace it or choose "
                          f"another --version")
    mine = json.loads(json.dumps(metadata(model)))  # as stored: lists, not tuples
    for other in sorted(os.listdir(name_dir)) if os.path.isdir(name_dir) else []:
        meta_path = os.path.join(name_dir, other, METADATA_FILE)
        if other == str(version) or not os.path.exists(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        if (meta.get("model"), meta.get("inputs")) != (mine["model"], mine["inputs"]):
            raise ExportError(
                f"{name_dir} holds version {other} of model {meta.get('model')!r} with inputs "
                f"{_describe_inputs(meta)}; this model is {mine['model']!r} with inputs "
                f"{_describe_inputs(mine)}: TF Serving would serve both under one name. "
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
        build_archive(model, model.export_signatures()).write_out(out, verbose=False)
        os.makedirs(os.path.join(out, "assets.extra"), exist_ok=True)
        with open(os.path.join(out, METADATA_FILE), "w") as f:
            json.dump(metadata(model), f, indent=2)
        if os.path.exists(final):
            os.replace(final, os.path.join(tmp, "old"))
        os.replace(out, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def tflite_signatures(model):
    """The signatures converted to TFLite (one file each)."""
    return [s for s in model.export_signatures() if s.tflite is not None]


def _signature(model, name):
    sigs = {s.name: s for s in tflite_signatures(model)}
    if name is None:
        return next(iter(sigs.values()))
    if name not in sigs:
        raise ExportError(f"{model.model_name} has no TFLite signature {name!r}; it has "
                          f"{sorted(sigs)}")
    return sigs[name]


def convert_tflite(model, quantization=None, static_batch=1, representative_samples=100,
                   seed=0, signature=None):
    """TFLite flatbuffer bytes of one serving signature (default the first:
    ``serving_default``), with a static batch, builtin ops only, in the model's
    ``tflite_mode`` (e.g. pix2pix without test-time dropout)."""
    if quantization not in (None, "float32") + QUANTIZATIONS:
        raise ExportError(f"--tflite_quantization={quantization!r} is not one of "
                          f"{', '.join(QUANTIZATIONS)}")
    sig = _signature(model, signature)
    with model.tflite_mode(), tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "static")
        single = dataclasses.replace(sig, name="serving_default")
        build_archive(model, [single], static_batch, with_metadata=False).write_out(
            path, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(
            path, signature_keys=["serving_default"])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantization in QUANTIZATIONS:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        elif quantization == "int8":
            specs = sig.static_inputs(static_batch)
            rng = np.random.default_rng(seed)

            def representative():
                for _ in range(representative_samples):
                    yield sig.draw(rng, specs)

            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        try:
            return converter.convert()
        except Exception as e:  # the converter's errors name the op that failed
            raise ExportError(
                f"TFLite conversion ({quantization or 'float32'}) with builtin ops only failed: "
                f"{str(e)[-800:]}. A Select TF op would be needed; not exported.") from e


def tflite_path(export_dir, name, version=1, suffix="", quantization=None):
    """``export_dir/tflite/name/version/name<suffix>[_<quantization>].tflite``."""
    q = "" if quantization in (None, "float32") else f"_{quantization}"
    return os.path.join(export_dir, TFLITE_DIR, name, str(version), f"{name}{suffix}{q}.tflite")


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


def parity(model, flatbuffers, num=4, seed=0, static_batch=1, signature=None):
    """Compare TFLite outputs with Keras on ``num`` example inputs of the signature.

    Returns {"float32_max_abs_diff": ..., "<q>_psnr_db": ...}: float32 against
    the Keras generator (images in [-1, 1], in the model's ``tflite_mode``);
    quantised variants against the float32 TFLite model (images_uint8, PSNR in dB).
    """
    sig = _signature(model, signature)
    rng = np.random.default_rng(seed)
    specs = sig.static_inputs(static_batch)
    batches = [sig.draw(rng, specs) for _ in range(num)]
    with model.tflite_mode():
        keras_out = [np.asarray(sig.fn(*[b[s.name] for s in specs])) for b in batches]
    float_out = [run_tflite(flatbuffers["float32"], b) for b in batches]
    report = {"float32_max_abs_diff": float(max(np.abs(f["images"] - k).max()
                                                for f, k in zip(float_out, keras_out)))}
    reference = np.concatenate([f["images_uint8"] for f in float_out])
    for q, data in flatbuffers.items():
        if q == "float32":
            continue
        out = np.concatenate([run_tflite(data, b)["images_uint8"] for b in batches])
        report[f"{q}_psnr_db"] = psnr_uint8(out, reference)
    return report
