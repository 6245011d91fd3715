"""The baseline the throughput benchmarks compare with: the loop a tutorial writes."""


def plain_loop(generator, discriminator, latent_dim, batch, lr, beta1, xla):
    """The baseline: a tf.function step with two tapes, nothing else."""
    import keras
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt = keras.optimizers.Adam(lr, beta_1=beta1)
    d_opt = keras.optimizers.Adam(lr, beta_1=beta1)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)

    @tf.function(jit_compile=xla)
    def step(real):
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as tape:
            fake = generator(z, training=True)
            d_loss = losses.minimax_discriminator_loss(
                discriminator(real, training=True), discriminator(fake, training=True))
        grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as tape:
            g_loss = losses.non_saturating_generator_loss(
                discriminator(generator(z, training=True), training=True))
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        return d_loss, g_loss

    return step
