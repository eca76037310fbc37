# The booted Debian 12 container the package's tests and its benchmark
# install into, sourced (after `set -eu`) by install.sh and first-push.sh:
# an image made by mmdebstrap from Debian's archive (cached under
# /var/cache/slipway-test, with the package's dependencies), booted with
# systemd-nspawn -b in a network namespace of its own, which ssh and curl
# reach on 127.0.0.1. Everything is removed when the script exits.
#
#   ctr_require DEB          skipped (exit 77) without root or the tools
#   ctr_boot DEB             the image (made once), booted; root's key and
#                            the package copied in ($debname)
#   ctr_app                  the app to push ($work/app, a git repository)
#   ctr_push PATH            git push of it to git@...:PATH as root's key
#   ctr_get                  the router's answer for myapp.$fqdn on port 80
#   in_ctr, ssh_as, apt_get, preseed, wait_unit, as_server, check_account,
#   check_running            run things in it and check what runs

say() { echo "-----> $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ctr_require() {
	[ "$(id -u)" = 0 ] || { echo "skipped: needs root (systemd-nspawn)"; exit 77; }
	for tool in mmdebstrap systemd-nspawn nsenter ip ssh ssh-keygen; do
		command -v "$tool" >/dev/null || { echo "skipped: no $tool (run scripts/deps)"; exit 77; }
	done
	[ -n "$1" ] || fail "no package slipway_${version}_*.deb in $debdir (the test package/build makes it)"
}

# ---- the image: Debian 12 with systemd, sshd and what the package depends on
ctr_image() {
	cache=/var/cache/slipway-test
	depends=$(dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' |
		grep -v -e '^$' -e '^debconf-2.0$' | sort -u | tr '\n' ',')
	include="systemd,systemd-sysv,dbus,iproute2,openssh-server,procps,debconf,${depends%,}"
	image=$cache/bookworm-$(printf '%s' "$include" | sha256sum | cut -c1-16).tar
	[ -s "$image" ] && return 0
	say "Making the Debian 12 image ($image)"
	mkdir -p "$cache"
	sources=/etc/apt/sources.list.d/debian.sources
	[ -e "$sources" ] || sources=/etc/apt/sources.list
	tmp=$cache/.new-$(basename "$image")
	mmdebstrap --variant=apt --include="$include" bookworm "$tmp" "$sources" \
		>"$cache/mmdebstrap.log" 2>&1 || {
		tail -n 20 "$cache/mmdebstrap.log" >&2
		rm -f "$tmp"
		fail "mmdebstrap could not make the image (log: $cache/mmdebstrap.log)"
	}
	mv "$tmp" "$image"
}

# ---- the container, booted in a network namespace of its own
work=
ns=slipway-pkg-$$
nspawn=
loop=
init=
ctr_cleanup() {
	[ -z "$loop" ] || kill "$loop" 2>/dev/null || true
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		kill "$nspawn" 2>/dev/null || true
		i=0
		while kill -0 "$nspawn" 2>/dev/null && [ $i -lt 60 ]; do
			sleep 1
			i=$((i + 1))
		done
		kill -9 "$nspawn" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	[ -z "$work" ] || rm -rf "$work"
}

in_ctr() {
	nsenter -t "$init" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

ctr_boot() {
	ctr_image "$1"
	work=$(mktemp -d /var/tmp/slipway-package-test.XXXXXX)
	trap ctr_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	ctr=$work/root
	mkdir "$ctr"
	tar -C "$ctr" -xf "$image"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	say "Booting it"
	setsid systemd-nspawn --quiet --register=no --keep-unit -b -D "$ctr" \
		--network-namespace-path="/run/netns/$ns" </dev/null >"$work/console.log" 2>&1 &
	nspawn=$!
	state=
	i=0
	while :; do
		# the container's systemd: nspawn's child that runs it (not a
		# helper nspawn forks on the way)
		init=$(pgrep -x -P "$nspawn" systemd 2>/dev/null | head -n 1) || true
		if [ -n "$init" ]; then
			state=$(in_ctr systemctl is-system-running 2>/dev/null) || true
			case $state in running | degraded) break ;; esac
		fi
		kill -0 "$nspawn" 2>/dev/null || { cat "$work/console.log" >&2; fail "the container did not boot"; }
		[ $i -lt 1200 ] || { cat "$work/console.log" >&2; fail "the container did not boot in 120 s (its systemd: '${init:-none}', is-system-running: '${state:-}')"; }
		sleep 0.1
		i=$((i + 1))
	done
	ssh-keygen -q -t ed25519 -N '' -C admin@laptop -f "$work/key"
	mkdir -p "$ctr/root/.ssh"
	cp "$work/key.pub" "$ctr/root/.ssh/authorized_keys"
	cp "$1" "$ctr/root/"
	debname=$(basename "$1")
	sshcmd="ssh -F /dev/null -i $work/key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
}

# ---- helpers

# ssh USER CMD...: from the container's namespace to its sshd, with root's key
ssh_as() {
	user=$1
	shift
	ip netns exec "$ns" ssh -F /dev/null -i "$work/key" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=20 "$user@127.0.0.1" "$@"
}
apt_get() {
	in_ctr sh -c 'cd /root && DEBIAN_FRONTEND=noninteractive apt-get "$@"' apt-get "$@"
}
preseed() {
	printf '%s\n' "$@" | in_ctr debconf-set-selections
}
# waits (60 s at most) until the unit's state is the one wanted
wait_unit() {
	i=0
	while [ "$(in_ctr systemctl is-active "$1" || true)" != "$2" ]; do
		[ $i -lt 600 ] || fail "$1 is $(in_ctr systemctl is-active "$1" || true), not $2:
$(in_ctr journalctl -u "$1" --no-pager | tail -n 20)"
		sleep 0.1
		i=$((i + 1))
	done
}
as_server() {
	user=$1
	shift
	in_ctr sh -c 'cd /var/lib/slipway && exec runuser -u "$0" -- env HOME=/var/lib/slipway "$@"' \
		"$user" "$@"
}
# checks the account sshd will let in: home the root, a real shell, '*' as its password
check_account() {
	entry=$(in_ctr getent passwd "$1") || fail "no user $1"
	case $entry in
	"$1:x:"*":Slipway:/var/lib/slipway:/bin/sh") ;;
	*) fail "the user $1 is not Slipway's as it should be: $entry" ;;
	esac
	[ "$(in_ctr getent shadow "$1" | cut -d: -f2)" = '*' ] || fail "$1 is locked or has a password"
}
check_running() {
	wait_unit slipway.service active
	status=$(as_server "$1" slipway --root /var/lib/slipway server:status)
	case $status in
	*"Supervisor: running, s6-svscan"*"Router:     running"*) ;;
	*) fail "the runtime does not run: $status" ;;
	esac
	owner=$(in_ctr ps -o user= -C s6-svscan | sort -u)
	[ "$owner" = "$1" ] || fail "s6-svscan runs as '$owner', not $1"
}

# ---- the app: a Procfile and a perl server (perl is in every Debian)
ctr_app() {
	app=$work/app
	mkdir "$app"
	cat >"$app/server.pl" <<'PERL'
use IO::Socket::INET;
my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $ENV{PORT}, Listen => 64,
	ReuseAddr => 1) or die "listen: $!";
while (my $c = $s->accept) {
	while (defined(my $l = <$c>)) { last if $l eq "\r\n" }
	my $b = "hello from $ENV{DYNO}\n";
	print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($b) . "\r\nConnection: close\r\n\r\n$b";
	close $c;
}
PERL
	echo 'web: exec perl server.pl' >"$app/Procfile"
	git -C "$app" init -q -b main
	git -C "$app" add -A
	git -C "$app" -c user.name=t -c user.email=t@example.com commit -q -m first
	fqdn=$(in_ctr sh -c 'hostname -f 2>/dev/null || hostname')
}

# git push of the app to git@127.0.0.1:PATH as root's key (the output in $work/push.log)
ctr_push() {
	ip netns exec "$ns" git -C "$app" -c core.sshCommand="$sshcmd" push -q \
		"ssh://git@127.0.0.1/$1" main >"$work/push.log" 2>&1 ||
		{ cat "$work/push.log"; fail "the push failed"; }
}

# what the router answers for myapp on port 80
ctr_get() {
	ip netns exec "$ns" curl -sS --max-time 10 -H "Host: myapp.$fqdn" "http://127.0.0.1:80/"
}
