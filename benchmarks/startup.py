r"""Time from ``python -m tfgan_suite.train ...`` to the first finished training step.

    python benchmarks/startup.py                       # every case, 3 rounds
    python benchmarks/startup.py --cases=dcgan_quick --rounds=5

Each case is the real command a user types (a fresh process, the flagfile's own
settings) with ``--train_steps=1``; the cases run round-robin, ``--rounds`` times.
``train`` prints one line once its first step is done (``console.StartupTimer``):

    Start-up 9.3 s: import 5.6, data 0.3, model 0.4, pipeline 0.2, step-0 grid 0.9, first step 1.9

import = Python and TensorFlow; data = reading and checking the dataset; model =
building the networks and restoring a checkpoint; pipeline = the tf.data
pipeline (in-memory bundled data is resized here, once); step-0 grid = Keras'
fit set-up and the first sample grid (tracing the generator); first step =
tracing the training step, filling the shuffle buffer and running the step.
The table gives the median of each part over the rounds, and the process's
whole wall time (which also includes the final checkpoint and grid).
Nothing here asserts a time: compare with the targets in the README.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

flags.DEFINE_list("cases", None, "Cases to time (default: all of CASES).")
flags.DEFINE_integer("rounds", 3, "Round-robin repeats of every case.")
FLAGS = flags.FLAGS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# name -> train flags, as a user would run them
CASES = {
    "dcgan_quick": ["--flagfile=flags/dcgan_mnist_quick.cfg"],
    "pix2pix_256": ["--model=pix2pix", "--dataset=bundled:edges2shoes", "--image_size=256",
                    "--channels=3"],
    "cyclegan_128": ["--model=cyclegan", "--dataset=bundled:sneakers2boots",
                     "--image_size=128", "--channels=3", "--resnet_blocks=6"],
    "cyclegan_256": ["--model=cyclegan", "--dataset=bundled:sneakers2boots",
                     "--image_size=256", "--channels=3", "--resnet_blocks=9"],
}
LINE = re.compile(r"^Start-up (\S+) s: (.*)$", re.M)


def parse(stdout):
    """{"total": s, part: s, ...} from ``train``'s start-up line."""
    match = LINE.search(stdout)
    if not match:
        raise ValueError("no start-up line in:\n" + stdout[-2000:])
    parts = {"total": float(match.group(1))}
    for item in match.group(2).split(", "):
        name, value = item.rsplit(" ", 1)
        parts[name] = float(value)
    return parts


def run_once(name, root, round_):
    run = os.path.join(root, f"{name}_{round_}")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tfgan_suite.train", *CASES[name],
                           f"--model_dir={run}", "--train_steps=1"],
                          capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
    parts = parse(proc.stdout)
    parts["process"] = wall
    return parts


def main(argv):
    del argv
    names = FLAGS.cases or list(CASES)
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise SystemExit(f"--cases: unknown {unknown}; choose from {sorted(CASES)}")
    root = tempfile.mkdtemp(prefix="startup_")
    results = {n: [] for n in names}
    for r in range(FLAGS.rounds):
        for name in names:
            parts = run_once(name, root, r)
            results[name].append(parts)
            print(f"round {r + 1} {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()),
                  flush=True)
    print(f"\nmedian of {FLAGS.rounds} rounds, seconds")
    for name in names:
        keys = list(results[name][0])
        med = {k: statistics.median(p[k] for p in results[name]) for k in keys}
        print(f"| {name} | to first step {med['total']:.1f} | " + " | ".join(
            f"{k} {med[k]:.1f}" for k in keys if k != "total") + " |")


if __name__ == "__main__":
    app.run(main)
