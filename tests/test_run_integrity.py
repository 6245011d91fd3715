"""Accidents to a run directory, each reproduced: divergence, two runs on one
directory, damaged or missing checkpoint files, resuming with other settings,
SIGTERM, unusable directories and stray arguments. Each must end with a clear
message and nothing lost."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tfgan_suite
from conftest import REPO, write_png
from tfgan_suite import model_dir as md
from tfgan_suite.errors import ConfigError, DataError, TrainingError

TOY = ["--model=gan", "--dataset=toy:ring8", "--batch_size=16", "--sample_every=0",
       "--nojit_compile", "--verbose=0"]


def _train(flags_parsed, run, *args):
    from tfgan_suite import train
    flags_parsed(TOY + [f"--model_dir={run}", *args])
    return train.train()


def _finite(path_or_dir):
    model = tfgan_suite.load_model(str(path_or_dir))
    return model.step, md.all_finite(model)


def test_divergence_stops_and_keeps_the_last_finite_checkpoint(flags_parsed, tmp_path,
                                                               monkeypatch):
    """The generator loss turns NaN from its 7th update on: the run stops at that
    step with a named error, ckpt-6 stays the latest, nothing non-finite is saved."""
    import tensorflow as tf

    from tfgan_suite.models.gan import GAN
    original = GAN.generator_loss

    def poisoned(self, real, fake, fake_output):
        loss, logs = original(self, real, fake, fake_output)
        late = tf.cast(self.g_optimizer.iterations, tf.float32) >= 6.0
        return loss * tf.where(late, float("nan"), 1.0), logs

    monkeypatch.setattr(GAN, "generator_loss", poisoned)
    run = tmp_path / "run"
    with pytest.raises(TrainingError, match=r"diverged at step 7: g_loss = nan; stopped\. "
                                            r"The last finite checkpoint, .*ckpt-6, is kept"):
        _train(flags_parsed, run, "--train_steps=100", "--save_every=2")
    assert sorted(md.checkpoint_files(str(run))) == [2, 4, 6]
    for prefix in md.checkpoint_files(str(run)).values():
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            value = np.asarray(reader.get_tensor(name))
            if np.issubdtype(value.dtype, np.floating):
                assert np.all(np.isfinite(value)), (prefix, name)
    step, finite = _finite(run)
    assert finite and step == 6


def test_the_issues_divergence_is_stopped_not_trained_to_the_end(flags_parsed, tmp_path):
    with pytest.raises(TrainingError, match="diverged at step"):
        _train(flags_parsed, tmp_path / "run", "--g_learning_rate=1e6", "--train_steps=500")


def test_a_second_run_on_a_locked_directory_is_refused(flags_parsed, tmp_path):
    run = tmp_path / "run"
    _train(flags_parsed, run, "--train_steps=2", "--save_every=2")
    assert not (run / md.LOCK).exists()  # released at the end of a run
    other = subprocess.Popen(["sleep", "60"])  # a live process holding the lock
    try:
        import json
        import socket
        (run / md.LOCK).write_text(json.dumps({"pid": other.pid, "host": socket.gethostname(),
                                               "started": time.time()}))
        with pytest.raises(ConfigError, match=f"in use by train process {other.pid} on "):
            _train(flags_parsed, run, "--train_steps=4", "--save_every=2")
        assert tfgan_suite.load_model(str(run)).step == 2  # readers ignore the lock
    finally:
        other.kill()
        other.wait()
    # the holder is gone: its lock is stale and taken over
    assert _train(flags_parsed, run, "--train_steps=4", "--save_every=2").step == 4
    assert not (run / md.LOCK).exists()


def _corrupt(prefix, how):
    if how == "truncated data":
        data = [f for f in os.listdir(os.path.dirname(prefix))
                if f.startswith(os.path.basename(prefix) + ".data")][0]
        path = os.path.join(os.path.dirname(prefix), data)
        with open(path, "r+b") as f:
            f.truncate(max(1, os.path.getsize(path) // 3))
    else:
        with open(prefix + ".index", "wb") as f:
            f.write(b"not a checkpoint index" * 10)


@pytest.mark.parametrize("how", ["truncated data", "garbage index"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_newest_readable(flags_parsed, tmp_path,
                                                                       how, capsys):
    run = tmp_path / "run"
    _train(flags_parsed, run, "--train_steps=6", "--save_every=2")
    kept = md.checkpoint_files(str(run))
    assert sorted(kept) == [2, 4, 6]
    _corrupt(kept[6], how)
    assert tfgan_suite.load_model(str(run)).step == 4  # sample/evaluate/export: older one
    assert 6 in md.checkpoint_files(str(run))  # ... without touching the files
    model = _train(flags_parsed, run, "--train_steps=8", "--save_every=2")
    out = capsys.readouterr().out
    assert "checkpoint ckpt-6" in out and "damaged" in out and "at step 4" in out
    assert model.step == 8
    files = os.listdir(run / "checkpoints")
    assert any(f.startswith("ckpt-6.") and f.endswith(".damaged") for f in files)
    assert sorted(md.checkpoint_files(str(run))) == [2, 4, 6, 8]  # new 6 and 8, old 2 and 4


def test_a_deleted_checkpoint_index_does_not_restart_the_run(flags_parsed, tmp_path, capsys):
    run = tmp_path / "run"
    _train(flags_parsed, run, "--train_steps=4", "--save_every=2")
    os.remove(run / "checkpoints" / "checkpoint")
    os.makedirs(run / "checkpoints" / "ckpt-6_temp")  # left by a kill mid-save
    model = _train(flags_parsed, run, "--train_steps=6", "--save_every=2")
    out = capsys.readouterr().out
    assert "at step 4" in out and "ckpt-6_temp" in out
    assert model.step == 6 and not (run / "checkpoints" / "ckpt-6_temp").exists()


def test_a_checkpoint_may_lack_late_items_but_not_required_ones(tmp_path):
    import tensorflow as tf
    v = tf.Variable(3.0)
    tf.train.Checkpoint(a=v).save(str(tmp_path / md.CHECKPOINTS / "ckpt"))  # ckpt-1
    a, b = tf.Variable(0.0), tf.Variable(7.0)
    full = tf.train.Checkpoint(a=a, b=b)
    path, damaged = md.restore_newest_readable(tf.train.Checkpoint(a=a), str(tmp_path),
                                               late=tf.train.Checkpoint(b=b))
    assert path.endswith("ckpt-1") and not damaged
    assert float(a) == 3.0 and float(b) == 7.0  # b (late) keeps its value
    with pytest.raises(ConfigError, match="does not match this model"):
        md.restore_newest_readable(full, str(tmp_path))


def test_resuming_with_other_settings_is_refused_and_changes_nothing(flags_parsed, tmp_path):
    run = tmp_path / "run"
    _train(flags_parsed, run, "--train_steps=2", "--save_every=2")
    before = (run / "config.json").read_text()
    for change, message in ((["--batch_size=32"], "batch_size: 16 -> 32"),
                            (["--seed=7"], "seed: 42 -> 7"),
                            (["--dataset=toy:grid25"], "dataset: toy:ring8 -> toy:grid25"),
                            (["--latent_dim=5"], "--latent_dim: 8 -> 5")):
        with pytest.raises(ConfigError, match=message):
            _train(flags_parsed, run, "--train_steps=4", *change)
        assert (run / "config.json").read_text() == before
    # what may change between sessions: the length, logging, saving
    assert _train(flags_parsed, run, "--train_steps=4", "--save_every=4",
                  "--log_every=1").step == 4


def test_nothing_is_written_when_the_model_cannot_be_built(flags_parsed, tmp_path):
    from tfgan_suite import train
    run = tmp_path / "run"
    flags_parsed(["--model=dcgan", "--dataset=bundled:mnist", "--image_size=7",
                  f"--model_dir={run}"])
    with pytest.raises(ConfigError, match="--image_size=7: .*try 28, 32, 64"):
        train.train()
    assert not (run / "config.json").exists() and not (run / "flags.txt").exists()


def test_unusable_model_dir_and_tiny_datasets_are_named(flags_parsed, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match=f"--model_dir={a_file} is a file"):
        _train(flags_parsed, a_file, "--train_steps=2")
    folder = tmp_path / "three"
    for i in range(3):
        write_png(folder / f"{i}.png", np.full((8, 8, 3), 40 * i))
    from tfgan_suite import train
    flags_parsed(["--model=gan", f"--dataset=folder:{folder}", "--image_size=8",
                  "--batch_size=64", f"--model_dir={tmp_path / 'run'}"])
    with pytest.raises(DataError, match="3 examples, fewer than one step"):
        train.train()


def test_a_stray_argument_suggests_flagfile(flags_parsed, capsys):
    from tfgan_suite import train
    flags_parsed([])
    with pytest.raises(SystemExit) as exit_info:
        train.main(["prog", "flags/dcgan_mnist_quick.cfg"])
    assert exit_info.value.code == 2
    assert "did you mean --flagfile=flags/dcgan_mnist_quick.cfg" in capsys.readouterr().err


@pytest.mark.cli
def test_sigterm_saves_a_checkpoint_and_exits(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "tfgan_suite.train", *TOY,
                             f"--model_dir={run}", "--train_steps=1000000", "--save_every=1000"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (run / "checkpoints" / "ckpt-1000.index").exists():
            time.sleep(0.1)
        assert (run / "checkpoints" / "ckpt-1000.index").exists(), "no checkpoint in 120 s"
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err[-2000:]
    step = int(out.split("Terminated (SIGTERM) at step ")[1].split(";")[0])
    assert step > 1000 and md.checkpoint_files(str(run))[step]
    assert tfgan_suite.load_model(str(run)).step == step
    assert not (run / md.LOCK).exists()


@pytest.mark.cli
def test_a_full_disk_during_a_save_keeps_the_previous_checkpoint(flags_parsed, tmp_path):
    """The save of ckpt-4 hits a file-size limit (what a full disk does to a
    write: the process's RLIMIT_FSIZE, below the checkpoint's size): exit 3
    naming the checkpoint and the cause, ckpt-2 still the latest and loading,
    no half-written folder left."""
    import resource
    run = tmp_path / "run"
    _train(flags_parsed, run, "--train_steps=2", "--save_every=2")
    size = os.path.getsize(md.checkpoint_files(str(run))[2] + ".data-00000-of-00001")

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, size // 2))

    proc = subprocess.run([sys.executable, "-m", "tfgan_suite.train", *TOY,
                           f"--model_dir={run}", "--train_steps=4", "--save_every=2"],
                          cwd=REPO, capture_output=True, text=True, preexec_fn=small_disk,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), timeout=300)
    assert proc.returncode == 3, proc.stderr[-2000:]
    message = proc.stderr.strip().splitlines()[-1]
    assert "could not save checkpoint ckpt-4" in message and "File too large" in message
    assert message.endswith(os.path.join(str(run), "checkpoints", "ckpt-2"))
    assert sorted(os.listdir(run / "checkpoints")) == [
        "checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"]
    assert _finite(run) == (2, True)
    assert not (run / md.LOCK).exists()


def _poison_generator_loss(monkeypatch, bad_steps):
    """The GAN's generator loss is NaN while the discriminator's update count
    (one per step, before G's update) is in ``bad_steps``."""
    import tensorflow as tf

    from tfgan_suite.models.gan import GAN
    original = GAN.generator_loss

    def poisoned(self, real, fake, fake_output):
        loss, logs = original(self, real, fake, fake_output)
        d_step = tf.cast(self.d_optimizer.iterations, tf.float32)
        bad = tf.reduce_any(tf.equal(d_step, tf.constant(bad_steps, tf.float32)))
        return loss * tf.where(bad, float("nan"), 1.0), logs

    monkeypatch.setattr(GAN, "generator_loss", poisoned)


@pytest.mark.parametrize("replicas", [1, 2])
def test_skip_step_drops_exactly_the_non_finite_update(monkeypatch, replicas):
    """--nan_policy=skip_step: a step whose G loss is NaN leaves every G weight,
    G slot and G iteration count as they were, D still updates, the drop is
    counted -- on one device and on two mirrored replicas."""
    import tensorflow as tf

    from tfgan_suite import distribute
    _poison_generator_loss(monkeypatch, [2.0])
    strategy = (distribute.make_strategy("mirrored", cpu_replicas=2) if replicas == 2
                else tf.distribute.OneDeviceStrategy("/cpu:0"))
    with strategy.scope():
        model = tfgan_suite.build("gan", (2,), seed=0)
    model.nan_policy = "skip_step"
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    ds = tf.data.Dataset.from_tensors(x).repeat()

    def snapshot():
        return ([v.numpy().copy() for v in model.g_variables()],
                [v.numpy().copy() for v in model.g_optimizer.variables],
                [v.numpy().copy() for v in model.d_variables()])

    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)  # step 1: finite
    g0, slots0, d0 = snapshot()
    history = model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0).history  # step 2: NaN
    g1, slots1, d1 = snapshot()
    for a, b in zip(g0 + slots0, g1 + slots1):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(d0, d1))
    assert model.step == 1 and int(model.skipped_updates.numpy()) == 1
    assert history["skipped_in_a_row"] == [1.0]
    assert np.isfinite(history["g_loss"][0])  # the dropped loss is not averaged in
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)  # step 3: finite again
    g2, _, _ = snapshot()
    assert model.step == 2 and int(model.g_skipped_in_a_row.numpy()) == 0
    assert any(not np.allclose(a, b) for a, b in zip(g1, g2))


def test_skip_step_run_trains_to_the_end_and_reports_the_drops(flags_parsed, tmp_path,
                                                               monkeypatch, capsys):
    _poison_generator_loss(monkeypatch, [3.0, 4.0, 5.0])
    run = tmp_path / "run"
    model = _train(flags_parsed, run, "--train_steps=8", "--save_every=4",
                   "--nan_policy=skip_step")
    assert model.step == 8 and int(model.skipped_updates.numpy()) == 3
    assert "Skipped 3 update(s)" in capsys.readouterr().out
    assert {4, 8} <= set(md.checkpoint_files(str(run)))
    assert _finite(run) == (8, True)


def test_skip_step_stops_after_the_limit_in_a_row(flags_parsed, tmp_path, monkeypatch):
    _poison_generator_loss(monkeypatch, [float(i) for i in range(3, 40)])
    with pytest.raises(TrainingError, match=r"diverged at step 2: 4 updates in a row had "
                                            r"non-finite losses or gradients"):
        _train(flags_parsed, tmp_path / "run", "--train_steps=20", "--save_every=2",
               "--nan_policy=skip_step", "--nan_skip_limit=4")
    assert _finite(tmp_path / "run") == (2, True)


def test_a_sigterm_inside_fit_is_raised_at_the_end_of_the_step():
    """Inside fit the handler only records the signal (an exception raised in a
    __del__ the garbage collector is running would be swallowed); the callback
    raises it after the step; a second SIGTERM, or one outside fit, raises at once."""
    from tfgan_suite import train
    callback = train.terminate_callback()
    with pytest.raises(train.Terminated):
        train._terminate(signal.SIGTERM, None)  # outside fit
    train._SIGTERM.update(defer=True, pending=False)
    try:
        callback.on_train_batch_end(0)  # nothing pending: the step goes on
        train._terminate(signal.SIGTERM, None)
        assert train._SIGTERM["pending"]
        with pytest.raises(train.Terminated):
            callback.on_train_batch_end(1)
        with pytest.raises(train.Terminated):
            train._terminate(signal.SIGTERM, None)  # the second one
    finally:
        train._SIGTERM.update(defer=False, pending=False)
