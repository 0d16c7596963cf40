// The text of build-test-iso.sh, embedded so the builder works from source and from the esbuild bundle alike.
// Written as String.raw: the bash uses $VAR, never dollar-brace (TypeScript interpolates those: only the markers
// below are) nor backticks.

// The line the installed system prints on ttyS0 when it has booted from the disk the installer wrote.
export const INSTALLED_MARKER = 'XEPA-INSTALLED-SYSTEM-OK';
// The line the installer prints after the system image is on the target disk and synced.
export const INSTALLER_DONE = 'XEPA-INSTALLER-DONE';
// The prefix of the line the installer prints when it cannot install (then it powers off).
export const INSTALLER_FAILED = 'XEPA-INSTALLER-FAILED';

// Usage: `bash build-test-iso.sh check | resolve FLAVOUR | fetch-deb DEBDIR PKG VERSION | build OUT DEBDIR KPKG KVERSION`.
export const BUILD_TEST_ISO_SH = String.raw`#!/usr/bin/env bash
# build-test-iso.sh: XEPA's test installer ISO, built only from Debian packages (driven by build/test-iso/index.ts).
#   check                          -> BUSYBOX_VERSION= on stdout; exit 2 and MISSING_PACKAGES= when a tool is missing
#   resolve cloud|generic          -> KPKG= KVERSION= on stdout (the kernel package the meta package pins)
#   fetch-deb DEBDIR PKG VERSION   -> DEB= on stdout: DEBDIR's copy of PKG=VERSION, downloaded when missing
#   build OUT DEBDIR KPKG KVERSION -> OUT/system.img and OUT/xepa-test-installer.iso; KVER= on stdout
# Progress goes to stderr. No loop mounts, no network but apt.
set -euo pipefail
export LC_ALL=C DEBIAN_FRONTEND=noninteractive PATH="$PATH:/usr/sbin:/sbin"
BUSYBOX=/bin/busybox
GRUB_DIR=/usr/lib/grub/i386-pc
# Disk drivers for every bus XEPA offers: virtio-blk, virtio-scsi, SATA (AHCI; ata_piix on i440fx), NVMe.
# Modules a kernel flavour lacks are skipped (the cloud kernel has no AHCI; its NVMe is built in).
MODULES="virtio_pci virtio_blk virtio_scsi sd_mod ahci ata_piix nvme"
# Options of build (arguments 6 and 7): FIRMWARE bios (BIOS-only GRUB) or both (BIOS and x86_64 UEFI GRUB);
# PROBE 1 makes the installer print what it sees (SMBIOS, firmware, TPM, NICs, PCI, labelled media) first.
FIRMWARE=bios
PROBE=0
# What the probe reads needs these too: CD-ROMs, ISO 9660, the TPM drivers, NIC drivers (MACs), efivarfs.
PROBE_MODULES="sr_mod isofs vfat nls_cp437 nls_ascii tpm_crb tpm_tis e1000e virtio_net efivarfs"

say() { echo "build-test-iso: $*" >&2; }
die() { echo "build-test-iso: error: $*" >&2; exit 1; }

check() {
  local missing="" pair
  for pair in apt-get:apt apt-cache:apt dpkg-deb:dpkg depmod:kmod modprobe:kmod cpio:cpio zstd:zstd \
      grub-mkrescue:grub-common xorriso:xorriso; do
    command -v "$(echo "$pair" | cut -d: -f1)" >/dev/null 2>&1 || missing="$missing $(echo "$pair" | cut -d: -f2)"
  done
  [ -d "$GRUB_DIR" ] || missing="$missing grub-pc-bin"
  dpkg-query -W -f='$''{Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing="$missing busybox-static"
  if [ -n "$missing" ]; then echo "MISSING_PACKAGES=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')"; exit 2; fi
  echo "BUSYBOX_VERSION=$(dpkg-query -W -f='$''{Version}' busybox-static)"
}

# The meta package pins its versioned kernel package exactly: "Depends: linux-image-6.1.0-NN-cloud-amd64 (= V)".
# One apt-cache call: without a pkgcache.bin (Docker's apt config) each call parses all package lists.
resolve_pin() { apt-cache show --no-all-versions "$1" 2>/dev/null | awk '$1 == "Depends:" { print; exit }' | grep -o 'linux-image-[0-9][^ ,]* (= [^)]*)' | head -n 1 || true; }

resolve() {
  local meta pin
  case "$1" in
    cloud) meta=linux-image-cloud-amd64 ;;
    generic) meta=linux-image-amd64 ;;
    *) die "unknown kernel flavour '$1' (cloud or generic)" ;;
  esac
  pin=$(resolve_pin "$meta")
  if [ -z "$pin" ] && [ "$(id -u)" = 0 ]; then
    say "apt-cache does not know $meta: running apt-get update"
    apt-get update -q >&2 || true
    pin=$(resolve_pin "$meta")
  fi
  [ -n "$pin" ] || die "cannot resolve $meta with apt-cache (run apt-get update as root)"
  echo "KPKG=$(echo "$pin" | cut -d' ' -f1)"
  echo "KVERSION=$(echo "$pin" | sed 's/.*(= \(.*\))/\1/')"
}

# An initramfs tree with busybox and an init; applets are linked at boot by busybox --install.
mkroot() {
  mkdir -p "$1/bin" "$1/sbin" "$1/usr/bin" "$1/usr/sbin" "$1/dev" "$1/proc" "$1/sys" "$1/etc"
  cp "$BUSYBOX" "$1/bin/busybox"
  cat > "$1/init"
  chmod 755 "$1/init"
}

pack() { (cd "$1" && find . | cpio -o -H newc -R 0:0 --quiet) | zstd -q -3 -T0 > "$2"; }

# A BIOS-only GRUB ISO (isohybrid: boots as CD-ROM and as a hard disk) with a serial console.
mkiso() {
  local tree=$1 out=$2 volid=$3 title=$4
  mkdir -p "$tree/boot/grub"
  cat > "$tree/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "$title" {
  linux /boot/vmlinuz console=tty0 console=ttyS0,115200 panic=-1
  initrd /boot/initrd.zst
}
EOF
  local platform="-d $GRUB_DIR" mods="linux normal iso9660 biosdisk search search_fs_uuid serial terminal echo"
  # Without -d grub-mkrescue builds for every platform installed: i386-pc and x86_64-efi (checked in build).
  # --install-modules must name modules every platform has (biosdisk is BIOS-only).
  if [ "$FIRMWARE" = both ]; then platform=""; mods="linux normal iso9660 search search_fs_uuid serial terminal echo part_gpt fat"; fi
  grub-mkrescue $platform -o "$out" --fonts= --locales= --themes= \
    --install-modules="$mods" \
    "$tree" -- -volid "$volid" > "$out.log" 2>&1 || { cat "$out.log" >&2; die "grub-mkrescue failed for $out"; }
  rm -f "$out.log"
}

# Sets deb to DEBDIR's copy of PKG=VERSION, downloading it first when missing (also the lab's way to its kernel:
# fetch-deb). Downloaded beside its final name, then renamed: concurrent builds never see half a .deb.
fetch_deb() {
  local debdir=$1 pkg=$2 version=$3 dl
  mkdir -p "$debdir"
  deb="$debdir/$pkg"_"$(echo "$version" | sed 's/:/%3a/')"_amd64.deb
  [ -s "$deb" ] && return 0
  say "downloading $pkg=$version"
  dl=$(mktemp -d "$debdir/.download-XXXXXX")
  (cd "$dl" && apt-get download -q "$pkg=$version" >&2 2>/dev/null) || { rm -rf "$dl"; die "apt-get download $pkg=$version failed"; }
  mv "$dl"/*.deb "$deb"
  rm -rf "$dl"
}

build() {
  local out=$1 debdir=$2 kpkg=$3 kversion=$4 w deb kver m mib
  w=$out/work
  mkdir -p "$w"
  fetch_deb "$debdir" "$kpkg" "$kversion"
  say "extracting $(basename "$deb")"
  dpkg-deb -x "$deb" "$w/kroot"
  kver=$(ls "$w/kroot/lib/modules")
  depmod -b "$w/kroot" "$kver"
  : > "$w/modlist"
  [ "$FIRMWARE" = bios ] || [ -d /usr/lib/grub/x86_64-efi ] || die "FIRMWARE=both needs grub-efi-amd64-bin"
  if [ "$PROBE" = 1 ]; then MODULES="$MODULES $PROBE_MODULES"; fi
  for m in $MODULES; do
    if modprobe -d "$w/kroot" -S "$kver" --show-depends "$m" > "$w/deps" 2>/dev/null; then
      awk '$1 == "insmod" { print $2 }' "$w/deps" >> "$w/modlist"
    else
      say "module $m is not in $kpkg: skipped"
    fi
  done

  say "installed system: initramfs and BIOS-bootable disk image"
  mkroot "$w/sys-root" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
line="${INSTALLED_MARKER} kernel=$(/bin/busybox uname -r)"
echo "$line" > /dev/console
{ echo "$line" > /dev/tty0; } 2>/dev/null
/bin/busybox sync
/bin/busybox poweroff -f
EOF
  mkdir -p "$w/sys-iso/boot"
  cp "$w/kroot/boot/vmlinuz-$kver" "$w/sys-iso/boot/vmlinuz"
  pack "$w/sys-root" "$w/sys-iso/boot/initrd.zst"
  mkiso "$w/sys-iso" "$out/system.img" XEPA_SYSTEM "XEPA installed system"
  cp "$w/kroot/boot/vmlinuz-$kver" "$out/vmlinuz"

  say "installer: initramfs with $(awk '!seen[$0]++' "$w/modlist" | wc -l) modules and the system image"
  mkroot "$w/inst-root" < "$w/installer-init"
  awk '!seen[$0]++' "$w/modlist" | while read -r m; do
    m=$(echo "$m" | sed "s|^$w/kroot||")
    mkdir -p "$w/inst-root$(dirname "$m")"
    cp "$w/kroot$m" "$w/inst-root$m"
    echo "$m" >> "$w/inst-root/etc/xepa-modules"
  done
  touch "$w/inst-root/etc/xepa-modules"
  if [ "$PROBE" = 1 ]; then write_probe "$w/inst-root/etc/xepa-probe"; fi
  cp "$out/system.img" "$w/inst-root/system.img"
  mkdir -p "$w/inst-iso/boot"
  cp "$w/kroot/boot/vmlinuz-$kver" "$w/inst-iso/boot/vmlinuz"
  pack "$w/inst-root" "$w/inst-iso/boot/initrd.zst"
  mkiso "$w/inst-iso" "$out/xepa-test-installer.iso" XEPA_TEST_INSTALLER "XEPA test installer"
  rm -rf "$w"
  echo "KVER=$kver"
}

# The installer's /init, written where build() reads it.
write_installer_init() {
  cat > "$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
say() { echo "$*" > /dev/console; { echo "$*" > /dev/tty0; } 2>/dev/null; }
fail() { say "${INSTALLER_FAILED}: $*"; sync; poweroff -f; sleep 10; }
say "XEPA-INSTALLER: kernel $(uname -r), loading disk drivers"
while read -r m; do [ -n "$m" ] && insmod "$m" 2>/dev/null; done < /etc/xepa-modules
need=$(stat -c %s /system.img)
target=""
tries=0
while [ -z "$target" ] && [ $tries -lt 40 ]; do
  for d in /sys/block/*; do
    n=$(basename "$d")
    case "$n" in sr*|loop*|ram*|zram*|fd*|md*|dm-*|nbd*) continue ;; esac
    [ "$(cat "$d/removable" 2>/dev/null)" = 0 ] || continue
    [ $(( $(cat "$d/size") * 512 )) -ge "$need" ] || continue
    target=$n
    break
  done
  [ -n "$target" ] || { sleep 0.25; tries=$((tries + 1)); }
done
say "XEPA-INSTALLER: block devices: $(ls /sys/block | tr '\n' ' ')"
[ -n "$target" ] || fail "no target disk"
serial=unknown
for f in "/sys/block/$target/serial" "/sys/block/$target/device/serial" "/sys/block/$target/device/wwid"; do
  s=$(tr -cd '[:alnum:]._:-' < "$f" 2>/dev/null) || continue
  [ -n "$s" ] && { serial=$s; break; }
done
say "XEPA-INSTALLER: target /dev/$target (serial $serial), writing $(( (need + 1048575) / 1048576 )) MiB"
dd if=/system.img of="/dev/$target" bs=1M conv=fsync 2>/dev/null || fail "writing /dev/$target failed"
sync
say "${INSTALLER_DONE}"
poweroff -f
sleep 10
EOF
}

# The probe variant's report, sourced by the installer's init after its drivers are loaded (before it installs).
# One "XEPA-PROBE key=value" line per fact, then "XEPA-PROBE end"; test/integration/fidelity parses them.
write_probe() {
  cat > "$1" <<'EOF'
p() { say "XEPA-PROBE $*"; }
for f in bios_vendor bios_version sys_vendor product_name product_version product_serial product_uuid product_sku \
    product_family board_vendor board_name board_serial board_asset_tag chassis_vendor chassis_serial chassis_asset_tag; do
  [ -r /sys/class/dmi/id/$f ] && p "dmi.$f=$(tr -d '\n' < /sys/class/dmi/id/$f)"
done
if [ -d /sys/firmware/efi ]; then
  p "firmware=uefi"
  mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null
  sb=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
  # efivarfs: 4 attribute bytes, then the value (efivarfs files cannot seek: read the last byte).
  if [ -r $sb ]; then p "secureboot=$(tail -c 1 $sb | od -An -tu1 | tr -d ' ')"; else p "secureboot=unknown"; fi
else
  p "firmware=bios"
fi
p "cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
if [ -e /sys/class/tpm/tpm0 ]; then p "tpm=$(cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null || echo present)"; else p "tpm=none"; fi
for d in /sys/bus/pci/devices/*; do p "pci.$(basename $d)=$(cat $d/vendor):$(cat $d/device)"; done
# CD-ROMs appear asynchronously after ahci loads: wait until their number holds for a second (at most 10 s).
n=-1; t=0
while [ $t -lt 10 ]; do
  c=$(ls -d /sys/block/sr* 2>/dev/null | wc -l)
  [ "$c" -gt 0 ] && [ "$c" = "$n" ] && break
  n=$c; t=$((t + 1)); sleep 1
done
for n in /sys/class/net/*; do [ "$(basename $n)" = lo ] || p "nic.$(basename $n)=$(cat $n/address)"; done
mkdir -p /mnt/probe
# busybox-static has no blkid: read ISO 9660 and FAT volume labels from the superblocks.
at() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | tr -d '\000' | sed 's/ *$//'; }
for b in /sys/block/*; do
  dev=/dev/$(basename $b)
  if [ "$(at $dev 32769 5)" = CD001 ]; then type=iso9660; label=$(at $dev 32808 32)
  elif [ "$(at $dev 82 5)" = FAT32 ]; then type=vfat; label=$(at $dev 71 11)
  elif [ "$(at $dev 54 3)" = FAT ]; then type=vfat; label=$(at $dev 43 11)
  else continue; fi
  [ -n "$label" ] || continue
  p "medium.$label=$dev $type"
  mount -o ro -t "$type" "$dev" /mnt/probe 2>/dev/null || { p "medium.$label.mount=failed"; continue; }
  for f in /mnt/probe/*; do [ -f "$f" ] && p "medium.$label.file.$(basename "$f")=$(sha256sum "$f" | cut -d' ' -f1)"; done
  umount /mnt/probe
done
p "end"
EOF
}

[ $# -ge 1 ] || die "usage: $0 check | resolve cloud|generic | fetch-deb DEBDIR PKG VERSION | build OUT DEBDIR KPKG KVERSION [bios|both [0|1]]"
case "$#:$1" in
  1:check) check ;;
  2:resolve) resolve "$2" ;;
  4:fetch-deb) fetch_deb "$2" "$3" "$4"; echo "DEB=$deb" ;;
  5:build|6:build|7:build)
    (check) > /dev/null || die "missing tools (run: $0 check)"
    if [ $# -ge 6 ]; then FIRMWARE=$6; fi
    if [ $# -ge 7 ]; then PROBE=$7; fi
    case "$FIRMWARE:$PROBE" in bios:0|bios:1|both:0|both:1) ;; *) die "FIRMWARE must be bios or both, PROBE 0 or 1" ;; esac
    mkdir -p "$2/work"; write_installer_init "$2/work/installer-init"
    # The probe runs after the drivers load, right before the installer measures its image.
    if [ "$PROBE" = 1 ]; then sed -i 's|^need=|. /etc/xepa-probe\nneed=|' "$2/work/installer-init"; fi
    build "$2" "$3" "$4" "$5" ;;
  *) die "usage: $0 check | resolve cloud|generic | fetch-deb DEBDIR PKG VERSION | build OUT DEBDIR KPKG KVERSION [bios|both [0|1]]" ;;
esac
`;
