"""Figure 14, the dashboard's memory: the PSS of the dashboard service's
processes (`slipway dashboard:run` under s6, and its children at the time)
idle, after 100 requests, and with one live stream open.  The requests go to
its socket as nginx sends them (SCGI), as the operator logged in with
`dashboard:login`, over the app pages in turn.

Run with the runtime up (server:start starts the service).  On bench-large
when the run made it (1000 releases, 100 builds), else on an app of its own.
`python3 -B bench/dashboard_figures.py [--quick]` runs only this figure.
"""
import os
import socket
import sys
import time

from addons import _tree_pss_kb
from measure import Failure, output

REQUESTS = 100
PAGES = ["/", "/apps/{app}/activity", "/apps/{app}/processes", "/apps/{app}/logs",
         "/apps/{app}/config", "/apps/{app}/domains", "/apps/{app}/settings",
         "/apps/{app}/builds/1", "/apps/{app}/releases/v1"]


def _netstring_headers(pairs):
    h = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs)
    return str(len(h)).encode() + b":" + h + b","


class _Client:
    """SCGI requests to the dashboard's socket, as nginx makes them."""

    def __init__(self, root, url):
        self.sock = f"{root}/dashboard/dashboard.sock"
        hostport = url.split("://", 1)[1].split("/", 1)[0]
        self.host, _, port = hostport.partition(":")
        self.port = port or "80"
        self.origin = url.split("/login", 1)[0]
        self.cookie = None

    def open(self, method, path, body=b"", query=""):
        """The connection, the request sent."""
        pairs = [("CONTENT_LENGTH", str(len(body))), ("SCGI", "1"), ("REQUEST_METHOD", method),
                 ("DOCUMENT_URI", path), ("QUERY_STRING", query), ("SERVER_PORT", self.port),
                 ("HTTP_HOST", f"{self.host}:{self.port}"), ("HTTP_ORIGIN", self.origin),
                 ("HTTP_SEC_FETCH_SITE", "same-origin")]
        if self.cookie:
            pairs.append(("HTTP_COOKIE", self.cookie))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.sock)
        s.sendall(_netstring_headers(pairs) + body)
        return s

    def request(self, method, path, body=b""):
        """The whole answer (headers and body)."""
        with self.open(method, path, body) as s:
            chunks = []
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        return b"".join(chunks)

    def log_in(self, token):
        answer = self.request("POST", "/login", f"token={token}".encode())
        for line in answer.split(b"\r\n"):
            if line.lower().startswith(b"set-cookie: "):
                self.cookie = line[len(b"set-cookie: "):].split(b";")[0].decode()
        if not self.cookie:
            raise Failure(f"the dashboard did not log in: {answer[:200]!r}")


def _app(b):
    apps = output([b.slipway, "apps"]).split()
    if "bench-large" in apps:
        return "bench-large"
    if "bench-dash" not in apps:
        b.slipway_run("apps:create", "bench-dash")
    return "bench-dash"


def _dashboard_pid(b):
    for _ in range(100):
        pid = int(output(["s6-svstat", "-o", "pid", f"{b.root}/services/dashboard"]))
        if pid > 0 and os.path.exists(f"{b.root}/dashboard/dashboard.sock"):
            return pid
        time.sleep(0.1)
    raise Failure("the dashboard service did not start")


def dashboard_memory_figures(b):
    """Figure 14: the dashboard service's PSS idle, after 100 requests, with a stream open."""
    app = _app(b)
    pid = _dashboard_pid(b)
    time.sleep(1)   # idle: its start-up is over
    idle = _tree_pss_kb(pid) / 1024
    link = output([b.slipway, "dashboard:login"]).splitlines()[-1]
    c = _Client(b.root, link)
    c.log_in(link.split("#", 1)[1])
    b.say(f"Dashboard: {REQUESTS} requests to its socket, the pages of {app} in turn")
    for i in range(REQUESTS):
        answer = c.request("GET", PAGES[i % len(PAGES)].format(app=app))
        if not answer.startswith(b"Status: 200") and not answer.startswith(b"Status: 404"):
            raise Failure(f"the dashboard answered {answer[:80]!r}")
    time.sleep(1)   # the requests' processes are reaped
    after = _tree_pss_kb(pid) / 1024
    with c.open("GET", f"/apps/{app}/logs/stream") as s:
        s.recv(4096)   # the headers: its process streams
        time.sleep(0.5)
        streaming = _tree_pss_kb(pid) / 1024
    b.row(14, "memory of the dashboard service, after 100 requests", round(after, 2), "MB",
          round(idle, 2), "idle, before them", "<= 10 MB", max(idle, after, streaming) <= 10,
          note=f"PSS of slipway dashboard:run and its children; {streaming:.2f} MB with a live "
               f"tail open (its own process); pages of {app} in turn")


def main(argv):
    """Runs only this figure (scripts/bench's options), with the runtime up."""
    import slipway_bench
    return slipway_bench.run_alone(argv, dashboard_memory_figures, runtime=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
