r"""Export sizes, single-image latency and parity for each format.

    python benchmarks/export.py --model_dir=runs/dcgan_mnist_quick --calls=200

Exports the run to a temporary directory (SavedModel + TFLite float32,
float16, dynamic-range and int8), then reports each file's size, the median
latency of single-image calls (SavedModel's ``serving_default`` through
``tf.saved_model.load``; TFLite through LiteRT's signature runner), and the
parity figures of ``tfgan_suite.exporter.parity``. Latencies are medians of
``--calls`` calls after 10 warm-up calls, measured in one run.
"""
import os
import statistics
import tempfile
import time

import numpy as np
from absl import app, flags

flags.DEFINE_string("model_dir", "runs/dcgan_mnist_quick", "Trained run.")
flags.DEFINE_integer("calls", 200, "Timed calls per format.")
FLAGS = flags.FLAGS


def latency(fn, calls):
    for _ in range(10):
        fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, min(times) * 1e3, max(times) * 1e3


def dir_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main(argv):
    del argv
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    import tfgan_suite
    from tfgan_suite import exporter
    model = tfgan_suite.load_model(FLAGS.model_dir)
    z = np.random.default_rng(0).standard_normal((1, model.latent_dim)).astype(np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = exporter.write_saved_model(model, tmp, "m")
        serving = tf.saved_model.load(path).signatures["serving_default"]
        zt = tf.constant(z)
        rows.append(("SavedModel", dir_size(path), latency(lambda: serving(z=zt), FLAGS.calls)))
        flatbuffers = {q: exporter.convert_tflite(model, q)
                       for q in ("float32",) + exporter.QUANTIZATIONS}
        for q, data in flatbuffers.items():
            runner = Interpreter(model_content=data).get_signature_runner("serving_default")
            rows.append((f"TFLite {q}", len(data), latency(lambda: runner(z=z), FLAGS.calls)))
    report = exporter.parity(model, flatbuffers, num=16)
    print(f"\n{FLAGS.model_dir} ({model.model_name}, step {model.step}), batch 1, "
          f"{FLAGS.calls} calls")
    print("| format | size | latency ms, median [min-max] | parity |")
    print("|---|---|---|---|")
    parity = {"TFLite float32": f"max abs diff {report['float32_max_abs_diff']:.2g} vs Keras"}
    parity.update({f"TFLite {q}": f"PSNR {report[q + '_psnr_db']:.1f} dB vs float32"
                   for q in exporter.QUANTIZATIONS})
    for name, size, (med, lo, hi) in rows:
        print(f"| {name} | {size / 1024:.0f} KiB | {med:.2f} [{lo:.2f}-{hi:.2f}] | "
              f"{parity.get(name, '')} |")


if __name__ == "__main__":
    app.run(main)
