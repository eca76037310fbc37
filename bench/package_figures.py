"""Figure 16, install to first push: in the package's container test's
Debian 12 (tests/package/container.sh: mmdebstrap's image with the
package's dependencies, booted with systemd-nspawn in a network namespace
of its own), from `apt install ./slipway_*.deb` until the first
`git push git@...:myapp.git main` has created and deployed the app and the
router answers for it (tests/package/first-push.sh).  A fresh container
each run; its boot is not timed.  The package is build/deb's, made with
scripts/package when it is not there.  Needs root, mmdebstrap and
systemd-nspawn; skipped without them.

Also runs on its own:

    python3 -B bench/package_figures.py [--quick] [--json] [--build DIR] ...
"""
import glob
import os
import subprocess
import sys

from measure import Failure, run
from report import median


def _package(b):
    """The directory holding the package of this tree's version, and the version; built if missing."""
    version = subprocess.run(["dpkg-parsechangelog", "-S", "Version"], cwd=b.top, check=True,
                             capture_output=True, text=True).stdout.strip()
    out = f"{b.build}/deb"
    if not glob.glob(f"{out}/slipway_{version}_*.deb"):
        b.say(f"Install to first push: building the package into {out} (scripts/package)")
        run([f"{b.top}/scripts/package", out], stdout=sys.stderr.fileno())
    return out, version


def _first_push(b, out, version):
    """Seconds from apt install to the first push served, one fresh container; None if skipped."""
    p = subprocess.run([f"{b.top}/tests/package/first-push.sh", out, version],
                       stdout=subprocess.PIPE, text=True)  # its steps' lines: on our stderr
    if p.returncode == 77:
        b.say("Install to first push: skipped")
        return None
    if p.returncode != 0:
        raise Failure(f"tests/package/first-push.sh failed (exit {p.returncode})")
    for line in p.stdout.splitlines():
        if line.startswith("first-push: "):
            return float(line.split()[1])
    raise Failure(f"tests/package/first-push.sh said no time: {p.stdout}")


def package_figures(b):
    """Figure 16: apt install until the first push is served, median of 3 (1 with --quick)."""
    if os.geteuid() != 0 or not all(
            subprocess.run(["sh", "-c", f"command -v {t}"], capture_output=True).returncode == 0
            for t in ("mmdebstrap", "systemd-nspawn", "dpkg-parsechangelog")):
        b.say("Install to first push: needs root, mmdebstrap and systemd-nspawn, skipped")
        return
    out, version = _package(b)
    n = 1 if b.quick else 3
    times = []
    for i in range(n):
        b.say(f"Install to first push: run {i + 1}/{n}, a fresh Debian 12 container")
        t = _first_push(b, out, version)
        if t is None:
            return
        times.append(t)
    value = round(median(times), 2)
    b.row(16, "apt install of the package until the first push is served (Debian 12 container)",
          value, "s", target="<= 60 s", met=value <= 60,
          note=f"median of {n}; a fresh container each run, its boot not timed; the package's "
               "dependencies already in the image; the push creates and deploys a one-process app")


def main(argv):
    """Runs only this figure (scripts/bench's options)."""
    import slipway_bench
    return slipway_bench.run_alone(argv, package_figures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
