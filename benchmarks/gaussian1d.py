r"""Quality on toy:gaussian1d: the flagfile's settings and what each of them buys.

    python benchmarks/gaussian1d.py --seeds=5

Trains the original GAN on N(4, 0.5^2) with ``flags/gan_gaussian1d.cfg``'s
hyper-parameters, and with each stabiliser removed in turn, over several seeds;
prints the generated mean, standard deviation and the Kolmogorov-Smirnov
distance to the target (20,000 samples).
"""
import math

from absl import app, flags

flags.DEFINE_integer("seeds", 5, "Seeds per variant.")
flags.DEFINE_integer("steps", 3000, "Training steps.")
FLAGS = flags.FLAGS

MU, SIGMA = 4.0, 0.5
FLAGFILE = dict(latent_dim=1, g_hidden_units=(32, 32), d_hidden_units=(64, 64),
                g_activation="softplus", minibatch_stddev=True, g_learning_rate=5e-4,
                d_learning_rate=5e-4, lr_constant_steps=1500, lr_decay_steps=1500)
VARIANTS = {
    "flagfile": {},
    "leaky_relu G": dict(g_activation="leaky_relu"),
    "no lr decay": dict(lr_decay_steps=0),
    "no minibatch-std": dict(minibatch_stddev=False),
}


def ks_distance(x):
    import numpy as np
    xs = np.sort(x.ravel())
    cdf = 0.5 * (1 + np.vectorize(math.erf)((xs - MU) / (SIGMA * math.sqrt(2))))
    return float(np.abs(cdf - np.arange(1, len(xs) + 1) / len(xs)).max())


def main(argv):
    del argv
    import keras

    import tfgan_suite as tg
    from tfgan_suite import data
    source = data.load("toy:gaussian1d", toy_mu=MU, toy_sigma=SIGMA)
    print("| variant | mean (min-max) | std (min-max) | KS (min-max) | within 10% |")
    print("|---|---|---|---|---|")
    for name, change in VARIANTS.items():
        stats = []
        for seed in range(FLAGS.seeds):
            keras.utils.set_random_seed(seed)
            model = tg.build("gan", (1,), seed=seed, **{**FLAGFILE, **change})
            model.fit(source.dataset(512, seed=seed), steps_per_epoch=FLAGS.steps, epochs=1,
                      verbose=0, shuffle=False)
            x = model.generate(20000, seed=0).numpy()
            stats.append((x.mean(), x.std(), ks_distance(x)))
        ok = sum(abs(m - MU) < 0.1 * MU and abs(s - SIGMA) < 0.1 * SIGMA for m, s, _ in stats)
        cols = [f"{min(v):.3f}-{max(v):.3f}" for v in zip(*stats)]
        print(f"| {name} | {cols[0]} | {cols[1]} | {cols[2]} | {ok}/{len(stats)} |", flush=True)


if __name__ == "__main__":
    app.run(main)
