r"""Training throughput: the suite's ``fit`` path against a plain two-tape loop.

    python benchmarks/throughput.py --model=dcgan --batch_size=64 --steps=40 --repeats=5

Both paths train the same networks (built once by ``tfgan_suite.build`` and
copied), with the same optimizer settings, batch and ``tf.data`` pipeline. The
baseline, written here, is the loop a tutorial would write: one
``tf.function`` with a discriminator tape and a generator tape. The two paths
alternate (a callback runs the baseline between the suite's epochs, inside a
single ``fit`` call as in real training), so machine noise hits both alike; the
first epoch (compilation) is not timed. The script
prints images/s (median and spread over repeats) and the ratio
suite / baseline, with and without XLA. Nothing here asserts a time.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from plain_loop import (BeganObjective, acgan_loop, biggan_loop, cgan_loop, clipper,
                        dragan_objective, ebgan_objective, fgan_objective, gan_objective,
                        hinge_objective,
                        infogan_loop, plain_loop, sgan_loop, simgan_loop, stylegan_loop,
                        tutorial_loop, wasserstein_objective, wgan_gp_loop)

from absl import app, flags

flags.DEFINE_string("model", "dcgan", "Model to benchmark (gan, dcgan, lsgan, wgan, wgan_gp, dragan, "
                    "fgan, ebgan, began, hinge, sngan, cgan, "
                    "acgan, infogan, sgan, simgan, progan, stylegan or biggan; the loss family "
                    "against the two-tape loop with its losses (wgan: 5 critic steps, "
                    "RMSProp and clipping; dragan: the penalty from an inner tape; ebgan "
                    "and began: the autoencoder energies, the pulling-away term, k_t); "
                    "wgan_gp against a plain loop with "
                    "its 5 critic steps and gradient penalty, cgan and acgan against "
                    "conditional loops with labels, infogan against a loop with its codes "
                    "and Q's information loss, sgan (100 labels) against a loop with the "
                    "labelled batch and feature matching, simgan (bundled:glyphs2mnist, "
                    "after pre-training) against a loop with its history buffer, progan "
                    "at its last stage "
                    "(--noprogressive) against the WGAN-GP loop with the fade input, the "
                    "drift term and G's moving average, stylegan (fixed resolution) against "
                    "a loop with style mixing, R1 and G's moving average, biggan against a "
                    "hinge loop with 2 D steps, orthogonal regularisation and G's moving "
                    "average).")
flags.DEFINE_string("dataset", "bundled:mnist", "Dataset spec.")
flags.DEFINE_integer("image_size", None, "Image size (default: the dataset's own; progan, "
                     "stylegan, biggan: 32).")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("filters", 64, "g_filters = d_filters (dcgan).")
flags.DEFINE_integer("steps", 40, "Timed steps per measurement.")
flags.DEFINE_integer("warmup", 5, "Untimed baseline steps after compilation.")
flags.DEFINE_integer("repeats", 5, "Measurements per path and XLA setting.")
flags.DEFINE_list("xla", ["false", "true"], "XLA settings to measure.")
flags.DEFINE_list("mixed_precision", ["false"], "Suite precision settings to measure "
                  "(true: mixed bfloat16 on CPU; the baseline loop stays float32, as the "
                  "tutorials write it).")
flags.DEFINE_list("update", ["alternating"], "Suite update schemes to measure: alternating "
                  "(against the two-pass loop) and/or simultaneous (against the TF DCGAN "
                  "tutorial's one-pass loop).")
flags.DEFINE_bool("memory", False, "Instead of the paired speed run: the peak resident "
                  "memory of each path alone (the suite's fit in each --mixed_precision "
                  "setting, the plain float32 loop), each in its own process, --steps steps "
                  "after --warmup.")
flags.DEFINE_string("worker", None, "Internal (--memory): suite or plain, the path to run in "
                    "this process.")
FLAGS = flags.FLAGS
#: DCGAN's networks and step with another loss: the two-tape loop with that loss.
LOSS_FAMILY = ("gan", "dcgan", "lsgan", "wgan", "dragan", "fgan", "ebgan", "began", "hinge",
               "sngan")


def loss_family_loop(model, twin, hps, xla):
    """The plain loop for a model of the loss family, with the suite's hparams."""
    lr, d_lr = hps["g_learning_rate"], hps.get("d_learning_rate")
    kwargs = dict(objective=gan_objective(least_squares=model == "lsgan"),
                  d_lr=d_lr, disc_steps=hps.get("disc_steps", 1))
    if model == "wgan":
        kwargs.update(objective=wasserstein_objective(), optimizer="rmsprop",
                      after_d=clipper(twin.discriminator, hps["clip_value"]))
    elif model == "dragan":
        kwargs.update(objective=dragan_objective(twin.discriminator, hps["gp_weight"],
                                                 hps["dragan_scale"]))
    elif model in ("hinge", "sngan"):
        kwargs.update(objective=hinge_objective())
    elif model == "fgan":
        kwargs.update(objective=fgan_objective(hps["divergence"]))
    elif model == "ebgan":
        kwargs.update(objective=ebgan_objective(hps["ebgan_margin"], hps["pt_weight"]))
    elif model == "began":
        began = BeganObjective(hps["began_gamma"], hps["lambda_k"])
        kwargs.update(objective=began.losses(), after_d=began.after_d)
    return plain_loop(twin.generator, twin.discriminator, twin.latent_dim,
                      FLAGS.batch_size, lr, hps["beta1"], xla, **kwargs)


def plain_step(twin, source, update, xla):
    """The baseline step for ``FLAGS.model``, on ``twin``'s networks and hparams."""
    import tensorflow as tf
    hps = twin.hparams
    if FLAGS.model in ("wgan_gp", "progan"):
        progan = (dict(drift=hps["drift"], alpha=tf.constant(1.0),
                       ema=(twin.generator_ema, hps["g_ema"]))
                  if FLAGS.model == "progan" else {})
        return wgan_gp_loop(twin.generator, twin.discriminator, twin.latent_dim,
                            FLAGS.batch_size, hps["g_learning_rate"], hps["beta1"],
                            hps["beta2"], hps["disc_steps"], hps["gp_weight"], xla,
                            **progan)
    if FLAGS.model in ("cgan", "acgan"):
        loop = cgan_loop if FLAGS.model == "cgan" else acgan_loop
        return loop(twin.generator, twin.discriminator, twin.latent_dim,
                    source.num_classes, FLAGS.batch_size, hps["g_learning_rate"],
                    hps["beta1"], xla)
    if FLAGS.model == "infogan":
        return infogan_loop(twin.generator, twin.discriminator, twin.latent_dim,
                            hps["num_categories"], hps["num_continuous"],
                            FLAGS.batch_size, hps["g_learning_rate"],
                            hps["d_learning_rate"], hps["beta1"], hps["info_weight"],
                            hps["info_weight_continuous"], xla)
    if FLAGS.model == "sgan":
        return sgan_loop(twin.generator, twin.discriminator, twin.latent_dim,
                         FLAGS.batch_size, hps["g_learning_rate"], hps["beta1"], xla)
    if FLAGS.model == "simgan":
        return simgan_loop(twin.generator, twin.discriminator, FLAGS.batch_size,
                           hps["g_learning_rate"], hps["d_learning_rate"], hps["beta1"],
                           hps["self_reg_weight"], hps["refiner_steps"],
                           hps["disc_steps"], hps["pool_size"], xla)
    if FLAGS.model == "stylegan":
        return stylegan_loop(twin.generator, twin.discriminator, twin.latent_dim,
                             FLAGS.batch_size, hps["g_learning_rate"], hps["beta1"],
                             hps["beta2"], hps["r1_gamma"], hps["style_mixing"],
                             (twin.generator_ema, hps["g_ema"]), xla)
    if FLAGS.model == "biggan":
        return biggan_loop(twin.generator, twin.discriminator, twin.latent_dim,
                           source.num_classes, FLAGS.batch_size, hps["g_learning_rate"],
                           hps["d_learning_rate"], hps["beta1"], hps["beta2"],
                           hps["disc_steps"], twin.orthogonal_kernels(),
                           hps["orthogonal_reg"], (twin.generator_ema, hps["g_ema"]), xla)
    if update == "simultaneous":
        return tutorial_loop(twin.generator, twin.discriminator, twin.latent_dim,
                             FLAGS.batch_size, hps["g_learning_rate"], hps["beta1"], xla)
    return loss_family_loop(FLAGS.model, twin, hps, xla)


def build(source, hp, mixed, update, xla=False):
    """The suite's model for FLAGS.model, in mixed bfloat16 or float32."""
    import tfgan_suite as tg
    from tfgan_suite import distribute
    with distribute.built_in("mixed_bfloat16" if mixed else "float32"):
        return tg.build(FLAGS.model, data=source, seed=0, jit_compile=xla,
                        **({} if FLAGS.model == "simgan" else dict(update=update)), **hp)


def training_stream(model, source):
    """The tf.data stream ``model`` trains on (its k batches per step, its fields)."""
    return source.dataset(FLAGS.batch_size, disc_steps=type(model).batches_per_step(
        model.hparams), seed=0, fields=model.batch_fields)


def memory_worker(source, hp):
    """One path alone in this process; prints its peak RSS as JSON (and the time of
    its --steps steps, which includes fit's own set-up: not a speed measurement)."""
    import tensorflow as tf

    path, mixed = FLAGS.worker.split(",")
    update = FLAGS.update[0]
    model = build(source, hp, mixed == "true", update)
    ds = training_stream(model, source)
    if path == "suite":
        model.fit(ds, steps_per_epoch=FLAGS.warmup, epochs=1, verbose=0, shuffle=False)
        start = time.perf_counter()
        model.fit(ds, steps_per_epoch=FLAGS.steps, epochs=1, verbose=0, shuffle=False)
    else:
        step, it = plain_step(model, source, update, False), iter(ds)
        for _ in range(FLAGS.warmup):
            step(next(it))
        start = time.perf_counter()
        for _ in range(FLAGS.steps):
            out = step(next(it))
        tf.nest.map_structure(lambda t: t.numpy(), out)
    print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "seconds": time.perf_counter() - start}))


def memory_table():
    """Each path in a fresh process, alternating over --repeats rounds."""
    args = [a for a in sys.argv[1:] if not a.startswith(("--memory", "--worker"))]
    paths = [("suite", m.lower()) for m in FLAGS.mixed_precision] + [("plain", "false")]
    runs = {p: [] for p in paths}
    for _ in range(FLAGS.repeats):
        for path in paths:
            proc = subprocess.run(
                [sys.executable, os.path.abspath(__file__), *args, "--nomemory",
                 f"--worker={','.join(path)}"], capture_output=True, text=True,
                cwd=os.path.dirname(os.path.abspath(__file__)))
            if proc.returncode:
                raise SystemExit(f"{path} failed:\n{proc.stderr[-3000:]}")
            runs[path].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"\n{FLAGS.model}, batch {FLAGS.batch_size}: each path alone in its own process, "
          f"{FLAGS.steps} steps after {FLAGS.warmup}; peak resident memory (TensorFlow "
          f"included), max over {FLAGS.repeats} round(s)")
    print("| path | precision | peak MB |")  # speed: the paired run, not this one
    print("|---|---|---|")
    for (path, mixed), rs in runs.items():
        print(f"| {'suite fit' if path == 'suite' else 'plain loop'} | "
              f"{'mixed bfloat16' if mixed == 'true' else 'float32'} | "
              f"{max(r['peak_mb'] for r in rs):.0f} |")


def main(argv):
    del argv
    import keras

    import tfgan_suite as tg
    from tfgan_suite import data

    size = FLAGS.image_size or (32 if FLAGS.model in ("progan", "stylegan", "biggan")
                                else None)
    dataset = ("bundled:glyphs2mnist" if FLAGS.model == "simgan"
               and FLAGS.dataset == "bundled:mnist" else FLAGS.dataset)
    source = data.load(dataset, image_size=size)
    if FLAGS.model == "sgan":
        source = source.with_labeled_subset(100, 0)
    hp = (dict(g_filters=FLAGS.filters, d_filters=FLAGS.filters)
          if FLAGS.model in LOSS_FAMILY[1:] + ("wgan_gp", "cgan", "acgan", "infogan", "sgan")
          else {})
    if FLAGS.model == "progan":
        hp = dict(progressive=False)
    if FLAGS.memory and not FLAGS.worker:
        return memory_table()
    if FLAGS.worker:
        return memory_worker(source, hp)
    images = FLAGS.steps * FLAGS.batch_size
    rows = []
    settings = [(x.lower() == "true", u, m.lower() == "true") for u in FLAGS.update
                for x in FLAGS.xla for m in FLAGS.mixed_precision]
    for xla, update, mixed in settings:
        suite = build(source, hp, mixed, update, xla)
        twin = tg.build(FLAGS.model, data=source, seed=0, **hp)  # networks for the baseline
        twin.generator.set_weights(suite.generator.get_weights())
        twin.discriminator.set_weights(suite.discriminator.get_weights())
        if getattr(twin, "generator_ema", None) is not None:
            twin.generator_ema.set_weights(suite.generator_ema.get_weights())
        ds = training_stream(suite, source)
        step = plain_step(twin, source, update, xla)
        it = iter(ds)

        def run_plain(n):
            for _ in range(n):
                out = step(next(it))
            out[0].numpy()  # wait for the last step

        times = {"suite": [], "plain": []}
        run_plain(FLAGS.warmup)

        class Alternate(keras.callbacks.Callback):
            """Times each suite epoch, and a baseline run between epochs."""

            def on_epoch_begin(self, epoch, logs=None):
                self.t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                if epoch == 0:  # compilation and warm-up
                    return
                times["suite"].append(images / (time.perf_counter() - self.t))
                t = time.perf_counter()
                run_plain(FLAGS.steps)
                times["plain"].append(images / (time.perf_counter() - t))

        # One fit call, as in training: one iterator, one shuffle buffer.
        suite.fit(ds, steps_per_epoch=FLAGS.steps, epochs=FLAGS.repeats + 1, verbose=0,
                  shuffle=False, callbacks=[Alternate()])
        ratios = [s / p for s, p in zip(times["suite"], times["plain"])]
        rows.append((xla, update, mixed, times, ratios))

    print(f"\n{FLAGS.model} on {dataset} {source.shape}, batch {FLAGS.batch_size}, "
          f"{FLAGS.steps} steps x {FLAGS.repeats} repeats (images/s: median [min-max])")
    print("| update | XLA | suite precision | suite fit | plain loop (float32) | "
          "suite / plain (median of paired ratios) |")
    print("|---|---|---|---|---|---|")
    for xla, update, mixed, times, ratios in rows:
        cell = {k: f"{statistics.median(v):.0f} [{min(v):.0f}-{max(v):.0f}]"
                for k, v in times.items()}
        print(f"| {update} | {'on' if xla else 'off'} | "
              f"{'mixed bfloat16' if mixed else 'float32'} | {cell['suite']} | {cell['plain']} | "
              f"{statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}] |")


if __name__ == "__main__":
    app.run(main)
