"""What a training run leaves in ``--model_dir`` and how to read it back.

    model_dir/
      config.json        model name, resolved hyper-parameters, data shape/kind/classes,
                         the data flags (``data``: dataset, direction, ...), seed
      flags.txt          the full flag set of the run, reusable with --flagfile
      checkpoints/       tf.train.CheckpointManager: networks, optimizers, noise state
      samples/step_XXXXXXX.png   grids from a fixed noise batch
      events.out.tfevents.*      TensorBoard scalars and images
"""
import json
import os
import tempfile

import tensorflow as tf
from absl import logging

from tfgan_suite.errors import ConfigError

CONFIG = "config.json"
CHECKPOINTS = "checkpoints"


def atomic_write(path, data):
    """Write ``data`` (bytes or str) to ``path`` through a temporary file and a
    rename, so readers never see a half-written file; mode 0644."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_config(model_dir, **config):
    atomic_write(os.path.join(model_dir, CONFIG), json.dumps(config, indent=2, default=list))


def read_config(model_dir):
    path = os.path.join(model_dir, CONFIG)
    if not os.path.exists(path):
        raise ConfigError(f"--model_dir={model_dir}: no {CONFIG}; is this a training run's "
                          f"directory?")
    with open(path) as f:
        return json.load(f)


def checkpoint_manager(model, model_dir, max_to_keep=5):
    ckpt = tf.train.Checkpoint(**model.checkpoint_items())
    return ckpt, tf.train.CheckpointManager(ckpt, os.path.join(model_dir, CHECKPOINTS),
                                            max_to_keep=max_to_keep)


def checkpoint_parts(model, ckpt):
    """(what every checkpoint of ``model`` must hold, its late items or None):
    ``ckpt`` and None unless the model declares ``late_checkpoint_items``,
    which an earlier run's checkpoint may lack. Each variable is in one part,
    so a restore reads it once."""
    late = set(model.late_checkpoint_items)
    if not late:
        return ckpt, None
    items = model.checkpoint_items()
    return (tf.train.Checkpoint(**{k: v for k, v in items.items() if k not in late}),
            tf.train.Checkpoint(**{k: v for k, v in items.items() if k in late}))


def load_model(model_dir, checkpoint=None):
    """Rebuild from config.json and restore ``checkpoint`` (default: the latest)."""
    import tfgan_suite
    from tfgan_suite import registry
    config = read_config(model_dir)
    # Runs written before a model stopped declaring a knob it never read (e.g.
    # latent_dim of the image-to-image models) still load: such keys are dropped.
    declared = registry.get(config["model"]).declarations
    hparams = {k: v for k, v in config["hparams"].items() if k in declared}
    model = tfgan_suite.build(config["model"], tuple(config["data_shape"]),
                              seed=config.get("seed"), data_kind=config.get("data_kind"),
                              class_names=config.get("class_names"), **hparams)
    ckpt, late = checkpoint_parts(model, tf.train.Checkpoint(**model.checkpoint_items()))
    if checkpoint:
        try:
            ckpt.restore(checkpoint).assert_existing_objects_matched().expect_partial()
            if late is not None:
                late.restore(checkpoint).expect_partial()
        except (tf.errors.OpError, ValueError, AssertionError, IndexError, OSError) as e:
            raise ConfigError(f"--checkpoint={checkpoint} cannot be read: "
                              f"{str(e).strip().splitlines()[0][:200]}") from None
    else:
        path, damaged = restore_newest_readable(ckpt, model_dir, partial=True,
                                                set_aside=False, late=late)
        if not path:
            found = f"; damaged: {', '.join(damaged)}" if damaged else ""
            raise ConfigError(f"--model_dir={model_dir}: no checkpoint in "
                              f"{os.path.join(model_dir, CHECKPOINTS)}{found}")
    model.after_restore()
    model.config = config
    return model


# ------------------------------------------------------------------ integrity
LOCK = "train.lock"


def checkpoint_files(model_dir):
    """{step: prefix} of the checkpoints on disk (``ckpt-N.index`` files), found
    from the files themselves, whatever the ``checkpoint`` index says."""
    directory = os.path.join(model_dir, CHECKPOINTS)
    found = {}
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        stem, ext = os.path.splitext(name)
        if ext == ".index" and stem.startswith("ckpt-") and stem[5:].isdigit():
            found[int(stem[5:])] = os.path.join(directory, stem)
    return dict(sorted(found.items()))


def clean_temporaries(model_dir):
    """Remove the ``*_temp`` folders a process killed mid-save leaves behind."""
    import shutil
    directory = os.path.join(model_dir, CHECKPOINTS)
    removed = []
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        if "_temp" in name:
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)
            removed.append(name)
    return removed


def _set_aside(prefix):
    """Rename the files of a damaged checkpoint to ``*.damaged`` (kept, never
    overwritten by a later save of the same step)."""
    directory, stem = os.path.split(prefix)
    for name in os.listdir(directory):
        if name.startswith(stem + ".") and not name.endswith(".damaged"):
            os.replace(os.path.join(directory, name), os.path.join(directory, name + ".damaged"))


def restore_newest_readable(ckpt, model_dir, partial=False, set_aside=True, late=None):
    """Restore the newest checkpoint of ``model_dir`` that reads.

    Candidates are the ``ckpt-N`` files on disk (so a deleted ``checkpoint``
    index loses nothing). A damaged one is reported by name, set aside as
    ``*.damaged`` (when ``set_aside``: the training process; readers such as
    ``sample`` leave the files alone) and the next older one is tried.
    ``late``: a Checkpoint of items the file may lack (state an earlier run
    did not have, see ``checkpoint_parts``), restored where it holds them.
    Returns (prefix or None, [damaged]).
    """
    damaged = []
    for step, prefix in sorted(checkpoint_files(model_dir).items(), reverse=True):
        try:
            status = ckpt.restore(prefix)
            if late is not None:
                late.restore(prefix).expect_partial()
        except (tf.errors.OpError, ValueError, IndexError, OSError) as e:
            reason = str(e).strip().splitlines()[0][:200]
            logging.warning("checkpoint %s is damaged (%s); trying an older one", prefix, reason)
            damaged.append(f"{os.path.basename(prefix)} ({reason})")
            if set_aside:
                _set_aside(prefix)
            continue
        status = status.expect_partial() if partial else status
        try:
            status.assert_existing_objects_matched()
        except AssertionError as e:  # readable, but of another model: not damage
            raise ConfigError(f"checkpoint {prefix} does not match this model: "
                              f"{str(e).strip().splitlines()[0][:200]}") from None
        return prefix, damaged
    return None, damaged


def all_finite(model):
    """Whether every variable of the model's networks is finite."""
    checks = [tf.reduce_all(tf.math.is_finite(v.value))
              for name in model.network_names for v in getattr(model, name).variables
              if "float" in str(v.dtype)]
    return bool(tf.reduce_all(checks)) if checks else True


class RunLock:
    """``model_dir/train.lock``: one training process per run directory.

    Held for the life of the run (pid, host, start time inside); a lock left by
    a process that no longer runs on this host is stale and taken over.
    """

    def __init__(self, model_dir):
        self.path = os.path.join(model_dir, LOCK)
        self.held = False

    def _owner(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def acquire(self):
        import socket
        import time
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner and owner.get("host") == me["host"] and not _alive(owner.get("pid")):
                    logging.warning("removing the stale lock of process %s", owner.get("pid"))
                    os.remove(self.path)
                    continue
                if owner is None:  # being written right now, or unreadable
                    time.sleep(0.2)
                    owner = self._owner() or {}
                    if not owner:
                        os.remove(self.path)
                        continue
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner.get("started", 0)))
                raise ConfigError(
                    f"--model_dir={os.path.dirname(self.path)} is in use by train process "
                    f"{owner.get('pid')} on {owner.get('host')} (since {since}); wait for it "
                    f"to finish or stop it, or use another --model_dir")
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise ConfigError(f"could not take the lock {self.path}")

    def release(self):
        if self.held:
            self.held = False
            owner = self._owner()
            if owner and owner.get("pid") == os.getpid() and os.path.exists(self.path):
                os.remove(self.path)


def _alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError, ValueError):
        return True
    return True


def check_writable(model_dir):
    """ConfigError naming the path when ``model_dir`` cannot hold a run."""
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise ConfigError(f"--model_dir={model_dir} is a file, not a directory")
    existing = os.path.abspath(model_dir)
    while not os.path.exists(existing):  # nothing is created here
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ConfigError(f"--model_dir={model_dir}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"--model_dir={model_dir} cannot be written ({existing} is not "
                          f"writable)")
