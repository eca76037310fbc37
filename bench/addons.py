"""Figure 13, add-ons: a PostgreSQL add-on created until it is ready, and the
memory of an idle one (the PSS of its server's processes); the memory of an
idle Redis add-on; a backup with its restore test against pg_dump | pg_restore
by hand; the requests that fail while pg:credentials:rotate switches an app
under load to its new password.

The add-ons are made by slipway-bench (addon_create(), the library's path)
(the rotation's by the slipway commands, with a runtime and a router of
their own) in a root of their own with its own supervision tree, as an unprivileged
user: PostgreSQL refuses root, and so does Slipway's add-on code.  Run as
root, the bench becomes SLIPWAY_TEST_USER (default nobody) for it.

`python3 -B bench/addons.py [--quick]` runs only this figure.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from measure import Failure, Load, output, run
from report import median


def _as_user():
    """The argv prefix that runs a program as the unprivileged user, and its uid/gid."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    pw = pwd.getpwnam(os.environ.get("SLIPWAY_TEST_USER") or "nobody")
    return (["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", "--"],
            pw.pw_uid, pw.pw_gid)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree_pss_kb(pid):
    """The PSS of pid and its descendants, in kB."""
    children = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
        except (OSError, IndexError, ValueError):
            pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except OSError:
            pass
    return total


def _postmaster(root, name):
    with open(f"{root}/addons/{name}/data/postmaster.pid") as f:
        return int(f.readline())


def _redis_server(root, name):
    """The pid of the add-on's redis-server, from INFO as Slipway's own login."""
    with open(f"{root}/addons/{name}/credentials") as f:
        cred = dict(line.rstrip("\n").split(" ", 1) for line in f if " " in line)
    env = dict(os.environ, REDISCLI_AUTH=cred["superpassword"])
    info = output(["redis-cli", "-s", f"{root}/addons/{name}/run/redis.sock",
                   "--user", cred["superuser"], "INFO", "server"], env=env)
    return int(info.split("process_id:", 1)[1].split()[0])


def _redis_figures(b, n, prefix, helper, root, env):
    """The memory of an idle Redis add-on, n of them made in the same root."""
    if not shutil.which("redis-server"):
        b.say("Add-ons: Redis is not installed, its row skipped")
        return
    b.say(f"Add-ons: {n} Redis add-ons created one after the other, until each is ready")
    lines = output(prefix + [helper, "addons", root, str(n), "redis"], env=env).splitlines()
    got = [dict(kv.split("=", 1) for kv in line.split()) for line in lines]
    secs = [float(g["seconds"]) for g in got]
    time.sleep(2)   # idle: the servers' start-up work is over
    pss = [_tree_pss_kb(_redis_server(root, g["name"])) / 1024 for g in got]
    b.row(13, "memory of an idle Redis add-on", round(median(pss), 1), "MB",
          target="<= 20 MB", met=median(pss) <= 20,
          note=f"PSS of its redis-server (appendonly, maxmemory 64mb); median of {n}, "
               f"each created until ready in {median(secs):.2f} s (median)")


def _pg_login(root, name):
    """The add-on's superuser login: its programs' directory, connection options, database,
    password."""
    def record(file):
        with open(f"{root}/addons/{name}/{file}") as f:
            return dict(line.rstrip("\n").split(" ", 1) for line in f if " " in line)
    cred, rec = record("credentials"), record("addon")
    conn = ["-h", f"{root}/addons/{name}/run", "-p", rec["port"], "-U", cred["superuser"]]
    return f"/usr/lib/postgresql/{rec['major']}/bin", conn, cred["database"], cred["superpassword"]


def _backup_figure(b, prefix, helper, root, env, name):
    """A backup with its restore test of a database of about 100 MB (--quick: 10 MB), against
    pg_dump | pg_restore by hand into an empty database of the same server."""
    rows, runs = (100_000 if b.quick else 1_000_000), 3
    bindir, conn, db, pw = _pg_login(root, name)
    penv = dict(env, PGPASSWORD=pw)

    def psql(database, sql):
        subprocess.run(prefix + [f"{bindir}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"] + conn +
                       ["-d", database, "-c", sql], env=penv, check=True,
                       stdout=subprocess.DEVNULL)

    psql(db, "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g + 1)::text) AS h "
             f"FROM generate_series(1, {rows}) g; CREATE INDEX ON big (g)")
    b.say(f"Add-ons: backups of a {rows:,}-row database, {runs} runs each, alternating")
    ours, hand, dump_mb, tables = [], [], 0, 0
    for i in range(runs):
        got = dict(kv.split("=", 1) for kv in
                   output(prefix + [helper, "backup", root, name], env=env).split())
        ours.append(float(got["seconds"]))
        dump_mb, tables = int(got["size"]) / 1e6, int(got["tables"])
        psql("postgres", f"CREATE DATABASE hand{i}")
        pipe = (f"'{bindir}/pg_dump' -Fc {' '.join(conn)} -d {db} | '{bindir}/pg_restore' "
                f"--no-owner --no-acl --exit-on-error {' '.join(conn)} -d hand{i}")
        t0 = time.monotonic()
        subprocess.run(prefix + ["sh", "-c", pipe], env=penv, check=True)
        hand.append(time.monotonic() - t0)
        psql("postgres", f"DROP DATABASE hand{i}")
    ratio = median(ours) / median(hand)
    b.row(13, "backup + verified restore vs pg_dump | pg_restore by hand", round(ratio, 2), "x",
          target="<= 1.2x", met=ratio <= 1.2,
          note=f"{rows:,} rows, a {dump_mb:.1f} MB dump, {tables} table(s); ours "
               f"{median(ours):.2f} s (pg_dump -Fc streamed to a file, SHA-256 and pg_restore into a "
               f"scratch cluster copied from a template and started meanwhile; fsync, tables "
               f"counted, the cluster removed), by hand "
               f"{median(hand):.2f} s (into an empty database of the same server); medians "
               f"of {runs}")


# The rotation's app: a new connection for every request, the row it reads or a 500.
_ROTATE_APP = """import http.server, os, subprocess
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(s):
        r = subprocess.run(['psql', '-X', '-q', '-t', '-A', os.environ.get('DATABASE_URL', ''),
                            '-c', 'SELECT x FROM t'], capture_output=True)
        s.send_response(200 if r.returncode == 0 else 500)
        s.send_header('Content-Length', str(len(r.stdout)))
        s.end_headers(); s.wfile.write(r.stdout)
    def log_message(s, *a): pass
http.server.ThreadingHTTPServer(('', int(os.environ['PORT'])), H).serve_forever()
"""


def _rotation_figures(b, prefix, uid, gid, work, addon_ports):
    """Failed requests while pg:credentials:rotate switches an app under load."""
    root, src, home = f"{work}/rotate-root", f"{work}/rotate-src", f"{work}/rotate-home"
    app, http_port = "bench-rotate", _free_port()
    for d in (root, src, home):
        os.makedirs(d)
    with open(f"{src}/server.py", "w") as f:
        f.write(_ROTATE_APP)
    with open(f"{src}/Procfile", "w") as f:
        f.write("web: exec python3 -u server.py\n")
    for d, _, files in os.walk(work):
        for name in [d] + [f"{d}/{x}" for x in files]:
            os.chown(name, uid, gid)
    env = dict(os.environ, HOME=home, SLIPWAY_ROOT=root, SLIPWAY_HTTP_PORT=str(http_port),
               SLIPWAY_ADDON_PORT_RANGE=addon_ports)
    sw = prefix + [b.slipway]
    log = f"{work}/rotate.log"
    b.say("Add-ons: pg:credentials:rotate while an app that connects for every request is under load")
    try:
        run(sw + ["server:start"], env=env, log=log)
        run(sw + ["apps:create", app], env=env, log=log)
        # the add-on's socket is the way in; the app's own network is figure 12's
        run(prefix + ["git", "--git-dir", f"{root}/apps/{app}.git", "config", "slipway.appNetwork",
                      "host"], env=env, log=log)
        git = prefix + ["git", "-C", src]
        run(git + ["init", "-q", "-b", "main"], env=env, log=log)
        run(git + ["add", "-A"], env=env, log=log)
        run(git + ["commit", "-qm", "rotate"], env=env, log=log)
        run(git + ["push", "-q", f"{root}/apps/{app}.git", "main"], env=env, log=log)
        name = output(sw + ["addons:create", "postgresql", "-a", app], env=env).split()[1]
        url = output(sw + ["config:get", "DATABASE_URL", "-a", app], env=env)
        url = url.split("?host=")[0] + f"?host={root}/addons/{name}/run"
        run(prefix + ["psql", "-X", "-q", url, "-c", "CREATE TABLE t (x text); INSERT INTO t VALUES ('row')"],
            env=env, log=log)
        load = Load(f"{app}.localhost", http_port, 2)
        time.sleep(2)
        t = time.perf_counter()
        run(sw + ["pg:credentials:rotate", "-a", app, "--confirm", app], env=env, log=log)
        secs = time.perf_counter() - t
        time.sleep(2)
        j = load.stop()
        b.row(13, "failed requests during pg:credentials:rotate", j["failed"], "", target="0",
              met=j["failed"] == 0,
              note=f"{j['ok']} requests answered 200 (two keep-alive clients through the router, the app "
                   f"opening a new PostgreSQL connection for each); the rotation took {secs:.1f} s: a new "
                   f"password on the second login, a release through the gate, the old login revoked once "
                   f"the old instance stopped; errors: {j['errors']}")
    finally:
        subprocess.run(sw + ["server:stop"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def addons_figures(b):
    """Figure 13: create-to-ready of a PostgreSQL add-on, and an idle one's memory."""
    if not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        b.say("Add-ons: PostgreSQL is not installed, figure 13 skipped")
        return
    n = 3 if b.quick else 5
    prefix, uid, gid = _as_user()
    # not under the work directory, which only its owner may enter (nor $TMPDIR, which may be root's)
    work = tempfile.mkdtemp(prefix="slipway-bench-addons-", dir="/tmp" if prefix else None)
    root, helper = f"{work}/root", f"{work}/slipway-bench"
    shutil.copy(b.helper, helper)
    os.makedirs(f"{work}/home")
    os.makedirs(root)
    for d in (work, root, f"{work}/home"):
        os.chown(d, uid, gid)
    os.chmod(work, 0o755)
    p = _free_port()
    env = dict(os.environ, HOME=f"{work}/home", SLIPWAY_ADDON_PORT_RANGE=f"{p}-{min(p + 50, 65535)}")
    b.say(f"Add-ons: {n} PostgreSQL add-ons created one after the other, until each is ready")
    try:
        lines = output(prefix + [helper, "addons", root, str(n)], env=env).splitlines()
        got = [dict(kv.split("=", 1) for kv in line.split()) for line in lines]
        secs = [float(g["seconds"]) for g in got]
        time.sleep(2)   # idle: the servers' start-up work is over
        pss = [_tree_pss_kb(_postmaster(root, g["name"])) / 1024 for g in got]
        b.row(13, "add-on created until ready (PostgreSQL)", median(secs), "s", target="<= 2 s",
              met=median(secs) <= 2,
              note=f"median of {n}, max {max(secs):.2f} s: initdb, the app's role and database, "
                   "one syncfs, the server up under s6 until pg_isready accepts")
        b.row(13, "memory of an idle PostgreSQL add-on", round(median(pss), 1), "MB",
              target="<= 20 MB", met=median(pss) <= 20,
              note="PSS of the postmaster and its children (shared_buffers 16MB, max_connections 20)")
        _backup_figure(b, prefix, helper, root, env, got[0]["name"])
        _redis_figures(b, n, prefix, helper, root, env)
        _rotation_figures(b, prefix, uid, gid, work, f"{p + 51}-{min(p + 100, 65535)}")
    finally:
        subprocess.run(prefix + [helper, "addons-stop", root], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    """Runs only this figure (scripts/bench's options)."""
    import slipway_bench
    return slipway_bench.run_alone(argv, addons_figures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
