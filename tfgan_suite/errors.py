"""Errors the suite raises for bad input, before any training starts."""


class ConfigError(ValueError):
    """A bad flag or hyper-parameter value; the message names the flag."""


class DataError(ValueError):
    """A dataset that cannot be read; the message names the spec or file."""


class TrainingError(RuntimeError):
    """Training stopped on a condition it cannot continue from (divergence);
    the message says what was kept."""


class ExportError(RuntimeError):
    """An export that cannot be made; nothing was (half-)written."""
