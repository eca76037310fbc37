"""Measures what users feel - push to release, slug packing, rollback, history
and config changes at scale - each figure next to a baseline measured in
the same run, and prints a table (or JSON with --json).  Benchmarks assert
nothing: a missed target is reported, not failed.

Usage: scripts/bench [--quick] [--json] [--keep] [--build DIR] [--dir DIR]
                     [--tmpfs DIR|none] [--releases N]
  --quick      smaller `large` workload (2,000 files, ~36 MB), one run per
               push figure, 1,000 releases instead of 10,000 and 30 samples
               instead of 50; finishes in under 2 minutes
  --json       print the results as JSON instead of a table
  --keep       keep the work directory (workloads, root, logs)
  --build DIR  build directory (default: build/); only slipway and the
               benchmark driver are built (RelWithDebInfo)
  --dir DIR    where the work directory is made (default: $TMPDIR or /tmp);
               the slipway root, its store and the default build
               directories live there
  --tmpfs DIR  a tmpfs for the second push measurement (default: /dev/shm
               when it is a tmpfs; "none" skips it)
  --releases N ledger length for the "at scale" figures (default 10000)

Progress goes to stderr, the table or JSON to stdout.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import addons
import app_files
import appnet
import acme_figures
import package_figures
import s3_figures
import dashboard_figures
import figures
import hosts_figures
import throughput
import tls_throughput
import warm_figures
from measure import Failure, output, run
from report import Results, render_json, render_table

# workload: files, bytes in ordinary files, number of big files, bytes each, seed
SMALL = (99, 1000000, 0, 0, 42)
LARGE_QUICK = (2000, 20000000, 2, 8000000, 43)
LARGE_FULL = (20000, 150000000, 3, 50000000, 43)


class Usage(Exception):
    """A usage error: its message is printed after "error: ", the exit status is 2."""


def parse_args(argv, top):
    """The options as a dict; prints the usage and exits 0 for -h/--help."""
    o = {"quick": False, "json": False, "keep": False, "build": f"{top}/build",
         "parent": os.environ.get("TMPDIR") or "/tmp", "tmpfs": None, "releases": None}
    valued = {"--build": ("build", "a directory"), "--dir": ("parent", "a directory"),
              "--tmpfs": ("tmpfs", "a directory or none"), "--releases": ("releases", "a number")}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--quick", "--json", "--keep"):
            o[a[2:]] = True
        elif a in valued:
            key, what = valued[a]
            if i + 1 >= len(argv) or not argv[i + 1]:
                raise Usage(f"{a} needs {what}")
            o[key] = argv[i + 1]
            i += 1
        elif a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            sys.exit(0)
        else:
            raise Usage(f"unknown option '{a}' (see scripts/bench --help)")
        i += 1
    if o["releases"] is None:
        o["releases"] = "1000" if o["quick"] else "10000"
    if not re.fullmatch(r"[0-9]+", o["releases"]):
        raise Usage("--releases needs a number")
    o["releases"] = int(o["releases"])
    if o["releases"] < 100:
        raise Usage("--releases must be at least 100")
    return o


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def fs_type(path):
    p = subprocess.run(["stat", "-f", "-c", "%T", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.stdout.decode().strip()


def nproc():
    """The processors this process may run on, as nproc(1) counts them."""
    return len(os.sched_getaffinity(0))


def free_port():
    """A port on 127.0.0.1 that nothing uses now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    """One run: its settings, its paths, its results and the helpers the
    figures use to run slipway and git."""

    def __init__(self, o, top):
        self.t0 = time.monotonic()
        self.top, self.quick, self.keep = top, o["quick"], o["keep"]
        self.build = os.path.abspath(o["build"])
        self.parent, self.tmpfs, self.nrel = o["parent"], o["tmpfs"], o["releases"]
        self.large = LARGE_QUICK if self.quick else LARGE_FULL
        self.runs, self.pack_runs, self.sbruns = (1, 3, 3) if self.quick else (3, 5, 5)
        self.nsamples = 30 if self.quick else 50   # rollbacks and config:set per ledger size
        self.nreads = 10 if self.quick else 20     # releases / releases:info per ledger size
        self.slipway = f"{self.build}/slipway"
        self.helper = f"{self.build}/slipway-bench"
        self.work = self.shm = None
        self.results = Results()
        self.workloads = []
        self.commits = 0

    def elapsed(self):
        return int(time.monotonic() - self.t0)

    def say(self, msg):
        print(f"-----> [{self.elapsed():4d}s] {msg}", file=sys.stderr, flush=True)

    def row(self, *args, **kwargs):
        """Adds a result row: see report.Results.add."""
        self.results.add(*args, **kwargs)

    # ---- set-up and tear-down ------------------------------------------------

    def prepare(self):
        """Installs what is missing, builds slipway and the driver."""
        env = dict(os.environ)
        env["SLIPWAY_DEPS_EXTRA"] = env.get("SLIPWAY_DEPS_EXTRA", "") + " time python3 tar coreutils"
        run([f"{self.top}/scripts/deps"], env=env, stdout=sys.stderr.fileno())
        self.say(f"Building slipway and slipway-bench into {self.build}")
        run(["cmake", "-S", self.top, "-B", self.build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
             "-DSLIPWAY_SANITIZE=OFF"], quiet=True)
        run(["cmake", "--build", self.build, "-j", str(nproc()), "--target", "slipway",
             "slipway-bench"], quiet=True)
        for exe in (self.slipway, self.helper):
            if not os.access(exe, os.X_OK):
                raise Failure(f"{self.slipway} or {self.helper} was not built")

    def make_work(self):
        """The work directory, the tmpfs directory, the environment every command sees."""
        os.makedirs(self.parent, exist_ok=True)
        self.work = os.path.abspath(tempfile.mkdtemp(prefix="slipway-bench-", dir=self.parent))
        if self.tmpfs is None:
            self.tmpfs = "none"
            if os.path.isdir("/dev/shm") and fs_type("/dev/shm") == "tmpfs":
                self.tmpfs = "/dev/shm"
        if self.tmpfs != "none":
            self.shm = os.path.abspath(tempfile.mkdtemp(prefix="slipway-bench-", dir=self.tmpfs))
        self.root = f"{self.work}/root"
        self.http_port = free_port()   # the router: 127.0.0.1 only, on a port nothing else uses
        self.https_port = free_port()  # and for HTTPS, while an app has a certificate
        os.environ.update({
            "SLIPWAY_ROOT": self.root, "SLIPWAY_USER": "bench@example.com",
            "SLIPWAY_HTTP_PORT": str(self.http_port), "SLIPWAY_HTTP_ADDRESS": "127.0.0.1",
            "SLIPWAY_HTTPS_PORT": str(self.https_port),
            "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
            "LC_ALL": "C"})
        for k in ("SLIPWAY_BUILD_DIR", "SLIPWAY_TIMINGS"):
            os.environ.pop(k, None)
        # the hook wrapper: the real hook, with its wall time and peak RSS
        os.makedirs(f"{self.work}/bin")
        os.symlink(self.slipway, f"{self.work}/bin/post-receive")
        self.hook_stats = f"{self.work}/hook-stats"
        os.makedirs(self.root)

    def cleanup(self):
        if self.work is None:
            return
        subprocess.run([self.slipway, "--root", f"{self.work}/root", "server:stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.shm:
            shutil.rmtree(self.shm, ignore_errors=True)
        if self.keep:
            self.say(f"Kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # ---- helpers for the figures ---------------------------------------------

    def make_app(self, app):
        """An app whose post-receive records its wall time and peak RSS."""
        self.slipway_run("apps:create", app)
        hook = f"{self.root}/apps/{app}.git/hooks/post-receive"
        self.remove(hook)
        with open(hook, "w") as f:
            f.write(f'#!/bin/sh\nexec /usr/bin/time -f "%e %M" -o "{self.hook_stats}"'
                    f' "{self.work}/bin/post-receive" "$@"\n')
        os.chmod(hook, 0o755)

    def commit(self, src, allow_empty=False):
        """A commit with a fixed date (same sha every run)."""
        self.commits += 1
        date = f"@{1767225600 + self.commits} +0000"
        env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        run(["git", "-C", src, "commit", "-q"] + (["--allow-empty"] if allow_empty else []) +
            ["-m", f"bench {self.commits}"], env=env)

    def git(self, src, *args):
        run(["git", "-C", src, *args])

    def git_out(self, src, *args):
        return output(["git", "-C", src, *args])

    def slipway_run(self, *args):
        """slipway ARGS, its stdout to /dev/null, its stderr on ours."""
        run([self.slipway, *args], quiet=True)

    def slipway_out(self, *args):
        return output([self.slipway, *args])

    def push_checked(self, log, marker, argv, env=None):
        """A push whose output goes to log and must contain marker."""
        try:
            run(argv, env=env, log=log)
            with open(log, errors="replace") as f:
                ok = marker in f.read()
        except Failure:
            ok = False
        if not ok:
            with open(log, errors="replace") as f:
                sys.stderr.write(f.read())
            raise Failure(f"{' '.join(argv)} did not say {marker!r}")

    @staticmethod
    def remove(*paths):
        for p in paths:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    # ---- the report ----------------------------------------------------------

    def meta(self, load_start):
        def first_line(argv):
            try:
                p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            except OSError:
                return ""
            return (p.stdout.decode(errors="replace").splitlines() or [""])[0]

        def pkg(name):
            p = subprocess.run(["pkg-config", "--modversion", name], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
            return p.stdout.decode().strip() if p.returncode == 0 else "?"

        with open("/proc/cpuinfo") as f:
            cpus = [l.split(":", 1)[1].strip() for l in f if re.match(r"model name\s*:", l)]
        with open("/proc/meminfo") as f:
            mem_kb = next(int(l.split()[1]) for l in f if l.startswith("MemTotal"))
        bsdtar = subprocess.run(["bsdtar", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        libzstd = re.search(r"libzstd/([0-9.]*)", bsdtar.stdout.decode(errors="replace"))
        head = subprocess.run(["git", "-C", self.top, "rev-parse", "--short", "HEAD"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        dirty = subprocess.run(["git", "-C", self.top, "diff", "--quiet", "HEAD"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        return {"mode": "quick" if self.quick else "full", "releases": self.nrel,
                "cores": nproc(), "cpu": cpus[0] if cpus else "",
                "mem_gb": float(f"{mem_kb / 1048576:.1f}"), "kernel": os.uname().release,
                "git": (first_line(["git", "--version"]).split() + ["", "", ""])[2],
                "zstd": re.sub(r".* v([0-9.]*).*", r"\1", first_line(["zstd", "--version"])),
                "libarchive": pkg("libarchive"), "libzstd": libzstd.group(1) if libzstd else "?",
                "libgit2": pkg("libgit2"), "tar": (first_line(["tar", "--version"]).split() or [""])[-1],
                "work": self.work, "work_fs": fs_type(self.work), "tmpfs": self.tmpfs,
                "load_start": load_start, "load_end": load_average(), "elapsed_s": self.elapsed(),
                "samples": self.nsamples,
                "slipway_commit": (head.stdout.decode().strip() if head.returncode == 0 else "?") +
                                  ("+dirty" if dirty else ""),
                "workloads": self.workloads}


def measure(b):
    """Every workload and figure, in the order that keeps their set-ups cheap."""
    figures.make_workload(b, "small", SMALL)
    figures.make_workload(b, "large", b.large)
    figures.push_figures(b, "small")        # figures 1 and 5
    figures.push_figures(b, "large")
    figures.pack_figures(b)                 # figure 2
    at = {}
    figures.start_floor_figures(b, at)      # figure 6's floor
    figures.ledger_figures(b, at)           # figures 3, 4, 6
    figures.diff_figures(b, at)             # figure 11
    figures.dashboard_figures(b, at)        # figure 14
    figures.sandbox_figures(b)              # figure 7
    app_files.start_figures(b)              # figure 12
    figures.runtime_figures(b)              # figure 8; starts the runtime
    figures.restart_figures(b)              # figure 9
    figures.router_figures(b)               # figure 10
    warm_figures.warm_figures(b)            # figure 12
    throughput.router_throughput_figures(b) # figure 10: keep-alive, CPU per request
    tls_throughput.tls_throughput_figures(b)  # figure 10: HTTPS against plain HTTP
    appnet.appnet_figures(b)                # figure 10: an app's own network against the host's
    dashboard_figures.dashboard_memory_figures(b)  # figure 14: the dashboard service's memory
    addons.addons_figures(b)                # figure 13: an add-on created until ready, its memory
    acme_figures.acme_figures(b)            # figure 15: certs:auto:enable until HTTPS serves
    b.slipway_run("server:stop")
    figures.ledger_rows(b, at)              # the rows of figures 3, 4, 6 and 11
    figures.dashboard_rows(b, at)           # the row of figure 14
    package_figures.package_figures(b)      # figure 16: apt install until the first push is served
    s3_figures.s3_figures(b)                # figure 17: slug upload and fetch against curl
    hosts_figures.hosts_figures(b)          # figure 18: several hosts, in network namespaces


def _run(argv, body):
    """Parses scripts/bench's options, prepares the build and the work
    directory, runs body(b, load_at_start), prints the rows, cleans up;
    the exit status."""
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        o = parse_args(argv, top)
    except Usage as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    b = Bench(o, top)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        b.prepare()
        b.make_work()
        load = load_average()
        body(b, load)
        (render_json if o["json"] else render_table)(b.meta(load), b.results.rows, sys.stdout)
        return 0
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        b.cleanup()


def run_alone(argv, figures_fn, runtime=False):
    """What `python3 -B bench/MODULE.py` runs: only figures_fn(b), with the
    runtime started around it when asked."""
    def body(b, _load):
        if runtime:
            b.slipway_run("server:start")
        figures_fn(b)
        if runtime:
            b.slipway_run("server:stop")
    return _run(argv, body)


def main(argv):
    def body(b, load_start):
        cores = nproc()
        b.say(f"Work directory {b.work} (tmpfs: {b.tmpfs}); load average {load_start} on {cores} cores")
        if load_start > cores * 0.75:
            b.say(f"Warning: the machine is busy (load {load_start}); figures will be noisy")
        measure(b)
        with open(f"{b.work}/results.json", "w") as f:   # kept with --keep
            render_json(b.meta(load_start), b.results.rows, f)
        b.say("Done")
    return _run(argv, body)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
