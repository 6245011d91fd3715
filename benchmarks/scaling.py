r"""Steps/s and images/s with 1, 2, 4 local workers (MultiWorkerMirroredStrategy).

    python benchmarks/scaling.py                                  # DCGAN quick start, 1/2/4 workers
    python benchmarks/scaling.py --workers=1,2 --rounds=3 --steps=80 \
        --train_flags="--flagfile=flags/wgan_gp_mnist_quick.cfg"

Each measurement is the real launcher (``python -m tfgan_suite.launch
--workers=N -- <train flags>``): N ``train`` processes on 127.0.0.1, each pinned
to its share of the cores (with more workers than cores they share them), the
global batch the flagfile's (each worker takes batch / N: strong scaling). The
rate is the chief's last progress line (steps/s over the last ``--log_every``
steps, after tracing and the first interval). The worker counts run round-robin,
``--rounds`` times; the table gives the median and the speed-up against one
worker. On one machine the workers share its cores and memory bandwidth and talk
over loopback gRPC: the compute does not grow with N, so the ideal speed-up is
1.0 and the shortfall is the engine's overhead (processes, collectives), not what
separate machines would give (see README, *What crosses the network*).
Nothing here asserts a time.
"""
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

from absl import app, flags

flags.DEFINE_list("workers", ["1", "2", "4"], "Worker counts to measure.")
flags.DEFINE_integer("rounds", 3, "Round-robin repeats.")
flags.DEFINE_integer("steps", 80, "Training steps per run.")
flags.DEFINE_integer("log_every", 20, "Progress interval (the last one is the rate).")
flags.DEFINE_string("train_flags", "--flagfile=flags/dcgan_mnist_quick.cfg",
                    "The train flags every worker gets.")
FLAGS = flags.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATE = re.compile(r"^\[w0\] step (\d+)/\d+ .* ([\d.]+) steps/s", re.M)
BATCH = re.compile(r"batch (\d+), k=")


def one_run(workers, root):
    run = tempfile.mkdtemp(dir=root)
    cmd = [sys.executable, "-m", "tfgan_suite.launch", f"--workers={workers}", "--",
           *shlex.split(FLAGS.train_flags), f"--model_dir={run}",
           f"--train_steps={FLAGS.steps}", f"--log_every={FLAGS.log_every}",
           "--sample_every=0", f"--save_every={FLAGS.steps}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    rates = RATE.findall(proc.stdout)
    if proc.returncode or not rates:
        raise SystemExit(f"{workers} worker(s) failed (exit {proc.returncode}):\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    batch = int(BATCH.search(proc.stdout).group(1))
    return float(rates[-1][1]), batch


def main(argv):
    del argv
    counts = [int(w) for w in FLAGS.workers]
    results = {n: [] for n in counts}
    batch = None
    with tempfile.TemporaryDirectory() as root:
        for r in range(FLAGS.rounds):
            for n in counts:
                rate, batch = one_run(n, root)
                results[n].append(rate)
                print(f"round {r + 1}: {n} worker(s) {rate:.2f} steps/s", file=sys.stderr,
                      flush=True)
    base = statistics.median(results[counts[0]])
    print(f"{FLAGS.train_flags}, global batch {batch}, {os.cpu_count()} cores, "
          f"{FLAGS.rounds} rounds")
    print("| workers | steps/s (median) | images/s | speed-up | runs |")
    print("|---|---|---|---|---|")
    for n in counts:
        med = statistics.median(results[n])
        print(f"| {n} | {med:.2f} | {med * batch:.0f} | {med / base:.2f} | "
              f"{', '.join(f'{x:.2f}' for x in results[n])} |")


if __name__ == "__main__":
    app.run(main)
