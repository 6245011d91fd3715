r"""Draw samples from a trained model, or translate a folder of images.

    python -m tfgan_suite.sample --model_dir=runs/dcgan_mnist_quick --num=64 --out=grid.png
    python -m tfgan_suite.sample --model_dir=D --interpolate --num=8 --steps=10 --out=walk.png
    python -m tfgan_suite.sample --model_dir=runs/gan_ring8 --num=2000 --out=samples.npy

Models that map images to images (pix2pix, CycleGAN, SimGAN) apply themselves
to every image of ``--input_dir`` and write ``--output_dir`` under the same file
names (``model.apply_to_image``: any size, padded to the generator's stride and
cropped back)::

    python -m tfgan_suite.sample --model_dir=D --input_dir=IN --output_dir=OUT [--direction=b2a]

Otherwise the model's own sample grid (``model.grid_renderer``): a fixed noise
batch, a plot of toy samples over real ones, or held-out inputs with their
translations. ``.png``: the picture; ``.npy``: the raw samples (images in
[-1, 1] as [N, H, W, C], toy data [N, D] in the data's own coordinates).
``--interpolate`` walks the latent space of a noise model: ``--num`` rows of
``--steps`` images, spherically interpolated between two random points (DCGAN
section 6.1).

Conditional models (CGAN, ACGAN, InfoGAN)::

    python -m tfgan_suite.sample --model_dir=D --labels=3,3,7 --out=377.png
    python -m tfgan_suite.sample --model_dir=D --class_grid --num=8 --out=classes.png
    python -m tfgan_suite.sample --model_dir=D --traverse=continuous:0 --steps=10 --out=t.png

A model's own figures (``model.figures()``), e.g. StyleGAN's::

    python -m tfgan_suite.sample --model_dir=D --figure=style_mixing --out=mixing.png
    python -m tfgan_suite.sample --model_dir=D --figure=truncation --out=psi.png
"""
import os

from tfgan_suite import console  # noqa: E402

console.quiet_start()  # before TensorFlow is imported: no start-up noise

import numpy as np  # noqa: E402
from absl import app, flags

from tfgan_suite import cli
from tfgan_suite.errors import ConfigError

FLAGS = flags.FLAGS
flags.DEFINE_integer("num", 64, "Samples (rows with --interpolate).", lower_bound=1)
flags.DEFINE_string("out", "samples.png", "Output file: .png or .npy.")
flags.DEFINE_boolean("interpolate", False, "Latent walk between pairs of random points.")
flags.DEFINE_integer("steps", 10, "Images per interpolation row.", lower_bound=2)
flags.DEFINE_string("input_dir", None, "Folder of images to translate (models that map "
                    "images to images).")
flags.DEFINE_string("output_dir", None, "Where the results go (same file names).")
flags.DEFINE_list("labels", None, "Conditional models: the classes to draw, one image "
                  "each (e.g. 3,3,7).")
flags.DEFINE_boolean("class_grid", False, "Conditional models: one row per class, --num "
                     "noise vectors across (default 8).")
flags.DEFINE_string("figure", None, "A picture of the model's own (StyleGAN: style_mixing, "
                    "truncation), with --num columns and --steps rows or values.")
flags.DEFINE_string("traverse", None, "InfoGAN: sweep continuous code NAME (e.g. "
                    "continuous:0) from -2 to 2 over --steps columns, one row per "
                    "categorical value.")


def write(out, grid):
    """``grid`` (a ``models.contract.Grid``) to ``out``: .png picture or .npy samples."""
    from tfgan_suite import visualize
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".png", ".npy"):
        raise ConfigError(f"--out={out}: write .png or .npy")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if ext == ".npy":
        np.save(out, np.asarray(grid.images))
    else:
        visualize.save_png(out, visualize.picture(grid))


def map_folder(model, input_dir, output_dir, direction="a2b"):
    """Apply the model to every image below ``input_dir`` (``model.apply_to_image``)
    and write the results into ``output_dir`` under the same relative names (PNG
    for .png/.gif/.bmp inputs, JPEG for .jpg/.jpeg). Returns the count."""
    import tensorflow as tf

    from tfgan_suite.data import folder, images
    from tfgan_suite.errors import DataError
    try:
        files, _, _, skipped, reasons = folder.scan(input_dir)
    except DataError as e:
        raise DataError(f"--input_dir={input_dir}: {str(e).split(': ', 1)[-1]}") from None
    if skipped:
        print(f"Skipped {skipped} file(s): {'; '.join(reasons[:5])}")
    channels = model.data_spec.shape[-1]
    for path in files:
        raw = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
        image = images.to_unit_range(images.to_channels(raw, channels)).numpy()
        out = images.to_uint8(model.apply_to_image(image, direction))
        rel = os.path.relpath(path, input_dir)
        target = os.path.join(output_dir, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        ext = os.path.splitext(rel)[1].lower()
        data = tf.io.encode_jpeg(out, quality=95) if ext in (".jpg", ".jpeg") \
            else tf.io.encode_png(out)
        if ext not in (".jpg", ".jpeg", ".png"):
            target = os.path.splitext(target)[0] + ".png"
        tf.io.write_file(target, data)
    return len(files)


def sample_main():
    if not FLAGS.model_dir:
        raise ConfigError("--model_dir is required")
    import tfgan_suite
    from tfgan_suite import data
    model = tfgan_suite.load_model(FLAGS.model_dir, FLAGS.checkpoint)
    if FLAGS.input_dir:
        if not FLAGS.output_dir:
            raise ConfigError("--input_dir needs --output_dir")
        n = map_folder(model, FLAGS.input_dir, FLAGS.output_dir, FLAGS.direction)
        print(f"Wrote {n} image(s) from {FLAGS.input_dir} ({FLAGS.direction}) into "
              f"{FLAGS.output_dir} (step {model.step} of {FLAGS.model_dir})")
        return
    if FLAGS.labels is not None or FLAGS.traverse or FLAGS.class_grid:
        labels = None
        if FLAGS.labels is not None:
            try:
                labels = [int(v) for v in FLAGS.labels]
            except ValueError:
                raise ConfigError(f"--labels={','.join(FLAGS.labels)}: give class ids "
                                  f"(integers)") from None
        columns = FLAGS.num if FLAGS["num"].present else 8
        count = FLAGS.steps if FLAGS.traverse else columns
        grid = model.requested_grid(count, FLAGS.seed, labels=labels,
                                    traverse=FLAGS.traverse, class_grid=FLAGS.class_grid)
    elif FLAGS.figure:
        figures = model.figures()
        if FLAGS.figure not in figures:
            raise ConfigError(f"--figure={FLAGS.figure}: {model.model_name} draws "
                              f"{', '.join(sorted(figures)) or 'no figures of its own'}")
        kwargs = {k: getattr(FLAGS, k) for k in ("num", "steps") if FLAGS[k].present}
        grid = figures[FLAGS.figure](seed=FLAGS.seed, **kwargs)
    elif FLAGS.interpolate:
        grid = model.interpolation_grid(FLAGS.num, FLAGS.steps, FLAGS.seed)
    else:
        options = data.DataOptions.from_config(
            model.config, data_dir=FLAGS.data_dir,
            direction=FLAGS.direction if FLAGS["direction"].present else None)
        grid = model.grid_renderer(data.RunData(options), FLAGS.num, FLAGS.seed)()
    write(FLAGS.out, grid)
    print(f"Wrote {FLAGS.out}: {grid.caption} (samples of shape "
          f"{tuple(np.shape(grid.images)[1:])}) from step {model.step} of {FLAGS.model_dir}")


main = cli.app_main(sample_main)


def run():
    """Console script entry point (``tfgan-sample``)."""
    app.run(main)


if __name__ == "__main__":
    run()
