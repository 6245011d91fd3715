"""Choosing a tf.distribute strategy from ``--strategy`` and ``--cpu_replicas``."""
import contextlib
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


def cpu_has_native_bfloat16(cpuinfo="/proc/cpuinfo"):
    """Whether the CPU computes in bfloat16 natively (AVX512-BF16 or AMX-BF16
    in ``cpuinfo``'s flags); False where that cannot be read."""
    try:
        with open(cpuinfo) as f:
            flags_ = set(f.read().split())
    except OSError:
        return False
    return bool(flags_ & {"avx512_bf16", "amx_bf16"})


def precision_policy(requested=None):
    """The Keras dtype policy for ``--mixed_precision`` (None: automatic).

    Automatic: ``mixed_bfloat16`` on a CPU-only machine whose CPU computes in
    bfloat16 natively (there DCGAN trained 1.3-1.5x faster than in float32,
    README *Results*), else ``float32`` (GPUs: not measured here, so float16
    is only used when asked for). Asked for: ``mixed_float16`` with a GPU,
    ``mixed_bfloat16`` without.
    """
    gpu = bool(tf.config.list_logical_devices("GPU"))
    if requested is None:
        requested = not gpu and cpu_has_native_bfloat16()
    if not requested:
        return "float32"
    return "mixed_float16" if gpu else "mixed_bfloat16"


@contextlib.contextmanager
def built_in(policy):
    """Networks built inside take the Keras dtype ``policy`` (e.g. from
    ``precision_policy``); the previous global policy comes back after."""
    import keras
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _tf_config():
    try:
        return json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    except json.JSONDecodeError as e:
        raise ConfigError(f"TF_CONFIG is not valid JSON: {e}") from e


def _workers_in_tf_config():
    cluster = _tf_config().get("cluster", {})
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
    config = _tf_config()
    task = config.get("task", {})
    if not task:
        return True
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0


def write_dir(model_dir):
    """Where this process writes its checkpoints: ``model_dir`` on the chief; on
    every other worker its own ``model_dir/.worker_tmp/<type>_<index>`` (Keras'
    multi-worker checkpointing has every worker save; two workers saving into
    one folder overwrite each other's temporary shards)."""
    if is_chief():
        return model_dir
    task = _tf_config().get("task", {})
    return os.path.join(model_dir, ".worker_tmp",
                        f"{task.get('type', 'worker')}_{int(task.get('index', 0))}")


def replica_count():
    """Replicas in sync under the current strategy (1 outside any)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_id():
    """This replica's index in its sync group (0 outside a replica context)."""
    ctx = tf.distribute.get_replica_context()
    return 0 if ctx is None else ctx.replica_id_in_sync_group


def draw_for_global_batch(draw, local_shape):
    """This replica's rows of random numbers drawn for the whole global batch.

    ``draw(shape)`` returns a random tensor of ``shape``; ``local_shape[0]`` is
    the replica's batch. Every replica shares the model's seed state, so a
    per-replica draw would hand all replicas the *same* numbers; drawing the
    global batch and slicing by replica id gives replica r the numbers row
    r*b ... (r+1)*b of a one-device run with the same global batch (the
    pipeline lays the data out the same way).
    """
    n = replica_count()
    if n == 1:
        return draw(local_shape)
    local_shape = list(local_shape)
    values = draw([local_shape[0] * n] + local_shape[1:])
    return tf.gather(tf.reshape(values, [n, -1] + local_shape[1:]), replica_id())


def global_sum(values):
    """Sum of each tensor in ``values`` over all replicas (identity on one)."""
    ctx = tf.distribute.get_replica_context()
    if replica_count() == 1 or ctx is None:
        return values
    return ctx.all_reduce(tf.distribute.ReduceOp.SUM, values)


def global_mean(value):
    """Mean of a per-replica scalar over the replicas (identity on one)."""
    n = replica_count()
    return value if n == 1 else global_sum(value) / n


def gather_global(x):
    """``x`` of every replica concatenated along axis 0, in replica order
    (identity on one). Differentiable: the gradient reaches each replica's rows."""
    ctx = tf.distribute.get_replica_context()
    if replica_count() == 1 or ctx is None:
        return x
    return ctx.all_gather(x, axis=0)
