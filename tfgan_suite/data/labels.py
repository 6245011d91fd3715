"""Which examples keep their labels (``--num_labeled``)."""
import numpy as np

from tfgan_suite.errors import DataError


def balanced_subset(labels, num_labeled, num_classes, seed):
    """Sorted indices of ``num_labeled`` examples, as balanced over the classes
    as the counts allow (``num_labeled // K`` per class, the remainder to the
    first classes), chosen at random by ``seed``.

    Raises DataError when a class has fewer examples than its share.
    """
    labels = np.asarray(labels)
    num_labeled = int(num_labeled)
    if not 0 < num_labeled <= len(labels):
        raise DataError(f"--num_labeled={num_labeled}: the data has {len(labels)} examples")
    if num_labeled < num_classes:
        raise DataError(f"--num_labeled={num_labeled} is fewer than the {num_classes} classes; "
                        f"keep at least one label per class")
    rng = np.random.default_rng(seed)
    share, extra = divmod(num_labeled, num_classes)
    chosen = []
    for k in range(num_classes):
        members = np.flatnonzero(labels == k)
        want = share + (1 if k < extra else 0)
        if len(members) < want:
            raise DataError(f"--num_labeled={num_labeled}: class {k} has {len(members)} "
                            f"examples, fewer than its share of {want}")
        chosen.append(rng.choice(members, want, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)
