"""MultiWorkerMirroredStrategy with local worker processes on loopback, started by
``python -m tfgan_suite.launch``: two workers train and the chief checkpoints, a
SIGKILLed worker makes the launcher restart the group from the last checkpoint,
and the 2-worker checkpoints resume on one worker."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from tfgan_suite import launch

pytestmark = [pytest.mark.cli, pytest.mark.slow]


def test_tf_configs_name_every_worker_and_its_own_index():
    configs = [json.loads(c) for c in launch.tf_configs(["127.0.0.1:1", "127.0.0.1:2"])]
    assert [c["task"] for c in configs] == [{"type": "worker", "index": 0},
                                            {"type": "worker", "index": 1}]
    assert all(c["cluster"] == {"worker": ["127.0.0.1:1", "127.0.0.1:2"]} for c in configs)
    ports = launch.free_ports(3)
    assert len(set(ports)) == 3


def test_core_shares_are_disjoint_and_even():
    assert launch.core_shares(2, cores=[0, 1, 2, 3, 4]) == [{0, 1, 2}, {3, 4}]
    assert launch.core_shares(4, cores=[0, 1]) == [None] * 4  # fewer cores than workers
    assert launch.core_shares(1, cores=[5, 7]) == [{5, 7}]
    command = launch.train_command(["--model=gan", "--strategy=mirrored"])
    assert command[-2:] == ["--model=gan", "--strategy=multi_worker"]


def _checkpoints(run):
    ckpts = run / "checkpoints"
    return sorted(int(f[5:-6]) for f in os.listdir(ckpts)
                  if f.startswith("ckpt-") and f.endswith(".index")) if ckpts.exists() else []


def test_a_killed_worker_restarts_the_group_from_the_last_checkpoint(tmp_path, flags_parsed):
    run = tmp_path / "run"
    steps = 120
    args = ["--model=gan", "--dataset=toy:ring8", "--batch_size=8", "--disc_steps=2",
            f"--train_steps={steps}", "--save_every=4", "--sample_every=40", "--log_every=20",
            "--nojit_compile", f"--model_dir={run}"]
    proc = subprocess.Popen([sys.executable, "-m", "tfgan_suite.launch", "--workers=2",
                             "--max_restarts=1", "--", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    lines, killed = [], None
    try:
        first = proc.stdout.readline()
        lines.append(first)
        pids = [int(p) for p in re.search(r"pids ([\d ]+)", first).group(1).split()]
        assert len(pids) == 2, first
        deadline = time.time() + 240
        while not _checkpoints(run) or max(_checkpoints(run)) < 4:
            assert time.time() < deadline and proc.poll() is None, "".join(lines)
            time.sleep(0.05)
        killed = max(_checkpoints(run))
        os.kill(pids[1], signal.SIGKILL)  # the non-chief worker, mid-run
        out, _ = proc.communicate(timeout=300)
        lines.append(out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(lines)
    assert proc.returncode == 0, text[-4000:]
    assert "worker 1 exited with signal SIGKILL" in text and "restart 1 of 1" in text
    assert "all 2 worker(s) finished" in text
    assert re.search(r"\[w0\] Resuming .* at step \d+", text), text[-4000:]
    resumed = int(re.search(r"\[w0\] Resuming .* at step (\d+)", text).group(1))
    assert killed <= resumed < steps
    # every worker resumes from the chief's checkpoint, so at the same step
    assert re.search(rf"\[w1\] Resuming .* at step {resumed}\b", text), text[-4000:]
    assert "2 replica(s)" in text and f"[w0] Done: step {steps}" in text
    assert max(_checkpoints(run)) == steps
    assert "step_0000120.png" in os.listdir(run / "samples")  # the chief writes samples
    assert os.listdir(run / ".worker_tmp") == ["worker_1"]  # its own checkpoint folder
    assert "checkpoint" in os.listdir(run / ".worker_tmp" / "worker_1" / "checkpoints")
    assert not (run / ".worker_tmp" / "worker_1" / "samples").exists()

    import tfgan_suite
    model = tfgan_suite.load_model(str(run))
    # every step made exactly k = 2 critic updates, across the restart
    assert model.step == steps and int(model.d_optimizer.iterations) == 2 * steps

    # The 2-worker checkpoints resume on one worker (this process, one device).
    from tfgan_suite import train
    flags_parsed([a for a in args if not a.startswith("--train_steps")] +
                 [f"--train_steps={steps + 4}", "--verbose=0"])
    model = train.train()
    assert model.step == steps + 4 and int(model.d_optimizer.iterations) == 2 * (steps + 4)


def test_every_worker_but_the_chief_writes_its_own_folder(monkeypatch):
    """With three or more workers the non-chiefs saved into one folder and
    clobbered each other's temporary shards (a 4-worker run failed 2 times in 3)."""
    from tfgan_suite import distribute
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]}
    dirs = []
    for i in range(3):
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster,
                                                    "task": {"type": "worker", "index": i}}))
        dirs.append(distribute.write_dir("/runs/r"))
    assert dirs == ["/runs/r", "/runs/r/.worker_tmp/worker_1", "/runs/r/.worker_tmp/worker_2"]
    monkeypatch.delenv("TF_CONFIG")
    assert distribute.write_dir("/runs/r") == "/runs/r"
