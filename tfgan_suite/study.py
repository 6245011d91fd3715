r"""A local "real or fake?" perceptual study: the protocol of the pix2pix and
CycleGAN papers (their Amazon Mechanical Turk studies), served from this machine.

    python -m tfgan_suite.study --model_dirs=runs/dcgan_mnist_quick,runs/acgan_mnist_quick \
        --port=8000 [--real=bundled:mnist] [--study_dir=runs/study] [--num_images=50]
    python -m tfgan_suite.study --study_dir=runs/study --report

On start the app builds an image index once (kept in ``--study_dir``):
``--num_images`` generated images of every model (``model.evaluation_batches``,
so any model kind that generates images) and as many real images of ``--real``
(default: the first run's dataset, at its trained size; for image-to-image
models the target domain), written as PNG files under random names in
``DIR/images/`` and listed in ``DIR/study.sqlite``. A server restarted on the
same study directory reuses the index and every recorded answer.

Each participant who opens the page gets an anonymous id and a session of
``--practice_trials`` practice trials (with feedback) then ``--test_trials``
test trials (without), real and generated images interleaved at random (half
real; the generated ones drawn from all the models in turn). An image is shown
for ``--display_ms`` milliseconds, then the participant answers "real" or
"fake". The page never learns a trial's truth before answering it: images are
served under opaque per-trial tokens. Every answer is committed to SQLite
before the reply.

``--report`` prints each model's fooling rate (the fraction of its generated
test-block images judged real) with a 95% Wilson score interval, and the real
images' judged-real rate as the reference row; writes ``DIR/study.json`` and
``DIR/study.csv``.

HTTP API (JSON):

* ``GET /``: the page.
* ``POST /api/start`` -> ``{participant, practice_trials, test_trials, display_ms}``.
* ``GET /api/next?participant=P`` -> ``{trial, block, index, total, position,
  image_url, display_ms}`` (``index`` counts from 1 within the block) or
  ``{done: true, score, correct, total}`` (test-block accuracy).
* ``GET /image/TRIAL``: the trial's PNG.
* ``POST /api/answer`` ``{participant, trial, answer: "real"|"fake"}`` ->
  ``{accepted: true, block}``, plus ``{correct, truth}`` in the practice block.
  400: malformed request or unknown participant; 404: a trial not issued to
  this participant; 409: already answered, or not the participant's current trial.
"""
import csv
import io
import json
import math
import os
import random
import re
import secrets
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tfgan_suite import console  # noqa: E402

console.quiet_start()  # before TensorFlow is imported: no start-up noise

from absl import app, flags  # noqa: E402

from tfgan_suite import cli  # noqa: E402
from tfgan_suite.errors import ConfigError  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("model_dirs", None, "Run directories whose generated images are shown "
                  "(comma-separated).")
flags.DEFINE_string("real", None, "Dataset spec of the real images (default: the first "
                    "run's dataset; image-to-image models: its target domain).")
flags.DEFINE_string("study_dir", os.path.join("runs", "study"), "Where the image index, "
                    "the answers (study.sqlite) and the report go.")
flags.DEFINE_string("host", "127.0.0.1", "Address the server listens on.")
flags.DEFINE_integer("port", 8000, "Port of the server (0: any free port).", lower_bound=0,
                     upper_bound=65535)
flags.DEFINE_integer("num_images", 50, "Images per model, and real images, in the index.",
                     lower_bound=1)
flags.DEFINE_integer("display_ms", 1000, "How long each image is shown (milliseconds).",
                     lower_bound=1)
flags.DEFINE_integer("practice_trials", 10, "Practice trials per participant (with "
                     "feedback; not counted).", lower_bound=0)
flags.DEFINE_integer("test_trials", 40, "Test trials per participant (counted).",
                     lower_bound=1)
flags.DEFINE_boolean("report", False, "Print and write the fooling rates of --study_dir "
                     "instead of serving.")

DB_NAME = "study.sqlite"
REAL = "real"
ANSWERS = ("real", "fake")
Z95 = 1.959963984540054  # two-sided 95% normal quantile
MIN_DISPLAY_PX = 256  # smaller images are shown upscaled (pixelated) to this size
MAX_BODY = 4096
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (id INTEGER PRIMARY KEY, source TEXT NOT NULL,
                                   path TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS participants (id TEXT PRIMARY KEY, created_at REAL NOT NULL,
                                         practice_trials INTEGER NOT NULL,
                                         test_trials INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trials (token TEXT PRIMARY KEY, participant TEXT NOT NULL
                                   REFERENCES participants(id),
                                   position INTEGER NOT NULL,
                                   block TEXT NOT NULL CHECK (block IN ('practice', 'test')),
                                   image_id INTEGER NOT NULL REFERENCES images(id),
                                   answer TEXT CHECK (answer IN ('real', 'fake')),
                                   answered_at REAL,
                                   UNIQUE (participant, position));
"""


# ---------------------------------------------------------------- the report

def wilson_interval(successes, n, z=Z95):
    """The Wilson score interval (lo, hi) of a binomial proportion
    ``successes / n`` (95% for the default ``z``); (None, None) for n = 0."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def fooling_rates(rows):
    """Per source, how often its test-block images were judged real.

    ``rows``: (participant, source, answer) of the answered *test* trials,
    ``source`` "real" or a model label, ``answer`` "real" or "fake". Returns
    one dict per model (sorted by name) then the "real" reference row (when
    there are real trials): ``source``, ``kind`` ("model"/"real"),
    ``participants``, ``trials``, ``judged_real``, ``rate`` (a model's
    fooling rate; for the real images the judged-real rate; None without
    trials) and ``ci95`` = [lo, hi], the 95% Wilson score interval of the rate
    over the pooled trials (``wilson_interval``).
    """
    counts = {}
    for participant, source, answer in rows:
        if answer not in ANSWERS:
            raise ValueError(f"answer {answer!r} is not 'real' or 'fake'")
        c = counts.setdefault(source, {"trials": 0, "judged_real": 0, "participants": set()})
        c["trials"] += 1
        c["judged_real"] += answer == REAL
        c["participants"].add(participant)
    order = sorted(s for s in counts if s != REAL) + ([REAL] if REAL in counts else [])
    out = []
    for source in order:
        c = counts[source]
        n, k = c["trials"], c["judged_real"]
        lo, hi = wilson_interval(k, n)
        out.append({"source": source, "kind": "real" if source == REAL else "model",
                    "participants": len(c["participants"]), "trials": n, "judged_real": k,
                    "rate": k / n if n else None, "ci95": [lo, hi]})
    return out


def format_report(result):
    lines = [f"{'source':<24} {'judged real':>11} {'95% CI (Wilson)':>17} "
             f"{'trials':>7} {'particip.':>9}"]
    for r in result["rows"]:
        name = r["source"] if r["kind"] == "model" else "real (reference)"
        rate = "-" if r["rate"] is None else f"{r['rate']:.3f}"
        ci = "-" if r["ci95"][0] is None else f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"
        lines.append(f"{name:<24} {rate:>11} {ci:>17} {r['trials']:>7} {r['participants']:>9}")
    lines.append(f"{result['participants']} participant(s), {result['trials']} answered test "
                 f"trial(s) ({result['complete']} complete session(s)); a model's rate is "
                 f"its fooling rate")
    return "\n".join(lines)


def report(study_dir):
    """Compute, print and write (study.json, study.csv) the study's results."""
    from tfgan_suite.model_dir import atomic_write
    path = os.path.join(study_dir, DB_NAME)
    if not os.path.exists(path):
        raise ConfigError(f"--study_dir={study_dir}: no {DB_NAME}; run the study first")
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT t.participant, i.source, t.answer FROM trials t JOIN images i "
            "ON i.id = t.image_id WHERE t.block = 'test' AND t.answer IS NOT NULL "
            "ORDER BY t.participant, t.position").fetchall()
        complete = conn.execute(
            "SELECT COUNT(*) FROM (SELECT participant FROM trials GROUP BY participant "
            "HAVING SUM(answer IS NULL) = 0)").fetchone()[0]
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()
    table = fooling_rates(rows)
    result = {"study_dir": study_dir, "interval": "95% Wilson score interval",
              "participants": len({r[0] for r in rows}), "trials": len(rows),
              "complete": complete, "rows": table,
              "index": json.loads(meta["index"]) if "index" in meta else None}
    atomic_write(os.path.join(study_dir, "study.json"), json.dumps(result, indent=2))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["source", "kind", "rate", "ci95_low", "ci95_high", "judged_real",
                     "trials", "participants"])
    for r in table:
        writer.writerow([r["source"], r["kind"], "" if r["rate"] is None else r["rate"],
                         "" if r["ci95"][0] is None else r["ci95"][0],
                         "" if r["ci95"][1] is None else r["ci95"][1],
                         r["judged_real"], r["trials"], r["participants"]])
    atomic_write(os.path.join(study_dir, "study.csv"), buf.getvalue())
    print(format_report(result))
    return result


# ------------------------------------------------------------ the image index

def model_labels(model_dirs):
    """A short, distinct label per run directory (its base name, or more of its path)."""
    norm = [os.path.normpath(d) for d in model_dirs]
    labels = [os.path.basename(d) or d for d in norm]
    for i, label in enumerate(labels):
        if labels.count(label) > 1 or label == REAL:
            labels[i] = norm[i]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"--model_dirs={','.join(model_dirs)}: a run is listed twice")
    return labels


def index_key(model_dirs, real, split):
    """What makes an index reusable: the runs and the real data asked for."""
    return {"model_dirs": [os.path.abspath(d) for d in model_dirs], "real": real,
            "split": split}


def real_images(model, real, data_dir, split, num, seed):
    """Up to ``num`` real images [H, W, C] in [-1, 1] (the model's evaluation
    reference on ``real``), and the spec/split they come from."""
    import numpy as np

    from tfgan_suite import data
    options = data.DataOptions.from_config(model.config, dataset=real, data_dir=data_dir)
    run_data = data.RunData(options)
    try:
        source, used = run_data.split(split or model.evaluation_split, fallback=split is None)
        reference = model.evaluation_reference(source)
    except ConfigError as e:
        raise ConfigError(f"--real={real or options.dataset}: {e}") from None
    if reference.kind == "superres":  # full high-resolution images (sizes differ)
        from tfgan_suite.data import superres
        skip = num if (reference.num_examples or 0) >= 2 * num else 0
        out = []
        for i, (_, hr) in enumerate(superres.full_pairs(reference)):
            if i >= skip:
                out.append(np.asarray(hr)[0])
            if len(out) >= num:
                break
    elif reference.kind == "image":
        ds = reference.dataset(1, shuffle=True, repeat=False, seed=seed, with_labels=False,
                               cache=False)
        out = [np.asarray(b)[0] for b in ds.take(num)]
    else:
        raise ConfigError(f"--real={options.dataset}: {reference.kind} data, not images")
    return out, f"{options.dataset}/{used}"


def build_index(study_dir, model_dirs, real, data_dir, split, num, seed):
    """Generate and write the images; returns [(source, relative path)] and a
    description of the index (JSON-ready)."""
    import numpy as np

    import tfgan_suite
    from tfgan_suite import data, visualize
    labels = model_labels(model_dirs)
    images_dir = os.path.join(study_dir, "images")
    os.makedirs(images_dir, exist_ok=True)
    entries, models, shapes = [], [], {}

    def write(source, image):
        name = secrets.token_hex(16) + ".png"
        visualize.save_png(os.path.join(images_dir, name), visualize.to_uint8(image))
        entries.append((source, f"images/{name}"))

    first = None
    for label, model_dir in zip(labels, model_dirs):
        try:
            model = tfgan_suite.load_model(model_dir)
        except ConfigError as e:
            raise ConfigError(f"--model_dirs: {str(e).replace('--model_dir=', '')}") from None
        if model.data_spec.kind != "image":
            raise ConfigError(f"--model_dirs: {model_dir} generates "
                              f"{model.data_spec.describe()}, not images")
        first = first or model
        # The model's evaluation data: inputs for image-to-image / super-resolution
        # models (noise models ignore it, but it is cheap to describe).
        options = data.DataOptions.from_config(model.config, data_dir=data_dir)
        source, _ = data.RunData(options).split(split or model.evaluation_split,
                                                fallback=split is None)
        count = 0
        for batch in model.evaluation_batches(source, num, min(num, 64), seed):
            for image in np.asarray(batch.generated)[: num - count]:
                write(label, image)
                shapes.setdefault(label, tuple(image.shape))
                count += 1
            if count >= num:
                break
        models.append({"label": label, "model_dir": model_dir, "model": model.model_name,
                       "step": int(model.step), "images": count})
        print(f"{label}: {count} generated images ({model.model_name}, step {model.step})",
              flush=True)
    reals, real_spec = real_images(first, real, data_dir, split, num, seed)
    for image in reals:
        write(REAL, image)
        shapes.setdefault(REAL, tuple(image.shape))
    print(f"real: {len(reals)} images of {real_spec}", flush=True)
    if len(reals) < num:
        print(f"warning: {real_spec} has only {len(reals)} images (--num_images={num})",
              file=sys.stderr, flush=True)
    if len(set(shapes.values())) > 1:
        print(f"warning: image shapes differ ({shapes}); a participant can tell them "
              f"apart by size", file=sys.stderr, flush=True)
    return entries, {"models": models, "real": real_spec, "real_images": len(reals)}


# ------------------------------------------------------------------ the study

class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Study:
    """The index and the sessions in ``study_dir/study.sqlite``: one
    connection shared by the request threads under a lock, one transaction
    (committed before the reply) per change."""

    def __init__(self, study_dir, practice_trials, test_trials, display_ms):
        self.study_dir = study_dir
        self.practice_trials = practice_trials
        self.test_trials = test_trials
        self.display_ms = display_ms
        self.lock = threading.Lock()
        self.conn = open_db(study_dir)
        self.pools = {}
        for image_id, source in self.conn.execute("SELECT id, source FROM images ORDER BY id"):
            self.pools.setdefault(source, []).append(image_id)
        if REAL not in self.pools or len(self.pools) < 2:
            raise ConfigError(f"--study_dir={study_dir}: the index needs real and generated "
                              f"images")
        self.models = sorted(s for s in self.pools if s != REAL)
        self.rng = random.SystemRandom()

    # --------------------------------------------------------------- sessions
    def draw_session(self):
        """[(block, image_id)]: the practice then the test trials, each block
        half real (a random extra one when odd), the generated images taken
        from the models in turn, shuffled within the block; no image twice
        before its pool is used up."""
        rng = self.rng
        queues = {}

        def take(source):
            queue = queues.setdefault(source, [])
            if not queue:
                queue.extend(rng.sample(self.pools[source], len(self.pools[source])))
            return queue.pop()

        models = rng.sample(self.models, len(self.models))
        turn = 0
        session = []
        for block, n in (("practice", self.practice_trials), ("test", self.test_trials)):
            n_real = n // 2 + (rng.random() < 0.5 if n % 2 else 0)
            sources = [REAL] * n_real
            for _ in range(n - n_real):
                sources.append(models[turn % len(models)])
                turn += 1
            rng.shuffle(sources)
            session += [(block, take(s)) for s in sources]
        return session

    def start(self):
        participant = secrets.token_urlsafe(12)
        session = self.draw_session()
        with self.lock, self.conn:
            self.conn.execute("INSERT INTO participants VALUES (?, ?, ?, ?)",
                              (participant, time.time(), self.practice_trials,
                               self.test_trials))
            self.conn.executemany(
                "INSERT INTO trials (token, participant, position, block, image_id) "
                "VALUES (?, ?, ?, ?, ?)",
                [(secrets.token_urlsafe(16), participant, i, block, image_id)
                 for i, (block, image_id) in enumerate(session)])
        return {"participant": participant, "practice_trials": self.practice_trials,
                "test_trials": self.test_trials, "display_ms": self.display_ms}

    def _participant(self, participant):
        if not isinstance(participant, str) or not TOKEN_RE.match(participant):
            raise HTTPError(400, "missing or malformed participant")
        row = self.conn.execute("SELECT practice_trials, test_trials FROM participants "
                                "WHERE id = ?", (participant,)).fetchone()
        if row is None:
            raise HTTPError(400, "unknown participant")
        return row

    def _current(self, participant):
        return self.conn.execute(
            "SELECT token, position, block FROM trials WHERE participant = ? AND answer IS "
            "NULL ORDER BY position LIMIT 1", (participant,)).fetchone()

    def next(self, participant):
        with self.lock:
            practice, test = self._participant(participant)
            current = self._current(participant)
            if current is None:
                correct, total = self.conn.execute(
                    "SELECT COALESCE(SUM((t.answer = 'real') = (i.source = 'real')), 0), "
                    "COUNT(*) FROM trials t JOIN images i ON i.id = t.image_id "
                    "WHERE t.participant = ? AND t.block = 'test'", (participant,)).fetchone()
                return {"done": True, "score": correct / total if total else None,
                        "correct": correct, "total": total}
        token, position, block = current
        start, total = (0, practice) if block == "practice" else (practice, test)
        return {"trial": token, "block": block, "index": position - start + 1, "total": total,
                "position": position, "image_url": f"/image/{token}",
                "display_ms": self.display_ms}

    def answer(self, body):
        if not isinstance(body, dict):
            raise HTTPError(400, "the body must be a JSON object")
        participant, trial, answer = (body.get(k) for k in ("participant", "trial", "answer"))
        if not isinstance(trial, str) or not TOKEN_RE.match(trial):
            raise HTTPError(400, "missing or malformed trial")
        if answer not in ANSWERS:
            raise HTTPError(400, "answer must be 'real' or 'fake'")
        with self.lock:
            self._participant(participant)
            row = self.conn.execute(
                "SELECT t.block, t.answer, i.source FROM trials t JOIN images i ON "
                "i.id = t.image_id WHERE t.token = ? AND t.participant = ?",
                (trial, participant)).fetchone()
            if row is None:
                raise HTTPError(404, "no such trial for this participant")
            block, previous, source = row
            if previous is not None:
                raise HTTPError(409, "this trial is already answered")
            current = self._current(participant)
            if current is None or current[0] != trial:
                raise HTTPError(409, "not the participant's current trial")
            with self.conn:  # one transaction, committed before the reply
                cursor = self.conn.execute(
                    "UPDATE trials SET answer = ?, answered_at = ? WHERE token = ? AND "
                    "answer IS NULL", (answer, time.time(), trial))
                if cursor.rowcount != 1:
                    raise HTTPError(409, "this trial is already answered")
        reply = {"accepted": True, "block": block}
        if block == "practice":
            truth = REAL if source == REAL else "fake"
            reply.update(correct=answer == truth, truth=truth)
        return reply

    def image_path(self, token):
        if not TOKEN_RE.match(token):
            return None
        with self.lock:
            row = self.conn.execute("SELECT i.path FROM trials t JOIN images i ON "
                                    "i.id = t.image_id WHERE t.token = ?", (token,)).fetchone()
        return os.path.join(self.study_dir, row[0]) if row else None


def open_db(study_dir):
    os.makedirs(study_dir, exist_ok=True)
    conn = sqlite3.connect(os.path.join(study_dir, DB_NAME), check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(SCHEMA)
    conn.commit()
    return conn


def prepare_index(study_dir, model_dirs, real, data_dir, split, num, seed):
    """Reuse the index of ``study_dir`` when it was built for the same runs and
    real data, else build it (refusing to replace one that has answers)."""
    key = index_key(model_dirs or [], real, split)
    conn = open_db(study_dir)
    try:
        stored = conn.execute("SELECT value FROM meta WHERE key = 'index'").fetchone()
        if stored is not None:
            info = json.loads(stored[0])
            if not model_dirs or info["key"] == key:
                count = conn.execute("SELECT COUNT(*) FROM images").fetchone()[0]
                print(f"Reusing the index of {study_dir} ({count} images)", flush=True)
                return
            raise ConfigError(f"--study_dir={study_dir} holds a study of "
                              f"{','.join(info['key']['model_dirs'])} (real: "
                              f"{info['real']}); choose another --study_dir")
        if not model_dirs:
            raise ConfigError("--model_dirs is required (comma-separated run directories)")
        entries, info = build_index(study_dir, model_dirs, real, data_dir, split, num, seed)
        info["key"] = key
        with conn:  # an index killed half-way is rebuilt: the meta row comes last
            conn.execute("DELETE FROM trials")
            conn.execute("DELETE FROM participants")
            conn.execute("DELETE FROM images")
            conn.executemany("INSERT INTO images (source, path) VALUES (?, ?)", entries)
            conn.execute("INSERT INTO meta VALUES ('index', ?)", (json.dumps(info),))
    finally:
        conn.close()


# ------------------------------------------------------------------ the server

class Handler(BaseHTTPRequestHandler):
    server_version = "tfgan-study/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002  (quiet: no per-request lines)
        pass

    def _send(self, status, body, content_type="application/json; charset=utf-8"):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status, message):
        self._send(status, {"error": message})

    def _body(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise HTTPError(400, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise HTTPError(400, "body too large")
        raw = self.rfile.read(length) if length else b""
        return raw

    def _json_body(self):
        raw = self._body()
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise HTTPError(400, "the body is not JSON") from None

    def do_GET(self):  # noqa: N802
        study = self.server.study
        url = urlsplit(self.path)
        try:
            if url.path in ("/", "/index.html"):
                self._send(200, PAGE.encode(), "text/html; charset=utf-8")
            elif url.path == "/api/next":
                query = parse_qs(url.query)
                participant = query.get("participant", [None])[0]
                self._send(200, study.next(participant))
            elif url.path.startswith("/image/"):
                path = study.image_path(url.path[len("/image/"):])
                if path is None or not os.path.isfile(path):
                    raise HTTPError(404, "not found")
                with open(path, "rb") as f:
                    self._send(200, f.read(), "image/png")
            else:
                raise HTTPError(404, "not found")
        except HTTPError as e:
            self._error(e.status, str(e))

    def do_POST(self):  # noqa: N802
        study = self.server.study
        url = urlsplit(self.path)
        try:
            if url.path == "/api/start":
                self._body()
                self._send(200, study.start())
            elif url.path == "/api/answer":
                self._send(200, study.answer(self._json_body()))
            else:
                self._body()
                raise HTTPError(404, "not found")
        except HTTPError as e:
            self._error(e.status, str(e))


def serve(study, host, port):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.study = study
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"Study running at http://{shown}:{bound_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return server


def study_main():
    if FLAGS.report:
        return report(FLAGS.study_dir)
    split = FLAGS.split if FLAGS["split"].present else None
    prepare_index(FLAGS.study_dir, FLAGS.model_dirs, FLAGS.real, FLAGS.data_dir, split,
                  FLAGS.num_images, FLAGS.seed)
    study = Study(FLAGS.study_dir, FLAGS.practice_trials, FLAGS.test_trials, FLAGS.display_ms)
    try:
        serve(study, FLAGS.host, FLAGS.port)
    except OSError as e:
        raise ConfigError(f"--port={FLAGS.port}: cannot listen on {FLAGS.host}: "
                          f"{e.strerror or e}") from None


main = cli.app_main(study_main)


def run():
    """Console script entry point (``tfgan-study``)."""
    app.run(main)


PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Real or fake?</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f4; color: #222; }
  main { max-width: 640px; margin: 2em auto; padding: 1.5em; background: #fff;
         border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); text-align: center; }
  h1 { font-size: 1.4em; margin-top: 0; }
  #progress { color: #666; min-height: 1.3em; }
  #stage { display: flex; align-items: center; justify-content: center; margin: 1em auto;
           min-width: 256px; min-height: 256px; }
  #image { image-rendering: pixelated; image-rendering: crisp-edges; max-width: 90vw;
           display: none; }
  #blank { background: #ccc; display: none; }
  #buttons { visibility: hidden; }
  button { font-size: 1.1em; padding: .6em 2em; margin: 0 .5em; border-radius: 6px;
           border: 1px solid #888; cursor: pointer; background: #fafafa; }
  button:disabled { cursor: default; opacity: .5; }
  #real { background: #e4f4e4; } #fake { background: #f7e1e1; }
  #feedback { min-height: 1.5em; font-weight: bold; }
  .right { color: #1a7f1a; } .wrong { color: #b00020; }
  #score { font-size: 2.2em; font-weight: bold; }
  .hidden { display: none; }
  kbd { border: 1px solid #aaa; border-radius: 3px; padding: 0 .3em; font-size: .9em; }
</style>
</head>
<body>
<main>
  <h1>Real or fake?</h1>
  <section id="intro">
    <p>Each image is either a real photograph from a dataset or an image made by a
    computer program. It is shown briefly; then say whether you think it was
    <b>real</b> or <b>fake</b>.</p>
    <p>The first <span id="npractice">few</span> trials are practice: you will be told
    the answer. After that, <span id="ntest">the</span> test trials give no feedback.</p>
    <p>Keys: <kbd>R</kbd> or <kbd>&larr;</kbd> real, <kbd>F</kbd> or <kbd>&rarr;</kbd> fake.</p>
    <button id="begin" disabled>Begin</button>
  </section>
  <section id="trial" class="hidden">
    <div id="progress"></div>
    <div id="stage"><img id="image" alt="image to judge"><div id="blank"></div></div>
    <div id="buttons"><button id="real">Real</button><button id="fake">Fake</button></div>
    <div id="feedback"></div>
  </section>
  <section id="done" class="hidden">
    <p>Thank you! Your accuracy on the test trials:</p>
    <div id="score"></div>
    <p id="score_detail"></p>
  </section>
  <p id="error" class="wrong"></p>
</main>
<script>
"use strict";
const MIN_PX = %(min_px)d;
const $ = (id) => document.getElementById(id);
let participant = null, trial = null, answering = false, lastBlock = null;

function fail(message) { $("error").textContent = message; }

async function api(method, url, body) {
  const init = {method, headers: {}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) { const e = new Error(data.error || response.statusText);
                      e.status = response.status; throw e; }
  return data;
}

function showOnly(id) {
  for (const s of ["intro", "trial", "done"]) $(s).classList.toggle("hidden", s !== id);
}

function setButtons(visible) {
  $("buttons").style.visibility = visible ? "visible" : "hidden";
  $("real").disabled = $("fake").disabled = !visible;
  answering = visible;
}

async function start() {
  const params = new URLSearchParams(location.search);
  let stored = params.has("new") ? null : localStorage.getItem("study_participant");
  if (stored) {
    try { await api("GET", "/api/next?participant=" + encodeURIComponent(stored));
          participant = stored; }
    catch (e) { localStorage.removeItem("study_participant"); }
  }
  if (!participant) {
    const s = await api("POST", "/api/start");
    participant = s.participant;
    localStorage.setItem("study_participant", participant);
    $("npractice").textContent = s.practice_trials;
    $("ntest").textContent = s.test_trials;
  }
  $("begin").disabled = false;
}

async function next() {
  setButtons(false);
  const t = await api("GET", "/api/next?participant=" + encodeURIComponent(participant));
  if (t.done) {
    showOnly("done");
    $("score").textContent = t.score === null ? "-" : Math.round(t.score * 100) + "%%";
    $("score_detail").textContent = t.correct + " of " + t.total + " correct";
    localStorage.removeItem("study_participant");
    return;
  }
  showOnly("trial");
  trial = t;
  const label = t.block === "practice" ? "Practice" : "Test";
  $("progress").textContent = label + " " + t.index + " / " + t.total;
  $("feedback").className = "";
  $("feedback").textContent = lastBlock === "practice" && t.block === "test"
    ? "Practice over: no more feedback from now on." : "";
  lastBlock = t.block;
  const img = $("image"), blank = $("blank");
  blank.style.display = "none";
  img.style.display = "none";
  img.onload = () => {
    const w = img.naturalWidth, h = img.naturalHeight;
    const scale = Math.max(1, MIN_PX / Math.max(w, h));
    img.style.width = blank.style.width = Math.round(w * scale) + "px";
    img.style.height = blank.style.height = Math.round(h * scale) + "px";
    img.style.display = "block";
    setTimeout(() => {
      img.style.display = "none";
      blank.style.display = "block";
      setButtons(true);
    }, t.display_ms);
  };
  img.onerror = () => fail("could not load the image; reload the page to continue");
  img.src = t.image_url;
}

async function answer(value) {
  if (!answering || !trial) return;
  setButtons(false);
  try {
    const r = await api("POST", "/api/answer",
                        {participant, trial: trial.trial, answer: value});
    if (r.block === "practice") {
      $("feedback").className = r.correct ? "right" : "wrong";
      $("feedback").textContent = (r.correct ? "Correct" : "Wrong") +
        ": this image was " + r.truth + ".";
      setTimeout(() => next().catch((e) => fail(e.message)), 900);
    } else {
      $("feedback").textContent = "";
      await next();
    }
  } catch (e) {
    if (e.status === 409) await next(); else fail(e.message);
  }
}

$("begin").onclick = () => { showOnly("trial"); next().catch((e) => fail(e.message)); };
$("real").onclick = () => answer("real");
$("fake").onclick = () => answer("fake");
document.addEventListener("keydown", (ev) => {
  if (ev.key === "r" || ev.key === "R" || ev.key === "ArrowLeft") answer("real");
  else if (ev.key === "f" || ev.key === "F" || ev.key === "ArrowRight") answer("fake");
});
start().catch((e) => fail("cannot start the study: " + e.message));
</script>
</body>
</html>
""" % {"min_px": MIN_DISPLAY_PX}


if __name__ == "__main__":
    run()
