"""The command line end to end: train, resume, flagfile, sample, SIGKILL, errors."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from conftest import REPO, run_cli
from tfgan_suite.errors import ConfigError, DataError

pytestmark = [pytest.mark.cli, pytest.mark.slow]


def _png(path, value, channels=3):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    img = rng.integers(0, 255, (20, 24, channels), dtype=np.uint8)
    path.write_bytes(tf.io.encode_png(img).numpy())


@pytest.fixture
def folder_with_corrupt_file(tmp_path):
    root = tmp_path / "images"
    for i in range(6):
        _png(root / ("a" if i % 2 else "b") / f"{i}.png", i)
    (root / "a" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    return root


TINY = ["--model=dcgan", "--image_size=16", "--channels=1", "--batch_size=4",
        "--g_filters=4", "--d_filters=4", "--latent_dim=4", "--nojit_compile",
        "--save_every=2", "--sample_every=2", "--log_every=1", "--num_grid=6"]


def _decode_png(path):
    return tf.io.decode_png(open(path, "rb").read()).numpy()


def test_train_resume_flagfile_and_sample(tmp_path, folder_with_corrupt_file, flags_parsed,
                                          capsys):
    run = tmp_path / "run"
    args = TINY + [f"--dataset=folder:{folder_with_corrupt_file}", f"--model_dir={run}"]
    first = run_cli("train", *args, "--train_steps=4")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "skipped 1 file" in first.stderr  # the corrupt PNG, logged, not fatal
    ckpts = run / "checkpoints"
    assert {"ckpt-2.index", "ckpt-4.index", "checkpoint"} <= set(os.listdir(ckpts))
    samples = sorted(os.listdir(run / "samples"))
    assert samples == ["step_0000000.png", "step_0000002.png", "step_0000004.png"]
    # 6 images of 16x16 in 3 columns with 2-pixel padding, grey.
    assert _decode_png(run / "samples" / "step_0000004.png").shape == (38, 56, 1)
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(run))
    flags_txt = (run / "flags.txt").read_text()
    for line in ("--model=dcgan", "--latent_dim=4", "--g_learning_rate=0.0002",
                 "--generator_loss=non_saturating", "--nojit_compile"):
        assert line in flags_txt.splitlines()

    # Same command, more steps: resumes and continues the step count. (From here
    # the apps run in this process, tg.run: the same code after flag parsing,
    # without a TensorFlow start-up each.)
    import tfgan_suite
    capsys.readouterr()
    tfgan_suite.run("train", *args, "--train_steps=6")
    second = capsys.readouterr().out
    assert "Resuming" in second and "at step 4" in second
    assert "ckpt-6.index" in os.listdir(ckpts)
    assert "step_0000006.png" in os.listdir(run / "samples")

    # flags.txt is a flagfile that reproduces (here: resumes) the run.
    tfgan_suite.run("train", f"--flagfile={run / 'flags.txt'}", "--train_steps=8")
    assert "at step 6" in capsys.readouterr().out

    # sample runs its main function in this process (the same code after flag parsing)
    from tfgan_suite import sample
    out = tmp_path / "grid.png"
    flags_parsed([f"--model_dir={run}", "--num=6", f"--out={out}"])
    sample.sample_main()
    assert "from step 8" in capsys.readouterr().out
    assert _decode_png(out).shape == (38, 56, 1)
    walk = tmp_path / "walk.npy"
    flags_parsed([f"--model_dir={run}", "--interpolate", "--num=2", "--steps=3",
                  f"--out={walk}"])
    sample.sample_main()
    w = np.load(walk)
    assert w.shape == (6, 16, 16, 1) and np.abs(w).max() <= 1.0
    # The walk's ends differ, its neighbours are closer than its ends.
    assert np.abs(w[0] - w[1]).mean() < np.abs(w[0] - w[2]).mean()


def test_sigkill_loses_at_most_save_every_steps(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["--model=gan", "--dataset=toy:ring8", "--batch_size=16", "--save_every=3",
            "--sample_every=0", "--nojit_compile", f"--model_dir={run}"]
    proc = subprocess.Popen([sys.executable, "-m", "tfgan_suite.train", *args,
                             "--train_steps=1000000"], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    ckpts = run / "checkpoints"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            if ckpts.exists() and len([f for f in os.listdir(ckpts) if f.endswith(".index")]) >= 3:
                break
            time.sleep(0.05)
        else:
            pytest.fail("training never wrote three checkpoints")
        time.sleep(0.3)  # let it keep saving, then kill it wherever it is
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    import tfgan_suite
    model = tfgan_suite.load_model(str(run))  # the latest checkpoint must be readable
    step = model.step
    assert step >= 9 and step % 3 == 0

    # resumed and sampled in this process (tg.run, the apps after flag parsing)
    capsys.readouterr()
    tfgan_suite.run("train", *args, f"--train_steps={step + 3}")
    assert f"at step {step}" in capsys.readouterr().out
    assert tfgan_suite.load_model(str(run)).step == step + 3

    points = tmp_path / "points.npy"
    tfgan_suite.run("sample", f"--model_dir={run}", "--num=500", f"--out={points}")
    assert np.load(points).shape == (500, 2)  # data coordinates, not an image


def test_bad_dataset_stops_before_anything_is_built(tmp_path):
    run = tmp_path / "run"
    r = run_cli("train", "--dataset=mnsit", f"--model_dir={run}")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("error: --dataset='mnsit'")
    assert not run.exists()


@pytest.mark.parametrize("args, error, message", [
    (["--model=stylegan9"], ConfigError, "Valid models: acgan, began, biggan, cgan, cyclegan, dcgan, dragan"),
    (["--model=dcgan", "--dataset=toy:ring8"], ConfigError, "--model=dcgan"),
    (["--train_steps=5", "--epochs=1"], ConfigError, "--train_steps or --epochs"),
    (["--model=gan", "--dataset=toy:grid25", "--epochs=2"], ConfigError, "--epochs"),
    (["--dataset=folder:/no/such/dir"], DataError, "/no/such/dir"),
    (["--model=gan", "--dataset=toy:ring8", "--cpu_replicas=2", "--batch_size=3"],
     ConfigError, "--batch_size=3"),
    (["--model=gan", "--g_hidden_units=a,b"], ConfigError, "--g_hidden_units"),
    (["--model=cyclegan", "--latent_dim=8"], ConfigError,
     "--latent_dim is not read by --model=cyclegan"),
    (["--model=gan", "--g_learning_rate=inf"], ConfigError, "--g_learning_rate must be finite"),
])
def test_bad_flags_are_named(flags_parsed, tmp_path, args, error, message):
    from tfgan_suite import train
    flags_parsed(args + [f"--model_dir={tmp_path / 'run'}"])
    with pytest.raises(error, match=message.replace("(", r"\(")):
        train.train()
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("arg", ["--batch_size=-1", "--image_size=0", "--save_every=0",
                                 "--strategy=tpu", "--generator_loss=wasserstein"])
def test_invalid_flag_values_fail_at_parse_time(flags_parsed, arg):
    with pytest.raises(flags.IllegalFlagValueError, match=arg.split("=")[0].lstrip("-")):
        flags_parsed([arg])


def test_resume_refuses_other_settings(flags_parsed, tmp_path):
    from tfgan_suite import train
    base = ["--model=gan", "--dataset=toy:ring8", "--batch_size=8", "--train_steps=2",
            "--nojit_compile", "--verbose=0", f"--model_dir={tmp_path}"]
    flags_parsed(base)
    train.train()
    flags_parsed(base + ["--latent_dim=3", "--train_steps=4"])
    with pytest.raises(ConfigError, match="--latent_dim: 8 -> 3"):
        train.train()


def test_cpu_replicas_train_with_mirrored_strategy(flags_parsed, tmp_path):
    from tfgan_suite import train
    flags_parsed(["--model=gan", "--dataset=toy:ring8", "--cpu_replicas=2",
                  "--disc_steps=2", "--batch_size=8", "--train_steps=3", "--nojit_compile",
                  "--verbose=0", f"--model_dir={tmp_path}"])
    model = train.train()
    assert model.distribute_strategy.num_replicas_in_sync == 2
    assert model.step == 3 and model.d_optimizer.iterations.numpy() == 6


def test_steps_per_execution_runs_the_exact_steps_and_saves_past_each_multiple(
        flags_parsed, tmp_path):
    """--steps_per_execution=4: 4 steps per call, a run of exactly --train_steps,
    checkpoints and grids at the first step past each multiple of their interval,
    resumable; lengths that are not multiples of 4 are refused by name."""
    import glob

    from tfgan_suite import train
    run = tmp_path / "run"
    base = ["--model=gan", "--dataset=toy:ring8", "--batch_size=8", "--nojit_compile",
            "--verbose=0", "--steps_per_execution=4", "--save_every=5", "--sample_every=10",
            "--keep_checkpoints=10", f"--model_dir={run}"]
    flags_parsed(base + ["--train_steps=12"])
    model = train.train()
    assert model.step == 12 and model.g_optimizer.iterations.numpy() == 12
    saved = sorted(int(p.split("-")[-1].split(".")[0])
                   for p in glob.glob(str(run / "checkpoints" / "ckpt-*.index")))
    assert saved == [8, 12]  # past 5, past 10 (and the end)
    grids = sorted(os.path.basename(p) for p in glob.glob(str(run / "samples" / "*.png")))
    assert grids == ["step_0000000.png", "step_0000012.png"]
    flags_parsed(base + ["--train_steps=20"])
    assert train.train().step == 20
    flags_parsed(base + ["--train_steps=26"])
    with pytest.raises(ConfigError, match=r"--steps_per_execution=4: this run goes from step "
                                          r"20 to 26 \(--train_steps\), 6 steps"):
        train.train()
    flags_parsed(base + ["--train_steps=24", "--nan_policy=skip_step"])
    with pytest.raises(ConfigError, match="--nan_policy=skip_step"):
        train.train()


def test_run_starts_the_apps_in_this_process(tmp_path):
    """tg.run(app, *flags) is the command line without a new Python: flags parsed
    afresh each time (nothing leaks from one call to the next), the trained model
    returned, errors raised instead of exiting."""
    import tfgan_suite as tg
    from absl import flags
    run = tmp_path / "run"
    model = tg.run("train", "--model=gan", "--dataset=toy:ring8", "--train_steps=3",
                   "--batch_size=16", "--sample_every=0", "--latent_dim=3",
                   f"--model_dir={run}")
    assert model.step == 3 and model.latent_dim == 3
    assert "--latent_dim=3" in (run / "flags.txt").read_text().splitlines()
    out = tmp_path / "points.npy"
    tg.run("sample", f"--model_dir={run}", "--num=50", f"--out={out}")
    assert np.load(out).shape == (50, 2)
    assert flags.FLAGS["num"].value == 64  # back to the default after the call
    resumed = tg.run("train", f"--flagfile={run / 'flags.txt'}", "--train_steps=5")
    assert resumed.step == 5 and resumed.latent_dim == 3
    with pytest.raises(flags.Error, match="latent_dimm"):
        tg.run("train", "--latent_dimm=3")
    with pytest.raises(tg.ConfigError, match="the apps are train, sample"):
        tg.run("serve")


@pytest.mark.parametrize("native, flag, policy", [
    (True, None, "mixed_bfloat16"), (False, None, "float32"),
    (True, "--nomixed_precision", "float32"), (False, "--mixed_precision", "mixed_bfloat16")])
def test_train_picks_bfloat16_by_itself_where_the_cpu_has_it(tmp_path, capsys, monkeypatch,
                                                             native, flag, policy):
    """Mixed bfloat16 is the default on CPUs with native bfloat16 (and only
    there); the flag overrides it either way; the global policy is restored
    when the run ends (the networks took it when they were built)."""
    import keras

    import tfgan_suite as tg
    from tfgan_suite import distribute
    monkeypatch.setattr(distribute, "cpu_has_native_bfloat16", lambda *a: native)
    model = tg.run("train", "--model=gan", "--dataset=toy:ring8", "--train_steps=2",
                   "--batch_size=16", "--sample_every=0", "--latent_dim=3",
                   f"--model_dir={tmp_path / 'run'}", *([flag] if flag else []))
    captured = capsys.readouterr()
    assert f"k=1, {policy})" in captured.out
    assert (policy == "mixed_bfloat16" and not native) == ("emulates it" in captured.err)
    computes = {layer.compute_dtype for layer in model.generator._flatten_layers()}
    assert ("bfloat16" in computes) == (policy == "mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"
