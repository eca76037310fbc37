"""Figure 10's TLS cost: requests/s through the router over HTTPS against
plain HTTP, for the same app (figure 10's keep-alive one) with the same wrk
settings, in interleaved rounds: each round takes the app's certificate
away (plain HTTP) and adds it again (HTTPS), in alternating order, so a
drift of the machine's load falls on both sides.

wrk speaks HTTP/1.1 (it offers no HTTP/2) and names the host in its URL
for TLS's SNI: the app gets the domain `localhost` (which resolves to
127.0.0.1 here) and a self-signed certificate for it (certs:add --bypass).
Two kinds of client: keep-alive (one TLS handshake per connection, then
only the records' encryption) and a new connection per request
(`Connection: close`: a handshake per request, the worst case).

Also runs on its own (it starts and stops the runtime):

    python3 -B bench/tls_throughput.py [--quick] [--json] [--build DIR] ...
"""
import os
import shutil
import sys

from measure import output, run, wrk_figures
from report import median, ratio
from throughput import KEEPALIVE_APP, _deploy

APP = "bench-tls"
HOST = "localhost"


def _certificate(b):
    """A self-signed certificate for HOST and its key (P-256, as a CA's would be): their paths."""
    crt, key = f"{b.work}/{APP}.crt", f"{b.work}/{APP}.key"
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST}"], quiet=True, log=f"{b.work}/openssl.log")
    return crt, key


def _serve(b, https, cert):
    """The app served over HTTPS (its certificate added) or plain HTTP (taken away)."""
    if https:
        b.slipway_run("certs:add", cert[0], cert[1], "--bypass", "-a", APP)
    else:
        b.slipway_run("certs:remove", "-a", APP, "--confirm", APP)


def tls_throughput_figures(b):
    """Figure 10's TLS rows, the runtime running: HTTPS against HTTP, the
    same app, interleaved rounds, medians."""
    if not shutil.which("wrk") or not shutil.which("openssl"):
        b.say("TLS throughput: wrk or openssl is not installed, skipped")
        return
    _deploy(b, APP, KEEPALIVE_APP)
    b.slipway_run("domains:add", HOST, "-a", APP)
    cert = _certificate(b)
    d, n = (3, 3) if b.quick else (5, 5)
    clients = (("keep-alive", []), ("a new connection per request", ["-H", "Connection: close"]))
    res = {(kind, way): [] for kind, _ in clients for way in ("https", "http")}
    urls = {"https": f"https://{HOST}:{b.https_port}/", "http": f"http://{HOST}:{b.http_port}/"}
    https_on = False
    for i in range(n):
        for way in ("https", "http") if i % 2 == 0 else ("http", "https"):
            if (way == "https") != https_on:
                _serve(b, way == "https", cert)
                https_on = way == "https"
            for kind, extra in clients:
                b.say(f"TLS throughput: {kind}, {way}, round {i + 1}/{n} (wrk {d}s)")
                text = output(["wrk", "-t2", "-c16", f"-d{d}s", "--latency"] + extra + [urls[way]])
                if "Non-2xx or 3xx responses" in text or "Socket errors" in text:
                    b.say(f"TLS throughput: wrk saw errors ({way}, {kind}):\n{text}")
                res[(kind, way)].append(wrk_figures(text))
    for kind, _ in clients:
        m = lambda way, key: round(median([r[key] for r in res[(kind, way)]]), 1)
        rps, base = m("https", "rps"), m("http", "rps")
        b.row(10, f"requests/s through the router over HTTPS, {kind}", rps, "/s", base,
              f"same app over plain HTTP, {kind}",
              note=f"wrk -t2 -c16 -d{d}s (HTTP/1.1; an ECDSA P-256 certificate), median of {n} interleaved"
              f" rounds; ratio {ratio(rps, base)}; p99 {m('https', 'p99_ms')} ms vs"
              f" {m('http', 'p99_ms')} ms")
    b.slipway_run("apps:destroy", APP, "--confirm", APP)


def main(argv):
    """Runs only these figures (scripts/bench's options)."""
    import slipway_bench
    return slipway_bench.run_alone(argv, tls_throughput_figures, runtime=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
