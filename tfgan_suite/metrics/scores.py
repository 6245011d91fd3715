"""The GAN metrics as pure NumPy functions of features or class probabilities.

Everything is computed in float64. References:
* FID: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to
  a Local Nash Equilibrium", NeurIPS 2017.
* KID: Binkowski et al., "Demystifying MMD GANs", ICLR 2018.
* IS: Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
* Precision/recall: Kynkaanniemi et al., "Improved Precision and Recall Metric
  for Assessing Generative Models", NeurIPS 2019.
"""
import numpy as np


def _psd_eigvals(w):
    """Eigenvalues of a PSD matrix with round-off noise (below n * eps * max) set to 0."""
    tol = max(w.max(), 0.0) * len(w) * np.finfo(np.float64).eps
    return np.where(w > tol, w, 0.0)


def _sqrt_psd(matrix):
    """Symmetric square root of a (numerically) positive semi-definite matrix."""
    w, v = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (v * np.sqrt(_psd_eigvals(w))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

        d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))

    Tr((sigma1 sigma2)^(1/2)) is computed as the sum of the square roots of the
    eigenvalues of sigma1^(1/2) sigma2 sigma1^(1/2), a symmetric PSD matrix
    similar to sigma1 sigma2. This needs no general (complex, possibly
    diverging) matrix square root: near-singular covariances, which make
    ``scipy.linalg.sqrtm`` produce imaginary parts and made the reference tools
    add eps * I, are handled by setting eigenvalues at round-off level
    (below n * eps * largest) to 0, so the FID of a set with itself is 0 even
    for a rank-deficient covariance.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} "
                         f"vs {s2.shape}")
    root1 = _sqrt_psd(s1)
    inner = root1 @ s2 @ root1
    tr_covmean = np.sqrt(_psd_eigvals(np.linalg.eigvalsh((inner + inner.T) / 2.0))).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def _polynomial_mmd2_unbiased(x, y):
    """Unbiased MMD^2 with the kernel k(a, b) = (a.b / d + 1)^3."""
    d = x.shape[1]
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2.0 * kxy.mean())


def kernel_inception_distance(feats1, feats2, num_subsets=100, subset_size=1000, seed=0):
    """KID: unbiased MMD^2 with the cubic polynomial kernel, over random subsets.

    Returns (mean, std) over ``num_subsets`` subsets of ``min(subset_size, n1,
    n2)`` samples drawn without replacement from each set (Binkowski et al.
    2018; the defaults of the reference implementations).
    """
    x, y = np.asarray(feats1, np.float64), np.asarray(feats2, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"KID needs two [N, D] feature sets, got {x.shape} and {y.shape}")
    n = min(subset_size, len(x), len(y))
    if n < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    values = [_polynomial_mmd2_unbiased(x[rng.choice(len(x), n, replace=False)],
                                        y[rng.choice(len(y), n, replace=False)])
              for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))


def inception_score(probs, splits=10):
    """IS = exp(E_x KL(p(y|x) || p(y))), mean and std over ``splits`` equal parts."""
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"inception_score needs [N, classes] probabilities with N >= "
                         f"splits={splits}, got {p.shape}")
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(py)), 0.0).sum(1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _kth_neighbour_radii(feats, k, batch=1024):
    radii = np.empty(len(feats))
    sq = (feats ** 2).sum(1)
    for i in range(0, len(feats), batch):
        d2 = sq[i:i + batch, None] + sq[None] - 2.0 * feats[i:i + batch] @ feats.T
        # column k of the sorted row: index 0 is the point itself (distance 0)
        radii[i:i + batch] = np.sqrt(np.maximum(np.partition(d2, k, axis=1)[:, k], 0.0))
    return radii


def _coverage(points, centres, radii, batch=1024):
    """Fraction of ``points`` inside at least one ball (centre, radius)."""
    inside = 0
    sq_c = (centres ** 2).sum(1)
    for i in range(0, len(points), batch):
        p = points[i:i + batch]
        d2 = (p ** 2).sum(1)[:, None] + sq_c[None] - 2.0 * p @ centres.T
        inside += int((np.sqrt(np.maximum(d2, 0.0)) <= radii[None]).any(1).sum())
    return inside / len(points)


def precision_recall(real_feats, fake_feats, k=3):
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    Each set's manifold is the union of balls around its samples with radius the
    distance to the k-th nearest neighbour in the same set. Precision: the
    fraction of fake samples inside the real manifold; recall: the fraction of
    real samples inside the fake manifold. Returns (precision, recall).
    """
    real, fake = np.asarray(real_feats, np.float64), np.asarray(fake_feats, np.float64)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision_recall with k={k} needs more than {k} samples per set, "
                         f"got {len(real)} real and {len(fake)} fake")
    precision = _coverage(fake, real, _kth_neighbour_radii(real, k))
    recall = _coverage(real, fake, _kth_neighbour_radii(fake, k))
    return precision, recall


def best_assignment(cost):
    """Minimum-cost one-to-one assignment of rows to columns of a square
    ``cost`` matrix (the Hungarian method with potentials, O(n^3)).
    Returns ``cols`` with row i assigned to column cols[i]."""
    cost = np.asarray(cost, np.float64)
    n = cost.shape[0]
    if cost.shape != (n, n):
        raise ValueError(f"cost must be square, got {cost.shape}")
    inf = float("inf")
    u, v = np.zeros(n + 1), np.zeros(n + 1)
    match = np.zeros(n + 1, np.int64)  # match[j]: row (1-based) on column j; 0 free
    way = np.zeros(n + 1, np.int64)
    for i in range(1, n + 1):
        match[0], j0 = i, 0
        minv = np.full(n + 1, inf)
        used = np.zeros(n + 1, bool)
        while True:
            used[j0] = True
            i0, delta, j1 = match[j0], inf, 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = cost[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[match[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    cols = np.zeros(n, np.int64)
    for j in range(1, n + 1):
        cols[match[j] - 1] = j - 1
    return cols


def label_accuracy(requested, predicted, num_classes):
    """Accuracy of a classifier's ``predicted`` classes against the ``requested``
    ones: overall, per requested class, and as a clustering (the best one-to-one
    assignment of requested values to classes, e.g. InfoGAN's categorical code)."""
    requested = np.asarray(requested, np.int64)
    predicted = np.asarray(predicted, np.int64)
    k = int(max(num_classes, requested.max() + 1, predicted.max() + 1))
    counts = np.zeros((k, k), np.int64)
    np.add.at(counts, (requested, predicted), 1)
    per_class = [float(counts[c, c] / counts[c].sum()) if counts[c].sum() else None
                 for c in range(k)]
    mapping = best_assignment(-counts)
    return {"accuracy": float(np.trace(counts) / len(requested)),
            "per_class": per_class,
            "cluster_accuracy": float(counts[np.arange(k), mapping].sum() / len(requested))}
