r"""Mode coverage on toy:ring8 and toy:grid25 for the GAN losses of the suite.

    python benchmarks/mode_coverage.py --seeds=3 --steps=3000 --out=docs

Protocol (the one of VEEGAN / PacGAN): after training, sample 2,500 points; a
sample is *high quality* when it lies within 3 standard deviations of its
nearest mode centre; a mode is *captured* when at least 20 high-quality samples
fall to it. Reports modes captured and the percentage of high-quality samples
(mean +- std over seeds) and wall time per run. Every model uses its own
defaults for toy data (``--architecture=mlp``, small MLPs, batch 256) except
the number of steps (``--steps``, or per model ``--model_steps``: wgan_gp's toy
defaults decay its learning rates to 0 over steps 20k-40k, so run it for
40,000: ``--model_steps=wgan_gp:40000``). Also draws ``wasserstein_curve.png``
(``--steps`` steps): the critic's Wasserstein estimate of wgan and wgan_gp on
ring8 against the step, with the samples at three points (needs matplotlib).
"""
import os
import time

import numpy as np
from absl import app, flags

flags.DEFINE_integer("seeds", 3, "Seeds per model and dataset.")
flags.DEFINE_integer("steps", 3000, "Generator steps per run.")
flags.DEFINE_list("model_steps", [], "Per-model generator steps overriding --steps, "
                  "as model:steps (e.g. wgan_gp:40000,wgan:20000).")
flags.DEFINE_integer("batch_size", 256, "Batch size.")
flags.DEFINE_list("models", ["gan", "wgan", "wgan_gp", "lsgan", "dragan", "fgan", "ebgan",
                             "began", "hinge", "sngan"], "Models to run.")
flags.DEFINE_list("datasets", ["ring8", "grid25"], "Toy datasets.")
flags.DEFINE_string("out", "docs", "Where the figure goes.")
FLAGS = flags.FLAGS


def steps_for(name):
    """--model_steps entry for model ``name``, else --steps."""
    for item in FLAGS.model_steps:
        model, _, steps = item.partition(":")
        if not steps.strip().isdigit():
            raise ValueError(f"--model_steps: {item!r} is not model:steps")
        if model.strip() == name:
            return int(steps)
    return FLAGS.steps


def coverage(samples, name):
    from tfgan_suite.data import toy
    return toy.mode_coverage(samples, name)


def train(model_name, dataset, seed, steps, record=None):
    import keras

    import tfgan_suite as tg
    from tfgan_suite import data
    keras.utils.set_random_seed(seed)
    source = data.load(f"toy:{dataset}")
    model = tg.build(model_name, source.shape, seed=seed)
    ds = source.dataset(FLAGS.batch_size, disc_steps=model.disc_steps, seed=seed)
    per = 100 if record is not None else steps
    for epoch in range(steps // per):
        h = model.fit(ds, steps_per_epoch=per, epochs=1, verbose=0, shuffle=False).history
        if record is not None:
            record.append(((epoch + 1) * per, h.get("wasserstein", [np.nan])[0],
                           model.generate(2500, seed=0).numpy()))
    return model


def wasserstein_figure(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfgan_suite.data import toy
    means, _ = toy.mixture("ring8")
    fig, axes = plt.subplots(2, 4, figsize=(13, 6), gridspec_kw={"width_ratios": [2, 1, 1, 1]})
    for row, name in enumerate(("wgan", "wgan_gp")):
        record = []
        train(name, "ring8", 0, FLAGS.steps, record)
        steps, w, samples = zip(*record)
        ax = axes[row, 0]
        ax.plot(steps, w)
        ax.set_xlabel("generator step")
        ax.set_ylabel("E[D(x)] - E[D(G(z))]")
        ax.set_title(f"{name}: Wasserstein estimate (ring8)")
        for col, idx in zip(range(1, 4), (0, len(record) // 2, len(record) - 1)):
            a = axes[row, col]
            a.scatter(samples[idx][:, 0], samples[idx][:, 1], s=1, c="tab:red")
            a.scatter(means[:, 0], means[:, 1], s=20, c="k", marker="x")
            a.set_xlim(-3, 3)
            a.set_ylim(-3, 3)
            a.set_title(f"step {steps[idx]}")
            a.set_xticks([])
            a.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv):
    del argv
    print("| model | dataset | steps | modes captured | high-quality samples % | s per run |")
    print("|---|---|---|---|---|---|")
    for dataset in FLAGS.datasets:
        for name in FLAGS.models:
            modes, hq, times = [], [], []
            for seed in range(FLAGS.seeds):
                t = time.perf_counter()
                model = train(name, dataset, seed, steps_for(name))
                times.append(time.perf_counter() - t)
                m, q = coverage(model.generate(2500, seed=1000 + seed).numpy(), dataset)
                modes.append(m)
                hq.append(q)
            print(f"| {name} | {dataset} | {steps_for(name)} | {np.mean(modes):.1f} +- {np.std(modes):.1f} "
                  f"({', '.join(map(str, modes))}) | {np.mean(hq):.1f} +- {np.std(hq):.1f} | "
                  f"{np.mean(times):.0f} |", flush=True)
    if FLAGS.out:
        os.makedirs(FLAGS.out, exist_ok=True)
        wasserstein_figure(os.path.join(FLAGS.out, "wasserstein_curve.png"))
        print(f"wrote {os.path.join(FLAGS.out, 'wasserstein_curve.png')}")


if __name__ == "__main__":
    app.run(main)
