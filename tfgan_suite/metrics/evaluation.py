"""Evaluate a model against a dataset with the metrics of ``scores``.

Features of real and generated images are streamed batch by batch into
``FeatureStats`` (mean/covariance for FID; the first ``keep`` features for KID
and precision/recall); class probabilities are kept for the Inception
Score. Real statistics are cached in ``stats_dir`` per dataset, split,
extractor and sample count, and reused.
"""
import os
import re

import numpy as np
from absl import logging

from tfgan_suite.errors import ConfigError
from tfgan_suite.metrics import scores
from tfgan_suite.metrics.stats import FeatureStats, load_stats, save_stats

METRICS = ("fid", "kid", "is", "pr")
EXTRACTORS = ("auto", "inception", "inception_graph", "domain")
DOMAIN_DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist",
                   # the bundled image-to-image tasks, by their B domain
                   "edges2shoes": "fashion_mnist", "sneakers2boots": "fashion_mnist",
                   "glyphs2mnist": "mnist"}
DEFAULT_STATS_DIR = os.path.join(os.path.expanduser("~"), ".cache", "tfgan_suite", "stats")


def domain_name(dataset_spec):
    """"mnist" / "fashion_mnist" for specs of those datasets, else None."""
    name = dataset_spec.split(":", 1)[-1] if dataset_spec.startswith("bundled:") else dataset_spec
    return DOMAIN_DATASETS.get(name.split(":")[0])


def make_extractor(name, dataset_spec="", inception_weights="imagenet", inception_graph=None):
    """An extractor by ``--extractor`` name ("auto": domain for MNIST-like data)."""
    if name not in EXTRACTORS:
        raise ConfigError(f"--extractor={name!r} is not one of {EXTRACTORS}")
    if name == "auto":
        name = "domain" if domain_name(dataset_spec) else "inception"
    if name == "domain":
        domain = domain_name(dataset_spec)
        if domain is None:
            raise ConfigError(f"--extractor=domain has classifiers for MNIST and Fashion-MNIST "
                              f"only, not --dataset={dataset_spec}; use --extractor=inception")
        from tfgan_suite.metrics.domain import DomainExtractor
        return DomainExtractor(domain)
    if name == "inception_graph":
        if not inception_graph:
            raise ConfigError("--extractor=inception_graph needs --inception_graph=PATH "
                              "(classify_image_graph_def.pb)")
        from tfgan_suite.metrics.inception import InceptionGraphExtractor
        return InceptionGraphExtractor(inception_graph)
    from tfgan_suite.metrics.inception import InceptionExtractor
    return InceptionExtractor(inception_weights)


def needed(metrics):
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ConfigError(f"--metrics: unknown {unknown}; valid: {', '.join(METRICS)}")
    return {"keep": bool({"kid", "pr"} & set(metrics)), "probs": "is" in metrics}


def accumulate(extractor, batches, num, keep, probs=False):
    """Run ``extractor`` over image batches until ``num`` images; return (stats, probs)."""
    stats, all_probs, seen = None, [], 0
    for images in batches:
        images = np.asarray(images)[: num - seen]
        out = extractor(images)
        if stats is None:
            stats = FeatureStats(out["features"].shape[1], keep=num if keep else 0)
        stats.update(out["features"])
        if probs:
            all_probs.append(out["probs"])
        seen += len(images)
        if seen >= num:
            break
    if stats is None or seen < num:
        raise ConfigError(f"needed {num} images but the data gave {seen}")
    return stats, (np.concatenate(all_probs) if probs else None)


def _slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def real_statistics(extractor, source, num, batch_size=200, stats_dir=DEFAULT_STATS_DIR,
                    keep=False, split="train", seed=0):
    """(mu, sigma, features or None) of ``num`` real images, cached as .npz."""
    path = os.path.join(stats_dir, _slug(f"{source.spec}_{split}_{extractor.id}_{num}") + ".npz")
    if os.path.exists(path):
        mu, sigma, _, feats = load_stats(path, extractor.id, features=True)
        if not keep or feats is not None:
            logging.info("reference statistics from %s", path)
            return mu, sigma, (feats if keep else None)
    if source.num_examples is not None and source.num_examples < num:
        raise ConfigError(f"--num_samples={num} but {source.spec} ({split}) has only "
                          f"{source.num_examples} images")
    ds = source.dataset(batch_size, shuffle=True, repeat=False, seed=seed, with_labels=False)
    stats, _ = accumulate(extractor, (b.numpy() for b in ds), num, keep=True)
    save_stats(path, stats, extractor.id, source.spec, split, features=stats.features)
    return stats.mean, stats.cov, (stats.features if keep else None)


def generated_batches(model, num, batch_size, seed):
    for i, start in enumerate(range(0, num, batch_size)):
        yield model.sample_for_evaluation(min(batch_size, num - start), seed + i)


def evaluate(model, source, extractor, metrics=("fid",), num_samples=10000, batch_size=200,
             seed=0, stats_dir=DEFAULT_STATS_DIR, split="train", kid_subset_size=1000,
             pr_k=3):
    """Compute ``metrics`` for ``model`` against ``source``; returns a JSON-ready dict."""
    need = needed(metrics)
    if num_samples < 2:
        raise ConfigError(f"--num_samples={num_samples}: FID needs at least 2 samples")
    fake, probs = accumulate(extractor, generated_batches(model, num_samples, batch_size, seed),
                             num_samples, need["keep"], need["probs"])
    result = {"extractor": extractor.id, "dataset": source.spec, "split": split,
              "num_fake": fake.count, "num_real": num_samples, "step": model.step}
    if {"fid", "kid", "pr"} & set(metrics):
        mu, sigma, real_feats = real_statistics(extractor, source, num_samples, batch_size,
                                                stats_dir, need["keep"], split, seed)
        if "fid" in metrics:
            result["fid"] = {"value": scores.frechet_distance(fake.mean, fake.cov, mu, sigma)}
        if "kid" in metrics:
            mean, std = scores.kernel_inception_distance(
                fake.features, real_feats, subset_size=kid_subset_size, seed=seed)
            result["kid"] = {"value": mean, "std": std}
        if "pr" in metrics:
            p, r = scores.precision_recall(real_feats, fake.features, k=pr_k)
            result["precision"], result["recall"] = {"value": p}, {"value": r}
    if "is" in metrics:
        mean, std = scores.inception_score(probs, splits=min(10, len(probs)))
        result["is"] = {"value": mean, "std": std}
    return result


def evaluate_translation(model, source, extractor=None, num_samples=1000, batch_size=200,
                         stats_dir=DEFAULT_STATS_DIR, split="test", seed=0):
    """Metrics of an image-to-image model on the held-out pairs of ``source``.

    * paired data: L1 (mean absolute error in [-1, 1] units), PSNR and SSIM of
      G(a) against the target b, and the same for the identity map (a against b)
      as the floor a useful model must beat;
    * models with both directions (CycleGAN): cycle-reconstruction L1
      |F(G(a)) - a| and |G(F(b)) - b|;
    * with an ``extractor``: FID between G(a) and the real B images, and
      ``identity_fid`` between the inputs a themselves and B (the floor).

    Uses the first ``num_samples`` elements, without augmentation.
    """
    from tfgan_suite.metrics import image_quality
    sums, count, translated, inputs = {}, 0, [], []

    def add(key, values):
        sums[key] = sums.get(key, 0.0) + float(np.sum(values))

    for a, b in source.pairs(batch_size, num=num_samples):
        fake = model.translate(a).numpy()
        count += len(fake)
        if source.kind == "paired":
            for name, x in (("", fake), ("identity_", a.numpy())):
                add(name + "l1", np.abs(x - b.numpy()).mean(axis=(1, 2, 3)))
                add(name + "psnr", image_quality.psnr(x, b))
                add(name + "ssim", image_quality.ssim(x, b))
        if hasattr(model, "serve_b2a"):
            add("cycle_l1_a", np.abs(model.serve_b2a(fake).numpy() - a.numpy()).mean((1, 2, 3)))
            back = model.serve(model.serve_b2a(b)).numpy()
            add("cycle_l1_b", np.abs(back - b.numpy()).mean((1, 2, 3)))
        if extractor is not None:
            translated.append(fake)
            inputs.append(a.numpy())
    if count == 0:
        raise ConfigError(f"{source.spec} ({split}) gave no image pairs")
    result = {"dataset": source.spec, "split": split, "num_images": count, "step": model.step}
    result.update({k: {"value": v / count} for k, v in sums.items()})
    if extractor is not None:
        real_source = source.domain("b")
        num = min(count, real_source.num_examples or count)
        fake_stats, _ = accumulate(extractor, translated, num, keep=False)
        mu, sigma, _ = real_statistics(extractor, real_source, num, batch_size, stats_dir,
                                       False, split, seed)
        result["extractor"] = extractor.id
        result["fid"] = {"value": scores.frechet_distance(fake_stats.mean, fake_stats.cov,
                                                          mu, sigma)}
        # the untranslated inputs against B: the floor translation must improve on
        input_stats, _ = accumulate(extractor, inputs, num, keep=False)
        result["identity_fid"] = {"value": scores.frechet_distance(
            input_stats.mean, input_stats.cov, mu, sigma)}
    return result
