r"""What each stabilisation trick buys: every trick alone against none.

    python benchmarks/ablation.py --seeds=3 --steps=5000 --out=docs

Mode coverage on ``toy:ring8`` and ``toy:grid25`` with the protocol of VEEGAN /
PacGAN (``benchmarks/mode_coverage.py``: 2,500 samples; high quality within 3
standard deviations of the nearest mode; a mode is captured with at least 20
high-quality samples) for each ``--models`` loss, its toy defaults (small MLPs,
batch 256) with the minibatch-std feature *off* in the baseline so that "none"
means no trick, then each trick of ``TRICKS`` alone. Prints a Markdown table:
mean +- std over seeds of modes and high-quality %, each seed's modes, and the
cost as generator steps per second relative to the baseline's, measured in the
same process. ``--combos`` adds runs of named combinations (``COMBOS``) at
``--combo_steps``. With ``--out`` it draws ``ablation.png``: the samples of
seed 0 of every run.
"""
import os
import time

import numpy as np
from absl import app, flags

flags.DEFINE_integer("seeds", 3, "Seeds per configuration.")
flags.DEFINE_integer("steps", 5000, "Generator steps per run.")
flags.DEFINE_integer("batch_size", 256, "Batch size.")
flags.DEFINE_list("models", ["gan", "lsgan"], "Losses (models) to ablate.")
flags.DEFINE_list("datasets", ["ring8", "grid25"], "Toy datasets.")
flags.DEFINE_list("tricks", None, "Subset of TRICKS (default: all).")
flags.DEFINE_list("combos", [], "Combinations to run as well: names of COMBOS, or "
                  "model/key=value/... (e.g. wgan/clip_value=0.1/g_ema=0.999).")
flags.DEFINE_integer("combo_steps", 20000, "Generator steps of a combination run.")
flags.DEFINE_string("out", "", "Directory for ablation.png (empty: no figure).")
flags.DEFINE_string("samples_dir", "", "Save each run's 2,500 samples there as "
                    "<model>_<dataset>_<trick>_seed<s>.npy (and draw the figure from all of them).")
flags.DEFINE_bool("figure_only", False, "Draw ablation.png in --out from --samples_dir and exit.")
flags.DEFINE_bool("mnist", False, "Instead of the toy sets: DCGAN on bundled MNIST, each trick "
                  "alone, scored by the Frechet distance of the bundled domain classifier "
                  "(FCD) on --num_samples samples.")
flags.DEFINE_integer("mnist_steps", 1000, "--mnist: generator steps per run.")
flags.DEFINE_integer("mnist_filters", 32, "--mnist: g_filters = d_filters.")
flags.DEFINE_integer("num_samples", 5000, "--mnist: samples for the FCD.")
flags.DEFINE_bool("mixed_precision", False, "--mnist: train in mixed bfloat16 (what `train` "
                  "does by default on CPUs with native bfloat16).")
FLAGS = flags.FLAGS

#: One setting per trick; values are the usual ones of the papers or of
#: common practice for 2-D toy data.
TRICKS = {
    "none": {},
    "feature_matching": dict(feature_matching="features", feature_matching_mode="add"),
    "minibatch_discrimination": dict(minibatch_discrimination=True, minibatch_kernels=8,
                                     minibatch_kernel_dim=3),
    "minibatch_stddev": dict(minibatch_stddev=True),
    "virtual_batch_norm": dict(virtual_batch_norm=True, vbn_reference_size=64),
    "label_smoothing": dict(label_smoothing=0.1),
    "historical_averaging": dict(historical_averaging=1e-3),
    "instance_noise": dict(instance_noise=0.1),
    "r1_gamma": dict(r1_gamma=1.0),
    "g_ema": dict(g_ema=0.999),
}

#: Wider networks and a 20k-step schedule for the combinations.
WIDE = dict(g_hidden_units=(256, 256, 256), d_hidden_units=(256, 256, 256),
            lr_constant_steps=10000, lr_decay_steps=10000)

DEEP = dict(g_hidden_units=(400, 400, 400, 400), d_hidden_units=(200, 200, 200),
            lr_constant_steps=10000, lr_decay_steps=10000)

#: Combinations aimed at the 25-mode grid (model, overrides).
COMBOS = {
    "wgan_gp+g_ema": ("wgan_gp", dict(g_ema=0.999)),
    "gan+r1+g_ema": ("gan", dict(r1_gamma=1.0, g_ema=0.999)),
    "gan+stddev+g_ema": ("gan", dict(minibatch_stddev=True, g_ema=0.999)),
    "lsgan+stddev+g_ema": ("lsgan", dict(minibatch_stddev=True, g_ema=0.999)),
    # 3 x 256 MLPs, learning rates constant for 10k steps then decayed to 0 over 10k.
    "wgan_gp_256x3+g_ema": ("wgan_gp", dict(WIDE, g_ema=0.999)),
    "wgan_gp_256x3": ("wgan_gp", dict(WIDE)),
    "gan_256x3+r1+g_ema": ("gan", dict(WIDE, r1_gamma=1.0, g_ema=0.999)),
    # Deeper G (4 x 400), D 3 x 200, the same schedule.
    "gan_deep+r1+g_ema": ("gan", dict(DEEP, r1_gamma=1.0, g_ema=0.999)),
    "wgan_gp_deep": ("wgan_gp", dict(DEEP)),
}


def parse_combo(text):
    """A COMBOS name, or model/key=value/key=value (values as flags spell them)."""
    if text in COMBOS:
        return COMBOS[text]
    from tfgan_suite import registry
    model_name, *items = text.split("/")
    overrides = dict(item.split("=", 1) for item in items)
    declared = registry.get(model_name).declarations
    return model_name, {k: declared[k].coerce(v) for k, v in overrides.items()}


def coverage(samples, name):
    from tfgan_suite.data import toy
    return toy.mode_coverage(samples, name)


def run(model_name, dataset, seed, steps, overrides):
    """Train one configuration; (modes, hq %, steps/s, samples)."""
    import keras

    import tfgan_suite as tg
    from tfgan_suite import data
    keras.utils.set_random_seed(seed)
    source = data.load(f"toy:{dataset}")
    hp = dict(overrides)
    if model_name in ("gan", "dcgan") and "minibatch_stddev" not in hp:
        hp["minibatch_stddev"] = False  # gan's toy default; off in the baseline
    model = tg.build(model_name, data=source, seed=seed, **hp)
    model.run_steps = steps
    ds = source.dataset(FLAGS.batch_size, disc_steps=model.disc_steps, seed=seed)
    model.fit(ds, steps_per_epoch=50, epochs=1, verbose=0, shuffle=False)  # trace, warm up
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps - 50, epochs=1, verbose=0, shuffle=False)
    rate = (steps - 50) / (time.perf_counter() - start)
    samples = model.generate(2500, seed=1000 + seed).numpy()
    modes, hq = coverage(samples, dataset)
    return modes, hq, rate, samples


def summarise(label, dataset, steps, results, base_rate):
    modes = [r[0] for r in results]
    hq = [r[1] for r in results]
    rate = np.mean([r[2] for r in results])
    cost = f"{rate / base_rate:.2f}" if base_rate else "-"
    print(f"| {label} | {dataset} | {steps} | {np.mean(modes):.1f} +- {np.std(modes):.1f} "
          f"({', '.join(map(str, modes))}) | {np.mean(hq):.1f} +- {np.std(hq):.1f} | "
          f"{rate:.0f} | {cost} |", flush=True)


def figure(panels, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfgan_suite.data import toy
    rows = sorted({p[0] for p in panels})
    names = [p[1] for p in panels]
    cols = [t for t in TRICKS if t in names] + sorted(set(names) - set(TRICKS))
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(1.7 * len(cols), 1.9 * len(rows)),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for (row, col, dataset, samples, modes, hq) in panels:
        ax = axes[rows.index(row), cols.index(col)]
        ax.axis("on")
        means, _ = toy.mixture(dataset)
        lim = 6 if dataset == "grid25" else 3
        ax.scatter(samples[:, 0], samples[:, 1], s=0.3, c="tab:red", alpha=0.5)
        ax.scatter(means[:, 0], means[:, 1], s=6, c="k", marker="x", linewidths=0.6)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{col}\n{modes} modes, {hq:.0f}%", fontsize=6)
        ax.set_ylabel(row, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


#: Image-only tricks added to the MNIST ablation.
IMAGE_TRICKS = {"diffaugment": dict(diffaugment="color,translation,cutout")}


def run_mnist(trick, seed):
    """DCGAN on MNIST with one trick; (FCD, steps/s)."""
    import keras

    import tfgan_suite as tg
    from tfgan_suite import data, distribute
    from tfgan_suite.metrics import evaluation
    keras.utils.set_random_seed(seed)
    source = data.load("bundled:mnist")
    overrides = dict({**TRICKS, **IMAGE_TRICKS}[trick])
    if trick == "minibatch_discrimination":
        overrides.update(minibatch_kernels=100, minibatch_kernel_dim=5)  # the paper's
    if trick == "instance_noise":
        overrides.update(instance_noise=0.2)
    with distribute.built_in("mixed_bfloat16" if FLAGS.mixed_precision else "float32"):
        model = tg.build("dcgan", data=source, seed=seed, g_filters=FLAGS.mnist_filters,
                         d_filters=FLAGS.mnist_filters, **overrides)
    model.run_steps = FLAGS.mnist_steps
    ds = source.dataset(64, seed=seed)
    model.fit(ds, steps_per_epoch=20, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=FLAGS.mnist_steps - 20, epochs=1, verbose=0, shuffle=False)
    rate = (FLAGS.mnist_steps - 20) / (time.perf_counter() - start)
    extractor = evaluation.make_extractor("domain", "bundled:mnist")
    result = evaluation.evaluate(model, source, extractor, ("fid",), FLAGS.num_samples, 500, 0)
    return float(result["fid"]["value"]), rate


def main_mnist(names):
    precision = ", mixed bfloat16" if FLAGS.mixed_precision else ""
    print(f"| trick (DCGAN, MNIST, {FLAGS.mnist_steps} steps, {FLAGS.mnist_filters} filters"
          f"{precision}) | "
          f"FCD mean +- std | per seed | steps/s | speed vs none |")
    print("|---|---|---|---|---|")
    base = None
    for trick in names:
        results = []
        for s in range(FLAGS.seeds):
            results.append(run_mnist(trick, s))
            print(f"# {trick} seed {s}: FCD {results[-1][0]:.2f}, {results[-1][1]:.2f} steps/s",
                  flush=True)
        fcd = [r[0] for r in results]
        rate = float(np.mean([r[1] for r in results]))
        base = base or rate
        print(f"| {trick} | {np.mean(fcd):.1f} +- {np.std(fcd):.1f} | "
              f"{', '.join(f'{v:.1f}' for v in fcd)} | {rate:.1f} | {rate / base:.2f} |",
              flush=True)


def saved_panels():
    """Figure panels (seed 0) from the samples saved in --samples_dir, in TRICKS order."""
    import glob
    panels = []
    for model_name in FLAGS.models:
        for dataset in FLAGS.datasets:
            for trick in TRICKS:
                path = os.path.join(FLAGS.samples_dir, f"{model_name}_{dataset}_{trick}_seed0.npy")
                if glob.glob(path):
                    samples = np.load(path)
                    modes, hq = coverage(samples, dataset)
                    panels.append((f"{model_name} {dataset}", trick, dataset, samples, modes, hq))
    return panels


def main(argv):
    del argv
    if FLAGS.figure_only:
        os.makedirs(FLAGS.out, exist_ok=True)
        figure(saved_panels(), os.path.join(FLAGS.out, "ablation.png"))
        return None
    if FLAGS.mnist:
        names = FLAGS.tricks or list(TRICKS) + list(IMAGE_TRICKS)
        return main_mnist(["none"] + [n for n in names if n != "none"])
    names = FLAGS.tricks or list(TRICKS)
    if "none" not in names:
        names = ["none"] + names
    panels = []
    print("| configuration | dataset | steps | modes captured | high-quality % | steps/s | "
          "speed vs none |")
    print("|---|---|---|---|---|---|---|")
    for dataset in FLAGS.datasets:
        for model_name in FLAGS.models:
            base_rate = None
            for trick in names:
                results = [run(model_name, dataset, s, FLAGS.steps, TRICKS[trick])
                           for s in range(FLAGS.seeds)]
                if FLAGS.samples_dir:
                    os.makedirs(FLAGS.samples_dir, exist_ok=True)
                    for s, r in enumerate(results):
                        np.save(os.path.join(FLAGS.samples_dir,
                                             f"{model_name}_{dataset}_{trick}_seed{s}.npy"), r[3])
                rate = np.mean([r[2] for r in results])
                base_rate = base_rate or rate
                summarise(f"{model_name} + {trick}", dataset, FLAGS.steps, results, base_rate)
                panels.append((f"{model_name} {dataset}", trick, dataset, results[0][3],
                               results[0][0], results[0][1]))
        for combo in FLAGS.combos:
            model_name, overrides = parse_combo(combo)
            results = [run(model_name, dataset, s, FLAGS.combo_steps, overrides)
                       for s in range(FLAGS.seeds)]
            summarise(combo, dataset, FLAGS.combo_steps, results, None)
    if FLAGS.out:
        os.makedirs(FLAGS.out, exist_ok=True)
        figure(panels, os.path.join(FLAGS.out, "ablation.png"))
        print(f"wrote {os.path.join(FLAGS.out, 'ablation.png')}")


if __name__ == "__main__":
    app.run(main)
