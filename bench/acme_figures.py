"""Figure 15, automatic certificates: from `certs:auto:enable` until the
app answers over HTTPS with the certificate the CA issued, against a real
ACME CA on this machine (Debian's pebble, with pebble-challtestsrv as the
DNS both it and Slipway's checks ask: every name is 127.0.0.1).  Each run
takes the app's certificate away first (certs:auto:disable, certs:remove),
so each one is a whole order: the checks before it, the challenge served
by the router, the issuance, the router's switch.  Beside it, one issuance
by uacme alone for the same name (the same CA, the same challenge served
by the router), so the ratio is what Slipway adds.

Also runs on its own (it starts and stops the runtime):

    python3 -B bench/acme_figures.py [--quick] [--json] [--build DIR] ...
"""
import os
import shutil
import ssl
import subprocess
import sys
import time
import http.client

from measure import Failure, run
from report import median, ratio
from throughput import KEEPALIVE_APP, _deploy

APP = "bench-acme"
NAME = "bench-acme.example.test"


def _pki(d):
    """pebble's API certificate for 127.0.0.1, from a CA of our own: (ca, cert, key)."""
    os.makedirs(d, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem",
         "-days", "2", "-subj", "/CN=Bench ACME API CA"], quiet=True)
    run(["openssl", "req", "-new", *ec, "-keyout", f"{d}/api.key", "-out", f"{d}/api.csr",
         "-subj", "/CN=127.0.0.1"], quiet=True)
    with open(f"{d}/api.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(["openssl", "x509", "-req", "-in", f"{d}/api.csr", "-CA", f"{d}/ca.pem", "-CAkey",
         f"{d}/ca.key", "-CAcreateserial", "-days", "2", "-extfile", f"{d}/api.ext", "-out",
         f"{d}/api.pem"], quiet=True)
    return f"{d}/ca.pem", f"{d}/api.pem", f"{d}/api.key"


def _start(b, pki):
    """pebble and its DNS, on free ports of 127.0.0.1: (processes, directory URL, DNS, mgmt)."""
    from slipway_bench import free_port
    api, mgmt, dns, dns_mgmt = free_port(), free_port(), free_port(), free_port()
    cfg = f"{b.work}/pebble.json"
    with open(cfg, "w") as f:
        f.write('{"pebble":{"listenAddress":"127.0.0.1:%d","managementListenAddress":"127.0.0.1:%d",'
                '"certificate":"%s","privateKey":"%s","httpPort":%d,"tlsPort":%d,'
                '"ocspResponderURL":"","externalAccountBindingRequired":false}}'
                % (api, mgmt, pki[1], pki[2], b.http_port, free_port()))
    env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
    log = open(f"{b.work}/pebble.log", "w")
    procs = [subprocess.Popen(["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                               "-dns01", f"127.0.0.1:{dns}", "-http01", "", "-https01", "",
                               "-tlsalpn01", "", "-management", f"127.0.0.1:{dns_mgmt}"],
                              stdout=log, stderr=subprocess.STDOUT),
             subprocess.Popen(["pebble", "-config", cfg, "-dnsserver", f"127.0.0.1:{dns}"],
                              stdout=log, stderr=subprocess.STDOUT, env=env)]
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(f"{b.work}/pebble.log", errors="replace") as f:
            if "ACME directory available" in f.read():
                return procs, f"https://127.0.0.1:{api}/dir", f"127.0.0.1:{dns}", mgmt
        time.sleep(0.05)
    _stop(procs)
    raise Failure("pebble did not start (see pebble.log)")


def _stop(procs):
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _issuer_root(b, mgmt, ca):
    """The root of what pebble issues (its management API), as a file."""
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection("127.0.0.1", mgmt, context=ctx, timeout=10)
    c.request("GET", "/roots/0")
    path = f"{b.work}/pebble-root.pem"
    with open(path, "wb") as f:
        f.write(c.getresponse().read())
    c.close()
    return path


def _https_ok(b, root):
    """1 when the app answers 200 over HTTPS with a certificate root verifies."""
    ctx = ssl.create_default_context(cafile=root)
    sock = __import__("socket").create_connection(("127.0.0.1", b.https_port), timeout=5)
    try:
        with ctx.wrap_socket(sock, server_hostname=NAME) as s:
            s.sendall(f"GET / HTTP/1.1\r\nHost: {NAME}\r\nConnection: close\r\n\r\n".encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except (ssl.SSLError, OSError):
        return False


def _enable_until_served(b, root):
    """Seconds from certs:auto:enable until the app answers over HTTPS."""
    t0 = time.monotonic()
    b.slipway_run("certs:auto:enable", "-a", APP)
    while not _https_ok(b, root):
        if time.monotonic() - t0 > 60:
            raise Failure("the app was not served over HTTPS within 60 s of certs:auto:enable")
        time.sleep(0.01)
    return time.monotonic() - t0


def _uacme_alone(b, directory, ca, n):
    """One issuance by uacme alone (its account made first), the challenge served by the router."""
    conf = f"{b.work}/uacme-{n}"
    os.makedirs(conf, mode=0o700)
    bundle = f"{b.work}/uacme-bundle.pem"
    with open(bundle, "w") as out:
        for src in ("/etc/ssl/certs/ca-certificates.crt", ca):
            if os.path.exists(src):
                with open(src) as f:
                    out.write(f.read())
    hook = f"{b.work}/uacme-hook"
    webroot = f"{b.root}/acme/webroot/.well-known/acme-challenge"
    with open(hook, "w") as f:
        f.write('#!/bin/sh\n[ "$2" = http-01 ] || exit 1\ncase "$1" in\n'
                f'begin) printf %s "$5" > "{webroot}/$4" ;;\n'
                f'*) rm -f "{webroot}/$4" ;;\nesac\n')
    os.chmod(hook, 0o755)
    trust = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", bundle, "/etc/ssl/certs/ca-certificates.crt"]
    run(trust + ["uacme", "-c", conf, "-a", directory, "-y", "new"], quiet=True)
    t0 = time.monotonic()
    run(trust + ["uacme", "-c", conf, "-a", directory, "-h", hook, "issue", NAME], quiet=True)
    return time.monotonic() - t0


def acme_figures(b):
    """Figure 15: certs:auto:enable until HTTPS serves, against uacme alone (the runtime running)."""
    if not all(shutil.which(x) for x in ("pebble", "pebble-challtestsrv", "uacme", "openssl", "bwrap")):
        b.say("Automatic certificates: pebble, uacme, openssl or bwrap is not installed, skipped")
        return
    pki = _pki(f"{b.work}/acme-pki")
    procs, directory, dns, mgmt = _start(b, pki)
    saved = {k: os.environ.get(k) for k in ("SLIPWAY_ACME_DIRECTORY", "SLIPWAY_ACME_CA_BUNDLE",
                                            "SLIPWAY_ACME_RESOLVER", "SLIPWAY_ACME_HTTP_PORT")}
    # pebble checks challenges on the router's port, where a CA would on port 80
    os.environ.update({"SLIPWAY_ACME_DIRECTORY": directory, "SLIPWAY_ACME_CA_BUNDLE": pki[0],
                       "SLIPWAY_ACME_RESOLVER": dns, "SLIPWAY_ACME_HTTP_PORT": str(b.http_port)})
    try:
        _deploy(b, APP, KEEPALIVE_APP)
        b.slipway_run("domains:add", NAME, "-a", APP)
        root = _issuer_root(b, mgmt, pki[0])
        n = 3 if b.quick else 7
        ours, alone = [], []
        for i in range(n):
            b.say(f"Automatic certificates: run {i + 1}/{n}, certs:auto:enable until HTTPS serves")
            ours.append(_enable_until_served(b, root))
            b.slipway_run("certs:auto:disable", "-a", APP)
            b.slipway_run("certs:remove", "-a", APP, "--confirm", APP)
            b.say(f"Automatic certificates: run {i + 1}/{n}, uacme alone")
            alone.append(_uacme_alone(b, directory, pki[0], i))
        value, base = round(median(ours), 3), round(median(alone), 3)
        b.row(15, "certs:auto:enable until the app answers over HTTPS (pebble)", value, "s", base,
              "one issuance by uacme alone, the same CA and challenge path",
              target="<= 5 s", met=value <= 5,
              note=f"median of {n}, alternating; ratio {ratio(value, base)}; the checks before "
                   "the order, the order, the router's switch; pebble without its validation delays")
        b.slipway_run("apps:destroy", APP, "--confirm", APP)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _stop(procs)


def main(argv):
    """Runs only this figure (scripts/bench's options)."""
    import slipway_bench
    return slipway_bench.run_alone(argv, acme_figures, runtime=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
