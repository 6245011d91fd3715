"""History of generated images for the discriminator (Shrivastava et al. 2017;
used by CycleGAN with 50 images).

The discriminator is updated with a mix of current and earlier fakes, so it
does not forget the generator's past mistakes and the two networks oscillate
less. ``ImagePool.query(images)`` follows CycleGAN's rule, image by image:

* while the pool holds fewer than ``size`` images, store the new image and
  return it;
* once full, with probability 1/2 return a uniformly chosen stored image and put
  the new one in its place; otherwise return the new image and keep the pool.

The pool lives in TF variables, so it works inside ``tf.function`` and is saved
in checkpoints (it is a ``tf.Module``: list it in a ``tf.train.Checkpoint``).

Distribution: the pool holds the fakes of the *global* batch. Each replica
gathers the batch of every replica (``all_gather``, in replica order), runs the
same query on it with the same random draws (the caller's seed generator is the
same on every replica), and keeps its own slice of the answer. So every replica
holds an identical pool, N replicas make exactly the choices one device makes
for the same global batch, and a checkpoint written on N replicas resumes on M.
The variables are ``ON_READ`` (sync-on-read) with aggregation
``ONLY_FIRST_REPLICA``: each replica writes its copy locally, and a checkpoint
stores replica 0's. The traffic is one gather of the generated batch per step.
"""
import keras
import tensorflow as tf


def _over_global_batch(fn, images):
    """``fn`` run on the global batch; this replica's slice of its answer."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return fn(images)
    everything = context.all_gather(images, axis=0)
    local = tf.shape(images)[0]
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * local
    result = fn(everything)[start:start + local]
    result.set_shape(images.shape)
    return result


class ImagePool(tf.Module):
    """A history buffer of ``size`` images of ``image_shape``."""

    def __init__(self, size, image_shape, name="image_pool"):
        super().__init__(name=name)
        if int(size) < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = int(size)
        kwargs = dict(trainable=False, synchronization=tf.VariableSynchronization.ON_READ,
                      aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.images = tf.Variable(tf.zeros([max(self.size, 1), *image_shape], tf.float32),
                                  name="images", **kwargs)
        self.count = tf.Variable(0, dtype=tf.int32, name="count", **kwargs)

    def query(self, images, seed=None):
        """Images to show the discriminator in place of ``images`` [B, H, W, C].

        Written with explicit ``tf.while_loop`` / ``tf.cond`` (Keras compiles
        ``train_step`` without AutoGraph).
        """
        if self.size == 0:
            return images
        return _over_global_batch(lambda x: self._query(x, seed), tf.cast(images, tf.float32))

    def _query(self, images, seed):
        batch = tf.shape(images)[0]
        draws = keras.random.uniform((batch, 2), seed=seed)

        def body(i, pool, count, out):
            image = images[i]

            def store():
                return (tf.tensor_scatter_nd_update(pool, [[count]], image[None]),
                        count + 1, image)

            def swap():
                slot = tf.minimum(tf.cast(draws[i, 1] * self.size, tf.int32), self.size - 1)
                return (tf.tensor_scatter_nd_update(pool, [[slot]], image[None]), count,
                        pool[slot])

            def keep():
                return pool, count, image

            pool, count, shown = tf.cond(
                count < self.size, store,
                lambda: tf.cond(draws[i, 0] < 0.5, swap, keep))
            return i + 1, pool, count, out.write(i, shown)

        out = tf.TensorArray(tf.float32, size=batch, element_shape=images.shape[1:])
        _, pool, count, out = tf.while_loop(
            lambda i, *_: i < batch, body,
            (tf.constant(0), self.images.read_value(), self.count.read_value(), out))
        self.images.assign(pool)
        self.count.assign(count)
        result = out.stack()
        result.set_shape(images.shape)
        return result

    def history_half(self, images, seed=None):
        """SimGAN's buffer (Shrivastava et al. 2017, section 3.3): a batch of b
        refined images for the discriminator with b/2 current and b/2 drawn from
        the history, whose b/2 random slots then take the new images.

        Until the buffer is full, new images fill it and the batch is returned
        as is.
        """
        if self.size == 0:
            return images
        return _over_global_batch(lambda x: self._history_half(x, seed),
                                  tf.cast(images, tf.float32))

    def _history_half(self, images, seed):
        batch = images.shape[0] if images.shape[0] is not None else tf.shape(images)[0]
        half = batch // 2
        count = self.count.read_value()
        pool = self.images.read_value()

        def fill():
            take = tf.minimum(batch, self.size - count)
            slots = count + tf.range(take)
            return (tf.tensor_scatter_nd_update(pool, slots[:, None], images[:take]),
                    count + take, images)

        def mix():
            draws = keras.random.randint((2, half), 0, self.size, seed=seed)
            old = tf.gather(pool, draws[0])
            return (tf.tensor_scatter_nd_update(pool, draws[1][:, None], images[batch - half:]),
                    count, tf.concat([images[:batch - half], old], axis=0))

        pool, count, result = tf.cond(count < self.size, fill, mix)
        self.images.assign(pool)
        self.count.assign(count)
        result.set_shape(images.shape)
        return result
