"""Choosing a tf.distribute strategy from ``--strategy`` and ``--cpu_replicas``."""
import json
import os

import tensorflow as tf
from absl import logging

from tfgan_suite.errors import ConfigError

STRATEGIES = ("auto", "mirrored", "multi_worker", "one_device")


def split_cpu(n):
    """Split the (first) CPU into ``n`` logical devices; must run before TF starts.

    Lets ``MirroredStrategy`` be exercised on a machine without GPUs.
    """
    if n <= 1:
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError as e:
        existing = len(tf.config.list_logical_devices("CPU"))
        if existing != n:
            raise ConfigError(f"--cpu_replicas={n}: TensorFlow was already initialised with "
                              f"{existing} CPU device(s) ({e})") from e


def _workers_in_tf_config():
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    except json.JSONDecodeError as e:
        raise ConfigError(f"TF_CONFIG is not valid JSON: {e}") from e
    return sum(len(cluster.get(k, [])) for k in ("chief", "worker"))


def make_strategy(name="auto", cpu_replicas=0):
    """Return a strategy.

    auto: MultiWorkerMirroredStrategy when TF_CONFIG lists several workers,
    MirroredStrategy over all GPUs (or over ``cpu_replicas`` logical CPUs),
    else the default single-device strategy.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"--strategy={name!r} is not one of {STRATEGIES}")
    if name == "auto" and _workers_in_tf_config() > 1:
        name = "multi_worker"
    if name == "multi_worker":
        # Must come before anything initialises TensorFlow's runtime (even
        # listing devices): collective ops are configured at start-up.
        if _workers_in_tf_config() < 1:
            raise ConfigError("--strategy=multi_worker needs TF_CONFIG with a cluster spec")
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        logging.info("MultiWorkerMirroredStrategy with %d replica(s)",
                     strategy.num_replicas_in_sync)
        return strategy
    gpus = tf.config.list_logical_devices("GPU")
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    if name == "auto":
        if len(gpus) > 1 or cpu_replicas > 1:
            name = "mirrored"
        else:
            return tf.distribute.get_strategy()
    if name == "mirrored":
        if gpus:
            strategy = tf.distribute.MirroredStrategy()
        else:
            # Logical CPU devices share one host: reduce on it. (Collective
            # all-reduce would also work, but its instance keys collide when a
            # process creates several strategies, as tests do.)
            devices = cpus[:cpu_replicas] if cpu_replicas > 1 else cpus[:1]
            strategy = tf.distribute.MirroredStrategy(
                devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
    else:
        device = gpus[0].name if gpus else cpus[0]
        strategy = tf.distribute.OneDeviceStrategy(device)
    logging.info("strategy %s with %d replica(s)", type(strategy).__name__,
                 strategy.num_replicas_in_sync)
    return strategy


def is_chief():
    """True on the worker that writes files (the only one without TF_CONFIG)."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    if not task:
        return True
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0
