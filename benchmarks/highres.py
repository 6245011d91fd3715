r"""Speed and peak memory of the high-resolution family against the plain loop.

    python benchmarks/highres.py --sizes=32,64 --batch_size=16 --steps=20

For each image size, each model (``progan`` at its last stage, i.e. trained at
full size with ``--noprogressive``; ``stylegan``; ``biggan``; the suite's
``dcgan``) and the baseline of ``benchmarks/throughput.py`` (a tutorial's
two-tape ``tf.function`` loop on DCGAN networks of the same size) run in a
fresh process each: build on random data of that size, 3 untimed steps, then
``--steps`` timed steps. Peak memory is the process's maximum resident set
(``ru_maxrss``, TensorFlow itself included). The configurations run in turn,
``--repeats`` rounds, so machine noise spreads over all of them; the table
gives steps/s (median over rounds) and the ratio to the plain loop of the
same round. Nothing here asserts a time.
"""
import json
import os
import statistics
import subprocess
import sys
import time

from absl import app, flags

flags.DEFINE_list("sizes", ["32", "64"], "Image sizes (4 x 2^n).")
flags.DEFINE_list("models", ["progan", "stylegan", "biggan", "dcgan"], "Models to time.")
flags.DEFINE_integer("batch_size", 16, "Batch size.")
flags.DEFINE_integer("steps", 20, "Timed steps.")
flags.DEFINE_integer("repeats", 2, "Rounds over all configurations.")
flags.DEFINE_string("one", None, "Internal: time one model (or 'plain') and print JSON.")
flags.DEFINE_integer("size", 32, "Internal: the image size of --one.")
FLAGS = flags.FLAGS

SETTINGS = {  # CPU-sized networks, as in the quick flagfiles
    "progan": dict(progressive=False, fmap_base=512, fmap_max=64, latent_dim=128),
    "stylegan": dict(fmap_base=512, fmap_max=64, latent_dim=128, mapping_layers=4,
                     r1_gamma=1.0),
    "biggan": dict(g_filters=8, d_filters=8, attention_resolution=16),
    "dcgan": dict(g_filters=32, d_filters=32),
}


def time_one(name, size, batch, steps):
    import resource

    import numpy as np
    import tensorflow as tf

    import tfgan_suite as tg
    from tfgan_suite.data import synthetic

    classes = 10 if name == "biggan" else 0
    source = synthetic.source("image", (size, size, 1), num=batch * 4, seed=0,
                              num_classes=classes)
    if name == "plain":
        sys.path.insert(0, os.path.dirname(__file__))
        from plain_loop import plain_loop
        twin = tg.build("dcgan", data=source, seed=0, **SETTINGS["dcgan"])
        step = plain_loop(twin.generator, twin.discriminator, twin.latent_dim, batch, 2e-4,
                          0.5, False)
        x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (batch, size, size, 1)),
                        tf.float32)
        for _ in range(3):
            step(x)[0].numpy()
        t = time.perf_counter()
        for _ in range(steps):
            out = step(x)
        out[0].numpy()
        elapsed = time.perf_counter() - t
    else:
        model = tg.build(name, data=source, seed=0, **SETTINGS[name])
        k = model.batches_per_step(model.hparams)
        ds = source.dataset(batch, disc_steps=k, seed=0, fields=model.batch_fields).repeat()
        model.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
        t = time.perf_counter()
        model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
        elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"steps_per_s": steps / elapsed, "peak_mb": peak}


def main(argv):
    del argv
    if FLAGS.one:
        print(json.dumps(time_one(FLAGS.one, FLAGS.size, FLAGS.batch_size, FLAGS.steps)))
        return
    configs = [(int(s), m) for s in FLAGS.sizes for m in ["plain"] + FLAGS.models]
    results = {c: [] for c in configs}
    for _ in range(FLAGS.repeats):
        for size, name in configs:
            out = subprocess.run(
                [sys.executable, __file__, f"--one={name}", f"--size={size}",
                 f"--batch_size={FLAGS.batch_size}", f"--steps={FLAGS.steps}"],
                capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
            if out.returncode != 0:
                raise SystemExit(f"{name} at {size}: {out.stderr[-2000:]}")
            results[(size, name)].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"{name} {size}: {results[(size, name)][-1]}", flush=True)
    print(f"\nbatch {FLAGS.batch_size}, {FLAGS.steps} timed steps, {FLAGS.repeats} rounds; "
          f"steps/s median [min-max], ratio to the plain loop of the same round")
    print("| size | model | steps/s | / plain loop | peak memory (MB) |")
    print("|---|---|---|---|---|")
    for size, name in configs:
        runs = results[(size, name)]
        rates = [r["steps_per_s"] for r in runs]
        ratios = [r["steps_per_s"] / p["steps_per_s"]
                  for r, p in zip(runs, results[(size, "plain")])]
        print(f"| {size} | {name} | {statistics.median(rates):.2f} [{min(rates):.2f}-"
              f"{max(rates):.2f}] | {statistics.median(ratios):.3f} | "
              f"{max(r['peak_mb'] for r in runs):.0f} |")


if __name__ == "__main__":
    app.run(main)
