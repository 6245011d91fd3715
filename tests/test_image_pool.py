"""The image pool: CycleGAN's 50-image history and SimGAN's half-history buffer."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_suite.image_pool import ImagePool


def _fill(value, n=1, shape=(2, 2, 1)):
    return tf.fill((n, *shape), float(value))


def test_pool_fills_first_and_returns_the_new_images():
    pool = ImagePool(3, (2, 2, 1))
    seed = keras.random.SeedGenerator(0)
    out = pool.query(tf.constant(np.arange(2, dtype="float32")[:, None, None, None]
                                 * np.ones((2, 2, 2, 1), "float32")), seed)
    np.testing.assert_array_equal(out.numpy()[:, 0, 0, 0], [0, 1])
    assert int(pool.count.numpy()) == 2
    out = pool.query(_fill(7), seed)
    assert float(out[0, 0, 0, 0]) == 7 and int(pool.count.numpy()) == 3
    np.testing.assert_array_equal(pool.images.numpy()[:, 0, 0, 0], [0, 1, 7])


def test_full_pool_returns_a_stored_image_about_half_the_time_and_swaps_it_in():
    pool = ImagePool(10, (1, 1, 1))
    seed = keras.random.SeedGenerator(3)
    pool.query(tf.constant(np.arange(10, dtype="float32").reshape(10, 1, 1, 1)), seed)
    old, trials = 0, 400
    for t in range(trials):
        value = 100.0 + t
        before = set(pool.images.numpy().ravel().tolist())
        shown = float(pool.query(_fill(value, shape=(1, 1, 1)), seed)[0, 0, 0, 0])
        after = set(pool.images.numpy().ravel().tolist())
        if shown != value:
            old += 1
            assert shown in before  # a stored image ...
            assert value in after  # ... replaced by the new one
        else:
            assert after == before  # the pool is unchanged
    assert 0.4 < old / trials < 0.6


def test_pool_survives_a_checkpoint_round_trip(tmp_path):
    pool = ImagePool(4, (2, 2, 1))
    pool.query(tf.random.uniform((3, 2, 2, 1)), keras.random.SeedGenerator(0))
    path = tf.train.Checkpoint(pool=pool).save(str(tmp_path / "ckpt"))
    fresh = ImagePool(4, (2, 2, 1))
    tf.train.Checkpoint(pool=fresh).restore(path).assert_consumed()
    np.testing.assert_array_equal(fresh.images.numpy(), pool.images.numpy())
    assert int(fresh.count.numpy()) == 3


def _mirrored_step(strategy, method, seed_value):
    with strategy.scope():
        pool = ImagePool(4, (1, 1, 1))
        seed = keras.random.SeedGenerator(seed_value)

    @tf.function
    def step(v):
        def replica_fn():
            rid = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group,
                          tf.float32)
            images = v * 10 + rid * 2 + tf.reshape(tf.range(2, dtype=tf.float32), (2, 1, 1, 1))
            return getattr(pool, method)(images, seed)
        return strategy.experimental_local_results(strategy.run(replica_fn))
    return pool, step


@pytest.mark.parametrize("method", ["query", "history_half"])
def test_pool_on_two_replicas_holds_the_global_batch_and_answers_as_one_device(method):
    """2 replicas x 2 images: every replica ends with the same pool, and the
    concatenated answers equal one device's answer for the global batch of 4
    (same seed), step after step, including once the pool is full."""
    mirrored = tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"], cross_device_ops=tf.distribute.ReductionToOneDevice())
    two, step_two = _mirrored_step(mirrored, method, 1)
    one = ImagePool(4, (1, 1, 1))
    seed = keras.random.SeedGenerator(1)
    swapped = False
    for k in range(6):
        got = np.concatenate([t.numpy().ravel() for t in step_two(tf.constant(float(k)))])
        batch = (10.0 * k + np.arange(4, dtype="float32")).reshape(4, 1, 1, 1)
        want = getattr(one, method)(tf.constant(batch), seed).numpy().ravel()
        np.testing.assert_array_equal(got, want)
        swapped |= not np.array_equal(want, batch.ravel())
        copies = [v.numpy().ravel() for v in two.images.values]
        np.testing.assert_array_equal(copies[0], copies[1])
        np.testing.assert_array_equal(copies[0], one.images.numpy().ravel())
    assert swapped  # the pool did answer with stored images


def test_history_half_mixes_current_and_stored_images():
    pool = ImagePool(8, (1, 1, 1))
    seed = keras.random.SeedGenerator(0)
    first = tf.constant(np.arange(8, dtype="float32").reshape(8, 1, 1, 1))
    np.testing.assert_array_equal(pool.history_half(first, seed).numpy(), first.numpy())
    new = tf.constant(np.arange(100, 108, dtype="float32").reshape(8, 1, 1, 1))
    out = pool.history_half(new, seed).numpy().ravel()
    np.testing.assert_array_equal(out[:4], [100, 101, 102, 103])  # current half
    assert all(v < 8 for v in out[4:])  # stored half
    stored = pool.images.numpy().ravel()
    assert 1 <= sum(v >= 104 for v in stored) <= 4  # new images replaced some slots
