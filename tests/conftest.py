"""Test set-up: two logical CPU devices for the distribution tests, quiet TF logs.

The CPU must be split before TensorFlow initialises its devices, so it happens
here, at import, before any test module builds a tensor.
"""
import gc
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Two pytest workers share two cores: one intra-op thread each (and in the apps
# and notebook kernels they start) instead of two per process spinning on the
# same cores.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import pytest  # noqa: E402

from tfgan_suite.console import stderr_silenced  # noqa: E402

with stderr_silenced():  # TensorFlow's C++ start-up lines (CUDA probe on a CPU machine)
    import tensorflow as tf
    _cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Garbage collection between tests, not inside them. A worker that has built
# hundreds of models holds many TensorFlow objects in reference cycles; an
# automatic full collection starting inside a test ran their finalizers at
# whatever point it struck (in a MirroredStrategy replica thread, it stalled a
# trace for 40-50 s) and scanned every object imported so far. So: the objects
# of the imports are frozen out of every collection, automatic collection is
# off, and the worker collects after a test once 30 s of tests have run since
# its last collection.
gc.collect()
gc.freeze()
gc.disable()
_COLLECT_EVERY_S = 30.0
_last_collect = [time.perf_counter()]


@pytest.fixture(autouse=True)
def _collect_between_tests():
    yield
    if time.perf_counter() - _last_collect[0] > _COLLECT_EVERY_S:
        gc.collect()
        _last_collect[0] = time.perf_counter()


@pytest.fixture(autouse=True)
def _reset_keras_policy():
    import keras
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def flags_parsed():
    """Parse absl flags in-process: ``flags_parsed(["--model=gan", ...])``."""
    from absl import flags
    import tfgan_suite.sample  # noqa: F401  (defines its flags)
    import tfgan_suite.train  # noqa: F401

    def parse(args):
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["prog"] + list(args))
        return flags.FLAGS

    yield parse
    flags.FLAGS.unparse_flags()


def run_cli(module, *args, timeout=300, env=None):
    """Run ``python -m tfgan_suite.<module> args`` and return the CompletedProcess."""
    import subprocess
    full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
    return subprocess.run([sys.executable, "-m", f"tfgan_suite.{module}", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=full_env)


def write_png(path, array):
    """Write a uint8 [H, W, C] array as a PNG, creating the folders."""
    import numpy as np
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_png(np.asarray(array, np.uint8)))


def random_images(n, size, seed=0):
    """``n`` random uint8 RGB images of ``size`` x ``size``."""
    import numpy as np
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def step_on_one_and_two_replicas(one, two, tensors, networks, weight_atol=1e-6):
    """One train step of ``one`` (one device) and ``two`` (2 mirrored replicas)
    on the same global batch ``tensors``; asserts that their logs and the
    weights of ``networks`` agree, and returns the one-device logs."""
    import numpy as np
    import pytest
    import tensorflow as tf

    from tfgan_suite import data
    h1 = one.fit(tf.data.Dataset.from_tensors(tensors), epochs=1, steps_per_epoch=1,
                 verbose=0).history
    h2 = two.fit(tf.data.Dataset.from_tensors(tensors).map(
        lambda *t: data.interleave_for_replicas(t, 1, 2)), epochs=1, steps_per_epoch=1,
        verbose=0).history
    for key in h1:
        assert h1[key][0] == pytest.approx(h2[key][0], rel=1e-4, abs=1e-6), key
    for net in networks:
        for a, b in zip(getattr(one, net).get_weights(), getattr(two, net).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=weight_atol)
    return h1
