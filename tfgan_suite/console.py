"""What the command-line apps print: a quiet TensorFlow start-up and progress lines.

``quiet_start()`` is the first thing every app runs, before TensorFlow is
imported. TensorFlow's C++ start-up lines (the CUDA probe's ``failed call to
cuInit`` error on a CPU machine, ``cudart_stub``, the CPU-feature notice) are
written by its shared libraries before any Python logging exists, and some of
them ignore ``TF_CPP_MIN_LOG_LEVEL``; so the import and the first device probe
run with the process's stderr (file descriptor 2) pointed at /dev/null. A
Python error raised meanwhile is still reported: stderr is restored before it
propagates. ``--verbosity`` (or ``-v``) on the command line keeps everything.
"""
import contextlib
import math
import os
import sys
import time

#: When this module was imported: the first thing an app does, before TensorFlow.
PROCESS_START = time.perf_counter()


def verbosity_requested(argv=None):
    """True when the command line asks for TensorFlow's and absl's logs."""
    argv = sys.argv[1:] if argv is None else argv
    return any(a.split("=")[0] in ("--verbosity", "-v", "--v") for a in argv)


@contextlib.contextmanager
def stderr_silenced():
    """Point file descriptor 2 at /dev/null for the block (C++ writes included)."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def quiet_start(argv=None):
    """Import TensorFlow without its start-up noise (unless ``--verbosity``)."""
    if verbosity_requested(argv):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    with stderr_silenced():
        import tensorflow as tf
        tf.config.list_physical_devices()  # the CUDA probe logs here


def duration(seconds):
    """``83`` -> ``1m23s``; ``4000`` -> ``1h06m``."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_line(step, total, logs, rate, bar_width=0):
    """One progress line: step, losses, steps/s and the ETA at ``rate``."""
    width = len(str(total))
    head = f"step {step:>{width}}/{total}"
    if bar_width:
        done = int(bar_width * min(step / max(total, 1), 1.0))
        head = f"[{'=' * done}{'.' * (bar_width - done)}] {step:>{width}}/{total}"
    values = "  ".join(f"{k} {v:.4g}" for k, v in sorted(logs.items()))
    speed = f"{rate:.3g} steps/s  ETA {duration((total - step) / rate)}" if rate else ""
    return "  ".join(p for p in (head, values, speed) if p)


class Clock:
    """Steps per second over the steps since the last ``lap``."""

    def __init__(self, step, now=None):
        self.step, self.time = step, time.perf_counter() if now is None else now

    def lap(self, step, now=None):
        now = time.perf_counter() if now is None else now
        rate = (step - self.step) / (now - self.time) if now > self.time else 0.0
        self.step, self.time = step, now
        return rate


class StartupTimer:
    """Where an app's start-up went: seconds between named marks, from
    ``start`` (the module import, before TensorFlow) to each ``mark``."""

    def __init__(self, start=None):
        self.last = PROCESS_START if start is None else start
        self.parts = []

    def mark(self, name, now=None):
        now = time.perf_counter() if now is None else now
        self.parts.append((name, now - self.last))
        self.last = now

    def line(self):
        total = sum(s for _, s in self.parts)
        parts = ", ".join(f"{name} {s:.1f}" for name, s in self.parts)
        return f"Start-up {total:.1f} s: {parts}"
