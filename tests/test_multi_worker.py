"""MultiWorkerMirroredStrategy with two local worker processes on loopback."""
import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = [pytest.mark.cli, pytest.mark.slow]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_train_and_the_chief_checkpoints(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    run = tmp_path / "run"
    args = ["--model=gan", "--dataset=toy:ring8", "--strategy=multi_worker",
            "--batch_size=8", "--disc_steps=2", "--train_steps=4", "--save_every=2",
            "--sample_every=2", "--log_every=2", "--nojit_compile", "--verbose=0",
            f"--model_dir={run}"]
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        procs.append(subprocess.Popen([sys.executable, "-m", "tfgan_suite.train", *args],
                                      cwd=REPO, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=240))
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        pytest.fail("multi-worker training did not finish in 240 s")
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
    assert "2 replica(s)" in outputs[0][0]
    assert {"ckpt-2.index", "ckpt-4.index"} <= set(os.listdir(run / "checkpoints"))
    assert "step_0000004.png" in os.listdir(run / "samples")  # the chief writes samples
    assert not (run / ".worker_tmp" / "samples").exists()

    import tfgan_suite
    model = tfgan_suite.load_model(str(run))
    assert model.step == 4 and int(model.d_optimizer.iterations) == 8
