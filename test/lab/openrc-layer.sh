#!/usr/bin/env bash
# openrc-layer.sh: the lab's OpenRC variant of the rescue system, as a second initramfs layer appended to the
# base rescue image (build-rescue.sh): Debian's openrc (+ librc1, libeinfo1) and the libraries it links, the
# xepa-agent service files rendered by alpine/ (passed in as a directory), the default-runlevel link, an
# Alpine-style busybox inittab running `openrc sysinit/boot/default`, and an /init that sets the lab up (mounts,
# modules, DHCP, control shell) and then execs busybox init: nothing in it starts the agent, OpenRC does.
# Driven by openrc-image.ts.
#   resolve                        -> OPENRC_VERSIONS=<pkg=version ...> (apt's candidates)
#   build OUT DEBDIR ARTIFACTS_DIR -> OUT/openrc-layer.img (zstd newc cpio, 4-byte padded); SIZE= on stdout
set -euo pipefail
export LC_ALL=C DEBIAN_FRONTEND=noninteractive PATH="$PATH:/usr/sbin:/sbin"
# The /init pieces both lab images share (lab_init_head, lab_init_network, lab_init_control_shell).
. "$(dirname "${BASH_SOURCE[0]}")/lab-init.sh"
DEBS="openrc librc1 libeinfo1"

say() { echo "openrc-layer: $*" >&2; }
die() { echo "openrc-layer: error: $*" >&2; exit 1; }

resolve() {
  local p v out=""
  for p in $DEBS; do
    v=$(apt-cache show --no-all-versions "$p" 2>/dev/null | awk '$1 == "Version:" && v == "" { v = $2 } END { print v }')
    [ -n "$v" ] || die "apt-cache knows no $p (run apt-get update as root)"
    out="$out $p=$v"
  done
  echo "OPENRC_VERSIONS=${out# }"
}

build() {
  local out=$1 debdir=$2 art=$3 w R p v deb lib f
  w=$out/work
  R=$w/root
  mkdir -p "$w/x" "$R" "$debdir"
  for p in $DEBS; do
    v=$(apt-cache show --no-all-versions "$p" | awk '$1 == "Version:" && v == "" { v = $2 } END { print v }')
    deb="$debdir/${p}_$(echo "$v" | sed 's/:/%3a/')_amd64.deb"
    if [ ! -s "$deb" ]; then
      say "downloading $p=$v"
      mkdir -p "$w/dl"
      (cd "$w/dl" && apt-get download -q "$p=$v" >&2 2>/dev/null) || die "apt-get download $p=$v failed"
      mv "$w"/dl/"${p}"_*.deb "$deb"
    fi
    dpkg-deb -x "$deb" "$w/x"
  done
  # Merged /usr, as in the base image (its /sbin and /lib are symlinks into /usr).
  mkdir -p "$R/usr/sbin" "$R/usr/lib" "$R/etc"
  cp -a "$w/x/sbin/." "$R/usr/sbin/"
  [ -d "$w/x/bin" ] && { mkdir -p "$R/usr/bin"; cp -a "$w/x/bin/." "$R/usr/bin/"; }
  cp -a "$w/x/lib/." "$R/usr/lib/"
  cp -a "$w/x/etc/." "$R/etc/"
  rm -rf "$R/etc/init.d/agetty" "$R/etc/runlevels"
  mkdir -p "$R"/etc/runlevels/{sysinit,boot,default,nonetwork,shutdown} "$R/etc/conf.d" "$R/usr/local/lib/xepa"
  # The libraries openrc links beyond its own (libaudit, libpam, libselinux ... from this host's packages).
  for f in "$w"/x/sbin/* "$w"/x/bin/* "$w"/x/lib/rc/bin/* "$w"/x/lib/rc/sbin/*; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    file -b "$f" 2>/dev/null | grep -q ELF || head -c 4 "$f" | grep -q ELF || continue
    for lib in $(LD_LIBRARY_PATH="$w/x/lib/x86_64-linux-gnu" ldd "$f" | awk '/=> \// { print $3 }'); do
      case "$lib" in "$w"/*) continue ;; esac
      [ -e "$R/usr$lib" ] || { mkdir -p "$R/usr$(dirname "$lib")"; cp -L "$lib" "$R/usr$lib"; }
    done
  done
  # The service exactly as alpine/ renders it, the runlevel link, and the bundle where the script looks for it
  # (the lab's boot overlay puts the agent in /opt/xepa).
  install -m 0755 "$art/xepa-agent.initd" "$R/etc/init.d/xepa-agent"
  install -m 0644 "$art/xepa-agent.confd" "$R/etc/conf.d/xepa-agent"
  # Quiet Debian's LSB shims (insserv.conf) and the uucp group its checkpath of /run/lock wants.
  : > "$R/etc/insserv.conf"
  printf 'root:x:0:\nuucp:x:10:\n' > "$R/etc/group"
  ln -s /etc/init.d/xepa-agent "$R/etc/runlevels/default/xepa-agent"
  ln -s /opt/xepa/xepa-agent.mjs "$R/usr/local/lib/xepa/xepa-agent.mjs"
  write_inittab > "$R/etc/inittab"
  write_init > "$R/init"
  chmod 755 "$R/init"
  say "packing (zstd -3)"
  (cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | zstd -q -3 > "$out/openrc-layer.img"
  truncate -s $(( ($(stat -c %s "$out/openrc-layer.img") + 3) / 4 * 4 )) "$out/openrc-layer.img"
  rm -rf "$w"
  echo "SIZE=$(stat -c %s "$out/openrc-layer.img")"
}

# Alpine's inittab shape: OpenRC brings the runlevels up, busybox init is PID 1.
write_inittab() {
  cat <<'EOF'
::sysinit:/sbin/openrc sysinit
::sysinit:/sbin/openrc boot
::wait:/sbin/openrc default
::shutdown:/sbin/openrc shutdown
EOF
}

write_init() {
  cat <<'EOF'
#!/bin/busybox sh
# The lab's OpenRC rescue init: what Alpine's initramfs does before switching root (mounts, modules, DHCP), the
# lab's control shell, then busybox init with OpenRC's runlevels. The agent is started by OpenRC only.
EOF
  lab_init_head ' (OpenRC variant)'
  lab_init_network
  lab_init_control_shell
  cat <<'EOF'
mkdir -p /var/log
syslogd -O /var/log/messages
# The service logs to /var/log/xepa-agent.log (and syslog); the harness reads the console: mirror the log there.
touch /var/log/xepa-agent.log
(tail -n +1 -F /var/log/xepa-agent.log > /dev/console 2>/dev/null) &
say "handing over to busybox init + OpenRC"
exec /usr/bin/busybox init
EOF
}

[ $# -ge 1 ] || die "usage: $0 resolve | build OUT DEBDIR ARTIFACTS_DIR"
case "$#:$1" in
  1:resolve) resolve ;;
  4:build) build "$2" "$3" "$4" ;;
  *) die "usage: $0 resolve | build OUT DEBDIR ARTIFACTS_DIR" ;;
esac
