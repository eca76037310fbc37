"""Figure 10's cost of an app's own network: the router's requests/s and p99
with slipway.appNetwork private (each instance in its network namespace,
reached through its forwarder, pasta) against host (the instance on the
host's loopback), interleaved, and the forwarder's memory.

Runs after figures.router_figures, with the runtime running bench-run.
"""
import glob
import shutil

from measure import output, run, wrk_figures
from report import median


def _restart_with(b, mode):
    """bench-run's web.1 restarted under slipway.appNetwork mode."""
    run(["git", f"--git-dir={b.root}/apps/bench-run.git", "config", "slipway.appNetwork", mode])
    b.slipway_run("ps:restart", "-a", "bench-run")


def _forwarder_kb():
    """The private pages (Pss) of the running forwarders, in kB, one figure per process."""
    out = []
    for status in glob.glob("/proc/[0-9]*/comm"):
        try:
            with open(status) as f:
                if not f.read().startswith(("pasta", "passt")):   # it re-runs as passt.avx2
                    continue
            with open(status[:-4] + "smaps_rollup") as f:
                out += [int(line.split()[1]) for line in f if line.startswith("Pss:")]
        except OSError:
            pass
    return out


def appnet_figures(b):
    """Figure 10: router req/s and p99, own network against the host's, interleaved."""
    if not shutil.which("wrk"):
        return
    host, url = "bench-run.localhost", f"http://127.0.0.1:{b.http_port}/"
    rounds, d = (3, 3) if b.quick else (5, 5)
    wrk = ["wrk", "-t2", "-c16", f"-d{d}s", "--latency", "-H", f"Host: {host}", url]
    got = {"private": [], "host": []}
    mem = []
    b.say(f"Router: {rounds} rounds of wrk for {d}s, slipway.appNetwork private and host, interleaved")
    try:
        for i in range(rounds):
            for mode in ("private", "host") if i % 2 == 0 else ("host", "private"):
                _restart_with(b, mode)
                got[mode].append(wrk_figures(output(wrk)))
                if mode == "private":
                    mem += _forwarder_kb()
    finally:
        run(["git", f"--git-dir={b.root}/apps/bench-run.git", "config", "--unset",
             "slipway.appNetwork"])
        b.slipway_run("ps:restart", "-a", "bench-run")
    rps = {m: median([r["rps"] for r in got[m]]) for m in got}
    p99 = {m: median([r["p99_ms"] for r in got[m]]) for m in got}
    b.row(10, "requests/s through the router, own network (pasta)", rps["private"], "/s", rps["host"],
          "same, slipway.appNetwork host", ">= 0.9x", rps["private"] >= 0.9 * rps["host"],
          f"medians of {rounds} interleaved wrk -t2 -c16 -d{d}s runs; the app closes every connection")
    b.row(10, "  p99 latency through the router, own network", p99["private"], "ms", p99["host"],
          "same, slipway.appNetwork host")
    if mem:
        b.row(10, "  forwarder memory per instance (Pss)", round(median(mem) / 1024, 1), "MB",
              note="pasta's buffers, one forwarder per instance")
