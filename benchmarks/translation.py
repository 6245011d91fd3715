r"""Image-to-image training speed and peak memory: the suite against a plain loop.

    python benchmarks/translation.py --models=pix2pix,cyclegan --sizes=128,256 --steps=10

For each model and image size (batch 1, the papers' full-width networks), two
paths train the same networks on the same in-memory batch:

* ``suite``: ``model.fit`` (the suite's ``train_step``: frozen-network calls,
  image pools, metrics);
* ``plain``: the loop a tutorial would write, here: one ``tf.function`` with
  the generator and discriminator tapes and the same losses, no pools, no
  metrics.

Every (model, size, path) runs in its own process, so the peak resident memory
(``ru_maxrss``) is that path's alone; the paths alternate over ``--repeats``
rounds so machine noise hits both alike. Steps/s is 1 / the median time of one
step (each step waited for): some ``fit`` calls of CycleGAN pay a one-off stall
of about 5 s that the median leaves out (a total-time measurement of 5 steps
showed it as a 0.55 ratio). Prints steps/s (median over repeats), the ratio
suite / plain and peak RSS. Nothing here asserts a time.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from absl import app, flags

flags.DEFINE_list("models", ["pix2pix", "cyclegan"], "Models.")
flags.DEFINE_list("sizes", ["128", "256"], "Image sizes.")
flags.DEFINE_integer("steps", 10, "Timed steps per measurement.")
flags.DEFINE_integer("repeats", 2, "Alternating rounds per path.")
flags.DEFINE_bool("mixed_precision", False, "Suite path in mixed bfloat16 (the plain loop "
                  "stays float32).")
flags.DEFINE_string("worker", None, "Internal: model,size,path to run in this process.")
FLAGS = flags.FLAGS


def plain_step(model):
    """A baseline tf.function step for ``model`` written without the suite."""
    import keras
    import tensorflow as tf
    mse = lambda x, t: tf.reduce_mean(tf.square(x - t))  # noqa: E731
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    if model.model_name == "pix2pix":
        G, D = model.generator, model.discriminator
        bce = keras.losses.BinaryCrossentropy(from_logits=True)

        @tf.function
        def step(a, b):
            with tf.GradientTape() as gt, tf.GradientTape() as dt:
                fake = G(a, training=True)
                real_out = D([a, b], training=True)
                fake_out = D([a, fake], training=True)
                d_loss = 0.5 * (bce(tf.ones_like(real_out), real_out)
                                + bce(tf.zeros_like(fake_out), fake_out))
                g_loss = bce(tf.ones_like(fake_out), fake_out) + 100 * tf.reduce_mean(
                    tf.abs(b - fake))
            g_opt.apply_gradients(zip(gt.gradient(g_loss, G.trainable_variables),
                                      G.trainable_variables))
            d_opt.apply_gradients(zip(dt.gradient(d_loss, D.trainable_variables),
                                      D.trainable_variables))
        return step
    G, F = model.generator, model.generator_b2a
    DY, DX = model.discriminator, model.discriminator_a

    @tf.function
    def step(a, b):
        g_vars = G.trainable_variables + F.trainable_variables
        d_vars = DY.trainable_variables + DX.trainable_variables
        with tf.GradientTape() as gt:
            fb, fa = G(a, training=True), F(b, training=True)
            g_loss = (mse(DY(fb), 1.0) + mse(DX(fa), 1.0)
                      + 10 * (tf.reduce_mean(tf.abs(F(fb) - a)) + tf.reduce_mean(
                          tf.abs(G(fa) - b)))
                      + 5 * (tf.reduce_mean(tf.abs(G(b) - b)) + tf.reduce_mean(
                          tf.abs(F(a) - a))))
        g_opt.apply_gradients(zip(gt.gradient(g_loss, g_vars), g_vars))
        with tf.GradientTape() as dt:
            d_loss = 0.5 * (mse(DY(b), 1.0) + mse(DY(fb), 0.0)
                            + mse(DX(a), 1.0) + mse(DX(fa), 0.0))
        d_opt.apply_gradients(zip(dt.gradient(d_loss, d_vars), d_vars))
    return step


def worker(spec):
    import numpy as np
    import tensorflow as tf

    import tfgan_suite as tg
    import keras
    name, size, path = spec.split(",")
    size = int(size)
    if path == "suite" and FLAGS.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = tg.build(name, (size, size, 3), seed=0)
    rng = np.random.default_rng(0)
    a = tf.constant(rng.uniform(-1, 1, (1, size, size, 3)).astype("float32"))
    b = tf.constant(rng.uniform(-1, 1, (1, size, size, 3)).astype("float32"))
    times = []
    if path == "suite":
        class Clock(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                float(logs["g_loss"])  # wait for the step
                times.append(time.perf_counter())
        ds = tf.data.Dataset.from_tensors((a, b)).repeat()
        model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)  # compile
        times.append(time.perf_counter())
        model.fit(ds, steps_per_epoch=FLAGS.steps, epochs=1, verbose=0, callbacks=[Clock()])
    else:
        step = plain_step(model)
        step(a, b), step(a, b)
        times.append(time.perf_counter())
        for _ in range(FLAGS.steps):
            step(a, b)
            float(model.generator.trainable_variables[0][0, 0, 0, 0])  # wait for the step
            times.append(time.perf_counter())
    per_step = sorted(t1 - t0 for t0, t1 in zip(times, times[1:]))
    elapsed = per_step[len(per_step) // 2] * FLAGS.steps  # median step, see the docstring
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"steps_per_s": FLAGS.steps / elapsed, "peak_mb": peak_mb}))


def main(argv):
    del argv
    if FLAGS.worker:
        worker(FLAGS.worker)
        return
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    print(f"{'model':<9} {'size':>4} {'suite steps/s':>14} {'plain steps/s':>14} "
          f"{'ratio':>6} {'suite MB':>9} {'plain MB':>9}")
    for name in FLAGS.models:
        for size in FLAGS.sizes:
            runs = {"suite": [], "plain": []}
            for _ in range(FLAGS.repeats):
                for path in ("suite", "plain"):
                    out = subprocess.run(
                        [sys.executable, __file__, f"--worker={name},{size},{path}",
                         f"--steps={FLAGS.steps}",
                         f"--{'' if FLAGS.mixed_precision else 'no'}mixed_precision"], capture_output=True, text=True, env=env,
                        check=True).stdout.strip().splitlines()[-1]
                    runs[path].append(json.loads(out))
            s = statistics.median(r["steps_per_s"] for r in runs["suite"])
            p = statistics.median(r["steps_per_s"] for r in runs["plain"])
            sm = max(r["peak_mb"] for r in runs["suite"])
            pm = max(r["peak_mb"] for r in runs["plain"])
            print(f"{name:<9} {size:>4} {s:>14.3f} {p:>14.3f} {s / p:>6.2f} {sm:>9.0f} "
                  f"{pm:>9.0f}", flush=True)


if __name__ == "__main__":
    app.run(main)
