r"""The conditional models' targets, measured: label accuracy, InfoGAN's code as
a clusterer, and semi-supervised test accuracy beside the supervised baseline.

    python benchmarks/conditional.py --seeds=42,43,44 --labels=100,1000 --root=runs/bench_cond
    python benchmarks/conditional.py --only=sgan --seeds=42 --labels=100 --train_steps=2000

For each seed it trains (through the CLI, with the ``*_quick.cfg`` flagfiles
and ``--train_steps`` when given):

* ``cgan`` and ``acgan``: ``label_accuracy`` of the bundled MNIST classifier on
  10,000 generated images, each asked for a uniform random class (target >= 97%);
* ``infogan``: ``cluster_accuracy`` of the categorical code over 10,000 samples
  (target >= 90% in at least 2 of 3 seeds; the paper reports about 95%);
* ``sgan`` with each ``--labels`` count and the same network trained on the same
  labelled examples alone (``--unsupervised_weight=0``, ``--baseline_steps``):
  ``test_accuracy`` on the 10,000 MNIST test digits (targets >= 97% with 100
  labels, >= 98% with 1,000).

Runs that exist are resumed (or reused when trained to the end). Prints one
table; nothing is asserted.
"""
import json
import os
import subprocess
import sys

from absl import app, flags

flags.DEFINE_list("seeds", ["42"], "Seeds.")
flags.DEFINE_list("labels", ["100"], "--num_labeled counts for sgan.")
flags.DEFINE_list("only", ["cgan", "acgan", "infogan", "sgan"], "Models to measure.")
flags.DEFINE_integer("train_steps", None, "Override the flagfiles' --train_steps.")
flags.DEFINE_integer("baseline_steps", 2000, "--train_steps of the supervised baselines (the "
                     "network fits its labelled examples within about 1,000 steps).")
flags.DEFINE_string("root", "runs/bench_conditional", "Where the runs go.")
flags.DEFINE_integer("num_samples", 10000, "Images per evaluation.")
FLAGS = flags.FLAGS


def run(module, *args):
    cmd = [sys.executable, "-m", f"tfgan_suite.{module}", *args]
    print("+", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{module} failed:\n{out.stderr[-3000:]}")
    return out.stdout


def train_and_evaluate(name, model_dir, *extra):
    given = any(e.startswith("--train_steps=") for e in extra)
    steps = [f"--train_steps={FLAGS.train_steps}"] if FLAGS.train_steps and not given else []
    run("train", f"--flagfile=flags/{name}_mnist_quick.cfg", f"--model_dir={model_dir}",
        "--verbose=0", *steps, *extra)
    run("evaluate", f"--model_dir={model_dir}", "--metrics=fid",
        f"--num_samples={FLAGS.num_samples}")
    with open(os.path.join(model_dir, "metrics.json")) as f:
        return json.load(f)


def main(argv):
    rows = []
    for seed in FLAGS.seeds:
        for name in ("cgan", "acgan", "infogan"):
            if name in FLAGS.only:
                result = train_and_evaluate(name, os.path.join(FLAGS.root, f"{name}_s{seed}"),
                                            f"--seed={seed}")
                key = "cluster_accuracy" if name == "infogan" else "label_accuracy"
                rows.append((name, seed, "-", key, result[key]["value"],
                             result["fid"]["value"]))
        if "sgan" in FLAGS.only:
            for n in FLAGS.labels:
                for variant, extra in (("sgan", []),
                                       ("supervised", ["--unsupervised_weight=0",
                                                       f"--train_steps={FLAGS.baseline_steps}"])):
                    result = train_and_evaluate(
                        "sgan", os.path.join(FLAGS.root, f"{variant}_{n}_s{seed}"),
                        f"--seed={seed}", f"--num_labeled={n}", *extra)
                    rows.append((variant, seed, n, "test_accuracy",
                                 result["test_accuracy"]["value"], result["fid"]["value"]))
    print(f"\n{'model':<12}{'seed':>6}{'labels':>8}  {'metric':<18}{'value':>8}{'FCD':>9}")
    for name, seed, n, key, value, fid in rows:
        print(f"{name:<12}{seed:>6}{n:>8}  {key:<18}{value:>8.4f}{fid:>9.2f}")


if __name__ == "__main__":
    app.run(main)
