r"""Draw samples from a trained model.

    python -m tfgan_suite.sample --model_dir=runs/dcgan_mnist_quick --num=64 --out=grid.png
    python -m tfgan_suite.sample --model_dir=D --interpolate --num=8 --steps=10 --out=walk.png
    python -m tfgan_suite.sample --model_dir=runs/gan_ring8 --num=2000 --out=samples.npy

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


def sample_main():
    if not FLAGS.model_dir:
        raise ConfigError("--model_dir is required")
    import tfgan_suite
    model = tfgan_suite.load_model(FLAGS.model_dir, FLAGS.checkpoint)
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
