"""What a user sees on the console: quiet start-up, progress in run steps."""
import io
import os
import re
import subprocess
import sys

from tests.conftest import REPO
from tfgan_suite import callbacks, console

# Lines TensorFlow's shared libraries print at start-up on a CPU machine.
NOISE = re.compile(r"cuInit|cudart_stub|cuda_platform|absl::InitializeLog|cpu_feature_guard|"
                   r"^[IWE]\d{4} ", re.M)


def test_duration_and_progress_line_formats():
    assert [console.duration(s) for s in (0, 59.4, 83, 3600, 4000)] == [
        "0s", "59s", "1m23s", "1h00m", "1h06m"]
    assert console.duration(float("inf")) == "?"
    line = console.progress_line(200, 3000, {"g_loss": 0.65531, "d_loss": 1.127}, 4.0)
    # 2800 steps left at 4 steps/s: 700 s
    assert line == "step  200/3000  d_loss 1.127  g_loss 0.6553  4 steps/s  ETA 11m40s"
    bar = console.progress_line(1500, 3000, {}, 0.0, bar_width=10)
    assert bar == "[=====.....] 1500/3000"


def test_clock_measures_steps_per_second_since_the_last_lap():
    clock = console.Clock(10, now=100.0)
    assert clock.lap(30, now=104.0) == 5.0
    assert clock.lap(31, now=104.5) == 2.0


def test_verbosity_is_read_from_the_command_line():
    assert console.verbosity_requested(["--model=gan", "--verbosity=1"])
    assert console.verbosity_requested(["-v", "0"])
    assert not console.verbosity_requested(["--model=gan", "--verbose=2"])


class _FakeModel:
    def __init__(self):
        self.step = 0


def _drive(progress, steps, start=0):
    model = _FakeModel()
    model.step = start
    progress.set_model(model)
    progress.on_train_begin()
    for _ in range(steps):
        model.step += 1
        progress.on_train_batch_end(0, {"g_loss": model.step / 10, "skipped_updates": 0})
    progress.on_train_end()


def test_progress_prints_every_n_run_steps_and_the_last_partial_stretch():
    out = io.StringIO()
    # A resumed run: steps 40..67 of 67, a line every 10 run steps (not Keras epochs).
    _drive(callbacks.Progress(67, 10, tty=False, stream=out), 27, start=40)
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["50/67", "60/67", "67/67"]
    assert all("steps/s" in line and "ETA" in line for line in lines)
    assert "g_loss 6.7" in lines[-1] and "skipped" not in out.getvalue()


def test_progress_on_a_terminal_redraws_one_line():
    out = io.StringIO()
    progress = callbacks.Progress(5, 100, tty=True, stream=out)
    progress._drawn = float("-inf")
    _drive(progress, 5)
    text = out.getvalue()
    assert text.startswith("\r[") and text.endswith("\n") and text.count("\n") == 1
    assert text.rstrip().split("\r")[-1].split("]")[1].split()[0] == "5/5"


def test_training_into_a_pipe_prints_progress_lines_and_no_tensorflow_noise(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run(
        [sys.executable, "-m", "tfgan_suite.train", "--model=gan", "--dataset=toy:ring8",
         "--train_steps=6", "--log_every=2", "--batch_size=16", "--sample_every=0",
         f"--model_dir={tmp_path}"],
        capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not NOISE.search(proc.stderr), proc.stderr
    assert not NOISE.search(proc.stdout), proc.stdout
    steps = re.findall(r"^step (\d+)/6 .*d_loss \S+.*steps/s  ETA \S+$", proc.stdout, re.M)
    assert steps == ["2", "4", "6"], proc.stdout
    assert "Done: step 6" in proc.stdout
    # where the start-up went, once, before the first progress line
    startup = re.findall(r"^Start-up (\S+) s: import (\S+), data (\S+), model (\S+), "
                         r"pipeline (\S+), fit start (\S+), first step (\S+)$", proc.stdout, re.M)
    assert len(startup) == 1, proc.stdout
    total, *parts = (float(v) for v in startup[0])
    # each part and the total are rounded to 0.1 s on their own
    assert abs(total - sum(parts)) <= 0.05 * (len(parts) + 1) and parts[0] > 0 and parts[-1] > 0
    assert proc.stdout.index("Start-up") < proc.stdout.index("step 2/6")


def test_startup_timer_splits_the_time_between_marks():
    timer = console.StartupTimer(start=10.0)
    timer.mark("import", now=14.0)
    timer.mark("data", now=14.5)
    timer.mark("first step", now=17.25)
    assert timer.parts == [("import", 4.0), ("data", 0.5), ("first step", 2.75)]
    assert timer.line() == "Start-up 7.2 s: import 4.0, data 0.5, first step 2.8"


def test_verbosity_brings_the_start_up_lines_back():
    script = ("import sys; sys.argv[1:] = ['--verbosity=1']\n"
              "from tfgan_suite import console; console.quiet_start()\n"
              "import tensorflow as tf; tf.config.list_physical_devices()")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    loud = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)
    quiet = subprocess.run([sys.executable, "-c", script.replace("'--verbosity=1'", "")],
                           capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert quiet.returncode == loud.returncode == 0
    assert quiet.stderr == ""
    assert NOISE.search(loud.stderr), "TensorFlow printed nothing to hide on this machine"


def test_native_bfloat16_is_read_from_the_cpu_flags(tmp_path):
    from tfgan_suite import distribute
    plain, bf16 = tmp_path / "plain", tmp_path / "bf16"
    plain.write_text("processor : 0\nflags : fpu sse2 avx2 fma\n")
    bf16.write_text("processor : 0\nflags : fpu avx2 avx512f avx512_bf16\n")
    assert not distribute.cpu_has_native_bfloat16(str(plain))
    assert distribute.cpu_has_native_bfloat16(str(bf16))
    assert not distribute.cpu_has_native_bfloat16(str(tmp_path / "missing"))
