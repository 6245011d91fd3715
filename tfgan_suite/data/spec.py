"""``DataSpec``: what a model needs to know about its data to be built."""
import dataclasses

KINDS = ("image", "vector", "paired", "unpaired", "superres")


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """The kind, shape and classes of a dataset, as models see it.

    ``kind``: "image" (float32 [H, W, C] in [-1, 1]), "vector" ([D], the toy
    sets), "paired" / "unpaired" (two domains of images of ``shape``),
    "superres" (LR / HR pairs; ``shape`` is the HR training crop).
    ``class_names``: names of the label classes ((): no labels).
    """

    kind: str
    shape: tuple
    class_names: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"data kind {self.kind!r} is not one of {KINDS}")
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        object.__setattr__(self, "class_names", tuple(self.class_names or ()))

    @property
    def num_classes(self):
        return len(self.class_names)

    def describe(self):
        classes = f", {self.num_classes} classes" if self.class_names else ""
        return f"{self.kind} data of shape {self.shape}{classes}"
