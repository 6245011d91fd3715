"""The original GAN learns N(mu, sigma^2) on toy:gaussian1d with its flagfile."""
import math
import os

import numpy as np

from conftest import REPO


def test_gan_learns_the_1d_gaussian(flags_parsed, tmp_path):
    from tfgan_suite import train
    flags_parsed([f"--flagfile={os.path.join(REPO, 'flags', 'gan_gaussian1d.cfg')}",
                  f"--model_dir={tmp_path}", "--verbose=0", "--seed=3"])
    model = train.train()
    assert model.step == 3000
    x = model.generate(20000, seed=0).numpy().ravel()
    mu, sigma = 4.0, 0.5
    assert abs(x.mean() - mu) < 0.1 * mu
    assert abs(x.std() - sigma) < 0.1 * sigma
    # The shape too, not only two moments: Kolmogorov-Smirnov distance to the
    # target's CDF (an untrained or collapsed generator is far above 0.1).
    xs = np.sort(x)
    cdf = 0.5 * (1 + np.vectorize(math.erf)((xs - mu) / (sigma * math.sqrt(2))))
    ks = np.abs(cdf - np.arange(1, len(xs) + 1) / len(xs)).max()
    assert ks < 0.1
