"""Figure 12: a rollback to the previous release kept warm (slipway.warmPrevious)
until the router serves it, against the same rollback started cold, interleaved;
and where the warm rollback's time goes: nginx -t, nginx's reload (HUP until a
new worker runs, and until the old workers are gone).

"Served": the command has returned (once nginx's old workers are gone) and the
router answers with the target's page; beside it, the first answer with that
page, the router asked every 2 ms from the command's start (a new worker may
answer while old ones still serve the page before).  Each pair: an unmeasured
rollback that leaves the other release warm, then the warm rollback to it,
then a cold one (SLIPWAY_WARM_PREVIOUS=0: nothing is kept or taken).  Plain
`rollback` goes back and forth between two deploys whose pages differ.
"""
import http.client
import json
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
    """(ms until the router first answers want, ms until the rollback command has returned
    and the router answers want): the router is asked every 2 ms from the command's start;
    the first answer may come from a new nginx worker while old ones still answer with the
    old page, so only the second is "served"."""
    t = time.perf_counter()
    p = subprocess.Popen([b.slipway, "rollback", "-a", "bench-run"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = None
    while p.poll() is None:
        if first is None and _page(b.http_port, host) == want:
            first = (time.perf_counter() - t) * 1000
        time.sleep(0.002)
    err = p.communicate()[1]
    if p.returncode:
        raise Failure(f"rollback failed: {err.decode(errors='replace')}")
    while _page(b.http_port, host) != want:
        if time.perf_counter() - t > 10:
            raise Failure(f"the router never served {want!r} after a rollback")
        time.sleep(0.001)
    done = (time.perf_counter() - t) * 1000
    return (first if first is not None else done), done


def _master(b):
    """The router's nginx master pid."""
    return int(output(["s6-svstat", "-o", "pid", f"{b.root}/services/router"]))


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return set(int(x) for x in f.read().split())


def _reload_ms(b):
    """(ms from SIGHUP to nginx until its first new worker runs, ms until none of its old
    workers is left: what a switch waits for)."""
    master = _master(b)
    old = _children(master)
    t = time.perf_counter()
    os.kill(master, signal.SIGHUP)
    first = None
    while True:
        now = _children(master)
        if first is None and now - old:
            first = (time.perf_counter() - t) * 1000
        if not now & old:
            break
        time.sleep(0.001)
    done = (time.perf_counter() - t) * 1000
    return first if first is not None else done, done


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
    warm, cold, warm_ret, cold_ret, t_check, first, reload = [], [], [], [], [], [], []
    live = "warm-b\n"
    other = lambda p: "warm-a\n" if p == "warm-b\n" else "warm-b\n"
    for i in range(n):
        live = other(live)
        _served(b, host, live)                        # set-up: leaves the other one warm
        live = other(live)
        s, r = _served(b, host, live)
        warm.append(s)
        warm_ret.append(r)
        live = other(live)
        s, r = _served(b, host, live, cold_env)
        cold.append(s)
        cold_ret.append(r)
        t_check.append(_nginx_t_ms(b))
        f, d = _reload_ms(b)
        first.append(f)
        reload.append(d)
    w, c, wf, cf = stats(warm_ret), stats(cold_ret), stats(warm), stats(cold)
    b.row(12, "rollback to the warm previous release until the router serves it", w["median"], "ms",
          c["median"], "same rollback, started cold (slipway.warmPrevious 0)", "<= 150 ms (nginx reload)",
          w["median"] <= 150, f"median of {n} each, interleaved; p99 {w['p99']} ms (cold {c['p99']} ms);"
          " the command returns once nginx's old workers are gone, then the page is the target's;"
          " no process starts")
    b.row(12, "  first answer with the target's page", wf["median"], "ms", cf["median"],
          "same, started cold", note=f"p99 {wf['p99']} ms (cold {cf['p99']} ms); a new nginx worker"
          " answers, while the old ones may still answer with the page before")
    live = other(live)
    _served(b, host, live)                            # the other one warm again
    ps = json.loads(b.slipway_out("ps", "--json", "-a", "bench-run"))
    mem = [p["memory"] for p in ps if p["state"] == "warm"]
    if mem:
        b.row(12, "memory of a warm instance", round(mem[0] / 1e6, 1), "MB",
              note="the RSS of its process tree (slipway instance:run, bubblewrap, the app), as"
              " `ps` shows it; shared pages counted in full")
    b.row(12, "  nginx -t", median(t_check), "ms", note="the switch checks the whole configuration"
          " before the reload")
    b.row(12, "  nginx reload: SIGHUP until a new worker runs", median(first), "ms")
    b.row(12, "  nginx reload: SIGHUP until the old workers are gone", median(reload), "ms",
          note="nginx starts new workers, waits 100 ms, then lets the old ones go; the switch waits"
          " for that: until then an old worker may take a new request to the old release")
