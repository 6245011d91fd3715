"""FusedAdam: Keras' Adam done by TensorFlow's fused kernel, on one device and
two replicas; the restartable variant's step count."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_suite import optimizers
from tfgan_suite.optimizers import FusedAdam, RestartableAdam

SHAPES = [(3, 4), (5,), (2, 3, 2)]


def _gradients(step):
    rng = np.random.default_rng(step)
    return [rng.normal(size=s).astype("float32") for s in SHAPES]


def _train(make_optimizer, steps=4, strategy=None):
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        optimizer = make_optimizer()
        weights = [keras.Variable(np.full(s, 0.5, "float32")) for s in SHAPES]
        optimizer.build(weights)

    @tf.function
    def apply(grads):
        def replica():
            # Each replica's gradient is grads / replicas: the all-reduced sum is grads.
            n = tf.distribute.get_replica_context().num_replicas_in_sync
            optimizer.apply_gradients(zip([g / n for g in grads], weights))
        strategy.run(replica)

    for step in range(steps):
        apply([tf.constant(g) for g in _gradients(step)])
    return [w.numpy() for w in weights], optimizer


def _adam_by_hand(lr, b1, b2, eps, steps=4):
    """Adam's update written out in numpy (Kingma & Ba, Algorithm 1, with
    epsilon added to sqrt(v) and the bias correction folded into the step)."""
    weights = [np.full(s, 0.5, "float64") for s in SHAPES]
    m = [np.zeros(s) for s in SHAPES]
    v = [np.zeros(s) for s in SHAPES]
    for step in range(steps):
        t = step + 1
        for i, g in enumerate(_gradients(step)):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            weights[i] -= alpha * m[i] / (np.sqrt(v[i]) + eps)
    return weights


def test_fused_adam_matches_adam_by_hand_and_keras_adam():
    kw = dict(learning_rate=0.01, beta_1=0.5, beta_2=0.99, epsilon=1e-3)
    fused, _ = _train(lambda: FusedAdam(**kw))
    plain, _ = _train(lambda: keras.optimizers.Adam(**kw))
    for a, b, c in zip(fused, plain, _adam_by_hand(0.01, 0.5, 0.99, 1e-3)):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fused_adam_runs_the_fused_kernel():
    opt = FusedAdam(0.01)
    var = keras.Variable(np.ones((2, 2), "float32"))
    opt.build([var])
    graph = tf.function(lambda g: opt.apply_gradients([(g, var)])).get_concrete_function(
        tf.TensorSpec((2, 2), tf.float32)).graph
    ops = {op.type for op in graph.get_operations()}
    assert "ResourceApplyAdam" in ops


def test_fused_adam_on_two_replicas_equals_one_device():
    devices = [d.name for d in tf.config.list_logical_devices("CPU")][:2]
    kw = dict(learning_rate=0.01, beta_1=0.5, beta_2=0.99, epsilon=1e-3)
    one, _ = _train(lambda: FusedAdam(**kw))
    two, opt = _train(lambda: FusedAdam(**kw), strategy=tf.distribute.MirroredStrategy(devices))
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(opt.iterations.numpy()) == 4


def _embedding_updates(optimizer, sparse):
    table = keras.Variable(np.zeros((4, 2), "float32"))
    optimizer.build([table])
    optimizer.apply_gradients([(tf.ones((4, 2)), table)])  # every row's moments start
    grad = tf.IndexedSlices(tf.ones((1, 2)), tf.constant([2]), tf.constant([4, 2]))
    optimizer.apply_gradients([(grad if sparse else tf.convert_to_tensor(grad), table)])
    return table.numpy()


def test_sparse_gradients_update_as_in_keras_adam():
    """An embedding's IndexedSlices gradient: the same update as Keras' Adam
    (which makes it dense: the rows it does not touch move too)."""
    fused = _embedding_updates(FusedAdam(0.1), sparse=True)
    np.testing.assert_allclose(fused, _embedding_updates(keras.optimizers.Adam(0.1), True),
                               rtol=2e-5)


def test_restartable_adam_counts_t_from_its_restart():
    kw = dict(learning_rate=0.01, beta_1=0.5, beta_2=0.99, epsilon=1e-3)
    _, opt = _train(lambda: RestartableAdam(**kw), steps=3)
    opt.restart()  # at iteration 3: the next update is Adam's first again
    assert all(not np.any(s.numpy()) for s in opt._momentums + opt._velocities)  # noqa
    var = opt._trainable_variables[1]  # noqa  (shape (5,))
    var.assign(np.zeros(5, "float32"))
    g = np.array([1.0, -2.0, 0.5, 3.0, -0.1], "float32")
    opt.apply_gradients([(tf.zeros(s), v) if i != 1 else (tf.constant(g), v)
                         for i, (s, v) in enumerate(zip(SHAPES, opt._trainable_variables))])  # noqa
    # Adam's first update (Keras' epsilon form): -lr * g / (|g| + eps / sqrt(1 - b2));
    # with t counted from iteration 0 instead (t = 4) it would be 6% larger.
    expected = -0.01 * g / (np.abs(g) + 1e-3 / np.sqrt(1 - 0.99))
    np.testing.assert_allclose(var.numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("kind,cls", [("adam", FusedAdam), ("rmsprop", keras.optimizers.RMSprop)])
def test_make_optimizer_builds_the_fused_adam(kind, cls):
    hp = dict(optimizer=kind, g_learning_rate=1e-3, d_learning_rate=1e-3, beta1=0.5,
              beta2=0.999, lr_constant_steps=0, lr_decay_steps=0)
    assert type(optimizers.make_optimizer(hp, "g")) is cls
