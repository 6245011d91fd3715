r"""Export a trained generator to a SavedModel (TF Serving) and TFLite (phones).

    python -m tfgan_suite.export --model_dir=runs/dcgan_mnist_quick --export_dir=exports
    python -m tfgan_suite.export --model_dir=D --export_dir=E --name=digits --version=2 \
        --formats=saved_model,tflite --tflite_quantization=float16,dynamic,int8 --overwrite

Writes ``E/<name>/<version>/`` (SavedModel: signatures ``serving_default``,
``generate``, ``metadata``) and ``E/<name>.tflite`` plus ``E/<name>_<q>.tflite``
per quantization, prints the metadata a client needs, and checks TFLite
parity with the Keras model when ``ai-edge-litert`` is installed (extra
``[litert]``). See ``tfgan_suite/exporter.py`` for the details.
"""
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ INFO/WARNING lines

from absl import app, flags  # noqa: E402

from tfgan_suite import cli  # noqa: E402
from tfgan_suite.errors import ConfigError, ExportError  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("export_dir", None, "Where exports go.")
flags.DEFINE_string("name", None, "Model name in the export (default: the model's).")
flags.DEFINE_integer("version", 1, "SavedModel version directory.", lower_bound=1)
flags.DEFINE_list("formats", ["saved_model", "tflite"], "saved_model and/or tflite.")
flags.DEFINE_list("tflite_quantization", [], "Extra TFLite variants: float16, dynamic, int8.")
flags.DEFINE_integer("static_batch", 1, "Batch size baked into the TFLite models.",
                     lower_bound=1)
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
    model = tfgan_suite.load_model(FLAGS.model_dir, FLAGS.checkpoint)
    if model.config["data_kind"] == "vector":
        raise ConfigError(f"export serves image generators; {FLAGS.model_dir} was trained on "
                          f"{model.config['dataset']} (vector data): use tfgan_suite.sample")
    name = FLAGS.name or model.model_name
    written = []
    two_way = exporter.metadata(model).get("directions", ["a2b"]) == ["a2b", "b2a"]
    directions = ["a2b", "b2a"] if two_way else ["a2b"]
    files = {}  # (direction, quantization) -> flatbuffer
    if "tflite" in FLAGS.formats:  # convert first: nothing is written if one fails
        for direction in directions:
            for q in ["float32"] + list(FLAGS.tflite_quantization):
                files[direction, q] = exporter.convert_tflite(model, q, FLAGS.static_batch,
                                                              direction=direction)
        for direction, q in files:
            path = exporter.tflite_path(FLAGS.export_dir, _tflite_name(name, direction), q)
            if os.path.exists(path) and not FLAGS.overwrite:
                raise ExportError(f"{path} exists; pass --overwrite to replace it")
    if "saved_model" in FLAGS.formats:
        written.append(exporter.write_saved_model(model, FLAGS.export_dir, name,
                                                  FLAGS.version, FLAGS.overwrite))
    for (direction, q), data in files.items():
        path = exporter.tflite_path(FLAGS.export_dir, _tflite_name(name, direction), q)
        exporter.write_bytes(path, data, overwrite=FLAGS.overwrite)
        written.append(f"{path} ({len(data) / 1024:.0f} KiB)")
    print("Metadata: " + json.dumps(exporter.metadata(model)))
    print("Wrote:\n  " + "\n  ".join(written))
    for direction in directions if files else []:
        flatbuffers = {q: data for (d, q), data in files.items() if d == direction}
        try:
            report = exporter.parity(model, flatbuffers, static_batch=FLAGS.static_batch,
                                     direction=direction)
            label = f" ({direction})" if two_way else ""
            print(f"TFLite parity{label}: "
                  + ", ".join(f"{k} {v:.4g}" for k, v in report.items()))
        except ImportError:
            print("TFLite parity not checked: pip install 'tfgan-suite[litert]'")
            break


def _tflite_name(name, direction):
    return name if direction == "a2b" else f"{name}_b2a"


main = cli.app_main(export_main)


def run():
    """Console script entry point (``tfgan-export``)."""
    app.run(main)


if __name__ == "__main__":
    run()
