#!/usr/bin/env bash
# build-rescue.sh: the lab's "rescue system" (a Debian kernel and an initramfs root with busybox, kmod, Node and
# QEMU), built only from Debian packages installed on this host plus one kernel .deb. Driven by rescue-image.ts.
#   check                      -> VERSIONS=<pkg=version ...> on stdout; exit 2 and MISSING_PACKAGES= when one is missing
#   resolve                    -> KPKG= KVERSION= (the cloud kernel the meta package pins)
#   build OUT DEB KPKG         -> OUT/vmlinuz, OUT/rescue.img (zstd -3 newc cpio, 4-byte padded); KVER= SIZE= on stdout
#                                 (DEB: the kernel package KPKG's .deb, fetched by rescue-image.ts)
# The agent bundle and its config are NOT in the image: the harness appends a small cpio at boot (see overlay.ts).
# Progress goes to stderr.
set -euo pipefail
export LC_ALL=C DEBIAN_FRONTEND=noninteractive PATH="$PATH:/usr/sbin:/sbin"
# The /init pieces both lab images share (lab_init_head, lab_init_network, lab_init_control_shell).
. "$(dirname "${BASH_SOURCE[0]}")/lab-init.sh"

# Host packages whose files go into the image (their versions are part of the cache key).
# Every one is required: a missing package stops the build here, naming it (xepa deps --tests installs them all), rather
# than leaving a feature out of the image and failing a lab scenario later.
PACKAGES="busybox-static kmod qemu-system-x86 qemu-system-data seabios ipxe-qemu libc6 zstd cpio fdisk
  xorriso mtools efibootmgr qemu-utils ovmf"
# Tools the agent runs on a rescue system: sfdisk (partition-table backup before every install), xorriso and mtools
# (answer media), efibootmgr (UEFI boot entries), qemu-img (disk images).
TOOLS="sfdisk xorriso mcopy mformat mdir mmd efibootmgr qemu-img"
# The Node that runs the tests goes in (any install: Debian, NodeSource, a tarball); its version and size are keyed.
NODE_BIN=$(command -v node || true)
# Kernel modules loaded at boot or by the agent, with their dependency closures (modprobe --show-depends).
MODULES="virtio_pci virtio_net virtio_blk virtio_scsi virtio_console virtio_rng vmxnet3 kvm kvm_amd kvm_intel vfio vfio_iommu_type1
  vfio_virqfd vfio-pci-core vfio-pci irqbypass tun loop nvme sd_mod ahci efivarfs vfat nls_cp437 nls_iso8859-1 nls_utf8"
QEMU_MODDIR=/usr/lib/x86_64-linux-gnu/qemu

say() { echo "build-rescue: $*" >&2; }
die() { echo "build-rescue: error: $*" >&2; exit 1; }

check() {
  local missing="" p v versions=""
  for p in $PACKAGES; do
    v=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null | sed -n 's/^install ok installed //p')
    if [ -z "$v" ]; then missing="$missing $p"; else versions="$versions $p=$v"; fi
  done
  for p in apt-get dpkg-deb depmod modprobe ldd; do command -v "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -n "$NODE_BIN" ] || missing="$missing node"
  if [ -n "$missing" ]; then echo "MISSING_PACKAGES=${missing# }"; exit 2; fi
  echo "VERSIONS=${versions# } node=$("$NODE_BIN" --version)/$(stat -L -c %s "$NODE_BIN")"
}

resolve() {
  local pin
  pin=$(apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null | awk '$1 == "Depends:" { print; exit }' |
    grep -o 'linux-image-[0-9][^ ,]* (= [^)]*)' | head -n 1 || true)
  [ -n "$pin" ] || die "cannot resolve linux-image-cloud-amd64 with apt-cache (run apt-get update as root)"
  echo "KPKG=$(echo "$pin" | cut -d' ' -f1)"
  echo "KVERSION=$(echo "$pin" | sed 's/.*(= \(.*\))/\1/')"
}

# Copies a file to the same path under the root, following links (merged /usr: /lib/x -> usr/lib/x).
put() {
  local src=$1 dst=${2:-$1}
  case "$dst" in /lib/*|/lib64/*|/bin/*|/sbin/*) dst=/usr$dst ;; esac
  mkdir -p "$R$(dirname "$dst")"
  cp -L "$src" "$R$dst"
}

# A program and every shared library ldd names (the loader included).
put_with_libs() {
  local lib
  put "$1" "${2:-$1}"
  for lib in $(ldd "$1" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
    [ -e "$R/usr$lib" ] || [ -e "$R$lib" ] || put "$lib"
  done
}

build() {
  local out=$1 deb=$2 kpkg=$3 w kver m started
  started=$(date +%s)
  w=$out/work
  R=$w/root
  mkdir -p "$w"
  [ -s "$deb" ] || die "no kernel package at $deb"
  say "extracting $(basename "$deb")"
  dpkg-deb -x "$deb" "$w/kroot"
  kver=$(ls "$w/kroot/lib/modules")
  grep -q '^CONFIG_INTEL_IOMMU=y' "$w/kroot/boot/config-$kver" || die "$kpkg has no built-in intel-iommu"
  depmod -b "$w/kroot" "$kver"

  say "root: merged /usr layout, busybox, kmod"
  mkdir -p "$R"/{usr/bin,usr/sbin,usr/lib,usr/lib64,dev,proc,sys,run,tmp,etc,root,boot,opt/xepa,var/log}
  ln -s usr/lib "$R/lib"
  ln -s usr/lib64 "$R/lib64"
  ln -s usr/bin "$R/bin"
  ln -s usr/sbin "$R/sbin"
  chmod 1777 "$R/tmp"
  cp /bin/busybox "$R/usr/bin/busybox"
  put_with_libs /usr/bin/kmod
  for m in modprobe insmod rmmod lsmod depmod modinfo; do ln -s ../bin/kmod "$R/usr/sbin/$m"; done

  say "kernel modules"
  : > "$w/modlist"
  for m in $MODULES; do
    modprobe -d "$w/kroot" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }' >> "$w/modlist" ||
      say "module $m is not in $kpkg (built in or absent): skipped"
  done
  awk '!seen[$0]++' "$w/modlist" | while read -r m; do
    m=${m#"$w/kroot"}
    mkdir -p "$R/usr$(dirname "$m")"
    cp "$w/kroot$m" "$R/usr$m"
  done
  cp "$w/kroot/lib/modules/$kver/modules.order" "$w/kroot/lib/modules/$kver/modules.builtin"* "$R/usr/lib/modules/$kver/"
  depmod -b "$R" "$kver"
  # The agent's KVM probe boots /boot/vmlinuz-$(uname -r) under KVM: give it this very kernel.
  cp "$w/kroot/boot/vmlinuz-$kver" "$R/boot/vmlinuz-$kver"
  cp "$w/kroot/boot/vmlinuz-$kver" "$out/vmlinuz"

  say "node $("$NODE_BIN" --version) and qemu $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }')"
  put_with_libs "$NODE_BIN" /usr/bin/node
  put_with_libs /usr/bin/qemu-system-x86_64
  # Debian's QEMU loads TCG as a module (invisible to ldd); its firmware path (qemu -L help) holds SeaBIOS and
  # the iPXE option ROMs NICs need (the agent gives the installer VM one).
  for m in "$QEMU_MODDIR"/accel-tcg-x86_64.so; do put_with_libs "$m"; done
  mkdir -p "$R/usr/share/qemu" "$R/usr/lib/ipxe"
  cp -a /usr/share/seabios "$R/usr/share/"
  cp -a /usr/lib/ipxe/qemu "$R/usr/lib/ipxe/"
  for m in kvmvapic.bin linuxboot.bin linuxboot_dma.bin multiboot.bin multiboot_dma.bin pvh.bin keymaps firmware; do
    [ -e "/usr/share/qemu/$m" ] && cp -aL "/usr/share/qemu/$m" "$R/usr/share/qemu/"
  done
  [ -e /usr/share/misc/pci.ids ] && put /usr/share/misc/pci.ids
  # UEFI for the installer VM (when the server boots with UEFI): Debian's plain 4M OVMF pair, when installed.
  for m in OVMF_CODE_4M.fd OVMF_VARS_4M.fd; do
    [ -e "/usr/share/OVMF/$m" ] || die "/usr/share/OVMF/$m is missing (package ovmf)"
    put "/usr/share/OVMF/$m"
  done
  for m in $TOOLS; do
    command -v "$m" > /dev/null || die "$m is missing: run xepa deps --tests"
    put_with_libs "$(command -v "$m")" "/usr/sbin/$m"
  done
  # mtools converts names to the DOS code page (850, also 437) with iconv, whose glibc modules ldd cannot see:
  # without them every m* command fails with "Error setting code page" / "Cannot initialize '::'".
  for m in gconv-modules gconv-modules.cache gconv-modules.d IBM850.so IBM437.so; do
    [ -e "/usr/lib/x86_64-linux-gnu/gconv/$m" ] && { mkdir -p "$R/usr/lib/x86_64-linux-gnu/gconv"; cp -aL "/usr/lib/x86_64-linux-gnu/gconv/$m" "$R/usr/lib/x86_64-linux-gnu/gconv/"; }
  done

  say "init and configuration"
  echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
  echo "root:x:0:" > "$R/etc/group"
  echo "127.0.0.1 localhost xepa-lab" > "$R/etc/hosts"
  write_udhcpc_script > "$R/etc/udhcpc.script"
  write_init > "$R/init"
  chmod 755 "$R/init" "$R/etc/udhcpc.script"

  say "packing (zstd -3)"
  (cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | zstd -q -3 -T0 > "$out/rescue.img"
  # Pad to 4 bytes: the kernel only finds a cpio header appended after this archive at a 4-byte boundary.
  truncate -s $(( ($(stat -c %s "$out/rescue.img") + 3) / 4 * 4 )) "$out/rescue.img"
  du -sk "$R" | awk '{ print "ROOT_KIB=" $1 }'
  rm -rf "$w"
  echo "KVER=$kver"
  echo "SIZE=$(stat -c %s "$out/rescue.img")"
  echo "SECONDS_TAKEN=$(( $(date +%s) - started ))"
}

write_udhcpc_script() {
  cat <<'EOF'
#!/bin/sh
# udhcpc hook: configure the lease on the interface and the default route.
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip -4 addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip -4 route replace default via "$r" dev "$interface"; break; done
    echo "XEPA-LAB: $interface has $ip/${mask:-24} via ${router:-none}" > /dev/console
    ;;
esac
EOF
}

write_init() {
  cat <<'EOF'
#!/bin/busybox sh
# The lab's rescue init: mounts, modules, DHCP on the management NIC, a control shell, the supervised agent.
EOF
  lab_init_head ''
  cat <<'EOF'
# A UEFI boot: the firmware's variables (efibootmgr) through efivarfs; vfat for ESPs.
if [ -d /sys/firmware/efi ]; then
  modprobe -q efivarfs
  mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null || say "cannot mount efivarfs"
  for m in vfat nls_cp437 nls_iso8859-1; do modprobe -q "$m"; done
fi
EOF
  lab_init_network
  lab_init_control_shell
  cat <<'EOF'
[ -f /opt/xepa/xepa-agent.mjs ] || say "no agent bundle in /opt/xepa (the boot overlay is missing): no agent"
# Supervise the agent like a service manager would: restart it when it dies, however it dies. The harness may
# hold restarts (touch /run/xepa-agent.hold) to look at what a crash left behind before the next start.
[ -f /opt/xepa/xepa-agent.mjs ] && (
  while true; do
    while [ -e /run/xepa-agent.hold ]; do sleep 0.5; done
    say "starting the agent"
    node /opt/xepa/xepa-agent.mjs --config /etc/xepa/agent.json $XEPA_AGENT_ARGS > /dev/console 2>&1 < /dev/null &
    echo $! > /run/xepa-agent.pid
    wait $!
    say "agent exited with status $?"
    sleep 1
  done
) &
say "ready"
while true; do sleep 3600; done
EOF
}

[ $# -ge 1 ] || die "usage: $0 check | resolve | build OUT DEB KPKG"
case "$#:$1" in
  1:check) check ;;
  1:resolve) resolve ;;
  4:build) (check) > /dev/null || die "missing packages (run: $0 check)"; build "$2" "$3" "$4" ;;
  *) die "usage: $0 check | resolve | build OUT DEB KPKG" ;;
esac
