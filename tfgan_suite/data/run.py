"""The data of a training run, loadable again by ``sample`` and ``evaluate``.

``DataOptions`` are the data flags of a run (stored in ``config.json`` under
``data``); ``RunData`` gives the training source and, lazily, held-out data, so
that a model takes what it needs (a grid of held-out inputs, real points under
a plot) without the pipeline knowing what that is.
"""
import dataclasses
from typing import Optional

from absl import logging

from tfgan_suite.errors import ConfigError, DataError


@dataclasses.dataclass
class DataOptions:
    """How to load a run's data (the ``--dataset`` family of flags)."""

    dataset: str
    split: str = "train"
    data_dir: Optional[str] = None
    image_size: Optional[int] = None
    channels: Optional[int] = None
    direction: str = "a2b"
    jitter: bool = True
    toy_mu: float = 4.0
    toy_sigma: float = 0.5
    #: Labels kept on the training split (``--num_labeled``; None: all), chosen by
    #: ``label_seed`` (``--seed``).
    num_labeled: Optional[int] = None
    label_seed: int = 0
    #: How the model reads the images: None (as the spec says), or "superres"
    #: (HR images at their own size, LR made by ``scale``; ``data.superres``).
    view: Optional[str] = None
    scale: int = 4
    #: "superres": smallest random downscaling of HR training images (1: none).
    rescale: float = 1.0

    def load(self, split=None, jitter=None):
        from tfgan_suite import data
        split = split or self.split
        source = data.load(self.dataset, split=split, data_dir=self.data_dir,
                           image_size=self.image_size, channels=self.channels,
                           toy_mu=self.toy_mu, toy_sigma=self.toy_sigma,
                           jitter=self.jitter if jitter is None else jitter,
                           swap=self.direction == "b2a", view=self.view, scale=self.scale,
                           rescale=self.rescale)
        if self.num_labeled and split == self.split:
            source = source.with_labeled_subset(self.num_labeled, self.label_seed)
        return source

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config, **overrides):
        """The options of a run from its ``config.json``, at its trained size.

        Runs written before the options were stored fall back to the dataset and
        shape alone. ``overrides`` with value None are ignored.
        """
        stored = dict(config.get("data") or {"dataset": config["dataset"]})
        shape = config.get("data_shape") or ()
        if len(shape) == 3:
            stored.update(image_size=int(shape[0]), channels=int(shape[-1]))
        stored.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in known})


class RunData:
    """The training source of a run and its held-out data, both loaded on demand
    (or given: ``train`` a DataSource, ``held_out`` a (DataSource, split) pair)."""

    def __init__(self, options, train=None, held_out=None):
        self.options = options
        self._train = train
        self._held_out = held_out

    @property
    def train(self):
        if self._train is None:
            self._train = self.options.load()
        return self._train

    def split(self, name, fallback=True):
        """(source without augmentation, split used) for ``name``; with
        ``fallback`` a missing split falls back to the training data, with a
        warning (a split the user asked for by name should not: ``fallback=False``)."""
        try:
            return self.options.load(split=name, jitter=False), name
        except (DataError, ConfigError) as e:
            if name == self.options.split or not fallback:
                raise
            logging.warning("%s has no %r split (%s); using %r", self.options.dataset, name,
                            e, self.options.split)
            return self.options.load(jitter=False), self.options.split

    def held_out(self):
        """(source, split): the test split when the dataset has one, else the
        training data; never augmented."""
        if self._held_out is None:
            self._held_out = self.split("test")
        return self._held_out
