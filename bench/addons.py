"""Figure 13, add-ons: a PostgreSQL add-on created until it is ready, and the
memory of an idle one (the PSS of its server's processes); the memory of an
idle Redis add-on; a backup with its restore test against pg_dump | pg_restore
by hand.

The add-ons are made by slipway-bench (addon_create(), the library's path)
in a root of their own with its own supervision tree, as an unprivileged
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

from measure import Failure, output
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
