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
#      nginx stopped for the router's port 80; dpkg-reconfigure to
#      another user re-owns the root and restarts the runtime as that
#      user (the same user again: neither); apt remove stops it and keeps
#      the data, purge without a yes keeps it too;
#   3. the default name git and domain (hostname -f); a first push over
#      ssh creates and deploys an app the router serves on port 80, and
#      an upgrade to a rebuilt package keeps it answering every request,
#      its instance untouched, while the dashboard restarts on the new
#      slipway; then purge with a yes: the data is gone.
#
# The container's steps are container.sh's (the benchmark's too).
#
# Usage: install.sh DEB_DIR VERSION (ctest's package/install, label long)
set -eu
debdir=$1
version=$2
start=$(date +%s)
. "$(dirname "$0")/container.sh"
deb=$(ls "$debdir"/slipway_"$version"_*.deb 2>/dev/null | head -n 1) || true
ctr_require "$deb"
ctr_boot "$deb"

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
# admin alone may create apps: the server's setting for everyone else is left as it was
[ "$(as_server deploy git config --global --get-all slipway.sshAppsCreators)" = admin ] ||
	fail "admin was not given the right to create apps"
! as_server deploy git config --global slipway.sshAppsCreate >/dev/null ||
	fail "the install set slipway.sshAppsCreate for everyone"

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

say "dpkg-reconfigure to the user ops: the root becomes ops's, the runtime runs as ops"
preseed "slipway slipway/user string ops"
in_ctr dpkg-reconfigure -f noninteractive slipway >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log"; fail "dpkg-reconfigure failed"; }
grep -qF "slipway: /var/lib/slipway now belongs to ops (it was deploy's); slipway.service restarts as ops" \
	"$work/apt.log" || { cat "$work/apt.log"; fail "dpkg-reconfigure did not say the root changed hands"; }
check_account ops
check_running ops
grep -qx "User=ops" "$ctr/etc/systemd/system/slipway.service.d/user.conf" || fail "no drop-in with User=ops"
left=$(in_ctr find /var/lib/slipway ! -user ops | head -n 3)
[ -z "$left" ] || fail "files of the root are not ops's: $left"
out=$(ssh_as ops apps 2>&1) || fail "ssh as ops is refused: $out"
case $out in *myapp*) ;; *) fail "apps over ssh as ops said: $out" ;; esac
# the same user again: nothing re-owned, the runtime left running
pid=$(in_ctr systemctl show -p MainPID --value slipway.service)
in_ctr dpkg-reconfigure -f noninteractive slipway >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log"; fail "dpkg-reconfigure failed"; }
! grep -q "now belongs to" "$work/apt.log" || { cat "$work/apt.log"; fail "the root was re-owned to the same user"; }
[ "$(in_ctr systemctl show -p MainPID --value slipway.service)" = "$pid" ] ||
	fail "dpkg-reconfigure to the same user restarted the runtime"

say "apt remove keeps the data, purge without a yes too"
apt_get remove -y slipway >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get remove failed"; }
wait_unit slipway.service inactive
i=0
while in_ctr pgrep -u ops >/dev/null; do
	[ $i -lt 300 ] || fail "processes of ops run on after remove: $(in_ctr ps -u ops -o pid=,args=)"
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
in_ctr userdel ops
rm -rf "$ctr/var/lib/slipway"
installed=$(date +%s)
apt_get install -y --no-install-recommends "./$debname" >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log"; fail "apt-get install failed"; }
check_account git
check_running git
[ ! -e "$ctr/etc/systemd/system/slipway.service.d/user.conf" ] || fail "a drop-in for the default user"
[ "$(as_server git git config --global slipway.domain)" = "$(in_ctr sh -c 'hostname -f 2>/dev/null || hostname')" ] ||
	fail "slipway.domain is not the host's full name"

say "Pushing an app, and upgrading the package while it serves"
# the namespace has only its loopback, which pasta cannot give an app's
# own network (a server's uplink can): the server user's global setting
as_server git git config --global slipway.appNetwork host
ctr_app
# the first push creates the app (the user admin may create apps)
ctr_push myapp.git
grep -q "Creating myapp... done" "$work/push.log" || { cat "$work/push.log"; fail "the push did not create myapp"; }
grep -q "Released v1" "$work/push.log" || { cat "$work/push.log"; fail "the push released nothing"; }
# port 80, without root: the unit's CAP_NET_BIND_SERVICE, which nginx alone keeps
url=$(ssh_as git open -a myapp) || fail "open failed: $url"
[ "$url" = "http://myapp.$fqdn/" ] || fail "open said $url, not http://myapp.$fqdn/ (port 80)"
[ "$(ctr_get)" = "hello from web.1" ] || fail "the router does not serve myapp: $(ctr_get 2>&1)"
echo "       from apt install to the first push served: $(($(date +%s) - installed)) s"

# what the operator changed stays changed: admin's keys are not imported again
as_server git slipway --root /var/lib/slipway keys:remove admin >/dev/null

# the runtime's own services that run slipway (the dashboard), to restart on the new one
dash=$(in_ctr s6-svstat -o pid /var/lib/slipway/services/dashboard)
[ "${dash:-0}" -gt 0 ] || fail "the dashboard's service does not run: '$dash'"
exe=$(in_ctr readlink /proc/"$dash"/exe)
[ "$exe" = /usr/bin/slipway ] || fail "the dashboard runs '$exe', not /usr/bin/slipway"
web=$(in_ctr sh -c 'for d in /var/lib/slipway/services/myapp.v1-*.web.1; do s6-svstat -o pid "$d"; done')

# a rebuilt package (the same files, the next version) while a loop asks the app
next=$work/next
dpkg-deb -R "$deb" "$next"
sed -i "s/^Version: .*/Version: $version+1/" "$next/DEBIAN/control"
dpkg-deb --root-owner-group -b "$next" "$ctr/root/slipway_$version+1.deb" >/dev/null
: >"$work/answers"
(
	n=0
	while [ ! -e "$work/upgraded" ] && [ $n -lt 3000 ]; do
		ctr_get >>"$work/answers" 2>&1 || echo "request failed" >>"$work/answers"
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
[ "$(ctr_get)" = "hello from web.1" ] || fail "myapp is not served after the upgrade"
keys=$(as_server git slipway --root /var/lib/slipway keys)
case $keys in *admin*) fail "the upgrade imported root's keys again: $keys" ;; esac
echo "       $asked requests during the upgrade, all answered"
# the dashboard restarted on the new binary, the app's instance did not
now=$(in_ctr s6-svstat -o pid /var/lib/slipway/services/dashboard)
[ "${now:-0}" -gt 0 ] && [ "$now" != "$dash" ] || fail "the dashboard was not restarted by the upgrade (pid $dash, now '$now')"
exe=$(in_ctr readlink /proc/"$now"/exe)
[ "$exe" = /usr/bin/slipway ] || fail "the dashboard runs '$exe' after the upgrade, not the new /usr/bin/slipway"
[ "$(in_ctr sh -c 'for d in /var/lib/slipway/services/myapp.v1-*.web.1; do s6-svstat -o pid "$d"; done')" = "$web" ] ||
	fail "the upgrade restarted the app's instance"
! grep -q "may still run the old slipway" "$work/apt.log" || { cat "$work/apt.log"; fail "server:reload failed in the upgrade"; }

preseed "slipway slipway/purge-data boolean true"
apt_get purge -y slipway >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get purge failed"; }
[ ! -e "$ctr/var/lib/slipway" ] || fail "purge with a yes kept /var/lib/slipway"

echo "package/install: passed in $(($(date +%s) - start)) s"
