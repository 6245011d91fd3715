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
    ckpt, manager = checkpoint_manager(model, model_dir)
    path = checkpoint or manager.latest_checkpoint
    if not path:
        raise ConfigError(f"--model_dir={model_dir}: no checkpoint in "
                          f"{os.path.join(model_dir, CHECKPOINTS)}")
    ckpt.restore(path).assert_existing_objects_matched().expect_partial()
    model.config = config
    return model
