"""The baseline the throughput benchmarks compare with: the loop a tutorial writes."""


def _adam_pair(generator, discriminator, lr, beta1, beta2=0.999):
    """Adam for G and for D, built on their variables."""
    import keras
    g_opt = keras.optimizers.Adam(lr, beta_1=beta1, beta_2=beta2)
    d_opt = keras.optimizers.Adam(lr, beta_1=beta1, beta_2=beta2)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    return g_opt, d_opt


def plain_loop(generator, discriminator, latent_dim, batch, lr, beta1, xla):
    """The baseline: a tf.function step with two tapes, nothing else."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1)

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


def tutorial_loop(generator, discriminator, latent_dim, batch, lr, beta1, xla):
    """The TF DCGAN tutorial's step: one G(z) and one D pass on the real and the
    generated batch, both gradients from that pass, then both updates."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1)

    @tf.function(jit_compile=xla)
    def step(real):
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(z, training=True)
            real_out = discriminator(real, training=True)
            fake_out = discriminator(fake, training=True)
            d_loss = losses.minimax_discriminator_loss(real_out, fake_out)
            g_loss = losses.non_saturating_generator_loss(fake_out)
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return d_loss, g_loss

    return step


def wgan_gp_loop(generator, discriminator, latent_dim, batch, lr, beta1, beta2, disc_steps,
                 gp_weight, xla, drift=0.0, alpha=None, ema=None):
    """WGAN-GP as a tutorial writes it (Gulrajani et al. 2017, Algorithm 1):
    ``disc_steps`` critic updates, each on its slice of the element's real
    images with the gradient penalty from an inner tape, then one G update.

    Progressive GAN at a fixed stage is the same loop with ``alpha`` (the fade
    input both networks take; 1.0 at the last stage), the drift term
    ``drift * E[D(x)^2]`` and ``ema = (averaged copy of G, decay)``, updated
    after each G step as the paper's Gs."""
    import tensorflow as tf
    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1, beta2)
    if alpha is None:
        G, D = generator, discriminator
    else:
        def G(z, training):
            return generator((z, alpha), training=training)

        def D(x, training):
            return discriminator((x, alpha), training=training)

    @tf.function(jit_compile=xla)
    def step(real):
        for i in range(disc_steps):
            x = real[i * batch:(i + 1) * batch]
            z = tf.random.normal((batch, latent_dim))
            with tf.GradientTape() as tape:
                fake = G(z, training=True)
                eps = tf.random.uniform((batch, 1, 1, 1))
                mixed = eps * x + (1.0 - eps) * fake
                with tf.GradientTape() as inner:
                    inner.watch(mixed)
                    mixed_out = D(mixed, training=True)
                grad = inner.gradient(mixed_out, mixed)
                norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]) + 1e-12)
                real_out = D(x, training=True)
                d_loss = (tf.reduce_mean(D(fake, training=True)) - tf.reduce_mean(real_out)
                          + gp_weight * tf.reduce_mean(tf.square(norm - 1.0)))
                if drift:
                    d_loss += drift * tf.reduce_mean(tf.square(real_out))
            grads = tape.gradient(d_loss, discriminator.trainable_variables)
            d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(D(G(z, training=True), training=True))
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        if ema is not None:
            average, decay = ema
            for a, w in zip(average.trainable_variables, generator.trainable_variables):
                a.assign(decay * a + (1.0 - decay) * w)
        return d_loss, g_loss

    return step


def cgan_loop(generator, discriminator, latent_dim, num_classes, batch, lr, beta1, xla):
    """A conditional GAN as a tutorial writes it: G([z, y]) and D([x, y]), real
    images with their labels against fakes with uniformly drawn ones, fresh
    noise and labels for the generator's update."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1)

    def draw():
        return (tf.random.normal((batch, latent_dim)),
                tf.random.uniform((batch,), 0, num_classes, dtype=tf.int32))

    @tf.function(jit_compile=xla)
    def step(element):
        real, labels = element
        z, y = draw()
        with tf.GradientTape() as tape:
            fake = generator([z, y], training=True)
            d_loss = losses.minimax_discriminator_loss(
                discriminator([real, labels], training=True),
                discriminator([fake, y], training=True))
        grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        z, y = draw()
        with tf.GradientTape() as tape:
            g_loss = losses.non_saturating_generator_loss(
                discriminator([generator([z, y], training=True), y], training=True))
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        return d_loss, g_loss

    return step
