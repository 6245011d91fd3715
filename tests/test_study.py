"""The "real or fake?" perceptual study (tfgan_suite.study): the report's
numbers, the HTTP API's refusals, answers surviving a killed server, and one
participant's whole session in headless Chromium."""
import contextlib
import http.client
import json
import math
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from conftest import REPO, run_cli
import tfgan_suite

PRACTICE, TEST = 2, 4
Z = 1.959963984540054


# ------------------------------------------------------------------ report numbers

def test_wilson_and_fooling_rates_by_hand():
    from tfgan_suite import study
    rows = ([("p1", "dcgan", "real")] * 4 + [("p1", "dcgan", "fake")] * 1
            + [("p2", "dcgan", "real")] * 3 + [("p2", "dcgan", "fake")] * 2
            + [("p1", "real", "real")] * 4 + [("p2", "real", "fake")] * 1
            + [("p3", "acgan", "fake")] * 3)
    table = study.fooling_rates(rows)
    assert [r["source"] for r in table] == ["acgan", "dcgan", "real"]
    acgan, dcgan, real = table
    # dcgan: 7 of 10 judged real. Wilson: (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
    n, p = 10, 0.7
    center = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    assert dcgan["rate"] == 0.7 and dcgan["trials"] == 10 and dcgan["judged_real"] == 7
    assert dcgan["participants"] == 2 and dcgan["kind"] == "model"
    assert dcgan["ci95"] == pytest.approx([center - half, center + half], abs=1e-12)
    assert dcgan["ci95"] == pytest.approx([0.3968, 0.8922], abs=1e-4)  # the textbook values
    # 0 of 3: the interval starts at 0 and ends at z^2/(n + z^2).
    assert acgan["rate"] == 0.0 and acgan["participants"] == 1
    assert acgan["ci95"][0] == pytest.approx(0.0, abs=1e-12)
    assert acgan["ci95"][1] == pytest.approx(Z * Z / (3 + Z * Z), abs=1e-12)
    assert real["kind"] == "real" and real["rate"] == 0.8 and real["trials"] == 5
    assert study.wilson_interval(0, 0) == (None, None)
    assert study.fooling_rates([]) == []
    with pytest.raises(ValueError):
        study.fooling_rates([("p", "dcgan", "maybe")])


def test_bad_input_names_the_flag(tmp_path):
    from tfgan_suite import study
    from tfgan_suite.errors import ConfigError
    with pytest.raises(ConfigError, match="--model_dirs"):
        study.prepare_index(str(tmp_path / "s"), [], None, None, None, 4, 0)
    with pytest.raises(ConfigError, match="--study_dir"):
        study.report(str(tmp_path / "nothing"))


# ------------------------------------------------------------------ the server

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("study_run") / "run"
    tfgan_suite.run("train", "--model=dcgan", "--dataset=bundled:mnist", "--batch_size=8",
                    "--g_filters=4", "--d_filters=4", "--latent_dim=4", "--train_steps=2",
                    "--sample_every=0", "--nojit_compile", f"--model_dir={run}")
    return run


class Server:
    """``python -m tfgan_suite.study`` in a subprocess on a free port."""

    def __init__(self, run_dir, study_dir, log_dir):
        self.args = [sys.executable, "-m", "tfgan_suite.study", f"--model_dirs={run_dir}",
                     f"--study_dir={study_dir}", "--host=127.0.0.1", "--port=0",
                     "--num_images=6", f"--practice_trials={PRACTICE}",
                     f"--test_trials={TEST}", "--display_ms=200"]
        self.study_dir = study_dir
        self.log_dir = log_dir
        self.proc = None
        self.starts = 0

    def start(self, timeout=120):
        self.starts += 1
        log = open(os.path.join(self.log_dir, f"server{self.starts}.log"), "w")
        # Unbuffered: select() sees every line (a buffered reader could hold the next one).
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=log, cwd=REPO,
                                     bufsize=0,
                                     env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        log.close()
        deadline, seen = time.time() + timeout, []
        while time.time() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 1.0)
            if ready:
                line = self.proc.stdout.readline().decode()
                seen.append(line)
                if line.startswith("Study running at http://"):
                    self.url = line.split(" at ", 1)[1].strip().rstrip("/")
                    self.port = int(self.url.rsplit(":", 1)[1])
                    return self
                if not line:
                    break
            if self.proc.poll() is not None:
                break
        self.stop()
        with open(os.path.join(self.log_dir, f"server{self.starts}.log")) as f:
            raise AssertionError(f"server did not start: {''.join(seen)}{f.read()[-3000:]}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc.stdout.close()

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()

    @contextlib.contextmanager
    def db(self):
        conn = sqlite3.connect(os.path.join(self.study_dir, "study.sqlite"))
        try:
            yield conn
        finally:
            conn.close()

    def ensure(self):
        return self if self.alive() else self.start()


@pytest.fixture(scope="module")
def server(run_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("study")
    s = Server(run_dir, str(base / "study"), str(base))
    s.start()
    try:
        yield s
    finally:
        s.stop()


def request(server, method, path, body=None, raw=None):
    """(status, JSON reply or bytes) of one request, without urllib's path clean-up."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if response.getheader("Content-Type", "").startswith("application/json"):
            payload = json.loads(payload)
        return response.status, payload
    finally:
        conn.close()


def start_participant(server):
    with urllib.request.urlopen(urllib.request.Request(
            server.url + "/api/start", data=b"", method="POST"), timeout=30) as r:
        return json.loads(r.read())["participant"]


def next_trial(server, participant):
    with urllib.request.urlopen(f"{server.url}/api/next?participant={participant}",
                                timeout=30) as r:
        return json.loads(r.read())


def answers_of(server, participant):
    with server.db() as conn:
        return conn.execute("SELECT position, block, answer FROM trials WHERE participant = ? "
                            "AND answer IS NOT NULL ORDER BY position",
                            (participant,)).fetchall()


@pytest.mark.slow
@pytest.mark.cli
def test_index_and_page(server):
    server.ensure()
    with server.db() as conn:
        images = conn.execute("SELECT source, path FROM images").fetchall()
    sources = sorted({s for s, _ in images})
    assert sources == ["real", "run"] and len(images) == 12
    for _, path in images:
        assert path.startswith("images/") and path.endswith(".png")
        assert os.path.isfile(os.path.join(server.study_dir, path))
        assert "real" not in path and "run" not in os.path.basename(path)
    status, page = request(server, "GET", "/")
    assert status == 200 and b'id="real"' in page and b'id="fake"' in page
    assert b"pixelated" in page and b'id="score"' in page


@pytest.mark.slow
@pytest.mark.cli
def test_http_refusals_store_nothing(server):
    server.ensure()
    p, other = start_participant(server), start_participant(server)
    assert p != other
    first = next_trial(server, p)
    assert set(first) == {"trial", "block", "index", "total", "position", "image_url",
                          "display_ms"}  # no source / truth
    assert first["block"] == "practice" and first["index"] == 1 and first["total"] == PRACTICE
    assert first["image_url"] == "/image/" + first["trial"]
    with server.db() as conn:
        tokens = [t for (t,) in conn.execute(
            "SELECT token FROM trials WHERE participant = ? ORDER BY position", (p,))]
        other_token = conn.execute("SELECT token FROM trials WHERE participant = ? AND "
                                   "position = 0", (other,)).fetchone()[0]
        image_path = conn.execute("SELECT path FROM images LIMIT 1").fetchone()[0]
    assert tokens[0] == first["trial"] and len(tokens) == PRACTICE + TEST

    # The image, by its token only.
    status, png = request(server, "GET", first["image_url"])
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
    for path in ["/image/../study.sqlite", "/image/..%2fstudy.sqlite", "/study.sqlite",
                 "/image/%2e%2e/study.sqlite", "/" + image_path, "/image/" + image_path,
                 "/image/" + os.path.basename(image_path), "/image/", "/image/nope-nope-nope",
                 "/images/../study.sqlite", "/api/../study.sqlite", "/image/" + "A" * 300]:
        status, _ = request(server, "GET", path)
        assert status == 404, path

    # Refusals: none of them stored.
    good = {"participant": p, "trial": first["trial"], "answer": "real"}
    refusals = [
        (400, dict(raw=b"{not json")),
        (400, dict(raw=b"\xff\xfe")),
        (400, dict(raw=b"[1, 2]")),
        (400, dict(body={})),
        (400, dict(body={k: v for k, v in good.items() if k != "answer"})),
        (400, dict(body={k: v for k, v in good.items() if k != "trial"})),
        (400, dict(body={k: v for k, v in good.items() if k != "participant"})),
        (400, dict(body=dict(good, answer="maybe"))),
        (400, dict(body=dict(good, answer=1))),
        (400, dict(body=dict(good, participant="nobody-at-all"))),
        (400, dict(body=dict(good, participant=["x"]))),
        (404, dict(body=dict(good, trial=other_token))),  # issued to someone else
        (404, dict(body=dict(good, trial="made-up-token-123"))),
        (409, dict(body=dict(good, trial=tokens[2]))),  # not the current trial
    ]
    for expected, kwargs in refusals:
        status, reply = request(server, "POST", "/api/answer", **kwargs)
        assert status == expected, (kwargs, reply)
        assert "truth" not in reply and "error" in reply
    for query in ["", "?participant=", "?participant=nobody-at-all", "?x=1"]:
        status, _ = request(server, "GET", "/api/next" + query)
        assert status == 400, query
    assert answers_of(server, p) == [] and answers_of(server, other) == []

    # A practice answer tells the truth; a second answer to it is refused.
    status, reply = request(server, "POST", "/api/answer", body=good)
    assert status == 200 and reply["block"] == "practice"
    assert reply["truth"] in ("real", "fake") and reply["correct"] == (reply["truth"] == "real")
    status, _ = request(server, "POST", "/api/answer", body=good)
    assert status == 409
    assert answers_of(server, p) == [(0, "practice", "real")]
    # Through the practice block; test-block replies carry no truth.
    for position in range(1, PRACTICE + 1):
        t = next_trial(server, p)
        assert t["position"] == position and t["trial"] == tokens[position]
        status, reply = request(server, "POST", "/api/answer",
                                body={"participant": p, "trial": t["trial"], "answer": "fake"})
        assert status == 200
        if t["block"] == "test":
            assert set(reply) == {"accepted", "block"} and reply["block"] == "test"
    assert len(answers_of(server, p)) == PRACTICE + 1


@pytest.mark.slow
@pytest.mark.cli
def test_answers_survive_sigkill_and_the_session_continues(server):
    server.ensure()
    p = start_participant(server)
    answered = []
    for _ in range(PRACTICE + 1):
        t = next_trial(server, p)
        status, _ = request(server, "POST", "/api/answer",
                            body={"participant": p, "trial": t["trial"], "answer": "real"})
        assert status == 200
        answered.append(t["trial"])
    with server.db() as conn:
        images_before = conn.execute("SELECT id, source, path FROM images").fetchall()
    server.kill()
    assert len(answers_of(server, p)) == PRACTICE + 1
    server.start()  # same study dir: the index is reused, the session continues
    with server.db() as conn:
        assert conn.execute("SELECT id, source, path FROM images").fetchall() == images_before
        tokens = [t for (t,) in conn.execute(
            "SELECT token FROM trials WHERE participant = ? ORDER BY position", (p,))]
    assert tokens[:PRACTICE + 1] == answered
    t = next_trial(server, p)
    assert (t["block"], t["index"], t["position"]) == ("test", 2, PRACTICE + 1)
    assert t["trial"] == tokens[PRACTICE + 1]
    status, _ = request(server, "POST", "/api/answer",
                        body={"participant": p, "trial": answered[-1], "answer": "fake"})
    assert status == 409  # answered before the kill
    for _ in range(TEST - 1):
        t = next_trial(server, p)
        status, _ = request(server, "POST", "/api/answer",
                            body={"participant": p, "trial": t["trial"], "answer": "real"})
        assert status == 200
    done = next_trial(server, p)
    assert done["done"] is True and done["total"] == TEST and 0 <= done["score"] <= 1
    assert [a for _, _, a in answers_of(server, p)] == ["real"] * (PRACTICE + TEST)


# ------------------------------------------------------------------ the browser

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _browser(profile):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            pytest.skip(f"{path} is not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=900,800"]:
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.mark.slow
@pytest.mark.cli
def test_browser_session_and_report(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    server.ensure()
    shot = os.environ.get("STUDY_SCREENSHOT") or str(tmp_path / "study_score.png")
    trial_shot = os.path.splitext(shot)[0] + "_trial.png"
    profile = tempfile.mkdtemp(prefix="study-chromium-")
    driver = _browser(profile)
    try:
        driver.get(server.url + "/")
        wait = WebDriverWait(driver, 30)
        wait.until(ec.element_to_be_clickable((By.ID, "begin"))).click()
        clicks = []
        for i in range(PRACTICE + TEST):
            choice = "real" if i % 3 == 0 else "fake"
            button = wait.until(ec.element_to_be_clickable((By.ID, choice)))
            progress = driver.find_element(By.ID, "progress").text
            block = "Practice" if i < PRACTICE else "Test"
            number = i + 1 if i < PRACTICE else i + 1 - PRACTICE
            assert progress == f"{block} {number} / {PRACTICE if i < PRACTICE else TEST}"
            if i == PRACTICE:  # the image is shown again for the screenshot of a trial
                driver.execute_script("document.getElementById('image').style.display='block';"
                                      "document.getElementById('blank').style.display='none';")
                driver.save_screenshot(trial_shot)
            button.click()
            clicks.append(choice)
            if i < PRACTICE:  # feedback with the truth, then the next trial
                wait.until(lambda d: "this image was" in d.find_element(By.ID, "feedback").text)
        score = wait.until(ec.visibility_of_element_located((By.ID, "score")))
        assert score.text.endswith("%")
        participant = driver.execute_script("return participant;")
        driver.save_screenshot(shot)
        shown = score.text
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

    with server.db() as conn:
        stored = conn.execute(
            "SELECT t.block, t.answer, i.source FROM trials t JOIN images i ON i.id = "
            "t.image_id WHERE t.participant = ? ORDER BY t.position", (participant,)).fetchall()
    assert [a for _, a, _ in stored] == clicks
    assert [b for b, _, _ in stored] == ["practice"] * PRACTICE + ["test"] * TEST
    correct = sum((a == "real") == (s == "real") for b, a, s in stored if b == "test")
    assert shown == f"{round(100 * correct / TEST)}%"

    r = run_cli("study", f"--study_dir={server.study_dir}", "--report", timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "real (reference)" in r.stdout and "run" in r.stdout
    with open(os.path.join(server.study_dir, "study.json")) as f:
        result = json.load(f)
    with server.db() as conn:  # every participant's test answers, practice left out
        rows = conn.execute("SELECT t.participant, i.source, t.answer FROM trials t JOIN "
                            "images i ON i.id = t.image_id WHERE t.block = 'test' AND "
                            "t.answer IS NOT NULL").fetchall()
    by_source = {r["source"]: r for r in result["rows"]}
    assert set(by_source) <= {"run", "real"} and result["trials"] == len(rows)
    for source, row in by_source.items():
        mine = [a for _, s, a in rows if s == source]
        assert row["trials"] == len(mine)
        assert row["rate"] == pytest.approx(mine.count("real") / len(mine))
        assert row["participants"] == len({q for q, s, _ in rows if s == source})
    with open(os.path.join(server.study_dir, "study.csv")) as f:
        header = f.readline().strip().split(",")
    assert header[:5] == ["source", "kind", "rate", "ci95_low", "ci95_high"]
