"""Figure 12: an instance's start until it serves, a 20,000-file slug
against a 100-file one, with /app an overlay of the slug's shared tree
(slipway.appOverlay true, the default) and with a copy per instance
(false), interleaved.

Each sample is `slipway instance:run web.1` in the foreground, from its
start until a GET on its port is answered, then SIGTERM; the same small
app (it binds in ~50 ms) with 100 or 20,000 more files in node_modules/.
"""
import os
import signal
import socket
import subprocess
import time

from figures import RUN_APP, _write
from measure import Failure, run
from report import median, ratio

SIZES = (("files100", 100), ("files20k", 20000))


def _app(b, name, nfiles):
    src, log = f"{b.work}/src/{name}", f"{b.work}/push-{name}.log"
    for i in range(nfiles):
        d = f"{src}/node_modules/m{i // 100}"
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        _write(f"{d}/f{i}.js", "module.exports = %d;\n" % i)
    _write(f"{src}/server.py", RUN_APP)
    _write(f"{src}/Procfile", "web: exec python3 server.py\n")
    _write(f"{src}/version", "one\n")
    b.git(src, "init", "-q", "-b", "main")
    b.git(src, "add", "-A")
    b.commit(src)
    b.make_app(f"bench-{name}")
    b.git(src, "remote", "add", "heroku", f"{b.root}/apps/bench-{name}.git")
    run(["git", "-C", src, "push", "-q", "heroku", "main"], log=log)


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serves(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return c.recv(64).startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def _start_ms(b, app, overlay):
    """ms from instance:run's start until its web.1 answers; then stopped."""
    port = _port()
    env = dict(os.environ, SLIPWAY_APP_OVERLAY="true" if overlay else "false")
    t = time.perf_counter()
    p = subprocess.Popen([b.slipway, "instance:run", "web.1", "--port", str(port), "-a", app],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _serves(port):
            if p.poll() is not None or time.perf_counter() - t > 60:
                raise Failure(f"instance:run of {app} did not serve")
            time.sleep(0.002)
        return (time.perf_counter() - t) * 1000
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()


def start_figures(b):
    """Figure 12."""
    n = 5 if b.quick else 11
    for name, nfiles in SIZES:
        _app(b, name, nfiles)
    b.say(f"Instance start: {n} starts of each slug, overlay and copy, interleaved")
    samples = {(name, ov): [] for name, _ in SIZES for ov in (True, False)}
    for name, _ in SIZES:
        _start_ms(b, f"bench-{name}", True)   # unpacks the slug's tree, once
    for i in range(n):
        order = [(name, ov) for name, _ in SIZES for ov in (True, False)]
        for key in order if i % 2 == 0 else reversed(order):
            samples[key].append(_start_ms(b, f"bench-{key[0]}", key[1]))
    m = {k: round(median(v), 1) for k, v in samples.items()}
    r = ratio(m[("files20k", True)], m[("files100", True)])
    b.row(12, "instance start until it serves, 20,000-file slug, /app an overlay",
          m[("files20k", True)], "ms", m[("files100", True)], "same, 100-file slug",
          "<= 1.2x", r <= 1.2, f"medians of {n}, interleaved; the slug's tree unpacked before")
    b.row(12, "instance start until it serves, 20,000-file slug, /app a copy",
          m[("files20k", False)], "ms", m[("files100", False)], "same, 100-file slug",
          note=f"slipway.appOverlay false: the copy per instance of before; medians of {n}")
    first_start_figures(b)


def first_start_figures(b):
    """Figure 12's first start of a slug: its tree unpacked then (after gc took it)."""
    n = 3
    b.say(f"Instance start: {n} first starts of each slug, its tree unpacked then")
    samples = {name: [] for name, _ in SIZES}
    for i in range(n):
        for name, _ in SIZES if i % 2 == 0 else reversed(SIZES):
            b.slipway_run("gc")   # no instance runs: the trees go
            samples[name].append(_start_ms(b, f"bench-{name}", True))
    m = {k: round(median(v), 1) for k, v in samples.items()}
    b.row(12, "first start of a 20,000-file slug until it serves (its tree unpacked then)",
          m["files20k"], "ms", m["files100"], "same, 100-file slug",
          note=f"medians of {n}, interleaved; once per slug, until gc finds no process using its tree")
