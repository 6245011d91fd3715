r"""Super-resolution: the paper's table and figure, training speed, inference speed.

    # quality: bicubic and each run on the held-out photos (or --dataset=folder:Set5)
    python benchmarks/superres.py --runs=runs/srresnet_photos_quick,runs/srgan_photos_quick \
        --figure=docs/superres_comparison.png
    # speed: training steps/s of the suite's fit vs a plain tf.function loop (same
    # SRResNet, 96x96 crops, batch 16), and inference megapixels/s of the SavedModel
    # and of TFLite float32 / int8
    python benchmarks/superres.py --speed --steps=10 --repeats=3

Quality is measured as the paper measures it: PSNR and SSIM on the luma Y
(BT.601) with ``scale`` border pixels cropped, on the full held-out images.
The figure shows the same crop of one held-out image upscaled by each method:
bicubic | run 1 | run 2 ... | original. Speed measurements alternate the two
paths (suite, baseline, suite, ...) so machine noise hits both alike; the
printed ratio is suite / baseline. Nothing here asserts a time.
"""
import os
import statistics
import time

import numpy as np
from absl import app, flags

flags.DEFINE_list("runs", [], "SR run directories (model_dir) to compare with bicubic.")
flags.DEFINE_string("dataset", None, "HR images to measure on (default: each run's "
                    "held-out split).")
flags.DEFINE_string("figure", None, "Write the comparison figure here (PNG).")
flags.DEFINE_integer("figure_image", 1, "Held-out image of the figure (index).")
flags.DEFINE_integer("crop", 96, "Side of the figure's crop in HR pixels.")
flags.DEFINE_boolean("speed", False, "Measure training and inference speed instead.")
flags.DEFINE_integer("steps", 10, "Timed training steps per measurement.")
flags.DEFINE_integer("repeats", 3, "Measurements per path.")
flags.DEFINE_integer("num_blocks", 16, "Speed: generator blocks (16: the paper's).")
flags.DEFINE_integer("batch_size", 16, "Speed: batch of 96x96 crops.")
flags.DEFINE_enum("model", "srresnet", ["srresnet", "srgan"], "Speed: the model trained "
                  "(srgan: the paper's discriminator and VGG54 content loss, random VGG "
                  "weights -- the same computation as ImageNet's -- against a plain loop "
                  "with the same networks).")
flags.DEFINE_boolean("mixed_precision", False, "Speed: the suite trains in mixed bfloat16 "
                     "(the baseline loop stays float32, as a tutorial writes it).")
FLAGS = flags.FLAGS


def quality():
    import tfgan_suite as tg
    from tfgan_suite import data
    from tfgan_suite.data import superres
    from tfgan_suite.metrics import evaluation
    from tfgan_suite.visualize import save_png
    rows, figure = [], []
    source = None
    for run in FLAGS.runs:
        model = tg.load_model(run)
        options = data.DataOptions.from_config(model.config, dataset=FLAGS.dataset)
        source, split = data.RunData(options).split(
            "train" if FLAGS.dataset else model.evaluation_split)
        t = time.time()
        result = evaluation.evaluate(model, source, None, metrics=(), num_samples=10 ** 6,
                                     split=split)
        if not rows:
            rows.append(("bicubic", result["bicubic_psnr"]["value"],
                         result["bicubic_ssim"]["value"]))
        rows.append((f"{model.model_name} ({os.path.basename(run.rstrip('/'))}, step "
                     f"{model.step})", result["psnr"]["value"], result["ssim"]["value"]))
        print(f"measured {run} in {time.time() - t:.0f} s", flush=True)
        if FLAGS.figure:
            lr, hr = list(superres.full_pairs(source))[FLAGS.figure_image]
            sr = model.apply_to_image(lr.numpy()[0])
            if not figure:
                figure += [superres.bicubic_upscale(lr, model.scale).numpy()[0]]
            figure.append(sr)
    if not rows:
        raise SystemExit("give --runs=DIR[,DIR...]")
    print(f"\n{source.spec} ({source.num_examples} images), x{model.scale}, Y channel, "
          f"border {model.scale}")
    print(f"{'method':<48} {'PSNR (dB)':>10} {'SSIM':>8}")
    for name, p, s in rows:
        print(f"{name:<48} {p:>10.2f} {s:>8.4f}")
    if FLAGS.figure:
        figure.append(hr.numpy()[0])
        h, w = figure[0].shape[:2]
        c = FLAGS.crop
        y, x = max(0, h // 2 - c // 2), max(0, w // 2 - c // 2)
        tiles = [np.clip(f[y:y + c, x:x + c], -1, 1) for f in figure]
        gap = np.ones((c, 4, tiles[0].shape[-1]), np.float32)
        strip = np.concatenate(sum(([t, gap] for t in tiles), [])[:-1], axis=1)
        os.makedirs(os.path.dirname(os.path.abspath(FLAGS.figure)), exist_ok=True)
        save_png(FLAGS.figure, ((strip + 1) * 127.5).round().astype(np.uint8))
        print(f"wrote {FLAGS.figure}: bicubic | {' | '.join(FLAGS.runs)} | original")


def srresnet_plain_step(generator):
    """SRResNet-MSE: one tape, Keras' Adam(1e-4, 0.9)."""
    import keras
    import tensorflow as tf
    optimizer = keras.optimizers.Adam(1e-4, beta_1=0.9)
    optimizer.build(generator.trainable_variables)

    @tf.function
    def plain_step(lr, hr):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(generator(lr, training=True) - hr))
        grads = tape.gradient(loss, generator.trainable_variables)
        optimizer.apply_gradients(zip(grads, generator.trainable_variables))
        return loss
    return plain_step


def srgan_plain_step(model, twin):
    """SRGAN (Ledig et al. 2017): G(lr) once; D's update on HR against the
    detached SR; G's update on the VGG54 content loss + 1e-3 x the
    non-saturating adversarial loss; Keras' Adam(1e-4, 0.9) for both. ``twin``'s
    networks, a copy of ``model``'s, with its own frozen VGG."""
    import keras
    import tensorflow as tf

    from tfgan_suite import losses
    twin.discriminator.set_weights(model.discriminator.get_weights())
    generator, discriminator = twin.generator, twin.discriminator
    vgg = twin.content_features()
    g_opt = keras.optimizers.Adam(1e-4, beta_1=0.9)
    d_opt = keras.optimizers.Adam(1e-4, beta_1=0.9)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)

    @tf.function
    def plain_step(lr, hr):
        with tf.GradientTape() as g_tape:
            sr = generator(lr, training=True)
            with g_tape.stop_recording(), tf.GradientTape() as d_tape:
                d_loss = losses.minimax_discriminator_loss(
                    discriminator(hr, training=True),
                    discriminator(tf.stop_gradient(sr), training=True))
            grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
            d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
            content = tf.reduce_mean(tf.square(vgg(hr, training=False)
                                               - vgg(sr, training=False)))
            g_loss = content + 1e-3 * losses.non_saturating_generator_loss(
                discriminator(sr, training=True))
        grads = g_tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        return g_loss
    return plain_step


def speed():
    import tensorflow as tf

    import tfgan_suite as tg
    from tfgan_suite import data, distribute, exporter
    source = data.load("bundled:photos", view="superres", scale=4, image_size=96)
    hp = dict(num_blocks=FLAGS.num_blocks)
    if FLAGS.model == "srgan":
        hp.update(content_loss="vgg54", vgg_weights="random")
    with distribute.built_in("mixed_bfloat16" if FLAGS.mixed_precision else "float32"):
        model = tg.build(FLAGS.model, data=source, seed=0, **hp)
    ds = source.dataset(FLAGS.batch_size, seed=0, fields=model.batch_fields)
    # the baseline: the same networks in float32, a tf.function written as a tutorial would
    twin = tg.build(FLAGS.model, data=source, seed=0, **hp)
    twin.generator.set_weights(model.generator.get_weights())
    plain_step = (srgan_plain_step(model, twin) if FLAGS.model == "srgan"
                  else srresnet_plain_step(twin.generator))

    iterator = iter(ds)
    plain_step(*next(iterator))
    model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)
    suite, plain = [], []
    for _ in range(FLAGS.repeats):
        t = time.time()
        model.fit(ds, steps_per_epoch=FLAGS.steps, epochs=1, verbose=0)
        suite.append(FLAGS.steps / (time.time() - t))
        t = time.time()
        for _ in range(FLAGS.steps):
            plain_step(*next(iterator))
        float(plain_step(*next(iterator)))
        plain.append((FLAGS.steps + 1) / (time.time() - t))
    s, p = statistics.median(suite), statistics.median(plain)
    precision = "mixed bfloat16" if FLAGS.mixed_precision else "float32"
    print(f"training, {FLAGS.model} {FLAGS.num_blocks} blocks, batch {FLAGS.batch_size} of 96x96 "
          f"crops: suite fit ({precision}) {s:.3f} steps/s, plain tf.function loop {p:.3f} steps/s, "
          f"ratio {s / p:.2f} (median of {FLAGS.repeats})")
    if FLAGS.model == "srgan":  # inference: SRGAN's generator is SRResNet's
        return

    # inference: megapixels of output per second on a 256x256 LR image (1024x1024 out),
    # in float32 as exported (export loads a run in float32; TFLite has no bfloat16 ops)
    if FLAGS.mixed_precision:
        trained = model.generator.get_weights()
        model = tg.build("srresnet", data=source, seed=0, num_blocks=FLAGS.num_blocks)
        model.generator.set_weights(trained)
    import tempfile
    image = np.random.default_rng(0).uniform(-1, 1, (256, 256, 3)).astype(np.float32)
    out_mp = (256 * 4) ** 2 / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        exporter.write_saved_model(model, tmp, "sr")
        served = tf.saved_model.load(os.path.join(tmp, "sr", "1")).signatures["serving_default"]
        served(images=tf.constant(image[None]))
        t = time.time()
        for _ in range(FLAGS.repeats):
            served(images=tf.constant(image[None]))
        print(f"SavedModel, whole 256x256 image: {out_mp * FLAGS.repeats / (time.time() - t):.3f}"
              f" output megapixels/s")
    from ai_edge_litert.interpreter import Interpreter

    from tfgan_suite import tiling
    tile = int(model.hparams["tflite_tile"])
    for quantization in ("float32", "int8"):
        flat = exporter.convert_tflite(model, None if quantization == "float32" else
                                       quantization, representative_samples=20)
        runner = Interpreter(model_content=flat).get_signature_runner("serving_default")

        def fn(tiles):
            return np.concatenate([runner(images=t[None])["images"] for t in tiles])
        t = time.time()
        out = tiling.upscale_tiled(fn, image, 4, window=tile, context=tile // 8,
                                   overlap=tile // 16, fixed_size=True)
        rate = out_mp / (time.time() - t)
        if quantization == "float32":
            reference = out
        psnr = 10 * np.log10(4.0 / max(np.mean((out - reference) ** 2), 1e-12))
        print(f"TFLite {quantization}, {tile}x{tile} tiles over the 256x256 image: "
              f"{rate:.3f} output megapixels/s, PSNR vs float32 {psnr:.1f} dB, "
              f"{len(flat) / 2 ** 20:.1f} MiB")


def main(argv):
    del argv
    speed() if FLAGS.speed else quality()


if __name__ == "__main__":
    app.run(main)
