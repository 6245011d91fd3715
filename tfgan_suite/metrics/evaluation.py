"""Evaluate a model against a dataset with the metrics of ``scores``.

Features of real and generated images are streamed batch by batch into
``FeatureStats`` (mean/covariance for FID; the first ``keep`` features for KID
and precision/recall); class probabilities are kept for the Inception
Score. Real statistics are cached in ``stats_dir`` per dataset, split,
extractor and sample count, and reused.
"""
import os
import re
import time

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


class ShardedExtractor:
    """An extractor whose forward pass is split over a strategy's replicas.

    Each batch is padded to a multiple of the replica count, split into one
    equal shard per replica, run through the extractor's ``forward`` with
    ``strategy.run`` (in one ``tf.function``), and put back together in order,
    padding dropped: the same features as one device, computed by every
    replica (GPU) in parallel. Use ``sharded()`` to build one.
    """

    def __init__(self, extractor, strategy):
        import tensorflow as tf
        self.inner, self.strategy = extractor, strategy
        self.replicas = strategy.num_replicas_in_sync
        self._run = tf.function(lambda x: strategy.run(extractor.forward, args=(x,)),
                                reduce_retracing=True)

    def __getattr__(self, name):  # id, feature_dim, num_classes, ... of the extractor
        if name == "inner":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __call__(self, images):
        import tensorflow as tf
        x = self.inner.prepare(images)
        n = int(x.shape[0])
        per = -(-n // self.replicas)
        x = tf.pad(x, [[0, per * self.replicas - n]] + [[0, 0]] * (x.shape.rank - 1))
        shards = tf.split(x, self.replicas)
        values = self.strategy.experimental_distribute_values_from_function(
            lambda ctx: shards[ctx.replica_id_in_sync_group])
        out = self._run(values)
        return {k: np.concatenate([t.numpy() for t in
                                   self.strategy.experimental_local_results(v)])[:n]
                for k, v in out.items()}


def sharded(extractor, strategy):
    """``extractor`` with its forward pass sharded over ``strategy``'s replicas,
    or unchanged: no strategy, one replica, an extractor with no batched
    ``forward`` (the 2015 Inception graph takes one image at a time), or a
    multi-worker strategy (each worker would hold only its own replicas'
    features; evaluation runs in one process)."""
    import tensorflow as tf
    if (extractor is None or strategy is None or strategy.num_replicas_in_sync < 2
            or isinstance(extractor, ShardedExtractor) or not hasattr(extractor, "forward")
            or isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)):
        return extractor
    return ShardedExtractor(extractor, strategy)


def needed(metrics):
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ConfigError(f"--metrics: unknown {unknown}; valid: {', '.join(METRICS)}")
    return {"keep": bool({"kid", "pr"} & set(metrics)), "probs": "is" in metrics}


class _Features:
    """Extractor features of a stream of image batches (statistics, and the
    first ``keep`` features and the class probabilities when asked)."""

    def __init__(self, extractor, keep, probs):
        self.extractor, self.keep, self.want_probs = extractor, keep, probs
        self.stats, self.probs = None, []

    def add(self, images):
        out = self.extractor(np.asarray(images))
        if self.stats is None:
            self.stats = FeatureStats(out["features"].shape[1], keep=self.keep)
        self.stats.update(out["features"])
        if self.want_probs:
            self.probs.append(out["probs"])
        return out


def accumulate(extractor, batches, num, keep, probs=False):
    """Run ``extractor`` over image batches until ``num`` images; return (stats, probs)."""
    features, seen = _Features(extractor, num if keep else 0, probs), 0
    for images in batches:
        images = np.asarray(images)[: num - seen]
        features.add(images)
        seen += len(images)
        if seen >= num:
            break
    if features.stats is None or seen < num:
        raise ConfigError(f"needed {num} images but the data gave {seen}")
    return features.stats, (np.concatenate(features.probs) if probs else None)


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


def intra_class_fid(extractor, reference, per_class, batch_size=200, seed=0):
    """Mean over classes of the Frechet distance between the images generated
    for a class and the real images of that class ({"value", "per_class"}), or
    None when the reference data has no labels. Classes with fewer than 2
    images on either side are left out."""
    if not reference.has_labels:
        return None
    real = {}
    ds = reference.dataset(batch_size, shuffle=False, repeat=False, seed=seed,
                           fields=("images", "labels"))
    wanted = sum(s.count for s in per_class.values())
    seen = 0
    for images, labels in ds:
        out = extractor(images.numpy())
        labels = labels.numpy()
        for c in per_class:
            rows = out["features"][labels == c]
            if len(rows):
                real.setdefault(c, FeatureStats(rows.shape[1])).update(rows)
        seen += len(labels)
        if seen >= wanted:
            break
    values = {}
    for c, fake in sorted(per_class.items()):
        if fake.count >= 2 and c in real and real[c].count >= 2:
            values[c] = scores.frechet_distance(fake.mean, fake.cov, real[c].mean, real[c].cov)
    if not values:
        return None
    return {"value": float(np.mean(list(values.values()))),
            "per_class": [values.get(c) for c in range(max(values) + 1)]}


def evaluate(model, source, extractor, metrics=("fid",), num_samples=10000, batch_size=200,
             seed=0, stats_dir=DEFAULT_STATS_DIR, split="train", kid_subset_size=1000,
             pr_k=3, strategy=None):
    """Measure ``model`` on ``source``; returns a JSON-ready dict.

    The model declares what is compared (``model.evaluation_batches``): its
    generated images, streamed batch by batch into the extractor's statistics
    and compared with ``model.evaluation_reference(source)`` (``metrics``:
    FID, KID, IS, precision/recall; real statistics cached in ``stats_dir``);
    where it gives paired ``targets``: L1 (mean absolute error in [-1, 1]
    units), PSNR and SSIM against them; where it gives its ``inputs``: the same
    measures of the inputs themselves (``identity_*``, the floor a useful
    model must beat, FID included); and its ``extra`` per-image values,
    averaged. ``extractor`` None measures no feature metric. With a
    ``strategy`` of several replicas the extractor's forward pass is sharded
    over them (``sharded``). The result includes ``images_per_second``: the
    generated images through generation and the extractor, per second of wall
    time.
    """
    from tfgan_suite.metrics import image_quality
    need = needed(metrics)
    extractor = sharded(extractor, strategy)
    started = time.perf_counter()
    if num_samples < 2:
        raise ConfigError(f"--num_samples={num_samples}: FID needs at least 2 samples")
    features = extractor is not None and bool(set(metrics) & set(METRICS))
    reference = model.evaluation_reference(source)
    fake = _Features(extractor, num_samples if need["keep"] else 0, need["probs"])
    floor = _Features(extractor, 0, False)
    sums, count = {}, 0
    requested, predicted, as_classes = [], [], True
    classifies = features and getattr(extractor, "num_classes", None) is not None
    per_class = {}  # class -> FeatureStats of the images generated for it

    floor_name, luma_border = "identity", None

    def add(key, values):
        sums[key] = sums.get(key, 0.0) + float(np.sum(values))

    for batch in model.evaluation_batches(source, num_samples, batch_size, seed):
        generated = np.asarray(batch.generated)[: num_samples - count]
        floor_name = batch.floor_name
        n = len(generated)
        count += n
        if batch.targets is not None:
            targets = np.asarray(batch.targets)[:n]
            pairs = [("", generated)]
            if batch.inputs is not None:
                pairs.append((batch.floor_name + "_", np.asarray(batch.inputs)[:n]))
            quality = dict(y_channel=batch.luma, crop=batch.border)
            luma_border = (batch.luma, batch.border)
            for prefix, x in pairs:
                add(prefix + "l1", np.abs(x - targets).mean(axis=tuple(range(1, x.ndim))))
                add(prefix + "psnr", image_quality.psnr(x, targets, **quality))
                add(prefix + "ssim", image_quality.ssim(x, targets, **quality))
        for key, values in batch.extra.items():
            add(key, np.asarray(values)[:n])
        if features:
            out = fake.add(generated)
            if batch.labels is not None and classifies:
                labels = np.asarray(batch.labels)[:n]
                requested.append(labels)
                predicted.append(np.argmax(out["probs"], axis=-1))
                as_classes = batch.labels_are_classes
                if as_classes:
                    for c in np.unique(labels):
                        per_class.setdefault(int(c), FeatureStats(out["features"].shape[1]))
                        per_class[int(c)].update(out["features"][labels == c])
            if batch.inputs is not None:
                floor.add(np.asarray(batch.inputs)[:n])
        if count >= num_samples:
            break
    if count == 0:
        raise ConfigError(f"{source.spec} ({split}) gave nothing to evaluate")
    result = {"dataset": source.spec, "split": split, "num_images": count,
              "step": model.step, "model": model.model_name,
              "images_per_second": count / max(time.perf_counter() - started, 1e-9)}
    if luma_border is not None:
        result.update(luma=luma_border[0], border=luma_border[1])
    result.update({k: {"value": v / count} for k, v in sums.items()})
    if not features:
        return result
    result.update(extractor=extractor.id, num_fake=count, num_real=count)
    if requested:  # the domain classifier's verdict on the classes asked for
        acc = scores.label_accuracy(np.concatenate(requested), np.concatenate(predicted),
                                    extractor.num_classes)
        if as_classes:
            result["label_accuracy"] = {"value": acc["accuracy"],
                                        "per_class": acc["per_class"]}
            intra = intra_class_fid(extractor, reference, per_class, batch_size, seed)
            if intra is not None:
                result["intra_class_fid"] = intra
        result["cluster_accuracy"] = {"value": acc["cluster_accuracy"]}
    if {"fid", "kid", "pr"} & set(metrics):
        mu, sigma, real_feats = real_statistics(extractor, reference, count, batch_size,
                                                stats_dir, need["keep"], split, seed)
        stats = fake.stats
        if "fid" in metrics:
            result["fid"] = {"value": scores.frechet_distance(stats.mean, stats.cov, mu, sigma)}
            if floor.stats is not None:
                result[f"{floor_name}_fid"] = {"value": scores.frechet_distance(
                    floor.stats.mean, floor.stats.cov, mu, sigma)}
        if "kid" in metrics:
            mean, std = scores.kernel_inception_distance(
                stats.features, real_feats, subset_size=kid_subset_size, seed=seed)
            result["kid"] = {"value": mean, "std": std}
        if "pr" in metrics:
            p, r = scores.precision_recall(real_feats, stats.features, k=pr_k)
            result["precision"], result["recall"] = {"value": p}, {"value": r}
    if "is" in metrics:
        probs = np.concatenate(fake.probs)
        mean, std = scores.inception_score(probs, splits=min(10, len(probs)))
        result["is"] = {"value": mean, "std": std}
    return result
