"""Figure 10's router throughput: requests/s and CPU per request through the
router against straight to the instance, for an app that closes every
connection and for one that keeps them alive.

The close-per-request app pays a TCP connect per request on both sides, so
on few cores its ratio measures connect cost more than the router; the
keep-alive app is what HTTP clients and the router's upstream pool (nginx
`keepalive 16`) actually use.  CPU per request is the CPU time the whole
path spent (wrk, nginx's processes, the app) divided by the requests it
answered, from /proc and getrusage, so a ratio near 1 with the cores busy
and one with cores idle read differently.

Also runs on its own (it starts and stops the runtime):

    python3 -B bench/throughput.py [--quick] [--json] [--build DIR] ...
"""
import os
import resource
import shutil
import sys

from figures import RUN_APP
from measure import Failure, output, run, wrk_figures
from report import median, ratio

# Closes each connection after one answer: figure 8's app.
CLOSE_APP = RUN_APP

# HTTP/1.1 with keep-alive: one process, non-blocking sockets, every
# complete request on a connection answered in order.
KEEPALIVE_APP = """\
import os, selectors, socket
body = open("/app/version", "rb").read()
answer = b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(os.environ["PORT"])))
s.listen(128)
s.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(s, selectors.EVENT_READ)
held = {}
def drop(c):
    sel.unregister(c)
    held.pop(c, None)
    c.close()
while True:
    for key, _ in sel.select():
        c = key.fileobj
        if c is s:
            try:
                n, _ = s.accept()
            except BlockingIOError:
                continue
            n.setblocking(False)
            sel.register(n, selectors.EVENT_READ)
            held[n] = b""
            continue
        try:
            data = c.recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            drop(c)
            continue
        buf = held[c] + data
        k = buf.count(b"\\r\\n\\r\\n")
        held[c] = buf[buf.rindex(b"\\r\\n\\r\\n") + 4:] if k else buf
        try:
            c.sendall(answer * k)
        except OSError:
            drop(c)
"""

# The keep-alive app with work to do: 2,000 SHA-256 rounds (about a
# millisecond of CPU here) before each answer - still less than what a web
# framework spends on a page.  Where the router's CPU per request is small
# beside the app's, the ratio says what a real app loses to the router.
WORK_APP = KEEPALIVE_APP.replace(
    "body = open", "import hashlib\n"
    "def work():\n"
    "    h = b\"x\"\n"
    "    for _ in range(2000):\n"
    "        h = hashlib.sha256(h).digest()\n"
    "body = open").replace(
    "        try:\n            c.sendall(answer * k)",
    "        for _ in range(k):\n            work()\n        try:\n            c.sendall(answer * k)")

APPS = (("close", "bench-close", CLOSE_APP), ("keep-alive", "bench-keepalive", KEEPALIVE_APP),
        ("keep-alive with 2,000 SHA-256 rounds per request", "bench-work", WORK_APP))


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _deploy(b, app, code):
    """Creates APP serving code as its web process and pushes it (the runtime running)."""
    src = f"{b.work}/src/{app}"
    os.makedirs(src, exist_ok=True)
    _write(f"{src}/server.py", code)
    _write(f"{src}/Procfile", "web: exec python3 server.py\n")
    _write(f"{src}/version", f"{app}\n")
    b.git(src, "init", "-q", "-b", "main")
    b.git(src, "add", "-A")
    b.commit(src)
    b.slipway_run("apps:create", app)
    run(["git", "-C", src, "push", "-q", f"{b.root}/apps/{app}.git", "main"],
        log=f"{b.work}/push-{app}.log")


def _instance_port(b, app):
    d = f"{b.root}/services"
    web = sorted(x for x in os.listdir(d) if x.startswith(f"{app}.v") and x.endswith(".web.1"))
    if not web:
        raise Failure(f"{app} has no web.1 running")
    with open(f"{d}/{web[-1]}/port") as f:
        return f.read().strip()


def _descendants(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
                kids.setdefault(int(st[st.rindex(")") + 2:].split()[1]), []).append(int(d))
            except (OSError, ValueError):
                pass
    todo, out = [root], []
    while todo:
        for c in kids.get(todo.pop(), []):
            todo.append(c)
            out.append(c)
    return out


def _cpu(pids):
    """Seconds of CPU (user + system) of pids, by command: {"nginx": s, "other": s}."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"nginx": 0.0, "other": 0.0}
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        out["nginx" if comm == "nginx" else "other"] += (int(f[11]) + int(f[12])) / tick
    return out


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _wrk(b, d, url, host=None):
    """One wrk run: requests/s, p99 (ms) and CPU µs per request of the router
    (nginx), the rest of the server's tree (the app; its supervision idles)
    and wrk itself."""
    pids = _descendants(b.server_pid)
    argv = ["wrk", "-t2", "-c16", f"-d{d}s", "--latency"] + (["-H", f"Host: {host}"] if host else []) + [url]
    c0, w0 = _cpu(pids), _children_cpu()
    text = output(argv)
    c1, w1 = _cpu(pids), _children_cpu()
    fig = wrk_figures(text)
    reqs = int(text.split(" requests in ")[0].split()[-1])
    us = lambda s: s * 1e6 / max(reqs, 1)
    fig.update(router_us=us(c1["nginx"] - c0["nginx"]), app_us=us(c1["other"] - c0["other"]),
               wrk_us=us(w1 - w0))
    fig["total_us"] = fig["router_us"] + fig["app_us"] + fig["wrk_us"]
    return fig


def router_throughput_figures(b):
    """Figure 10's throughput rows, the runtime running: each app through the
    router and straight to its web.1, interleaved, median of the runs."""
    if not shutil.which("wrk"):
        b.say("Router throughput: wrk is not installed, skipped")
        return
    import json
    b.server_pid = json.loads(b.slipway_out("server:status", "--json"))["pid"]
    for _, app, code in APPS:
        _deploy(b, app, code)
    d, n = (3, 3) if b.quick else (5, 5)
    res = {(kind, way): [] for kind, _, _ in APPS for way in ("router", "direct")}
    for i in range(n):
        for kind, app, _ in APPS:
            ways = [("router", f"http://127.0.0.1:{b.http_port}/", f"{app}.localhost"),
                    ("direct", f"http://127.0.0.1:{_instance_port(b, app)}/", None)]
            for way, url, host in ways if i % 2 == 0 else ways[::-1]:
                b.say(f"Router throughput: {kind} app, {way}, run {i + 1}/{n} (wrk {d}s)")
                res[(kind, way)].append(_wrk(b, d, url, host))
    for kind, _, _ in APPS:
        m = lambda way, key: round(median([r[key] for r in res[(kind, way)]]), 1)
        rps, base = m("router", "rps"), m("direct", "rps")
        target, met = (">= 0.9x", rps >= 0.9 * base) if kind == "keep-alive" else (None, None)
        b.row(10, f"requests/s through the router, {kind} app", rps, "/s", base,
              f"straight to web.1's port, {kind} app", target, met,
              f"wrk -t2 -c16 -d{d}s, median of {n} interleaved runs; ratio {ratio(rps, base)};"
              f" p99 {m('router', 'p99_ms')} ms vs {m('direct', 'p99_ms')} ms")
        b.row(10, f"  CPU per request through the router, {kind} app", m("router", "total_us"), "us",
              m("direct", "total_us"), f"straight to web.1's port, {kind} app",
              note=f"wrk + nginx + app: {m('router', 'wrk_us')} + {m('router', 'router_us')} +"
              f" {m('router', 'app_us')} us vs {m('direct', 'wrk_us')} + {m('direct', 'router_us')} +"
              f" {m('direct', 'app_us')} us (CPU time from getrusage and /proc, over the requests answered)")
    for _, app, _ in APPS:
        b.slipway_run("apps:destroy", app, "--confirm", app)


def main(argv):
    """Runs only these figures (scripts/bench's options)."""
    import slipway_bench
    return slipway_bench.run_alone(argv, router_throughput_figures, runtime=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
