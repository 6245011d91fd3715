"""The baseline the throughput benchmarks compare with: the loop a tutorial writes."""


def _adam_pair(generator, discriminator, lr, beta1, beta2=0.999, d_lr=None, kind="adam"):
    """Keras' Adam (or RMSProp with ``kind="rmsprop"``) for G (rate ``lr``) and
    for D (``d_lr``, default ``lr``), built on their variables."""
    import keras

    def make(rate):
        if kind == "rmsprop":
            return keras.optimizers.RMSprop(rate)
        return keras.optimizers.Adam(rate, beta_1=beta1, beta_2=beta2)
    g_opt, d_opt = make(lr), make(lr if d_lr is None else d_lr)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    return g_opt, d_opt


def _descend(optimizer, tape, loss, network):
    """One update of ``network``'s trainable variables on ``loss`` from ``tape``."""
    grads = tape.gradient(loss, network.trainable_variables)
    optimizer.apply_gradients(zip(grads, network.trainable_variables))


def _noise_and_labels(batch, latent_dim, num_classes):
    """z ~ N(0, I) and uniform class labels for a conditional generator."""
    import tensorflow as tf
    return (tf.random.normal((batch, latent_dim)),
            tf.random.uniform((batch,), 0, num_classes, dtype=tf.int32))


def gan_objective(least_squares=False):
    """(D loss, G loss) of the GAN: cross-entropy with the non-saturating G loss,
    or LSGAN's (a, b, c) = (0, 1, 1) with ``least_squares``. Every objective's
    D loss takes (x, D(x), G(z), D(G(z))) and its G loss (G(z), D(G(z))). The
    objectives are the models' losses at their default settings (no label
    smoothing, the non-saturating G loss, LSGAN's default coding)."""
    from tfgan_suite import losses
    if least_squares:
        return (lambda x, real_out, fake, fake_out: losses.least_squares_discriminator_loss(
                    real_out, fake_out),
                lambda fake, fake_out: losses.least_squares_generator_loss(fake_out))
    return (lambda x, real_out, fake, fake_out: losses.minimax_discriminator_loss(
                real_out, fake_out),
            lambda fake, fake_out: losses.non_saturating_generator_loss(fake_out))


def wasserstein_objective():
    """The WGAN critic and generator losses (clipping is the loop's ``after_d``)."""
    from tfgan_suite import losses
    return (lambda x, real_out, fake, fake_out: losses.wasserstein_critic_loss(
                real_out, fake_out),
            lambda fake, fake_out: losses.wasserstein_generator_loss(fake_out))


def hinge_objective():
    """The hinge loss (hinge, sngan): max(0, 1 - D(x)) + max(0, 1 + D(G(z))), -D(G(z))."""
    from tfgan_suite import losses
    return (lambda x, real_out, fake, fake_out: losses.hinge_discriminator_loss(
                real_out, fake_out),
            lambda fake, fake_out: losses.hinge_generator_loss(fake_out))


def clipper(network, c):
    """WGAN's clipping of every critic weight to [-c, c], as ``after_d``."""
    import tensorflow as tf

    def clip():
        for v in network.trainable_variables:
            v.assign(tf.clip_by_value(v, -c, c))
    return clip


def fgan_objective(divergence):
    """f-GAN's variational bound for ``divergence`` (Nowozin et al. 2016, Table 2)."""
    from tfgan_suite import losses
    return (lambda x, real_out, fake, fake_out: losses.f_divergence_critic_loss(
                divergence, real_out, fake_out),
            lambda fake, fake_out: losses.f_divergence_generator_loss(divergence, fake_out))


def dragan_objective(discriminator, weight, scale):
    """The GAN losses plus DRAGAN's penalty, written out with an inner tape:
    weight * E[(||grad D(x + scale * std(x) * U[0, 1])|| - 1)^2]."""
    import tensorflow as tf
    d_gan, g_gan = gan_objective()

    def d_loss(x, real_out, fake, fake_out):
        perturbed = x + scale * tf.math.reduce_std(x) * tf.random.uniform(tf.shape(x))
        with tf.GradientTape() as inner:
            inner.watch(perturbed)
            out = discriminator(perturbed, training=True)
        grad = inner.gradient(out, perturbed)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]) + 1e-12)
        return (d_gan(x, real_out, fake, fake_out)
                + weight * tf.reduce_mean(tf.square(norm - 1.0)))
    return d_loss, g_gan


def ebgan_objective(margin, pt_weight):
    """EBGAN (Zhao et al. 2017): D is an autoencoder returning [reconstruction,
    code]; L_D = D(x) + max(0, m - D(G(z))), L_G = D(G(z)) + pt_weight * PT."""
    import tensorflow as tf

    from tfgan_suite import losses

    def d_loss(x, real_out, fake, fake_out):
        return (tf.reduce_mean(losses.reconstruction_energy(x, real_out[0]))
                + tf.reduce_mean(tf.nn.relu(
                    margin - losses.reconstruction_energy(fake, fake_out[0]))))

    def g_loss(fake, fake_out):
        return (tf.reduce_mean(losses.reconstruction_energy(fake, fake_out[0]))
                + pt_weight * losses.pulling_away_term(fake_out[1]))
    return d_loss, g_loss


class BeganObjective:
    """BEGAN (Berthelot et al. 2017): L1 energies, L_D = L(x) - k_t L(G(z)),
    L_G = L(G(z)); ``after_d`` makes k_t's clipped update after each D step."""

    def __init__(self, gamma, lambda_k):
        import tensorflow as tf
        self.k = tf.Variable(0.0, trainable=False)
        self.gamma, self.lambda_k = gamma, lambda_k
        self.balance = None

    def losses(self):
        import tensorflow as tf

        from tfgan_suite.losses import reconstruction_energy

        def energy(images, output):
            return tf.reduce_mean(reconstruction_energy(images, output[0], "l1"))

        def d_loss(x, real_out, fake, fake_out):
            l_real, l_fake = energy(x, real_out), energy(fake, fake_out)
            self.balance = tf.stop_gradient(self.gamma * l_real - l_fake)
            return l_real - self.k * l_fake

        def g_loss(fake, fake_out):
            return energy(fake, fake_out)
        return d_loss, g_loss

    def after_d(self):
        import tensorflow as tf
        self.k.assign(tf.clip_by_value(self.k + self.lambda_k * self.balance, 0.0, 1.0))


def plain_loop(generator, discriminator, latent_dim, batch, lr, beta1, xla,
               objective=None, d_lr=None, disc_steps=1, optimizer="adam", after_d=None):
    """The baseline: a tf.function step with two tapes, nothing else.

    ``objective`` is a (D loss, G loss) pair (default: ``gan_objective()``);
    ``disc_steps`` D updates, each on its slice of the element's real images,
    then one G update with fresh noise; ``after_d`` runs after each D update
    (WGAN's clipping, BEGAN's k_t). ``optimizer``: adam (beta1) or rmsprop."""
    import tensorflow as tf

    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1, d_lr=d_lr, kind=optimizer)
    d_loss_fn, g_loss_fn = objective or gan_objective()

    @tf.function(jit_compile=xla)
    def step(real):
        for i in range(disc_steps):
            x = real[i * batch:(i + 1) * batch]
            z = tf.random.normal((batch, latent_dim))
            with tf.GradientTape() as tape:
                fake = generator(z, training=True)
                d_loss = d_loss_fn(x, discriminator(x, training=True), fake,
                                   discriminator(fake, training=True))
            _descend(d_opt, tape, d_loss, discriminator)
            if after_d is not None:
                after_d()
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as tape:
            fake = generator(z, training=True)
            g_loss = g_loss_fn(fake, discriminator(fake, training=True))
        _descend(g_opt, tape, g_loss, generator)
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
            _descend(d_opt, tape, d_loss, discriminator)
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(D(G(z, training=True), training=True))
        _descend(g_opt, tape, g_loss, generator)
        _ema_update(None if ema is None else ema + (generator,))
        return d_loss, g_loss

    return step


def cgan_loop(generator, discriminator, latent_dim, num_classes, batch, lr, beta1, xla):
    """A conditional GAN as a tutorial writes it: G([z, y]) and D([x, y]), real
    images with their labels against fakes with uniformly drawn ones, fresh
    noise and labels for the generator's update."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1)

    @tf.function(jit_compile=xla)
    def step(element):
        real, labels = element
        z, y = _noise_and_labels(batch, latent_dim, num_classes)
        with tf.GradientTape() as tape:
            fake = generator([z, y], training=True)
            d_loss = losses.minimax_discriminator_loss(
                discriminator([real, labels], training=True),
                discriminator([fake, y], training=True))
        _descend(d_opt, tape, d_loss, discriminator)
        z, y = _noise_and_labels(batch, latent_dim, num_classes)
        with tf.GradientTape() as tape:
            g_loss = losses.non_saturating_generator_loss(
                discriminator([generator([z, y], training=True), y], training=True))
        _descend(g_opt, tape, g_loss, generator)
        return d_loss, g_loss

    return step


def _ema_update(ema):
    """The averaged copy of G after a G step: ``ema = (copy, decay, G)`` or None."""
    if ema is not None:
        average, decay, generator = ema
        for a, w in zip(average.trainable_variables, generator.trainable_variables):
            a.assign(decay * a + (1.0 - decay) * w)


def acgan_loop(generator, discriminator, latent_dim, num_classes, batch, lr, beta1, xla):
    """ACGAN as a tutorial writes it (Odena et al. 2017): G([z, c]); D(x) gives
    a source logit and class logits; D minimises the source cross-entropy plus
    the class cross-entropy on real and generated images, G the non-saturating
    source loss plus the class cross-entropy of its images."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1)

    @tf.function(jit_compile=xla)
    def step(element):
        real, labels = element
        z, c = _noise_and_labels(batch, latent_dim, num_classes)
        with tf.GradientTape() as tape:
            fake = generator([z, c], training=True)
            real_source, real_classes = discriminator(real, training=True)
            fake_source, fake_classes = discriminator(fake, training=True)
            d_loss = (losses.minimax_discriminator_loss(real_source, fake_source)
                      + losses.class_cross_entropy(labels, real_classes)
                      + losses.class_cross_entropy(c, fake_classes))
        _descend(d_opt, tape, d_loss, discriminator)
        z, c = _noise_and_labels(batch, latent_dim, num_classes)
        with tf.GradientTape() as tape:
            source, classes = discriminator(generator([z, c], training=True), training=True)
            g_loss = (losses.non_saturating_generator_loss(source)
                      + losses.class_cross_entropy(c, classes))
        _descend(g_opt, tape, g_loss, generator)
        return d_loss, g_loss

    return step


def biggan_loop(generator, discriminator, latent_dim, num_classes, batch, g_lr, d_lr, beta1,
                beta2, disc_steps, ortho_kernels, ortho_weight, ema, xla):
    """BigGAN as a tutorial writes it (Brock et al. 2019): ``disc_steps`` hinge
    D updates, each on its slice of the element with its real labels against
    G([z, c]) with uniform c, D([x, c]) the projection discriminator; then one
    G update on the hinge loss plus beta times the orthogonal regularisation of
    ``ortho_kernels``, and the moving average of G (``ema = (copy, decay)``)."""
    import tensorflow as tf

    from tfgan_suite import losses
    from tfgan_suite.layers import orthogonal_regularization
    g_opt, d_opt = _adam_pair(generator, discriminator, g_lr, beta1, beta2, d_lr=d_lr)

    @tf.function(jit_compile=xla)
    def step(element):
        real, labels = element
        for i in range(disc_steps):
            x, y = real[i * batch:(i + 1) * batch], labels[i * batch:(i + 1) * batch]
            z, c = _noise_and_labels(batch, latent_dim, num_classes)
            with tf.GradientTape() as tape:
                fake = generator([z, c], training=True)
                d_loss = losses.hinge_discriminator_loss(
                    discriminator([x, y], training=True),
                    discriminator([fake, c], training=True))
            _descend(d_opt, tape, d_loss, discriminator)
        z, c = _noise_and_labels(batch, latent_dim, num_classes)
        with tf.GradientTape() as tape:
            out = discriminator([generator([z, c], training=True), c], training=True)
            ortho = tf.add_n([orthogonal_regularization(k, 1.0) for k in ortho_kernels])
            g_loss = losses.hinge_generator_loss(out) + ortho_weight * ortho
        _descend(g_opt, tape, g_loss, generator)
        _ema_update(ema + (generator,))
        return d_loss, g_loss

    return step


def stylegan_loop(generator, discriminator, latent_dim, batch, lr, beta1, beta2, r1_gamma,
                  mixing, ema, xla):
    """StyleGAN as its released code trains it at a fixed resolution (Karras et
    al. 2019): G((z, z2, crossover, psi, alpha)) with style mixing for a
    ``mixing`` fraction of samples, D((x, alpha)); the non-saturating logistic
    loss with R1 (``r1_gamma``) taken from the real forward pass, one D update
    per G update, and the moving average of G (``ema = (copy, decay)``)."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1, beta2)
    alpha, psi = tf.constant(1.0), tf.constant(1.0)
    layers = float(generator.layers_at())

    def G(training):
        u = tf.random.uniform((batch, 2))
        point = 1 + tf.cast(tf.floor(u[:, 1] * (layers - 1.0)), tf.int32)
        crossover = tf.where(u[:, 0] < mixing, point, generator.num_layers)
        z, z2 = tf.random.normal((batch, latent_dim)), tf.random.normal((batch, latent_dim))
        return generator((z, z2, crossover, psi, alpha), training=training)

    @tf.function(jit_compile=xla)
    def step(real):
        with tf.GradientTape() as tape:
            fake = G(training=True)
            with tf.GradientTape() as inner:
                inner.watch(real)
                real_out = discriminator((real, alpha), training=True)
                score = tf.reduce_sum(real_out)
            grad = inner.gradient(score, real)
            r1 = 0.5 * tf.reduce_mean(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]))
            d_loss = (losses.minimax_discriminator_loss(
                real_out, discriminator((fake, alpha), training=True)) + r1_gamma * r1)
        _descend(d_opt, tape, d_loss, discriminator)
        with tf.GradientTape() as tape:
            g_loss = losses.non_saturating_generator_loss(
                discriminator((G(training=True), alpha), training=True))
        _descend(g_opt, tape, g_loss, generator)
        _ema_update(ema + (generator,))
        return d_loss, g_loss

    return step


def infogan_loop(generator, discriminator, latent_dim, num_categories, num_continuous, batch,
                 g_lr, d_lr, beta1, info_weight, info_weight_continuous, xla):
    """InfoGAN as a tutorial writes it (Chen et al. 2016): G([z, c, u]) with a
    uniform categorical code c and continuous codes u in [-1, 1]; D(x) gives the
    source logit and Q's categorical logits and continuous means; D (with Q) and
    G each add lambda times the information loss (cross-entropy of c, Gaussian
    NLL of u) on the generated batch to their GAN loss."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(generator, discriminator, g_lr, beta1, d_lr=d_lr)

    def draw():
        return [*_noise_and_labels(batch, latent_dim, num_categories),
                tf.random.uniform((batch, num_continuous), -1.0, 1.0)]

    def information(codes, q_categorical, q_continuous):
        return (info_weight * losses.class_cross_entropy(codes[1], q_categorical)
                + info_weight_continuous * losses.gaussian_code_nll(codes[2], q_continuous))

    @tf.function(jit_compile=xla)
    def step(real):
        codes = draw()
        with tf.GradientTape() as tape:
            fake = generator(codes, training=True)
            real_logit = discriminator(real, training=True)[0]
            fake_logit, q_categorical, q_continuous = discriminator(fake, training=True)
            d_loss = (losses.minimax_discriminator_loss(real_logit, fake_logit)
                      + information(codes, q_categorical, q_continuous))
        _descend(d_opt, tape, d_loss, discriminator)
        codes = draw()
        with tf.GradientTape() as tape:
            logit, q_categorical, q_continuous = discriminator(
                generator(codes, training=True), training=True)
            g_loss = (losses.non_saturating_generator_loss(logit)
                      + information(codes, q_categorical, q_continuous))
        _descend(g_opt, tape, g_loss, generator)
        return d_loss, g_loss

    return step


def sgan_loop(generator, discriminator, latent_dim, batch, lr, beta1, xla):
    """The semi-supervised GAN as a tutorial writes it (Salimans et al. 2016):
    D(x) gives K class logits and its features; D minimises the cross-entropy
    on a labelled batch plus the unsupervised loss with D(x) = Z(x) / (Z(x) + 1)
    on the unlabelled and the generated batch; G minimises feature matching
    against the unlabelled batch's features."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(generator, discriminator, lr, beta1)

    @tf.function(jit_compile=xla)
    def step(element):
        real, labeled, labels = element
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as tape:
            fake = generator(z, training=True)
            labeled_logits, _ = discriminator(labeled, training=True)
            real_logits, _ = discriminator(real, training=True)
            fake_logits, _ = discriminator(fake, training=True)
            d_loss = (losses.class_cross_entropy(labels, labeled_logits)
                      + losses.semi_supervised_discriminator_loss(real_logits, fake_logits))
        _descend(d_opt, tape, d_loss, discriminator)
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as tape:
            _, real_features = discriminator(real, training=True)
            _, fake_features = discriminator(generator(z, training=True), training=True)
            g_loss = losses.feature_matching_loss(tf.stop_gradient(real_features),
                                                  fake_features)
        _descend(g_opt, tape, g_loss, generator)
        return d_loss, g_loss

    return step


def simgan_loop(refiner, discriminator, batch, g_lr, d_lr, beta1, self_reg_weight,
                refiner_steps, disc_steps, pool_size, xla):
    """SimGAN's adversarial step as a tutorial writes it (Shrivastava et al.
    2017, Algorithm 1): ``refiner_steps`` refiner updates (local adversarial
    loss + lambda ||R(x) - x||_1), then ``disc_steps`` D updates on real images
    against refined ones of which half come from a history buffer (a variable
    of ``pool_size`` images, filled with refined images at the start, whose
    drawn slots take the new half). Each update reads its own slice of the
    element's synthetic (a) and real (b) minibatches."""
    import tensorflow as tf

    from tfgan_suite import losses
    g_opt, d_opt = _adam_pair(refiner, discriminator, g_lr, beta1, d_lr=d_lr)
    history = None
    half = batch // 2

    @tf.function(jit_compile=xla)
    def step(element):
        a, b = element
        for i in range(refiner_steps):
            x = a[i * batch:(i + 1) * batch]
            with tf.GradientTape() as tape:
                refined = refiner(x, training=True)
                g_loss = (losses.local_adversarial_loss(discriminator(refined, training=True),
                                                        1.0)
                          + self_reg_weight * losses.self_regularization_loss(x, refined))
            _descend(g_opt, tape, g_loss, refiner)
        for i in range(disc_steps):
            x, real = a[i * batch:(i + 1) * batch], b[i * batch:(i + 1) * batch]
            refined = tf.stop_gradient(refiner(x, training=False))
            draws = tf.random.uniform((2, half), 0, pool_size, dtype=tf.int32)
            mixed = tf.concat([refined[:batch - half], tf.gather(history, draws[0])], 0)
            history.scatter_nd_update(draws[1][:, None], refined[batch - half:])
            with tf.GradientTape() as tape:
                d_loss = (losses.local_adversarial_loss(discriminator(real, training=True), 1.0)
                          + losses.local_adversarial_loss(discriminator(mixed, training=True),
                                                          0.0))
            _descend(d_opt, tape, d_loss, discriminator)
        return d_loss, g_loss

    def run(element):
        nonlocal history
        if history is None:  # the buffer starts full of refined images
            a = element[0]
            refined = refiner(tf.concat([a] * (-(-pool_size // a.shape[0])), 0)[:pool_size],
                              training=False)
            history = tf.Variable(tf.cast(refined, tf.float32), trainable=False)
        return step(element)

    return run
