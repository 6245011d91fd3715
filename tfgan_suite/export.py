r"""Export a trained generator to a SavedModel (TF Serving) and TFLite (phones).

    python -m tfgan_suite.export --model_dir=runs/dcgan_mnist_quick --export_dir=exports
    python -m tfgan_suite.export --model_dir=D --export_dir=E --name=digits --version=2 \
        --formats=saved_model,tflite --tflite_quantization=float16,dynamic,int8 --overwrite

Writes ``E/<name>/<version>/`` (SavedModel: the model's signatures, e.g.
``serving_default``, ``generate``, ``metadata``) and
``E/tflite/<name>/<version>/<name>.tflite`` plus ``<name>_<q>.tflite`` per
quantization (and ``<name>_b2a*.tflite`` for CycleGAN's second direction),
prints the metadata a client needs, and checks TFLite parity with the Keras
model when ``ai-edge-litert`` is installed (extra ``[litert]``). See
``tfgan_suite/exporter.py`` for the details.
"""
import json
import os

from tfgan_suite import console  # noqa: E402

console.quiet_start()  # before TensorFlow is imported: no start-up noise

from absl import app, flags  # noqa: E402

from tfgan_suite import cli  # noqa: E402
from tfgan_suite.errors import ConfigError, ExportError  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("export_dir", None, "Where exports go.")
flags.DEFINE_string("name", None, "Model name in the export (default: the model's).")
flags.DEFINE_integer("version", 1, "Version directory of the SavedModel and the TFLite "
                     "files.", lower_bound=1)
flags.DEFINE_list("formats", ["saved_model", "tflite"], "saved_model and/or tflite.")
flags.DEFINE_list("tflite_quantization", [], "Extra TFLite variants: float16, dynamic, int8.")
flags.DEFINE_integer("static_batch", 1, "Batch size baked into the TFLite models.",
                     lower_bound=1)
flags.DEFINE_integer("stage", None, "Growing models (progan): export the generator of "
                     "growth stage N (0 = 4x4) at its own resolution; default: the stage "
                     "the checkpoint reached, at the full image size.", lower_bound=0)
flags.DEFINE_boolean("overwrite", False, "Replace an existing version / TFLite file.")

FORMATS = ("saved_model", "tflite")


def export_main():
    import tfgan_suite
    from tfgan_suite import exporter
    if not FLAGS.model_dir or not FLAGS.export_dir:
        raise ConfigError("--model_dir and --export_dir are required")
    bad = sorted(set(FLAGS.formats) - set(FORMATS))
    if bad:
        raise ConfigError(f"--formats: unknown {bad}; valid: {', '.join(FORMATS)}")
    bad = sorted(set(FLAGS.tflite_quantization) - set(exporter.QUANTIZATIONS))
    if bad:
        raise ConfigError(f"--tflite_quantization: unknown {bad}; valid: "
                          f"{', '.join(exporter.QUANTIZATIONS)}")
    if FLAGS.name == exporter.TFLITE_DIR:
        raise ConfigError(f"--name={FLAGS.name} is reserved for the TFLite folder")
    model = tfgan_suite.load_model(FLAGS.model_dir, FLAGS.checkpoint)
    if FLAGS.stage is not None:
        model.select_stage(FLAGS.stage)
    name = FLAGS.name or model.model_name
    signatures = exporter.tflite_signatures(model)  # refuses what cannot be exported
    files = {}  # (signature, quantization) -> (path, flatbuffer)
    if "tflite" in FLAGS.formats:  # convert first: nothing is written if one fails
        for sig in signatures:
            for q in ["float32"] + list(FLAGS.tflite_quantization):
                path = exporter.tflite_path(FLAGS.export_dir, name, FLAGS.version,
                                            sig.tflite, q)
                if os.path.exists(path) and not FLAGS.overwrite:
                    raise ExportError(f"{path} exists; pass --overwrite to replace it or "
                                      f"choose another --version")
                files[sig.name, q] = path, exporter.convert_tflite(
                    model, q, FLAGS.static_batch, signature=sig.name)
    written = []
    if "saved_model" in FLAGS.formats:
        written.append(exporter.write_saved_model(model, FLAGS.export_dir, name,
                                                  FLAGS.version, FLAGS.overwrite))
    for path, data in files.values():
        exporter.write_bytes(path, data, overwrite=FLAGS.overwrite)
        written.append(f"{path} ({len(data) / 1024:.0f} KiB)")
    print("Metadata: " + json.dumps(exporter.metadata(model)))
    print("Wrote:\n  " + "\n  ".join(written))
    for sig in signatures if files else []:
        flatbuffers = {q: data for (s, q), (_, data) in files.items() if s == sig.name}
        try:
            report = exporter.parity(model, flatbuffers, static_batch=FLAGS.static_batch,
                                     signature=sig.name)
        except ImportError:
            print("TFLite parity not checked: pip install 'tfgan-suite[litert]'")
            break
        label = f" ({sig.tflite.lstrip('_')})" if sig.tflite else ""
        print(f"TFLite parity{label}: " + ", ".join(f"{k} {v:.4g}" for k, v in report.items()))


main = cli.app_main(export_main)


def run():
    """Console script entry point (``tfgan-export``)."""
    app.run(main)


if __name__ == "__main__":
    run()
