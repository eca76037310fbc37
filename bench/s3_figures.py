"""Figure 17, slugs in S3: a 36 MB slug uploaded and fetched through
Slipway's S3 client (store/s3.h: SigV4 by libcurl, the SHA-256 sent with the
upload, the download hashed before it is published into the store) against
`curl --aws-sigv4` moving the same object, alternating, median of 5 (3 with
--quick).  The store is Debian's OpenStack Swift with its s3api middleware,
one node on 127.0.0.1, started here with configs of its own (as
tests/integration/swift.c does) and stopped after.  Skipped without
swift-proxy, swift-object, swift-container, swift-account and memcached.

Also runs on its own:

    python3 -B bench/s3_figures.py [--quick] [--json] [--build DIR] ...
"""
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

from measure import Failure, output, run
from report import median

SIZE = 36 * 1000 * 1000
KEY_ID, SECRET, BUCKET = "test:tester", "testing", "slugs"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SERVERS = ("account", "container", "object")

RINGS = """
import os, sys
from swift.common.ring import RingBuilder
os.chdir(sys.argv[1])
for i, n in enumerate(['account', 'container', 'object']):
    b = RingBuilder(6, 1, 1)
    b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1',
               'port': int(sys.argv[2 + i]), 'device': 'd1', 'weight': 1})
    b.rebalance()
    b.get_ring().save(n + '.ring.gz')
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Swift:
    """One Swift node with s3api in d, its daemons in sessions of their own."""

    def __init__(self, d):
        self.d, self.procs = d, []
        self.ports = [_free_port() for _ in range(5)]  # proxy, account, container, object, memcached
        self.endpoint = f"http://127.0.0.1:{self.ports[0]}"
        os.makedirs(f"{d}/srv/d1")
        user = pwd.getpwuid(os.getuid()).pw_name
        common = (f"[DEFAULT]\nswift_dir = {d}\ndevices = {d}/srv\nmount_check = false\n"
                  f"bind_ip = 127.0.0.1\nworkers = 0\nlog_level = WARNING\nuser = {user}\n")
        with open(f"{d}/swift.conf", "w") as f:
            f.write("[swift-hash]\nswift_hash_path_suffix = slipwaybench\n"
                    "[storage-policy:0]\nname = Policy-0\ndefault = yes\n")
        for i, n in enumerate(SERVERS):
            with open(f"{d}/{n}-server.conf", "w") as f:
                f.write(f"{common}bind_port = {self.ports[1 + i]}\n[pipeline:main]\n"
                        f"pipeline = {n}-server\n[app:{n}-server]\nuse = egg:swift#{n}\n")
        filters = ("catch_errors", "gatekeeper", "healthcheck", "proxy_logging", "listing_formats",
                   "s3api", "tempauth", "copy", "slo", "dlo")
        with open(f"{d}/proxy-server.conf", "w") as f:
            f.write(f"{common}bind_port = {self.ports[0]}\n[pipeline:main]\n"
                    "pipeline = catch_errors gatekeeper healthcheck proxy-logging cache "
                    "listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server\n"
                    "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n"
                    "error_suppression_limit = 1000\n"
                    f"[filter:cache]\nuse = egg:swift#memcache\n"
                    f"memcache_servers = 127.0.0.1:{self.ports[4]}\n"
                    "[filter:s3api]\nuse = egg:swift#s3api\nlocation = us-east-1\n"
                    f"[filter:tempauth]\nuse = egg:swift#tempauth\n"
                    f"user_test_tester = {SECRET} .admin\n")
            for name in filters:
                if name not in ("s3api", "tempauth"):
                    f.write(f"[filter:{name.replace('_', '-') if name == 'proxy_logging' else name}]\n"
                            f"use = egg:swift#{name}\n")
        with open(f"{d}/netrc", "w") as f:
            f.write(f"machine 127.0.0.1 login {KEY_ID} password {SECRET}\n")
        os.chmod(f"{d}/netrc", 0o600)
        with open(f"{d}/secret", "w") as f:
            f.write(SECRET + "\n")
        os.chmod(f"{d}/secret", 0o600)
        run(["/usr/bin/python3", "-c", RINGS, d] + [str(p) for p in self.ports[1:4]])

    def start(self):
        log = open(f"{self.d}/daemons.log", "ab")
        argvs = [["/usr/bin/memcached", "-l", "127.0.0.1", "-p", str(self.ports[4]), "-U", "0",
                  "-m", "16", "-u", "root"]]
        argvs += [["/usr/bin/python3", f"/usr/bin/swift-{n}-server", f"{self.d}/{n}-server.conf"]
                  for n in SERVERS + ("proxy",)]
        for argv in argvs:
            self.procs.append(subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True))
        for _ in range(600):  # bounded: 60 s
            if all(_listening(p) for p in self.ports[1:4]) and self.curl(
                    None, f"{self.endpoint}/healthcheck", sign=False) == 200:
                break
            time.sleep(0.1)
        else:
            raise Failure(f"Swift did not start (see {self.d}/daemons.log)")
        for _ in range(50):
            status = self.curl(None, "-X", "PUT", f"{self.endpoint}/{BUCKET}")
            if status != 503:
                break
            time.sleep(0.2)
        if status != 200:
            raise Failure(f"making the bucket: HTTP {status}")

    def curl(self, payload, *args, sign=True, timed=False, out="/dev/null"):
        """curl --aws-sigv4 (credentials from the netrc: the key id holds ':'), the body to out;
        the HTTP status, or with timed, (status, curl's own time_total)."""
        argv = ["curl", "-s", "-o", out, "-w", "%{http_code} %{time_total}"]
        if sign:
            argv += ["--aws-sigv4", "aws:amz:us-east-1:s3", "--netrc-file", f"{self.d}/netrc",
                     "-H", f"x-amz-content-sha256: {payload or EMPTY}"]
        p = subprocess.run(argv + list(args), stdout=subprocess.PIPE, text=True)
        code, took = p.stdout.split() if p.stdout.strip() else ("0", "0")
        return (int(code), float(took)) if timed else int(code)

    def stop(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _slug(root):
    """A 36 MB object of random bytes (a compressed slug does not compress) in root's store."""
    data = os.urandom(SIZE)
    hexd = hashlib.sha256(data).hexdigest()
    d = f"{root}/store/sha256/{hexd[:2]}"
    os.makedirs(d, exist_ok=True)
    path = f"{d}/{hexd[2:]}.tar.zst"
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o444)
    return hexd, path


def s3_figures(b):
    """Figure 17: upload and fetch throughput against curl's (ratios)."""
    if not all(os.access(p, os.X_OK) for p in ("/usr/bin/swift-proxy-server", "/usr/bin/memcached")):
        b.say("Slugs in S3: needs swift-proxy, swift-object, swift-container, swift-account and "
              "memcached, skipped")
        return
    d = f"{b.work}/s3"
    os.makedirs(d)
    swift = Swift(f"{d}/swift")
    try:
        b.say("Slugs in S3: starting Swift with s3api")
        swift.start()
        root = f"{d}/root"
        hexd, path = _slug(root)
        key = f"slipway/slugs/{hexd}.tar.zst"
        env = dict(os.environ, SLIPWAY_S3_ENDPOINT=swift.endpoint, SLIPWAY_S3_BUCKET=BUCKET,
                   SLIPWAY_S3_ACCESS_KEY_ID=KEY_ID, SLIPWAY_S3_SECRET_FILE=f"{swift.d}/secret",
                   HOME=d)
        n = 3 if b.quick else 5
        put, put_curl, get, get_curl = [], [], [], []
        for i in range(n):
            b.say(f"Slugs in S3: run {i + 1}/{n}, upload and fetch of {SIZE // 1000000} MB")
            out = output([b.helper, "s3-put", root, hexd], env=env)
            put.append(float(out.split("=")[1]))
            status, took = swift.curl(hexd, "-T", path, f"{swift.endpoint}/{BUCKET}/curl-copy",
                                      timed=True)
            if status != 200:
                raise Failure(f"curl upload: HTTP {status}")
            put_curl.append(took)
            fetched = f"{d}/fetched"
            shutil.rmtree(fetched, ignore_errors=True)
            out = output([b.helper, "s3-fetch", fetched, hexd], env=env)
            get.append(float(out.split("=")[1]))
            status, took = swift.curl(None, f"{swift.endpoint}/{BUCKET}/{key}", timed=True,
                                      out=f"{d}/curl-copy")
            if status != 200:
                raise Failure(f"curl download: HTTP {status}")
            get_curl.append(took)
            os.unlink(f"{d}/curl-copy")
    finally:
        swift.stop()
    mb = SIZE / 1e6
    for name, mine, theirs in (("upload", put, put_curl), ("fetch", get, get_curl)):
        value, base = mb / median(mine), mb / median(theirs)
        ratio = value / base
        b.row(17, f"slug {name} throughput, 36 MB, Swift s3api on 127.0.0.1", round(value, 1),
              "MB/s", base=round(base, 1), base_name=f"curl --aws-sigv4, the same object",
              target="ratio >= 0.9", met=ratio >= 0.9,
              note=f"median of {n}, alternating; " + (
                  "both send the SHA-256 for the store to check; curl: -T the store's file"
                  if name == "upload" else
                  "the fetch hashes, fsyncs and publishes into the store; curl: -o a file, "
                  "no fsync"))


def main(argv):
    """Runs only this figure (scripts/bench's options)."""
    import slipway_bench
    return slipway_bench.run_alone(argv, s3_figures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
