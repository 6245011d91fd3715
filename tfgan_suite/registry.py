"""Model registry: name -> model class, default hyper-parameters, default dataset.

Model modules register themselves with ``@register(...)``; importing
``tfgan_suite.models`` imports them all. Hyper-parameters are resolved in one
place (``resolve_hparams``) so the library (``tfgan_suite.build``), the command
line (flags of the same names) and ``load_model`` always agree on defaults.
"""
import dataclasses
import difflib

from tfgan_suite.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    cls: type
    defaults: dict
    default_dataset: str
    description: str
    default_shape: tuple
    #: --batch_size when not given (None: the train flag's default).
    default_batch_size: int = None


_REGISTRY = {}


def register(name, *, default_dataset, description, defaults=None,
             default_shape=(28, 28, 1), default_batch_size=None):
    """Class decorator adding a ``GANModel`` subclass to the registry."""

    def decorate(cls):
        from tfgan_suite.models.base import BASE_HPARAMS
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        cls.model_name = name
        merged = {**BASE_HPARAMS, **(defaults or {})}
        _REGISTRY[name] = ModelSpec(name, cls, merged, default_dataset, description,
                                    tuple(default_shape), default_batch_size)
        return cls

    return decorate


def _load_all():
    import tfgan_suite.models  # noqa: F401  (registers every model)


def list_models():
    """Sorted names of every registered model."""
    _load_all()
    return sorted(_REGISTRY)


def get(name):
    """The ``ModelSpec`` for ``name``; a ConfigError listing valid names if unknown."""
    _load_all()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"--model={name!r} is not a known model.{hint} "
                          f"Valid models: {', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[name]


def _coerce(key, value, default):
    """Convert flag-style values (strings, lists) to the type of the default."""
    if value is None:
        return default
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                return value.lower() in ("true", "1")
            return bool(value)
        if isinstance(default, tuple):
            if isinstance(value, str):
                value = [v for v in value.split(",") if v.strip()]
            return tuple(type(default[0])(v) if default else int(v) for v in value)
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            return type(default)(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--{key}={value!r} cannot be read as {type(default).__name__} "
                          f"(default {default!r})") from None
    return value


def resolve_hparams(name, overrides=None, data_kind="image"):
    """Defaults of model ``name`` for ``data_kind`` updated with ``overrides``.

    Unknown keys are an error naming the key and the valid ones.
    """
    spec = get(name)
    defaults = dict(spec.defaults)
    defaults.update(spec.cls.data_defaults(data_kind))
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ConfigError(f"model {name!r} has no hyper-parameter(s) {unknown}; "
                          f"valid: {sorted(defaults)}")
    hp = {k: _coerce(k, overrides.get(k), v) for k, v in defaults.items()}
    spec.cls.validate_hparams(hp)
    return hp
