#!/bin/sh
# The package installed on a fresh Debian 12 that boots with systemd: a
# container (mmdebstrap from Debian's archive, cached under
# /var/cache/slipway-test; systemd-nspawn -b) in a network namespace of its
# own, which this test makes and removes; ssh reaches its sshd on
# 127.0.0.1 inside that namespace.
#
#   1. a user git that is not Slipway's: the install refuses, with the
#      reason, and starts nothing;
#   2. another name through debconf: the account (unlocked, a real shell,
#      home the root), the runtime's service active as that user, the
#      apps' domain, root's key pushing as admin over ssh with PAM and
#      without (a locked account: refused, the control), apps:create over
#      ssh, the shipped buildpacks found, the daily gc, Debian's stock
#      nginx stopped for the router's port 80; apt remove stops
#      it and keeps the data, purge without a yes keeps it too;
#   3. the default name git and domain (hostname -f); a first push over ssh creates and deploys an app the router
#      serves on port 80, and an upgrade to a rebuilt
#      package keeps it answering every request; then purge with a yes:
#      the data is gone.
#
# Usage: install.sh DEB_DIR VERSION (ctest's package/install, label long)
set -eu
debdir=$1
version=$2
start=$(date +%s)

say() { echo "-----> $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (systemd-nspawn)"; exit 77; }
for tool in mmdebstrap systemd-nspawn nsenter ip ssh ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "skipped: no $tool (run scripts/deps)"; exit 77; }
done
deb=$(ls "$debdir"/slipway_"$version"_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no package slipway_${version}_*.deb in $debdir (the test package/build makes it)"

# ---- the image: Debian 12 with systemd, sshd and what the package depends on
cache=/var/cache/slipway-test
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' |
	grep -v -e '^$' -e '^debconf-2.0$' | sort -u | tr '\n' ',')
include="systemd,systemd-sysv,dbus,iproute2,openssh-server,procps,debconf,${depends%,}"
image=$cache/bookworm-$(printf '%s' "$include" | sha256sum | cut -c1-16).tar
if [ ! -s "$image" ]; then
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
fi

# ---- the container, booted in a network namespace of its own
work=$(mktemp -d /var/tmp/slipway-package-test.XXXXXX)
ns=slipway-pkg-$$
nspawn=
loop=
cleanup() {
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
	rm -rf "$work"
}
trap cleanup EXIT
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

init=
state=
in_ctr() {
	nsenter -t "$init" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
i=0
while :; do
	# the container's systemd: nspawn's child that runs it (not a helper
	# nspawn forks on the way)
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

# ---- helpers
ssh-keygen -q -t ed25519 -N '' -C admin@laptop -f "$work/key"
mkdir -p "$ctr/root/.ssh"
cp "$work/key.pub" "$ctr/root/.ssh/authorized_keys"
cp "$deb" "$ctr/root/"
debname=$(basename "$deb")

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

# ---- 1. a user git that is not Slipway's
say "Installing beside a user git that is not Slipway's"
in_ctr useradd --create-home --shell /bin/sh git
preseed "slipway slipway/domain string example.test" "slipway slipway/import-root-keys boolean true"
if apt_get install -y --no-install-recommends "./$debname" >"$work/apt.log" 2>&1; then
	cat "$work/apt.log"
	fail "the install went through beside another user git"
fi
grep -qF "slipway: the user 'git' exists and is not Slipway's (its home is /home/git, not /var/lib/slipway): choose another name with 'dpkg-reconfigure slipway' (or preseed slipway/user)" \
	"$work/apt.log" || { cat "$work/apt.log"; fail "the refusal does not say why"; }
[ ! -e "$ctr/var/lib/slipway" ] || fail "the refused install made /var/lib/slipway"
[ "$(in_ctr systemctl is-active slipway.service || true)" != active ] || fail "the refused install started slipway"
[ "$(in_ctr getent passwd git | cut -d: -f6)" = /home/git ] || fail "the refused install changed the user git"

# ---- 2. another name, through debconf
say "Choosing the user deploy instead"
preseed "slipway slipway/user string deploy"
in_ctr dpkg --configure -a >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "dpkg --configure -a failed"; }
grep -q "Adding ssh-ed25519 key SHA256:.* for admin... done" "$work/apt.log" ||
	{ cat "$work/apt.log"; fail "root's key was not added for admin"; }
check_account deploy
check_running deploy
grep -qF "slipway: stopped and disabled Debian's nginx, which served only its default page on port 80, for Slipway's router (systemctl enable --now nginx undoes it)" \
	"$work/apt.log" || { cat "$work/apt.log"; fail "Debian's nginx was not said to be stopped"; }
[ "$(in_ctr systemctl is-enabled nginx.service || true)" = disabled ] || fail "Debian's nginx is still enabled"
grep -qx "User=deploy" "$ctr/etc/systemd/system/slipway.service.d/user.conf" || fail "no drop-in with User=deploy"
grep -qx "User=deploy" "$ctr/etc/systemd/system/slipway-gc.service.d/user.conf" || fail "no gc drop-in"
[ "$(as_server deploy git config --global slipway.domain)" = example.test ] || fail "slipway.domain is not example.test"

say "Pushing as admin over ssh, with PAM (Debian's sshd) and without"
out=$(ssh_as deploy apps:create myapp 2>&1) || fail "apps:create over ssh failed: $out"
case $out in *"Creating myapp... done"*) ;; *) fail "apps:create said: $out" ;; esac
out=$(ssh_as deploy buildpacks:add procfile -a myapp 2>&1) || fail "the shipped buildpacks are not found: $out"
printf 'UsePAM no\n' >"$ctr/etc/ssh/sshd_config.d/slipway-test.conf"
in_ctr systemctl restart ssh.service
out=$(ssh_as deploy apps 2>&1) || fail "without PAM, ssh is refused: $out"
case $out in *myapp*) ;; *) fail "apps over ssh said: $out" ;; esac
# the control: the locked account that useradd makes is refused without PAM
in_ctr usermod -p '!' deploy
if out=$(ssh_as deploy apps 2>&1); then
	fail "a locked account got in without PAM: the check above proves nothing"
fi
in_ctr usermod -p '*' deploy
ssh_as deploy apps >/dev/null 2>&1 || fail "unlocked again, ssh is still refused"

say "The daily gc"
[ "$(in_ctr systemctl is-enabled slipway-gc.timer)" = enabled ] || fail "the gc timer is not enabled"
wait_unit slipway-gc.timer active
in_ctr systemctl start slipway-gc.service || fail "the gc failed: $(in_ctr journalctl -u slipway-gc --no-pager | tail)"
[ "$(in_ctr systemctl show -p Result --value slipway-gc.service)" = success ] || fail "the gc did not succeed"

say "apt remove keeps the data, purge without a yes too"
apt_get remove -y slipway >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get remove failed"; }
wait_unit slipway.service inactive
i=0
while in_ctr pgrep -u deploy >/dev/null; do
	[ $i -lt 300 ] || fail "processes of deploy run on after remove: $(in_ctr ps -u deploy -o pid=,args=)"
	sleep 0.1
	i=$((i + 1))
done
[ -d "$ctr/var/lib/slipway/apps/myapp.git" ] || fail "apt remove removed the data"
apt_get purge -y slipway >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get purge failed"; }
grep -qF "slipway: kept /var/lib/slipway (every app's data); remove it yourself if you no longer need it" \
	"$work/apt.log" || { cat "$work/apt.log"; fail "purge did not say it kept the data"; }
[ -d "$ctr/var/lib/slipway/apps/myapp.git" ] || fail "purge removed the data without a yes"
[ ! -e "$ctr/etc/systemd/system/slipway.service.d" ] || fail "purge left the drop-in"

# ---- 3. the default name and domain; purge with a yes
say "Installing again with the defaults"
in_ctr userdel --remove git 2>/dev/null
in_ctr userdel deploy
rm -rf "$ctr/var/lib/slipway"
installed=$(date +%s)
apt_get install -y --no-install-recommends "./$debname" >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log"; fail "apt-get install failed"; }
check_account git
check_running git
[ ! -e "$ctr/etc/systemd/system/slipway.service.d/user.conf" ] || fail "a drop-in for the default user"
fqdn=$(in_ctr sh -c 'hostname -f 2>/dev/null || hostname')
[ "$(as_server git git config --global slipway.domain)" = "$fqdn" ] || fail "slipway.domain is not $fqdn"

say "Pushing an app, and upgrading the package while it serves"
# the namespace has only its loopback, which pasta cannot give an app's
# own network (a server's uplink can): the server user's global setting
as_server git git config --global slipway.appNetwork host
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
sshcmd="ssh -F /dev/null -i $work/key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
# the first push creates the app (the user admin may create apps)
ip netns exec "$ns" git -C "$app" -c core.sshCommand="$sshcmd" push -q ssh://git@127.0.0.1/myapp.git main \
	>"$work/push.log" 2>&1 || { cat "$work/push.log"; fail "the push failed"; }
grep -q "Creating myapp... done" "$work/push.log" || { cat "$work/push.log"; fail "the push did not create myapp"; }
grep -q "Released v1" "$work/push.log" || { cat "$work/push.log"; fail "the push released nothing"; }
# port 80, without root: the unit's CAP_NET_BIND_SERVICE, which nginx alone keeps
url=$(ssh_as git open -a myapp) || fail "open failed: $url"
[ "$url" = "http://myapp.$fqdn/" ] || fail "open said $url, not http://myapp.$fqdn/ (port 80)"
get() {
	ip netns exec "$ns" curl -sS --max-time 10 -H "Host: myapp.$fqdn" "http://127.0.0.1:80/"
}
[ "$(get)" = "hello from web.1" ] || fail "the router does not serve myapp: $(get 2>&1)"
echo "       from apt install to the first push served: $(($(date +%s) - installed)) s"

# what the operator changed stays changed: admin's keys are not imported again
as_server git slipway --root /var/lib/slipway keys:remove admin >/dev/null

# a rebuilt package (the same files, the next version) while a loop asks the app
next=$work/next
dpkg-deb -R "$deb" "$next"
sed -i "s/^Version: .*/Version: $version+1/" "$next/DEBIAN/control"
dpkg-deb --root-owner-group -b "$next" "$ctr/root/slipway_$version+1.deb" >/dev/null
: >"$work/answers"
(
	n=0
	while [ ! -e "$work/upgraded" ] && [ $n -lt 3000 ]; do
		get >>"$work/answers" 2>&1 || echo "request failed" >>"$work/answers"
		n=$((n + 1))
	done
) &
loop=$!
apt_get install -y --no-install-recommends "./slipway_$version+1.deb" >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log"; fail "the upgrade failed"; }
touch "$work/upgraded"
wait "$loop"
[ "$(in_ctr dpkg-query -W -f '${Version}' slipway)" = "$version+1" ] || fail "the upgrade did not happen"
check_running git
asked=$(wc -l <"$work/answers")
bad=$(grep -cvx "hello from web.1" "$work/answers" || true)
[ "$bad" = 0 ] || fail "$bad of $asked requests failed during the upgrade: $(grep -vx "hello from web.1" "$work/answers" | sort | uniq -c)"
[ "$asked" -gt 0 ] || fail "no request was made during the upgrade"
[ "$(get)" = "hello from web.1" ] || fail "myapp is not served after the upgrade"
keys=$(as_server git slipway --root /var/lib/slipway keys)
case $keys in *admin*) fail "the upgrade imported root's keys again: $keys" ;; esac
echo "       $asked requests during the upgrade, all answered"

preseed "slipway slipway/purge-data boolean true"
apt_get purge -y slipway >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get purge failed"; }
[ ! -e "$ctr/var/lib/slipway" ] || fail "purge with a yes kept /var/lib/slipway"

echo "package/install: passed in $(($(date +%s) - start)) s"
