r"""Draw samples from a trained model, or translate a folder of images.

    python -m tfgan_suite.sample --model_dir=runs/dcgan_mnist_quick --num=64 --out=grid.png
    python -m tfgan_suite.sample --model_dir=D --interpolate --num=8 --steps=10 --out=walk.png
    python -m tfgan_suite.sample --model_dir=runs/gan_ring8 --num=2000 --out=samples.npy

Image-to-image models (pix2pix, CycleGAN, SimGAN) translate every image of
``--input_dir`` into ``--output_dir`` under the same file name::

    python -m tfgan_suite.sample --model_dir=D --input_dir=IN --output_dir=OUT [--direction=b2a]

Images keep their size: each is padded (reflection) up to a multiple of the
generator's stride and cropped back. Without ``--input_dir`` they write a grid
of translated held-out images.

``.png``: an image grid (or, for vector data such as the toy sets, a plot of
the samples). ``.npy``: the raw samples: images in [-1, 1] as [N, H, W, C], vector
data [N, D] in the data's own coordinates. ``--interpolate`` walks the latent
space: ``--num`` rows of ``--steps`` images, spherically interpolated between two
random points (DCGAN section 6.1).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ INFO/WARNING lines

import numpy as np  # noqa: E402
from absl import app, flags

from tfgan_suite import cli
from tfgan_suite.errors import ConfigError

FLAGS = flags.FLAGS
flags.DEFINE_integer("num", 64, "Samples (rows with --interpolate).", lower_bound=1)
flags.DEFINE_string("out", "samples.png", "Output file: .png or .npy.")
flags.DEFINE_boolean("interpolate", False, "Latent walk between pairs of random points.")
flags.DEFINE_integer("steps", 10, "Images per interpolation row.", lower_bound=2)
flags.DEFINE_string("input_dir", None, "Image-to-image models: folder of images to translate.")
flags.DEFINE_string("output_dir", None, "Where translated images go (same file names).")


def slerp(z0, z1, t):
    """Spherical interpolation between rows of z0 and z1 at fractions t ([T])."""
    z0n = z0 / np.linalg.norm(z0, axis=-1, keepdims=True)
    z1n = z1 / np.linalg.norm(z1, axis=-1, keepdims=True)
    omega = np.arccos(np.clip((z0n * z1n).sum(-1, keepdims=True), -1.0, 1.0))[:, None]
    so = np.sin(omega)
    t = np.asarray(t, np.float64)[None, :, None]
    lerp = (1 - t) * z0[:, None] + t * z1[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (np.sin((1 - t) * omega) * z0[:, None] + np.sin(t * omega) * z1[:, None]) / so
    return np.where(so > 1e-6, s, lerp)


def latent_walk(latent_dim, rows, steps, seed):
    """[rows * steps, latent_dim] noise: each row a slerp between two random points."""
    rng = np.random.default_rng(seed)
    z0, z1 = rng.standard_normal((2, rows, latent_dim))
    return slerp(z0, z1, np.linspace(0.0, 1.0, steps)).reshape(-1, latent_dim).astype("float32")


def sample(model, num, seed, interpolate=False, steps=10):
    """Samples as a NumPy array (and the grid's column count)."""
    if interpolate:
        z = latent_walk(model.latent_dim, num, steps, seed)
        return model.generator(z, training=False).numpy(), steps
    return model.generate(num, seed=seed).numpy(), None


def write(out, samples, cols=None):
    from tfgan_suite import visualize
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".png", ".npy"):
        raise ConfigError(f"--out={out}: write .png or .npy")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if ext == ".npy":
        np.save(out, samples)
    elif samples.ndim == 4:
        visualize.save_png(out, visualize.grid(samples, cols))
    else:
        visualize.save_png(out, visualize.plot_points(samples))


def pad_to_multiple(image, multiple):
    """Reflection-pad [H, W, C] at the bottom/right up to multiples of ``multiple``
    (edge padding where the image is too small to reflect)."""
    h, w = image.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not ph and not pw:
        return image
    mode = "reflect" if ph < h and pw < w else "edge"
    return np.pad(image, ((0, ph), (0, pw), (0, 0)), mode=mode)


def translate_folder(model, input_dir, output_dir, direction="a2b"):
    """Translate every image below ``input_dir`` into ``output_dir`` (same relative
    names; PNG for .png/.gif/.bmp inputs, JPEG for .jpg/.jpeg). Returns the count."""
    import tensorflow as tf

    from tfgan_suite.data import folder, images
    from tfgan_suite.errors import DataError
    try:
        files, _, _, skipped, reasons = folder.scan(input_dir)
    except DataError as e:
        raise DataError(f"--input_dir={input_dir}: {str(e).split(': ', 1)[-1]}") from None
    if skipped:
        print(f"Skipped {skipped} file(s): {'; '.join(reasons[:5])}")
    channels = model.image_shape[-1]
    multiple = model.size_multiple
    for path in files:
        raw = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
        image = images.to_unit_range(images.to_channels(raw, channels)).numpy()
        h, w = image.shape[:2]
        out = model.translate(pad_to_multiple(image, multiple)[None], direction)
        out = images.to_uint8(out[0, :h, :w])
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


def translation_grid(model, num, seed):
    """Held-out inputs in columns, the model's grid rows below them."""
    from tfgan_suite import data
    config = model.config
    try:
        source = data.load(config["dataset"], split="test", image_size=model.image_shape[0],
                           channels=model.image_shape[-1], jitter=False)
    except Exception:  # no test split: the training data
        source = data.load(config["dataset"], image_size=model.image_shape[0],
                           channels=model.image_shape[-1], jitter=False)
    del seed
    a, b = next(iter(source.pairs(num, num=num)))
    return np.concatenate([np.asarray(r) for r in model.grid_rows(a, b)]), num


def sample_main():
    if not FLAGS.model_dir:
        raise ConfigError("--model_dir is required")
    import tfgan_suite
    model = tfgan_suite.load_model(FLAGS.model_dir, FLAGS.checkpoint)
    if model.export_kind == "image_to_image":
        if FLAGS.input_dir:
            if not FLAGS.output_dir:
                raise ConfigError("--input_dir needs --output_dir")
            n = translate_folder(model, FLAGS.input_dir, FLAGS.output_dir, FLAGS.direction)
            print(f"Translated {n} image(s) {FLAGS.direction} from {FLAGS.input_dir} into "
                  f"{FLAGS.output_dir} (step {model.step} of {FLAGS.model_dir})")
            return
        samples, cols = translation_grid(model, min(FLAGS.num, 16), FLAGS.seed)
        write(FLAGS.out, samples, cols)
        print(f"Wrote {FLAGS.out}: rows of {cols} translated held-out images")
        return
    if FLAGS.input_dir:
        raise ConfigError(f"--input_dir: {model.model_name} is not an image-to-image model")
    samples, cols = sample(model, FLAGS.num, FLAGS.seed, FLAGS.interpolate, FLAGS.steps)
    write(FLAGS.out, samples, cols)
    print(f"Wrote {FLAGS.out}: {samples.shape[0]} samples of shape {samples.shape[1:]} "
          f"from step {model.step} of {FLAGS.model_dir}")


main = cli.app_main(sample_main)


def run():
    """Console script entry point (``tfgan-sample``)."""
    app.run(main)


if __name__ == "__main__":
    run()
