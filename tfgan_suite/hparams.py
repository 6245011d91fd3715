"""Hyper-parameter declarations: one ``HParam`` per knob, declared by the model class
that reads it; the command-line flags are generated from them.

A model class lists what it reads in ``HPARAMS`` (its bases' declarations are
inherited); ``registry.register(..., defaults=...)`` sets that model's defaults
and ``data_defaults(kind)`` its defaults for a kind of data (e.g. toy vectors).
``define_flags`` then defines one absl flag per name (default None: "the
model's default"), whose help lists each model's default, and files it under
``model <name>`` for ``--helpfull``.
"""
import dataclasses
from typing import Optional, Tuple

from tfgan_suite.errors import ConfigError

TYPES = ("int", "float", "str", "bool", "enum", "int_list")


@dataclasses.dataclass(frozen=True)
class HParam:
    """One hyper-parameter: name (= flag name), default, type, help.

    ``type`` is one of ``TYPES``; ``choices`` for enums; ``lower`` an inclusive
    lower bound, ``positive`` "strictly above 0" and ``below`` an exclusive upper
    bound (all checked on every build).
    """

    name: str
    default: object
    help: str
    type: str = "float"
    choices: Optional[Tuple[str, ...]] = None
    lower: Optional[float] = None
    positive: bool = False
    below: Optional[float] = None
    #: For a "str" parameter: its value when the flag is given bare
    #: (``--feature_matching`` = ``--feature_matching=features``).
    bare: Optional[str] = None

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"HParam {self.name}: type {self.type!r} not in {TYPES}")
        if self.type == "enum" and not self.choices:
            raise ValueError(f"HParam {self.name}: an enum needs choices")

    def coerce(self, value):
        """A flag-style value (string, list, number) as this parameter's type."""
        original = value
        try:
            if self.type == "bool":
                if isinstance(value, str):
                    if value.lower() not in ("true", "false", "1", "0"):
                        raise ValueError(value)
                    return value.lower() in ("true", "1")
                return bool(value)
            if self.type == "int_list":
                if isinstance(value, str):
                    value = [v for v in value.split(",") if v.strip()]
                return tuple(int(v) for v in value)
            if self.type == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(value)
                return int(value)
            if self.type == "float":
                return float(value)
            return str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"--{self.name}={original!r} cannot be read as {self.type} "
                              f"(default {self.default!r})") from None

    def check(self, value):
        """ConfigError naming the flag for a value outside the declared range."""
        if self.type == "enum" and value not in self.choices:
            raise ConfigError(f"--{self.name}={value!r} is not one of {list(self.choices)}")
        if self.type in ("int", "float"):
            import math
            if not math.isfinite(float(value)):
                raise ConfigError(f"--{self.name} must be finite, got {value}")
            if self.positive and not float(value) > 0:
                raise ConfigError(f"--{self.name} must be > 0, got {value}")
            if self.lower is not None and float(value) < self.lower:
                raise ConfigError(f"--{self.name} must be >= {self.lower:g}, got {value}")
            if self.below is not None and not float(value) < self.below:
                raise ConfigError(f"--{self.name} must be < {self.below:g}, got {value}")
        if self.type == "int_list" and (not value or min(value) < 1):
            raise ConfigError(f"--{self.name} must be a list of positive sizes, got {value}")


def collect(cls):
    """{name: HParam} declared by ``cls`` and its bases (bases first)."""
    out = {}
    for klass in reversed(cls.__mro__):
        for hp in vars(klass).get("HPARAMS", ()):
            previous = out.get(hp.name)
            if previous is not None and previous != hp:
                raise ValueError(f"{cls.__name__}: hyper-parameter {hp.name!r} declared twice "
                                 f"differently")
            out[hp.name] = hp
    return out


def _fmt(value):
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def flag_help(name, specs):
    """Help text of the shared flag ``name``: what it is, then each model's
    default (and where it differs, the toy-data default)."""
    first = None
    parts = []
    for spec in specs:
        if name not in spec.declarations:
            continue
        first = first or spec.declarations[name]
        default = spec.defaults[name]
        text = f"{spec.name} {_fmt(default)}"
        vector = spec.cls.data_defaults("vector")
        if name in vector and "vector" in spec.cls.data_kinds and vector[name] != default:
            text += f" (toy data {_fmt(vector[name])})"
        parts.append(text)
    return f"{first.help} Default: {'; '.join(parts)}."


def define_flags(specs, flag_values=None):
    """Define one absl flag per declared hyper-parameter (default None) and file it
    under ``model <name>`` for every model that reads it. Returns the names."""
    from absl import flags
    fv = flag_values or flags.FLAGS
    names = {}
    for spec in specs:
        for name, hp in spec.declarations.items():
            first = names.setdefault(name, hp)
            if (first.type, first.choices) != (hp.type, hp.choices):
                raise ValueError(f"--{name} is declared as {first.type} and as {hp.type} "
                                 f"(model {spec.name}): one flag cannot be both")
    for name, hp in sorted(names.items()):
        if name in fv:
            continue
        text = flag_help(name, specs)
        module = "tfgan_suite.hparams"
        if hp.type == "enum":
            flags.DEFINE_enum(name, None, list(hp.choices), text, flag_values=fv,
                              module_name=module)
        elif hp.type == "int":
            flags.DEFINE_integer(name, None, text, flag_values=fv, module_name=module,
                                 lower_bound=None if hp.lower is None else int(hp.lower))
        elif hp.type == "float":
            flags.DEFINE_float(name, None, text, flag_values=fv, module_name=module)
        elif hp.type == "bool":
            flags.DEFINE_boolean(name, None, text, flag_values=fv, module_name=module)
        elif hp.type == "int_list":
            flags.DEFINE_list(name, None, text, flag_values=fv, module_name=module)
        elif hp.bare is not None:
            flags.DEFINE_flag(flags.Flag(_BareParser(hp.bare), flags.ArgumentSerializer(), name,
                                         None, text, boolean=True),
                              flag_values=fv, module_name=module)
        else:
            flags.DEFINE_string(name, None, text, flag_values=fv, module_name=module)
    for spec in specs:
        for name in spec.declarations:
            fv.register_flag_by_module(f"model {spec.name}", fv[name])
    return sorted(names)


class _BareParser:
    """A string flag that may be given bare (absl treats it like a boolean
    flag): ``--name`` -> ``bare``, ``--noname`` -> "", ``--name=value`` -> value."""

    syntactic_help = "a string; bare: the default choice"

    def __init__(self, bare):
        self.bare = bare

    def parse(self, argument):
        if argument is True or argument == "true":
            return self.bare
        if argument is False or argument == "false":
            return ""
        return str(argument)

    def flag_type(self):
        return "string"

    def _custom_xml_dom_elements(self, doc):
        return []


G_FILTERS = HParam("g_filters", 64, "Generator width (channels of its widest convolution "
                   "stage: the last hidden layer of dcgan, the first of U-Net/ResNet).",
                   "int", lower=1)
D_FILTERS = HParam("d_filters", 64, "Discriminator width (channels of its first layer).",
                   "int", lower=1)
DISC_STEPS = HParam("disc_steps", 1, "Discriminator updates per generator update (k).",
                    "int", lower=1)
POOL_SIZE = HParam("pool_size", 50, "Images in each history buffer of generated images "
                   "(0: none).", "int", lower=0)
