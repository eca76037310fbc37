"""The workloads and the figures: one function each.

Each takes the run's context (slipway_bench.Bench: paths, settings, the
results and the helpers that run slipway and git) and adds its rows.
"""
import glob
import json
import os
import shlex
import shutil
import stat
import subprocess
import time

import workload
from measure import Failure, Load, output, push, run, supervision_memory, timeab, timeit, wrk_figures
from report import aggregate, median, ratio


# ---- workloads -------------------------------------------------------------

def make_workload(b, name, spec):
    """Generates the tree NAME from spec (files, bytes in ordinary files,
    big files, bytes each, seed), commits it and points heroku at bench-NAME."""
    nfiles, small_total, nbig, big_size, seed = spec
    src = f"{b.work}/src/{name}"
    b.say(f"Generating workload {name} ({nfiles} files + {nbig} big, seed {seed})")
    files, total = workload.generate(src, nfiles, small_total, nbig, big_size, seed)
    b.git(src, "init", "-q", "-b", "main")
    b.git(src, "config", "gc.auto", "0")   # no background repack during the measurements
    b.git(src, "add", "-A")
    b.commit(src)
    b.git(src, "remote", "add", "heroku", f"{b.root}/apps/bench-{name}.git")
    b.workloads.append({"name": name, "files": files, "bytes": total, "big": nbig,
                        "big_mb": big_size // 1000000, "seed": seed})


# ---- pushes ----------------------------------------------------------------

def slip_push(b, src, log, build_dir=None, sandbox=None):
    """git push heroku main from src: the push figures plus the hook's wall
    time and peak RSS.  build_dir None: wherever slipway chooses; "": the
    root's disk, whatever the tree's size; else that directory."""
    env = dict(os.environ, SLIPWAY_TIMINGS="1")
    if build_dir == "":
        env["SLIPWAY_TMPFS"] = "none"
    elif build_dir is not None:
        env["SLIPWAY_BUILD_DIR"] = build_dir
    if sandbox:
        env["SLIPWAY_SANDBOX"] = sandbox
    if os.path.exists(b.hook_stats):
        os.unlink(b.hook_stats)
    os.sync()
    j = push(log, ["git", "push", "heroku", "main"], src, env)
    with open(b.hook_stats) as f:
        wall, rss = f.read().splitlines()[-1].split()
    j["hook_s"], j["hook_rss_kb"] = float(wall), int(rss)
    return j


def pipeline_baseline(b, tree_parent, app, sha):
    """Seconds for the push's work as a shell pipeline, its tree in tree_parent."""
    d, slug = f"{tree_parent}/base-tree", f"{b.root}/store/tmp/base.tar.zst"
    repo = f"{b.root}/apps/{app}.git"
    shutil.rmtree(d, ignore_errors=True)
    b.remove(slug)
    os.makedirs(d)
    os.makedirs(f"{b.root}/store/tmp", exist_ok=True)
    os.sync()
    q = shlex.quote
    j = timeit(1, ["sh", "-c", f"git --git-dir={q(repo)} archive {sha} | tar -x -C {q(d)} && "
                   f"tar -C {q(d)} --sort=name -cf - . | zstd -3 -T0 -q > {q(slug)} && "
                   f"sha256sum {q(slug)} >/dev/null"])
    shutil.rmtree(d, ignore_errors=True)
    b.remove(slug)
    return j["median"] / 1000


def _files(top):
    """(count, bytes) of the regular files under top."""
    n = size = 0
    for d, _, names in os.walk(top):
        for f in names:
            st = os.lstat(os.path.join(d, f))
            if stat.S_ISREG(st.st_mode):
                n += 1
                size += st.st_size
    return n, size


def push_figures(b, name):
    """Figures 1 and 5: push->release of workload NAME against the pipeline,
    on each build filesystem, then a re-push of the unchanged tree."""
    app, src, log = f"bench-{name}", f"{b.work}/src/{name}", f"{b.work}/push-{name}.log"
    fss = ["disk"] + (["tmpfs"] if b.shm else [])
    b.make_app(app)
    b.say(f"Seeding {app} with the objects (push to a non-deploy branch)")
    j = timeit(1, ["git", "push", "-q", "heroku", "main:refs/heads/seed"], cwd=src)
    b.row(1, f"git transfer {name} (objects to the server, not built)", j["median"] / 1000, "s")
    sha = b.git_out(src, "rev-parse", "HEAD")
    runs = []
    for i in range(1, b.runs + 1):
        for fs in fss:
            bdir = "" if fs == "disk" else f"{b.shm}/builds"
            os.makedirs(bdir or f"{b.root}/builds", exist_ok=True)
            b.say(f"Push {name} run {i}/{b.runs}, build directory on {fs}: baseline pipeline")
            base = pipeline_baseline(b, bdir or f"{b.root}/builds", app, sha)
            if runs:
                b.commit(src, allow_empty=True)
            b.say(f"Push {name} run {i}/{b.runs}, build directory on {fs}: git push")
            runs.append({"fs": fs, "baseline_s": base, **slip_push(b, src, log, build_dir=bdir)})
    for fs in fss:
        rel, base = aggregate(runs, fs, ["release_s"]), aggregate(runs, fs, ["baseline_s"])
        r = ratio(rel, base)
        target, met = ("<= 0.8", r <= 0.8) if name == "large" else (None, None)
        b.row(1, f"push->release {name}, build dir on {fs}", rel, "s", base,
              "git archive | tar -x (build dir fs) && tar --sort=name -c | zstd -3 -T0 > slug && sha256sum",
              target, met, f"median of {b.runs}; ratio {r}")
        b.row(1, f"  stages {name} {fs}: checkout / compile / pack / publish / record",
              aggregate(runs, fs, ["checkout", "compile", "pack", "publish", "record"]), "s")
        b.row(1, f"  git push returns ({name} {fs}; after Released: build dir removal)",
              aggregate(runs, fs, ["total_s"]), "s")
    rss = aggregate(runs, "*", ["hook_rss_kb"], max) / 1024
    b.row(1, f"hook peak RSS, {name}", rss, "MB", target="<= 64 MB", met=rss <= 64,
          note="max over all pushes")
    repush_figures(b, name, aggregate(runs, "disk", ["release_s"]))


def repush_figures(b, name, disk_release_s):
    """Figure 5: re-push of the unchanged tree (an empty commit), default build dir."""
    app, src = f"bench-{name}", f"{b.work}/src/{name}"
    store = f"{b.root}/store/sha256"
    before_n, before_b = _files(store)
    b.commit(src, allow_empty=True)
    b.say(f"Re-push of the unchanged {name} tree")
    j = slip_push(b, src, f"{b.work}/push-{name}.log")
    after_n, after_b = _files(store)
    releases = json.loads(b.slipway_out("releases", "-a", app, "-n", "1000", "--json"))
    sums = len({r["slug"]["checksum"] for r in releases if r["description"].startswith("Deploy")})
    b.row(5, f"re-push unchanged {name}: push->release (default build dir)", j["release_s"], "s",
          disk_release_s, "push->release of fig. 1 (disk build dir, median)")
    b.row(5, f"re-push unchanged {name}: slug byte-identical", "yes" if sums == 1 else "no", "",
          target="identical", met=sums == 1,
          note=f"{b.git_out(src, 'rev-list', '--count', 'HEAD')} deploys, {sums} distinct slug checksum(s)")
    b.row(5, f"re-push unchanged {name}: store growth", after_b - before_b, "B", target="0 B",
          met=after_b == before_b and after_n == before_n,
          note=f"{before_n} -> {after_n} objects; store/tmp has {_files(f'{b.root}/store/tmp')[0]} files")


# ---- figure 2: slug packing alone ------------------------------------------

def _fields(line):
    """The key=value pairs of a slipway-bench line."""
    return dict(kv.split("=", 1) for kv in line.split())


def pack_figures(b):
    """Figure 2: slug_write() on the extracted large tree against tar | zstd."""
    src, out = f"{b.shm or b.work}/pack-src", f"{b.root}/store/tmp"
    pack, base = f"{out}/pack.tar.zst", f"{out}/base.tar.zst"
    os.makedirs(src, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    b.say(f"Packing: extracting the large tree into {src}")
    sha = b.git_out(f"{b.work}/src/large", "rev-parse", "HEAD")
    archive = subprocess.Popen(["git", f"--git-dir={b.root}/apps/bench-large.git", "archive", sha],
                               stdout=subprocess.PIPE)
    run(["tar", "-x", "-C", src], stdin=archive.stdout)
    archive.stdout.close()
    if archive.wait():
        raise Failure("git archive of the large tree failed")
    q = shlex.quote
    plain = f"tar -C {q(src)} --sort=name -cf - . | zstd -3 -T0 -q > {q(base)}"
    hashed = f"tar -C {q(src)} --sort=name -cf - . | zstd -3 -T0 -q | tee {q(base)} | sha256sum >/dev/null"
    st, bt, ht = [], [], []
    for _ in range(b.pack_runs):
        b.remove(pack, base)
        os.sync()
        line = _fields(output([b.helper, "pack", src, pack]))
        st.append(float(line["seconds"]))
        os.sync()
        bt.append(timeit(1, ["sh", "-c", plain])["median"] / 1000)
        b.remove(base)
        os.sync()
        ht.append(timeit(1, ["sh", "-c", hashed])["median"] / 1000)
    bytes_in, bytes_out, rss = int(line["bytes_in"]), int(line["bytes_out"]), int(line["maxrss_kb"])
    base_out = os.stat(base).st_size
    s, bs, hs = median(st), median(bt), median(ht)
    mbs, bmbs, hmbs = bytes_in / 1e6 / s, bytes_in / 1e6 / bs, bytes_in / 1e6 / hs
    r, hr = ratio(mbs, bmbs), ratio(mbs, hmbs)
    b.row(2, "slug packing throughput, large (MB of input/s)", mbs, "MB/s", bmbs,
          "tar -C dir --sort=name -cf - . | zstd -3 -T0 > out (page cache)", ">= 0.9", r >= 0.9,
          f"median of {b.pack_runs}; {str(s)[:5]} s vs {str(bs)[:5]} s; ratio {r}; "
          "the slug writer also hashes its output (SHA-256), the baseline does not")
    b.row(2, "  same, baseline hashing its output too", mbs, "MB/s", hmbs,
          "tar --sort=name -cf - . | zstd -3 -T0 | tee out | sha256sum",
          note=f"median of {b.pack_runs}; {str(s)[:5]} s vs {str(hs)[:5]} s; ratio {hr}")
    b.row(2, "slug size, large", bytes_out / 1e6, "MB", base_out / 1e6, "tar | zstd -3 -T0 output size",
          note=f"input {round(bytes_in / 1e6, 1)} MB; ratio {round(bytes_out / base_out, 3)}")
    b.row(2, "slug packing peak RSS, large (whole driver)", rss / 1024, "MB")
    shutil.rmtree(src, ignore_errors=True)
    b.remove(pack, base)


# ---- figures 3, 4, 6: rollback, history and config at two ledger sizes ------
# Two apps deploy the same large tree (one slug in the store): bench-ten keeps
# a short ledger, bench-large gets the long one.  Each command is timed on
# both in alternation, so both see the same machine conditions.

def latest(b, app):
    return json.loads(b.slipway_out("releases", "-a", app, "-n", "1", "--json"))[0]["version"]


def top_up(b, app, n):
    """Config releases until APP's ledger has n releases."""
    cur = latest(b, app)
    if n - cur > 0:
        b.say(f"Recording {n - cur} config releases on {app} (v{cur} -> v{n})")
        b.say(f"  {output([b.helper, 'releases', b.root, app, str(n - cur)])}")


def _both(at, key, n, argv):
    """argv on bench-ten and bench-large ({app}), alternating: at[key_10], at[key_N]."""
    at[f"{key}_10"], at[f"{key}_N"] = timeab(n, "bench-ten", "bench-large", argv)


def ledger_figures(b, at):
    """Figures 3, 4 and 6: timings at 10 and at b.nrel releases, into at."""
    slipway = b.slipway
    sha = b.git_out(f"{b.work}/src/large", "rev-parse", "HEAD")
    b.make_app("bench-ten")
    b.say("Deploying the large tree to bench-ten (pushed from bench-large's repository)")
    log = f"{b.work}/push-ten.log"
    env = dict(os.environ, SLIPWAY_BUILD_DIR=f"{b.shm}/builds" if b.shm else "")
    b.push_checked(log, "Released v1", ["git", f"--git-dir={b.root}/apps/bench-large.git", "push", "-q",
                                        f"{b.root}/apps/bench-ten.git", f"{sha}:refs/heads/main"], env=env)
    top_up(b, "bench-ten", 10)
    top_up(b, "bench-large", b.nrel)
    b.say(f"releases and releases:info v1, {b.nreads} each at 10 and {b.nrel} releases")
    _both(at, "rel", b.nreads, [slipway, "releases", "-a", "{app}"])
    _both(at, "info", b.nreads, [slipway, "releases:info", "v1", "-a", "{app}"])
    b.say(f"{b.nsamples} rollbacks at 10 and at {b.nrel} releases")
    _both(at, "rb", b.nsamples, [slipway, "rollback", "-a", "{app}"])
    b.say(f"{b.nreads} rollbacks of bench-small (1 MB slug), for comparison")
    at["rbsmall"] = timeit(b.nreads, [slipway, "rollback", "-a", "bench-small"])
    b.say(f"{b.nsamples} config:set at 10 and at {b.nrel} releases")
    _both(at, "cfg", b.nsamples, [slipway, "config:set", "BENCH_SET={i}", "-a", "{app}"])
    b.say(f"releases and config:set at {b.nrel} releases once git has packed the refs (git pack-refs --all)")
    run(["git", f"--git-dir={b.root}/apps/bench-large.git", "pack-refs", "--all"])
    at["relpacked"] = timeit(b.nreads, [slipway, "releases", "-a", "bench-large"])
    at["cfgpacked"] = timeit(b.nreads, [slipway, "config:set", "BENCH_PACKED={i}", "-a", "bench-large"])


# ---- figure 14: the dashboard's Activity tab ---------------------------------
# bench-large's long ledger and 100 builds, rendered the way the dashboard's
# process for one request renders it (slipway-bench activity: the page in
# process, as after the server's fork), against `releases --json` of the
# same ledger (a whole process), in alternation.

def dashboard_figures(b, at):
    """Figure 14: the Activity tab at b.nrel releases and 100 builds, into at."""
    b.say("Recording 100 builds of bench-large")
    b.say(f"  {output([b.helper, 'builds', b.root, 'bench-large', '100'])}")
    act, rel = [], []
    for i in range(b.nreads):
        pair = [lambda: act.append(float(_fields(output([b.helper, "activity", b.root, "bench-large",
                                                          "1"]))["median_ms"])),
                lambda: rel.append(timeit(1, [b.slipway, "releases", "--json", "-n", "1000",
                                              "-a", "bench-large"])["median"])]
        for f in pair if i % 2 == 0 else reversed(pair):
            f()
    at["activity"] = median(act)
    at["reljson"] = median(rel)


def dashboard_rows(b, at):
    """The row of figure 14."""
    a, r = at["activity"], at["reljson"]
    b.row(14, f"Activity tab, {b.nrel} releases (the newest 1000 shown) and 100 builds", a, "ms", r,
          "releases --json -n 1000 (a whole process)", "<= 50 ms and <= 2x",
          a <= 50 and a <= 2 * r, f"median of {b.nreads} each, alternating")


def start_floor_figures(b, at):
    """Figure 6's floor: a bare slipway start, and a child run through run_child()."""
    at["floor"] = timeit(50, [b.slipway, "--version"])
    at["run"] = _fields(output([b.helper, "run", "200"]))


# ---- figure 11: releases:diff and releases:promote -------------------------
# Between v1 and vN of the long ledger (a few deploys, then config releases:
# a commit range, one config var, the same slug), and between two large slugs
# that differ in a few files (a second deploy of bench-large with the tree
# changed), each next to a baseline of the same run.

def _checksum(b, app):
    return json.loads(b.slipway_out("releases:info", "--json", "-a", app))["slug"]["checksum"][7:]


def _change_tree(b, src):
    """Two files changed, one removed, one added, committed."""
    listed = [line.split("\t", 1) for line in b.git_out(src, "ls-files", "-s").splitlines()]
    plain = [path for info, path in listed if info.split()[0] == "100644"]
    changed, overwritten, removed = plain[99], plain[199], plain[299]
    with open(f"{src}/{changed}", "a") as f:
        f.write("changed\n")
    with open(f"{src}/{overwritten}", "r+b") as f:
        f.write(b"x")
    b.git(src, "rm", "-q", removed)
    with open(f"{src}/bench-diff-new.txt", "w") as f:
        f.write("new file\n")
    b.git(src, "add", "-A")
    b.commit(src)


def diff_figures(b, at):
    """Figure 11: releases:diff on the long ledger and between two large
    slugs, and releases:promote against a rollback, into at."""
    slipway, nrel, src = b.slipway, b.nrel, f"{b.work}/src/large"
    b.say(f"releases:diff v1 v{nrel} on bench-large, {b.nreads} times")
    at["diff_N"] = timeit(b.nreads, [slipway, "releases:diff", "v1", f"v{nrel}", "-a", "bench-large"])
    at["diffbase_N"] = timeit(b.nreads, [slipway, "releases:info", f"v{nrel}", "-a", "bench-large"])
    b.say("Deploying a changed large tree to bench-large (2 files changed, 1 added, 1 removed)")
    s1 = _checksum(b, "bench-large")
    _change_tree(b, src)
    slip_push(b, src, f"{b.work}/push-large.log")
    v = latest(b, "bench-large")
    s2 = _checksum(b, "bench-large")
    if s1 == s2:
        raise Failure("the changed large tree gave the same slug")
    summary = b.slipway_out("releases:diff", f"v{v}", "-a", "bench-large")
    at["diffsum"] = "\n".join(l[6:] for l in summary.splitlines() if l.startswith("Slug: "))
    b.say(f"releases:diff v{v} (two large slugs), {b.nreads} times")
    at["diffslug"] = timeit(b.nreads, [slipway, "releases:diff", f"v{v}", "-a", "bench-large"])
    o1 = f"{b.root}/store/sha256/{s1[:2]}/{s1[2:]}.tar.zst"
    o2 = f"{b.root}/store/sha256/{s2[:2]}/{s2[2:]}.tar.zst"
    unpack = f"zstd -dcq {shlex.quote(o1)} {shlex.quote(o2)} > /dev/null"
    at["diffslugbase"] = timeit(b.nreads, ["sh", "-c", unpack])
    # promotion: bench-large's current (large) slug onto bench-ten, against
    # rollbacks of bench-ten in the same run; the runtime is not running here,
    # so neither has a switch to wait for (figure 10 measures the switch)
    b.say(f"releases:promote bench-large -> bench-ten, then rollbacks of bench-ten, {b.nsamples} each")
    promote = [slipway, "releases:promote", "-a", "bench-large", "--to", "bench-ten"]
    at["promote"] = timeit(b.nsamples, promote)
    at["promoterb"] = timeit(b.nsamples, [slipway, "rollback", "-a", "bench-ten"])


def ledger_rows(b, at):
    """The rows of figures 3, 4, 6 and 11, from what ledger_figures,
    start_floor_figures and diff_figures measured."""
    n, big, ten = b.nrel, f"at {b.nrel}", "at 10"
    m = lambda key: at[key]["median"]
    p99 = lambda key: at[key]["p99"]
    same = f"same, {ten} releases (interleaved)"
    b.row(3, f"rollback median, {big} releases (large slug)", m("rb_N"), "ms", m("rb_10"), same,
          "<= 20 ms", m("rb_N") <= 20, f"{b.nsamples} rollbacks each")
    b.row(3, f"rollback p99, {big} releases", p99("rb_N"), "ms", p99("rb_10"), same,
          note=f"p99 of {b.nsamples} samples is their maximum")
    growth = m("rb_N") / m("rb_10")
    b.row(3, f"rollback growth 10 -> {n} (median)", growth, "x", target="<= 1.5x", met=growth <= 1.5)
    b.row(3, "  rollback median, small app (1 MB slug, ~10 releases)", m("rbsmall"), "ms",
          note="diagnostic: the same command with a tiny slug; the difference is slug-size dependent")
    b.row(4, f"releases (default page), {big} releases", m("rel_N"), "ms", m("rel_10"), same,
          "<= 50 ms", m("rel_N") <= 50, f"median of {b.nreads}; p99 {p99('rel_N')} ms")
    b.row(4, f"releases:info v1, {big} releases", m("info_N"), "ms", m("info_10"), same,
          "<= 50 ms", m("info_N") <= 50, f"median of {b.nreads}; p99 {p99('info_N')} ms")
    b.row(6, f"config:set, {big} releases", m("cfg_N"), "ms", m("cfg_10"), same,
          "<= 50 ms", m("cfg_N") <= 50, f"median of {b.nsamples}; p99 {p99('cfg_N')} ms")
    b.row(4, f"  releases, {big} releases, refs packed", m("relpacked"), "ms", m("rel_N"),
          "same, loose refs", "<= 50 ms", m("relpacked") <= 50,
          f"after git pack-refs --all (what git gc does); median of {b.nreads}")
    b.row(6, f"  config:set, {big} releases, refs packed", m("cfgpacked"), "ms", m("cfg_N"),
          "same, loose refs", "<= 50 ms", m("cfgpacked") <= 50,
          f"after git pack-refs --all; median of {b.nreads}")
    b.row(6, "process start floor (slipway --version)", m("floor"), "ms")
    r = at["run"]
    b.row(6, "child run through run_child() (/bin/true), mean", float(r["run_child_mean_ms"]), "ms",
          float(r["bare_mean_ms"]), "fork, execve, waitpid of /bin/true (alternating)",
          note=f"200 runs each; medians {r['run_child_ms']} vs {r['bare_ms']} ms; every s6-svc, s6-svstat,"
          " nginx -t and sandboxed step goes through run_child()")
    b.row(11, f"releases:diff v1 v{n} ({big} releases)", m("diff_N"), "ms", m("diffbase_N"),
          f"releases:info v{n}, same ledger", "<= 50 ms", m("diff_N") <= 50,
          f"median of {b.nreads}; p99 {p99('diff_N')} ms; two ledger reads, a commit range, a config diff")
    b.row(11, "releases:diff between two large slugs", m("diffslug"), "ms", m("diffslugbase"),
          "zstd -dc of both slugs > /dev/null", "<= 1000 ms", m("diffslug") <= 1000,
          f"median of {b.nreads}; p99 {p99('diffslug')} ms; both archives streamed in step,"
          f" equal-size files compared byte for byte; {at['diffsum']}")
    b.row(11, "releases:promote, large slug, onto an app at 10+ releases", m("promote"), "ms", m("promoterb"),
          "rollback of the same target, same run", "<= rollback (+ switch)",
          m("promote") <= m("promoterb") * 1.1,
          f"median of {b.nsamples}; p99 {p99('promote')} ms; no runtime running, so no switch on either side;"
          " nothing is copied into the store")


# ---- figure 7: the sandbox's cost -------------------------------------------
# Each push and release phase with the sandbox (bwrap) and without (none), alternating.

def sandbox_push_figures(b, name):
    """Figure 7's pushes of workload NAME, sandboxed and not, alternating."""
    src, log = f"{b.work}/src/{name}", f"{b.work}/push-{name}.log"
    runs = []
    for i in range(1, b.sbruns + 1):
        for mode in ("bwrap", "none"):
            b.say(f"Sandbox cost: push {name}, sandbox {mode}, run {i}/{b.sbruns}")
            b.commit(src, allow_empty=True)
            runs.append({"fs": mode, **slip_push(b, src, log, sandbox=mode)})
    sbx, none = aggregate(runs, "bwrap", ["release_s"]), aggregate(runs, "none", ["release_s"])
    b.row(7, f"push->release {name}, sandboxed", sbx, "s", none, "same push, slipway.sandbox none",
          note=f"median of {b.sbruns} each, alternating; {round((sbx - none) * 1000, 1)} ms added for the"
          " whole build (compile and release; the shipped detects run in-process, the start check once per bubblewrap)")
    b.row(7, f"  compile stage {name}, sandboxed", aggregate(runs, "bwrap", ["compile"]), "s",
          aggregate(runs, "none", ["compile"]), "same stage, slipway.sandbox none")


def sandbox_figures(b):
    """Figure 7: pushes, a release phase of true and one bare sandbox start,
    with the sandbox and without."""
    for name in ("small", "large"):
        sandbox_push_figures(b, name)
    # one sandboxed step: a release phase of `true` (plus the start check)
    src = f"{b.work}/src/rel"
    os.makedirs(src, exist_ok=True)
    with open(f"{src}/Procfile", "w") as f:
        f.write("web: true\nrelease: true\n")
    b.git(src, "init", "-q", "-b", "main")
    b.git(src, "add", "-A")
    b.commit(src)
    b.make_app("bench-rel")
    b.push_checked(f"{b.work}/push-rel.log", "Released v1",
                   ["git", "-C", src, "push", "-q", f"{b.root}/apps/bench-rel.git", "main"])
    n = b.nsamples
    b.say(f"Sandbox cost: {n} config:set with a release phase of true, sandbox bwrap and none, alternating")
    a, c = timeab(n, "bwrap", "none", ["env", "SLIPWAY_SANDBOX={app}", b.slipway, "config:set",
                                       "BENCH_REL={i}", "-a", "bench-rel"])
    sbx, none = a["median"], c["median"]
    b.row(7, "config:set with a release phase of true, sandboxed", sbx, "ms", none,
          "same, slipway.sandbox none (interleaved)", "<= +20 ms", sbx - none <= 20,
          f"median of {n} each; {round(sbx - none, 1)} ms added: the start check and the release"
          " command's sandbox")
    bwrap = ("bwrap --unshare-all --share-net --die-with-parent --new-session --ro-bind /usr /usr"
             " --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64"
             " --proc /proc --dev /dev --tmpfs /tmp -- /bin/true")
    sbx = timeit(n, bwrap.split())["median"]
    none = timeit(n, ["/bin/true"])["median"]
    b.row(7, "  one sandbox start (bwrap ... /bin/true)", sbx, "ms", none, "/bin/true",
          "<= +20 ms", sbx - none <= 20, f"median of {n} each: what each sandboxed step adds")


# ---- figure 8: rollback to a running state -----------------------------------
# From the rollback command's start until the old release's web.1 answers on its
# port (the gate makes the command return only then), against the same rollback
# with the runtime stopped (a ledger change only).

# an app that binds in ~50 ms: plain sockets, no http.server import
RUN_APP = """\
import os, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(os.environ["PORT"])))
s.listen(64)
body = open("/app/version", "rb").read()
while True:
    c, _ = s.accept()
    c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
    c.close()
"""


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def runtime_figures(b):
    """Figure 8; leaves the runtime running with bench-run deployed."""
    src, log, slipway, n = f"{b.work}/src/run", f"{b.work}/push-run.log", b.slipway, b.nsamples
    os.makedirs(src, exist_ok=True)
    _write(f"{src}/server.py", RUN_APP)
    _write(f"{src}/Procfile", "web: exec python3 server.py\n")
    _write(f"{src}/version", "one\n")
    b.git(src, "init", "-q", "-b", "main")
    b.git(src, "add", "-A")
    b.commit(src)
    b.make_app("bench-run")
    b.git(src, "remote", "add", "heroku", f"{b.root}/apps/bench-run.git")
    b.say(f"Runtime: {n} rollbacks of bench-run with the runtime stopped")
    run(["git", "-C", src, "push", "-q", "heroku", "main"], log=log)
    _write(f"{src}/version", "two\n")
    b.git(src, "commit", "-qam", "two")
    run(["git", "-C", src, "push", "-q", "heroku", "main"], log=log)
    none = timeit(n, [slipway, "rollback", "-a", "bench-run"])["median"]
    b.slipway_run("server:start")
    b.slipway_run("config:set", "BENCH_RUN=1", "-a", "bench-run")   # now running
    b.say(f"Runtime: {n} rollbacks of bench-run to a running state")
    q = shlex.quote
    port = f"$(cat {q(b.root)}/services/bench-run.v*.web.1/port)"
    # cold: nothing kept warm (figure 12 measures the warm rollback)
    j = timeit(n, ["sh", "-c", f"{q(slipway)} rollback -a bench-run >/dev/null && "
                   f"curl -sf \"http://127.0.0.1:{port}/\" >/dev/null"],
               env=dict(os.environ, SLIPWAY_WARM_PREVIOUS="0"))
    b.row(8, "rollback to a running state (old web.1 answers)", j["median"], "ms", none,
          "same rollback, runtime stopped (ledger only)", "<= 300 ms", j["median"] <= 300,
          f"median of {n}; p99 {j['p99']} ms; includes starting the instance in its sandbox, the gate,"
          " and stopping the old one")


# ---- figure 9: restart of a 4-instance formation, and what supervision costs --
# ps:restart replaces every instance the way a release switches (new ones beside
# the old, the gate, then SIGTERM); the baseline is the same restart of one
# instance.  Memory: every process the tree runs for the instances but the app's
# own (s6-supervise and s6-log for the instance and its logger, slipway
# instance:run, bwrap), per instance.

def restart_figures(b):
    """Figure 9 (the runtime running bench-run)."""
    n = min(b.nsamples, 20)
    restart = [b.slipway, "ps:restart", "-a", "bench-run"]
    b.slipway_run("ps:scale", "web=1", "-a", "bench-run")
    b.say(f"Runtime: {n} restarts of a 1-instance formation")
    one = timeit(n, restart)["median"]
    b.slipway_run("ps:scale", "web=4", "-a", "bench-run")
    b.slipway_run("ps:restart", "-a", "bench-run")   # all four up
    b.say(f"Runtime: {n} restarts of a 4-instance formation")
    j = timeit(n, restart)
    b.row(9, "ps:restart of 4 web instances (all gated)", j["median"], "ms", one,
          "same restart of 1 instance", note=f"median of {n}; p99 {j['p99']} ms")
    time.sleep(2)   # the retired ones are gone
    pid = json.loads(b.slipway_out("server:status", "--json"))["pid"]
    mem = supervision_memory(pid, 4)
    mb = lambda kb: round(kb / 1024, 2)
    b.row(9, "supervision memory per instance (private pages)", mb(mem["own_kb"]), "MB",
          target="<= 2 MB", met=mem["own_kb"] <= 2048,
          note="what one more instance adds beyond the app's own: the private pages of s6-supervise x2,"
          f" s6-log, slipway instance:run and bwrap x2; Pss (shared pages split among {mem['n']} instances)"
          f" {mb(mem['pss_kb'])} MB; Rss (shared pages counted in full) {mb(mem['rss_kb'])} MB")
    b.slipway_run("ps:scale", "web=1", "-a", "bench-run")


# ---- figure 10: the router ----------------------------------------------------
# Failed requests during deploys, rollbacks and config changes under steady load
# (two keep-alive clients on 127.0.0.1, counting every response that is not a 200);
# a rollback until the router serves the old release; and what the router costs
# (wrk through the router against wrk straight to the instance's port).

def router_figures(b):
    """Figure 10 (the runtime running bench-run)."""
    src, log, n = f"{b.work}/src/run", f"{b.work}/push-run.log", 5 if b.quick else 20
    host, url = "bench-run.localhost", f"http://127.0.0.1:{b.http_port}/"
    b.say(f"Router: {n} deploys, {n} rollbacks and {n} config changes under load")
    load = Load(host, b.http_port, 2)
    try:
        for i in range(1, n + 1):
            _write(f"{src}/version", f"v{i}\n")
            b.git(src, "commit", "-qam", f"v{i}")
            run(["git", "-C", src, "push", "-q", "heroku", "main"], log=log)
            b.slipway_run("rollback", "-a", "bench-run")
            b.slipway_run("config:set", f"BENCH_LOAD={i}", "-a", "bench-run")
    finally:
        j = load.stop()
    b.row(10, f"failed requests during {n} deploys + {n} rollbacks + {n} config changes", j["failed"], "",
          target="0", met=j["failed"] == 0,
          note=f"{j['ok']} requests answered 200; {j['retried']} retried once on a keep-alive connection"
          f" the reload closed (as HTTP clients do); errors: {j['errors']}")
    b.say(f"Router: {b.nsamples} rollbacks until the router serves the old release")
    q = shlex.quote
    j = timeit(b.nsamples, ["sh", "-c", f"{q(b.slipway)} rollback -a bench-run >/dev/null && "
                            f"curl -sf -H {q('Host: ' + host)} {q(url)} >/dev/null"])
    b.row(10, "rollback until the router serves the old release", j["median"], "ms", target="<= 500 ms",
          met=j["median"] <= 500,
          note=f"median of {b.nsamples}; p99 {j['p99']} ms; includes the gate, nginx -t and the graceful"
          " reload (nginx waits 100 ms before it stops the old workers)")
    if shutil.which("wrk"):
        router_cost_figures(b, host, url)


def router_cost_figures(b, host, url):
    """Figure 10's cost of the router: wrk through it and straight to web.1."""
    d = 3 if b.quick else 10
    with open(sorted(glob.glob(f"{b.root}/services/bench-run.v*.web.1/port"))[0]) as f:
        port = f.read().strip()
    b.say(f"Router: wrk for {d}s through the router and {d}s straight to web.1")
    wrk = ["wrk", "-t2", "-c16", f"-d{d}s", "--latency"]
    through = wrk_figures(output(wrk + ["-H", f"Host: {host}", url]))
    direct = wrk_figures(output(wrk + [f"http://127.0.0.1:{port}/"]))
    b.row(10, "requests/s through the router", through["rps"], "/s", direct["rps"],
          "straight to web.1's port", ">= 0.8x", through["rps"] >= 0.8 * direct["rps"],
          f"wrk -t2 -c16 -d{d}s; the app is a one-request-at-a-time socket server")
    b.row(10, "  p99 latency through the router", through["p99_ms"], "ms", direct["p99_ms"],
          "straight to web.1's port")
