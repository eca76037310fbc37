#!/bin/sh
# From apt install to the first push served, in the container of the
# package's test (container.sh): a fresh Debian 12 with the package's
# dependencies (the image), the package installed with root's key as
# admin's, and the first `git push git@...:myapp.git main` creating and
# deploying the app until the router answers for it. The container's boot
# is not timed. Prints "first-push: SECONDS" (what bench/package_figures.py
# reads); the steps' own lines go to stderr.
#
# Usage: first-push.sh DEB_DIR VERSION
set -eu
debdir=$1
version=$2
. "$(dirname "$0")/container.sh"
deb=$(ls "$debdir"/slipway_"$version"_*.deb 2>/dev/null | head -n 1) || true
ctr_require "$deb" >&2
ctr_boot "$deb" >&2
ctr_app

say "Installing the package and pushing the first app" >&2
t0=$(date +%s.%N)
apt_get install -y --no-install-recommends "./$debname" >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log" >&2; fail "apt-get install failed"; }
# the namespace has only its loopback: the apps share the host's network
as_server git git config --global slipway.appNetwork host
ctr_push myapp.git
i=0
until [ "$(ctr_get 2>/dev/null)" = "hello from web.1" ]; do
	[ $i -lt 600 ] || fail "the router did not serve myapp within 60 s of the push"
	sleep 0.1
	i=$((i + 1))
done
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "first-push: %.2f\n", b - a }'
