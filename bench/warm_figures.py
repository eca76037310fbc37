"""Figure 12: a rollback to the previous release kept warm (slipway.warmPrevious)
until the router serves it, against the same rollback started cold, interleaved;
and where the warm rollback's time goes: nginx -t, nginx's reload (HUP until the
old workers are gone) and the rest (the command, the ledger, the router's file).

Each pair: an unmeasured rollback that leaves the other release warm, then the
warm rollback to it, then a cold one (SLIPWAY_WARM_PREVIOUS=0: nothing is kept
or taken).  Plain `rollback` goes back and forth between two deploys whose pages
differ, so "served" is the first answer with the target's page.
"""
import http.client
import os
import shutil
import signal
import subprocess
import time

from measure import Failure, output, run
from report import median, stats


def _page(port, host):
    """The router's answer for host, or None."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/", headers={"Host": host, "Connection": "close"})
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        c.close()
        return body if r.status == 200 else None
    except OSError:
        return None


def _served(b, host, want, env=None):
    """ms from the rollback's start until the router answers want."""
    t = time.perf_counter()
    run([b.slipway, "rollback", "-a", "bench-run"], env=env, quiet=True)
    end = t + 10
    while _page(b.http_port, host) != want:
        if time.perf_counter() > end:
            raise Failure(f"the router never served {want!r} after a rollback")
        time.sleep(0.001)
    return (time.perf_counter() - t) * 1000


def _master(b):
    """The router's nginx master pid."""
    return int(output(["s6-svstat", "-o", "pid", f"{b.root}/services/router"]))


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return set(int(x) for x in f.read().split())


def _reload_ms(b):
    """ms from SIGHUP to nginx until none of its old workers is left (what a switch waits for)."""
    master = _master(b)
    old = _children(master)
    t = time.perf_counter()
    os.kill(master, signal.SIGHUP)
    while _children(master) & old:
        time.sleep(0.001)
    return (time.perf_counter() - t) * 1000


def _nginx_t_ms(b):
    prefix = f"{b.root}/router/"
    t = time.perf_counter()
    run([shutil.which("nginx") or "/usr/sbin/nginx", "-t", "-q", "-p", prefix, "-c", "nginx.conf", "-e", "logs/error.log"], quiet=True)
    return (time.perf_counter() - t) * 1000


def warm_figures(b):
    """Figure 12 (the runtime running bench-run)."""
    src, log, n = f"{b.work}/src/run", f"{b.work}/push-run.log", 10 if b.quick else 20
    host = "bench-run.localhost"
    for page in ("warm-a\n", "warm-b\n"):   # b live, a warm
        with open(f"{src}/version", "w") as f:
            f.write(page)
        b.git(src, "commit", "-qam", page.strip())
        run(["git", "-C", src, "push", "-q", "heroku", "main"], log=log)
    cold_env = dict(os.environ, SLIPWAY_WARM_PREVIOUS="0")
    b.say(f"Warm: {n} rollbacks to the warm previous release and {n} cold ones, interleaved")
    warm, cold, t_check, reload = [], [], [], []
    live = "warm-b\n"
    other = lambda p: "warm-a\n" if p == "warm-b\n" else "warm-b\n"
    for i in range(n):
        live = other(live)
        _served(b, host, live)                        # set-up: leaves the other one warm
        live = other(live)
        warm.append(_served(b, host, live))
        live = other(live)
        cold.append(_served(b, host, live, cold_env))
        t_check.append(_nginx_t_ms(b))
        reload.append(_reload_ms(b))
    w, c = stats(warm), stats(cold)
    b.row(12, "rollback to the warm previous release until the router serves it", w["median"], "ms",
          c["median"], "same rollback, started cold (slipway.warmPrevious 0)", "<= 150 ms (nginx reload)",
          w["median"] <= 150, f"median of {n} each, interleaved; p99 {w['p99']} ms (cold {c['p99']} ms);"
          " no process starts: the ledger, the router's file, nginx -t and its reload")
    rest = w["median"] - median(t_check) - median(reload)
    b.row(12, "  of which nginx -t", median(t_check), "ms", note="the switch checks the whole"
          " configuration before the reload")
    b.row(12, "  of which nginx's reload (HUP until the old workers are gone)", median(reload), "ms",
          note="nginx starts new workers, waits 100 ms, then lets the old ones go; the switch waits"
          " for that so the old instances may be retired")
    b.row(12, "  the rest (command, lock, ledger, warm checks, router file)", round(rest, 1), "ms")
