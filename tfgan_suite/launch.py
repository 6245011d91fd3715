r"""Start N local training workers under ``MultiWorkerMirroredStrategy``.

    python -m tfgan_suite.launch --workers=2 -- --flagfile=flags/dcgan_mnist_quick.cfg
    python -m tfgan_suite.launch --workers=2 --max_restarts=3 -- --model=gan --dataset=toy:ring8

For trying multi-worker training on one machine: each worker is a
``python -m tfgan_suite.train`` process with the flags after ``--`` plus
``--strategy=multi_worker``, and a ``TF_CONFIG`` naming all of them on
127.0.0.1 (ports picked free) with its own task index; worker 0 is the chief
(it writes checkpoints, grids and TensorBoard logs to ``--model_dir``). With
``--pin_cores`` (default) each worker is pinned to its share of the CPU cores,
so N workers on one machine do not fight over the same cores.

Each worker's output lines are printed with a ``[wI]`` prefix. When a worker
fails (a crash, a SIGKILL, an out-of-memory kill) the others cannot go on
(their collective ops wait for it): the launcher stops them and, up to
``--max_restarts`` times, starts the whole group again; training resumes from
the last checkpoint in ``--model_dir`` (the way Keras' ``BackupAndRestore``
promises). Ctrl-C or SIGTERM is passed to every worker (each saves a checkpoint
and exits).

On real machines there is no launcher: run the same ``train`` command on every
host with that host's ``TF_CONFIG`` and one shared ``--model_dir`` (a bucket or
NFS); ``deploy/multi_worker_job.yaml`` is a Kubernetes Indexed Job that does it.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("workers", 2, "Worker processes.", lower_bound=1)
flags.DEFINE_integer("max_restarts", 0, "Restarts of the whole group after a worker fails "
                     "(training resumes from the last checkpoint).", lower_bound=0)
flags.DEFINE_boolean("pin_cores", True, "Pin each worker to its share of the CPU cores.")
flags.DEFINE_string("worker_host", "127.0.0.1", "Address the workers listen on.")


def free_ports(n, host="127.0.0.1"):
    """``n`` distinct free TCP ports on ``host`` (held open together while picked)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tf_configs(addresses):
    """One ``TF_CONFIG`` (JSON text) per worker of the cluster ``addresses``."""
    cluster = {"worker": list(addresses)}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
            for i in range(len(addresses))]


def core_shares(n, cores=None):
    """Split the usable cores into ``n`` disjoint, as-even-as-possible sets
    (None for all when there are fewer cores than workers)."""
    cores = sorted(os.sched_getaffinity(0) if cores is None else cores)
    if len(cores) < n:
        return [None] * n
    shares, start = [], 0
    for i in range(n):
        size = len(cores) // n + (1 if i < len(cores) % n else 0)
        shares.append(set(cores[start:start + size]))
        start += size
    return shares


def train_command(train_flags):
    flags_ = [f for f in train_flags if not f.startswith("--strategy")]
    return [sys.executable, "-m", "tfgan_suite.train", *flags_, "--strategy=multi_worker"]


class Group:
    """The worker processes of one attempt."""

    def __init__(self, command, host, workers, pin, out=None):
        self.out = out or sys.stdout
        ports = free_ports(workers, host)
        shares = core_shares(workers) if pin else [None] * workers
        self.procs, self._threads = [], []
        self._lock = threading.Lock()
        for index, config in enumerate(tf_configs([f"{host}:{p}" for p in ports])):
            env = dict(os.environ, TF_CONFIG=config)
            cores = shares[index]
            if cores:  # each worker's intra-op pool sized to its cores
                env.setdefault("OMP_NUM_THREADS", str(len(cores)))
            proc = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                preexec_fn=(lambda c=cores: os.sched_setaffinity(0, c)) if cores else None)
            self.procs.append(proc)
            thread = threading.Thread(target=self._relay, args=(index, proc), daemon=True)
            thread.start()
            self._threads.append(thread)
        self._print(f"[launch] {workers} worker(s) on {host}:{','.join(map(str, ports))}, "
                    f"pids {' '.join(str(p.pid) for p in self.procs)}")

    def _print(self, line):
        with self._lock:
            self.out.write(line.rstrip("\n") + "\n")
            self.out.flush()

    def _relay(self, index, proc):
        for line in proc.stdout:
            self._print(f"[w{index}] {line}")

    def wait(self, poll=0.2):
        """Wait until every worker exits; as soon as one fails, stop the
        others. Returns (index of the first failed worker or None, its code)."""
        while True:
            codes = [p.poll() for p in self.procs]
            failed = [i for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                self.stop()
                return failed[0], codes[failed[0]]
            if all(c == 0 for c in codes):
                self._join()
                return None, 0
            time.sleep(poll)

    def signal(self, signum):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signum)

    def stop(self, grace=10.0):
        """SIGTERM the workers still running, SIGKILL them after ``grace`` s."""
        self.signal(signal.SIGTERM)
        deadline = time.time() + grace
        for p in self.procs:
            try:
                p.wait(max(0.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._join()

    def _join(self):
        for t in self._threads:
            t.join(timeout=5)


def launch(train_flags, workers=2, max_restarts=0, pin_cores=True, host="127.0.0.1",
           out=None):
    """Run the training group, restarting it after a failure; returns the exit code."""
    out = out or sys.stdout
    command = train_command(train_flags)
    attempt = 0
    while True:
        group = Group(command, host, workers, pin_cores, out)
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def forward(signum, frame, group=group):
            group.signal(signum)
        for s in previous:
            signal.signal(s, forward)
        try:
            failed, code = group.wait()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        if failed is None:
            out.write(f"[launch] all {workers} worker(s) finished\n")
            return 0
        stopped = code in (-signal.SIGINT, -signal.SIGTERM, 130, 143)
        out.write(f"[launch] worker {failed} exited with {_describe(code)}; stopped the "
                  f"others\n")
        if stopped or code == 2 or attempt >= max_restarts:
            # 2: bad flags or data (the same on every attempt)
            return code if code > 0 else 128 - code
        attempt += 1
        out.write(f"[launch] restart {attempt} of {max_restarts}: resuming from the last "
                  f"checkpoint\n")
        out.flush()


def _describe(code):
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"


def main(argv):
    train_flags = argv[1:]
    if not train_flags:
        print("error: give the training flags after --, e.g. python -m tfgan_suite.launch "
              "--workers=2 -- --flagfile=flags/dcgan_mnist_quick.cfg", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(launch(train_flags, FLAGS.workers, FLAGS.max_restarts, FLAGS.pin_cores,
                            FLAGS.worker_host))


def run():
    """Console script entry point (``tfgan-launch``)."""
    app.run(main)


if __name__ == "__main__":
    run()
