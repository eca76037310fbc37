"""Figure 18, several hosts: a control, three run hosts and a client in
network namespaces made here (a bridge namespace, an address of
10.232.0.0/24 each, nothing routed out of them), each run host with a real
sshd and `slipway server:run` of its own, joined with hosts:add; the
control's router is the front.  Three rows, each against a baseline of the
same run:

- a release of a 36 MB slug (random bytes: it does not compress) to three
  run hosts, `hosts:apply` until it returns, against the same to one host;
  each run pushes a new slug first (not timed) while the app's hosts are
  the control alone, so the slug crosses ssh to every host each time;
  alternating, median of 5 (2 with --quick);
- `rollback` (which goes to every host of the app by itself) until every
  host's router serves the old release, three hosts against one, median
  of 5 (3 with --quick);
- failed requests across 10 switches (4 with --quick) to three hosts, each
  a `config:set`, under a bounded load from the client through the front
  (target 0).

Needs root, `ip netns`, sshd, s6 and nginx; skipped with a line otherwise.
Also runs on its own:

    python3 -B bench/hosts_figures.py [--quick] [--json] [--build DIR] ...
"""
import os
import signal
import subprocess
import sys
import time

from measure import Failure, run
from report import median

SIZE = 36 * 1000 * 1000
PORT = "8080"
DOMAIN = "bench.test"
ALLOW = "run on it as its operator: slipway hosts:allow '"
CONTROL, CLIENT = 0, 4   # namespaces 1 to 3 are the run hosts h1, h2, h3

# the client's load: GETs through the front until the stop file exists, a
# count or a time; prints "REQUESTS FAILED"
LOAD = r"""
import http.client, os, sys, time
addr, host, stop, most, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
n = bad = 0
end = time.monotonic() + secs
while n < most and time.monotonic() < end and not os.path.exists(stop):
    n += 1
    try:
        c = http.client.HTTPConnection(addr, 8080, timeout=20)
        c.request("GET", "/", headers={"Host": host})
        r = c.getresponse()
        body = r.read()
        bad += r.status != 200 or not body.startswith(b"greeting ")
        c.close()
    except OSError:
        bad += 1
    time.sleep(0.01)
print(n, bad)
"""

PROCFILE = ("web: mkdir -p /tmp/site && echo \"greeting $GREETING\" > /tmp/site/index.html && "
            "cd /tmp/site && exec python3 -m http.server $PORT\n")


class Bed:
    """The namespaces, the hosts' sshd and server:run, and their teardown."""

    def __init__(self, d, slipway):
        pid = os.getpid()
        self.d, self.slipway = d, slipway
        self.bridge = f"slipway-bench-{pid}-bridge"
        self.ns = [f"slipway-bench-{pid}-h{i}" for i in range(CLIENT + 1)]
        self.addr = [f"10.232.0.{i + 2}" for i in range(CLIENT + 1)]
        self.dirs = [f"{d}/h{i}" for i in range(CLIENT)]
        self.made = []
        self.procs = []

    def env(self, i):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("SLIPWAY_") and k != "GIT_CONFIG_GLOBAL"}
        e.update(SLIPWAY_ROOT=f"{self.dirs[i]}/root", HOME=self.dirs[i],
                 SLIPWAY_AUTHORIZED_KEYS=f"{self.dirs[i]}/authorized_keys",
                 SLIPWAY_HTTP_ADDRESS=self.addr[i], SLIPWAY_HTTP_PORT=PORT)
        return e

    def run(self, i, *argv, cwd=None):
        """argv inside namespace i: its stdout; its stderr goes to the bed's log (shown when
        it fails)."""
        p = subprocess.run(["ip", "netns", "exec", self.ns[i], *argv], cwd=cwd, env=self.env(i),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with open(f"{self.d}/commands.log", "ab") as f:
            f.write(p.stderr)
        if p.returncode:
            sys.stderr.write(p.stderr.decode(errors="replace"))
            raise Failure(f"{' '.join(argv)} on h{i} exited with status {p.returncode}")
        return p.stdout.decode(errors="replace").rstrip("\n")

    def sw(self, i, *args):
        return self.run(i, self.slipway, *args)

    def spawn(self, i, argv, log, env=None):
        with open(log, "ab") as f:
            p = subprocess.Popen(["ip", "netns", "exec", self.ns[i], *argv], stdout=f, stderr=f,
                                 stdin=subprocess.DEVNULL, env=env or self.env(i),
                                 start_new_session=True)
        self.procs.append(p)
        return p

    def up(self):
        def ip(*args):
            run(["ip", *args], quiet=True)
        ip("netns", "add", self.bridge)
        self.made.append(self.bridge)
        ip("-n", self.bridge, "link", "set", "lo", "up")
        ip("-n", self.bridge, "link", "add", "br0", "type", "bridge")
        ip("-n", self.bridge, "addr", "add", "10.232.0.1/24", "dev", "br0")
        ip("-n", self.bridge, "link", "set", "br0", "up")
        for i, ns in enumerate(self.ns):
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", self.bridge, "link", "add", f"veth{i}", "type", "veth", "peer", "name",
               "eth0", "netns", ns)
            ip("-n", self.bridge, "link", "set", f"veth{i}", "master", "br0", "up")
            ip("-n", ns, "addr", "add", f"{self.addr[i]}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "route", "add", "default", "via", "10.232.0.1")
        for i in range(CLIENT):
            d = self.dirs[i]
            os.makedirs(f"{d}/ssh", mode=0o700)
            with open(f"{d}/.gitconfig", "w") as f:
                f.write(f"[slipway]\n\thttpAddress = {self.addr[i]}\n\thttpPort = {PORT}\n"
                        f"\tdomain = {DOMAIN}\n\tappNetwork = host\n")
            if i != CONTROL:
                self._sshd(i)
            self.spawn(i, [self.slipway, "server:run"], f"{d}/server-run.log")
            for _ in range(600):   # bounded: 60 s
                p = subprocess.run(["ip", "netns", "exec", self.ns[i], self.slipway,
                                    "server:status", "--json"], env=self.env(i),
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                if p.stdout.startswith(b'{"running":true,'):
                    break
                time.sleep(0.1)
            else:
                raise Failure(f"server:run on h{i} did not start (see {d}/server-run.log)")

    def _sshd(self, i):
        d = f"{self.dirs[i]}/ssh"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/host_key"])
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        with open(f"{d}/sshd_config", "w") as f:
            f.write(f"Port 22\nListenAddress {self.addr[i]}\nHostKey {d}/host_key\n"
                    f"PidFile {d}/sshd.pid\nAuthorizedKeysFile {self.dirs[i]}/authorized_keys\n"
                    "StrictModes no\nUsePAM no\nPubkeyAuthentication yes\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                    "PermitRootLogin forced-commands-only\nAllowUsers root\nPrintMotd no\n"
                    f"SetEnv HOME={self.dirs[i]}\n")
        self.spawn(i, ["/usr/sbin/sshd", "-D", "-e", "-f", f"{d}/sshd_config"], f"{d}/sshd.log")
        for _ in range(100):
            if subprocess.run(["ip", "netns", "exec", self.ns[i], "bash", "-c",
                               f"exec 3<>/dev/tcp/{self.addr[i]}/22"],
                              stderr=subprocess.DEVNULL).returncode == 0:
                return
            time.sleep(0.1)
        raise Failure(f"sshd on h{i} did not start (see {d}/sshd.log)")

    def join(self, i):
        """hosts:add hI, once it trusts the control's key (the line a first refusal gives)."""
        url = f"ssh://root@{self.addr[i]}"
        p = subprocess.run(["ip", "netns", "exec", self.ns[CONTROL], self.slipway, "hosts:add",
                            f"h{i}", url], env=self.env(CONTROL), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        at = p.stderr.find(ALLOW)
        if at < 0:
            raise Failure(f"hosts:add h{i}: {p.stderr.strip()}")
        key = p.stderr[at + len(ALLOW):].split("'")[0]
        self.sw(i, "hosts:allow", key)
        self.sw(CONTROL, "hosts:add", f"h{i}", url)

    def page(self, i, app):
        p = subprocess.run(["ip", "netns", "exec", self.ns[CONTROL], "curl", "-s", "--max-time",
                            "10", "-H", f"Host: {app}.{DOMAIN}", f"http://{self.addr[i]}:{PORT}/"],
                           stdout=subprocess.PIPE, text=True)
        return p.stdout

    def down(self):
        """Every process in the namespaces killed, the namespaces deleted."""
        for ns in self.made:
            for _ in range(100):
                pids = subprocess.run(["ip", "netns", "pids", ns], stdout=subprocess.PIPE,
                                      text=True).stdout.split()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                for p in self.procs:
                    p.poll()
                time.sleep(0.1)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for ns in reversed(self.made):   # hosts before the bridge
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        self.made = []


def _skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if subprocess.run(["ip", "netns", "list"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode:
        return "needs `ip netns` (iproute2)"
    for exe in ("/usr/sbin/sshd", "/usr/bin/s6-svscan", "/usr/sbin/nginx"):
        if not os.access(exe, os.X_OK):
            return f"needs {exe} (run scripts/deps)"
    return None


def _push(bed, src, app, stamp):
    """A new commit of src (its stamp file says stamp) pushed to the control's app."""
    with open(f"{src}/stamp", "w") as f:
        f.write(stamp + "\n")
    bed.run(CONTROL, "git", "add", "-A", cwd=src)
    bed.run(CONTROL, "git", "commit", "-qm", stamp, cwd=src)
    bed.run(CONTROL, "git", "push", "-q", f"{bed.dirs[CONTROL]}/root/apps/{app}.git", "main",
            cwd=src)


def _timed_apply(bed, app, hosts):
    """hosts:apply of app's current release to its hosts, timed (s)."""
    bed.sw(CONTROL, "apps:hosts:set", hosts, "-a", app)
    t = time.perf_counter()
    bed.sw(CONTROL, "hosts:apply", "-a", app)
    return time.perf_counter() - t


def _serving(bed, app, hosts, want, bound_s=60):
    """Waits until every host's router serves want for app (bounded)."""
    end = time.monotonic() + bound_s
    while time.monotonic() < end:
        if all(bed.page(i, app) == want for i in hosts):
            return
        time.sleep(0.02)
    raise Failure(f"{app} does not serve {want!r} on every host")


def hosts_figures(b):
    """Figure 18: release to 3 hosts against 1, rollback across hosts, failed requests."""
    why = _skip_reason()
    if why:
        b.say(f"Several hosts: {why}, skipped")
        return
    d = f"{b.work}/hosts"
    os.makedirs(d)
    bed = Bed(d, b.slipway)
    apps = {"multi": ("h1,h2,h3", (1, 2, 3)), "single": ("h1", (1,))}
    try:
        b.say("Several hosts: a control, three run hosts and a client in network namespaces")
        bed.up()
        src = f"{d}/src"
        os.makedirs(src)
        with open(f"{src}/Procfile", "w") as f:
            f.write(PROCFILE)
        with open(f"{src}/blob", "wb") as f:
            f.write(os.urandom(SIZE))
        bed.run(CONTROL, "git", "init", "-q", "-b", "main", cwd=src)
        for i in (1, 2, 3):
            bed.join(i)
        for app, (hosts, _) in apps.items():
            bed.sw(CONTROL, "apps:create", app)
            bed.sw(CONTROL, "config:set", "GREETING=one", "-a", app)
            _push(bed, src, app, f"{app} first")
            bed.sw(CONTROL, "apps:hosts:set", hosts, "-a", app)
            # one web instance on each of the app's hosts
            bed.sw(CONTROL, "ps:scale", f"web={len(apps[app][1])}", "-a", app)
            bed.sw(CONTROL, "hosts:apply", "-a", app)

        n = 2 if b.quick else 5
        took = {"multi": [], "single": []}
        for k in range(n):
            b.say(f"Several hosts: release of a new 36 MB slug, run {k + 1}/{n}, 3 hosts and 1")
            for app in ("multi", "single") if k % 2 == 0 else ("single", "multi"):
                # the push's release stays on the control: hosts:apply sends it
                bed.sw(CONTROL, "apps:hosts:set", "local", "-a", app)
                _push(bed, src, app, f"{app} {k}")
                took[app].append(_timed_apply(bed, app, apps[app][0]))
        multi, single = median(took["multi"]), median(took["single"])
        b.say(f"Several hosts: release to 3 hosts {multi:.2f} s, to 1 host {single:.2f} s")
        b.row(18, "release of a new 36 MB slug to 3 run hosts (hosts:apply, over ssh)",
              round(multi, 2), "s", base=round(single, 2), base_name="the same to 1 run host",
              note=f"median of {n}, alternating; phase 1 sends the slug to the hosts at once")

        n = 3 if b.quick else 5
        took = {"multi": [], "single": []}
        for k in range(n):
            b.say(f"Several hosts: rollback, run {k + 1}/{n}, 3 hosts and 1")
            for app in ("multi", "single") if k % 2 == 0 else ("single", "multi"):
                hosts = apps[app][1]
                bed.sw(CONTROL, "config:set", f"GREETING=new{k}", "-a", app)
                _serving(bed, app, hosts, f"greeting new{k}\n")
                t = time.perf_counter()
                bed.sw(CONTROL, "rollback", "-a", app)
                _serving(bed, app, hosts, "greeting one\n")
                took[app].append((time.perf_counter() - t) * 1000)
        multi, single = median(took["multi"]), median(took["single"])
        b.say(f"Several hosts: rollback across 3 hosts {multi:.0f} ms, 1 host {single:.0f} ms")
        b.row(18, "rollback across 3 run hosts until every host serves the old release",
              round(multi, 1), "ms", base=round(single, 1), base_name="the same on 1 run host",
              note=f"median of {n}, alternating; rollback on the control (to every host), "
                   "then each host's router asked")

        n = 4 if b.quick else 10
        b.say(f"Several hosts: {n} switches to 3 hosts under load from the client")
        stop = f"{d}/load.stop"
        load = subprocess.Popen(["ip", "netns", "exec", bed.ns[CLIENT], "python3", "-c", LOAD,
                                 bed.addr[CONTROL], f"multi.{DOMAIN}", stop, "100000", "600"],
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
        bed.procs.append(load)
        for k in range(n):
            bed.sw(CONTROL, "config:set", f"GREETING=switch{k}", "-a", "multi")
        with open(stop, "w"):
            pass
        requests, failed = (int(x) for x in load.communicate(timeout=60)[0].split())
        b.say(f"Several hosts: {failed} of {requests} requests failed across {n} switches")
        b.row(18, f"failed requests across {n} switches to 3 run hosts under load", failed, "",
              target="0", met=failed == 0,
              note=f"{requests} GETs from the client's namespace through the front, one at a "
                   "time, a new connection each")
    finally:
        bed.down()


def main(argv):
    """Runs only this figure (scripts/bench's options)."""
    import slipway_bench
    return slipway_bench.run_alone(argv, hosts_figures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
