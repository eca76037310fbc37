"""Running and timing commands, streaming a push, load on the router, wrk's
figures and the memory of the supervision tree."""
import http.client
import os
import subprocess
import sys
import threading
import time

from report import stats


class Failure(Exception):
    """A step of the benchmark failed; the message says which."""


def run(argv, cwd=None, env=None, quiet=False, log=None, stdin=None, stdout=None):
    """Runs argv and fails unless it exits 0.

    quiet: its stdout goes to /dev/null (stderr stays on ours);
    log: stdout and stderr are appended to that file."""
    if quiet:
        stdout = subprocess.DEVNULL
    if log:
        with open(log, "ab") as f:
            p = subprocess.run(argv, cwd=cwd, env=env, stdin=stdin, stdout=f, stderr=subprocess.STDOUT)
    else:
        p = subprocess.run(argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout)
    if p.returncode:
        raise Failure(f"{' '.join(argv)} exited with status {p.returncode}")


def output(argv, cwd=None, env=None):
    """Runs argv, fails unless it exits 0, and returns its stdout without the last newline."""
    p = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE)
    if p.returncode:
        raise Failure(f"{' '.join(argv)} exited with status {p.returncode}")
    return p.stdout.decode(errors="replace").rstrip("\n")


def _timed(cmd, cwd=None, env=None):
    """Runs cmd once and returns its wall time in ms; on failure shows its output."""
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ms = (time.perf_counter() - t) * 1000
    if p.returncode:
        sys.stderr.write(p.stdout.decode(errors="replace"))
        raise Failure(f"{' '.join(cmd)} failed")
    return ms


def timeit(n, argv, cwd=None, env=None):
    """Runs argv n times ({i} in an argument becomes the run number); ms stats."""
    return stats([_timed([a.replace("{i}", str(i)) for a in argv], cwd, env) for i in range(n)])


def timeab(n, app_a, app_b, argv):
    """Runs argv ({app} = each app in turn, {i} = run number) n times per app,
    alternating which goes first; ms stats of each as (a, b)."""
    samples = {app_a: [], app_b: []}
    for i in range(n):
        for app in (app_a, app_b) if i % 2 == 0 else (app_b, app_a):
            cmd = [x.replace("{app}", app).replace("{i}", str(i)) for x in argv]
            samples[app].append(_timed(cmd))
    return stats(samples[app_a]), stats(samples[app_b])


def push(log, argv, cwd, env):
    """Runs git push; times the 'Released' line and the end; reads the Timings line.

    Returns {"release_s", stage: seconds..., "total_s"}; git's output is appended to log."""
    out = {"release_s": None}
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    with open(log, "ab") as f:
        for raw in p.stdout:
            now = time.perf_counter() - t0
            f.write(raw)
            line = raw.decode(errors="replace")
            if "-----> Released v" in line and out["release_s"] is None:
                out["release_s"] = now
            if "-----> Timings:" in line:
                for kv in line.split("Timings:")[1].split():
                    k, _, v = kv.partition("=")
                    out[k] = float(v.rstrip("s"))
    rc = p.wait()
    out["total_s"] = time.perf_counter() - t0
    if rc or out["release_s"] is None:
        raise Failure(f"push failed or released nothing (see {log})")
    return out


class Load:
    """GETs / on 127.0.0.1:port with Host: host from nthreads keep-alive clients
    until stop() (or 20 minutes), counting what is not a 200."""

    def __init__(self, host, port, nthreads):
        self.host, self.port = host, port
        self.counts = [[0, 0, 0] for _ in range(nthreads)]   # ok, failed, retried
        self.errors = []
        self.done = threading.Event()
        self.t_end = time.time() + 1200
        self.threads = [threading.Thread(target=self._worker, args=(i,)) for i in range(nthreads)]
        for t in self.threads:
            t.start()

    def _get(self, c):
        c.request("GET", "/", headers={"Host": self.host})
        r = c.getresponse()
        r.read()
        return r.status

    def _connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def _worker(self, i):
        c, used = None, False
        while not self.done.is_set() and time.time() < self.t_end:
            try:
                if c is None:
                    c, used = self._connect(), False
                try:
                    st = self._get(c)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    if not used:
                        raise
                    # a reused connection the server closed as it reloaded: retried once,
                    # as HTTP clients do for idempotent requests (RFC 9112 9.3.1)
                    self.counts[i][2] += 1
                    c.close()
                    c = self._connect()
                    st = self._get(c)
                used = True
                if st == 200:
                    self.counts[i][0] += 1
                else:
                    self.counts[i][1] += 1
                    self.errors.append(st)
            except Exception as e:
                self.counts[i][1] += 1
                self.errors.append(type(e).__name__)
                c = None

    def stop(self):
        """Stops the clients; returns {"ok", "failed", "retried", "errors" (the first 10)}."""
        self.done.set()
        for t in self.threads:
            t.join()
        return {"ok": sum(c[0] for c in self.counts), "failed": sum(c[1] for c in self.counts),
                "retried": sum(c[2] for c in self.counts),
                "errors": [str(e) for e in self.errors[:10]]}


def wrk_figures(text):
    """Requests/s and p99 latency (ms) from wrk --latency's output."""
    rps = float(text.split("Requests/sec:")[1].split()[0])
    p99 = text.split(" 99%")[1].split()[0]
    if p99.endswith("us"):
        ms = float(p99[:-2]) / 1000
    elif p99.endswith("ms"):
        ms = float(p99[:-2])
    else:
        ms = float(p99.rstrip("s")) * 1000
    return {"rps": rps, "p99_ms": round(ms, 3)}


def _children():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
                ppid = int(st[st.rindex(")") + 2:].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError):
                pass
    return kids


def supervision_memory(root, n):
    """Memory (kB) of root's supervision processes, per instance.

    Every descendant of root that is not app code: s6-supervise, s6-log,
    slipway instance:run and bwrap.  own_kb: private pages; pss_kb: shared
    pages split fairly; rss_kb: shared pages counted again.  Per instance:
    as many as instance:run processes were found (a retired one still
    stopping counts with its processes), else n."""
    kids = _children()
    todo, procs = [root], []
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            todo.append(c)
            procs.append(c)
    pss = rss = own = 0
    names = {}
    for p in procs:
        try:
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
            if comm not in ("s6-supervise", "s6-log", "slipway", "bwrap"):
                continue
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith(("Private_Dirty:", "Private_Clean:")):
                        own += int(line.split()[1])
            names[comm] = names.get(comm, 0) + 1
        except OSError:
            pass
    n = max(1, names.get("slipway", n))
    return {"own_kb": own / n, "pss_kb": pss / n, "rss_kb": rss / n, "n": n, "procs": names}
