#!/bin/bash
# Builds XEPA's Debian live installer ISO with live-build, from Debian packages only.
# Usage: build-live-iso.sh ASSETS_DIR WORK_DIR OUT_DIR LB_CACHE_DIR MIRROR
# Progress goes to stderr; the result is KEY=VALUE lines on stdout (ISO=, KERNEL=, LIVE_BUILD=).
set -euo pipefail
assets=$1 work=$2 out=$3 lbcache=$4 mirror=$5
mkdir -p "$work" "$out" "$lbcache"
cd "$work"
exec 3>&1 1>&2
lb clean --purge >/dev/null 2>&1 || true
# live-build's own package cache (bootstrap and chroot .debs) survives between builds: only new versions download.
rm -rf cache && ln -s "$lbcache" cache
lb config --mode debian --distribution bookworm --architectures amd64 \
  --binary-images iso-hybrid --bootloaders "syslinux,grub-efi" --debian-installer none \
  --archive-areas main --apt-recommends false --apt-indices false \
  --mirror-bootstrap "$mirror" --mirror-chroot "$mirror" --mirror-binary "$mirror" \
  --security false --updates false --firmware-binary false --firmware-chroot false \
  --memtest none --iso-volume XEPA-LIVE --iso-application "XEPA live installer" \
  --chroot-squashfs-compression-type zstd --cache true --checksums sha256 --zsync false \
  --bootappend-live "boot=live components quiet console=tty0 console=ttyS0,115200n8"
install -D -m 0755 "$assets/xepa-live-install" config/includes.chroot/usr/local/sbin/xepa-live-install
install -D -m 0644 "$assets/xepa-live-install.service" config/includes.chroot/etc/systemd/system/xepa-live-install.service
install -D -m 0644 "$assets/target-packages" config/includes.chroot/etc/xepa/target-packages
install -D -m 0644 "$assets/live-packages.list.chroot" config/package-lists/xepa.list.chroot
install -D -m 0755 "$assets/0100-xepa-enable.hook.chroot" config/hooks/normal/0100-xepa-enable.hook.chroot
# Boot menus that do not wait for a key: isolinux (BIOS) after 1 s, GRUB (UEFI) after 1 s.
install -D -m 0644 "$assets/isolinux.cfg" config/bootloaders/isolinux/isolinux.cfg
install -D -m 0644 "$assets/grub-config.cfg" config/bootloaders/grub-pc/config.cfg
lb build
iso=$(ls -1 ./*.hybrid.iso | head -1)
kernel=$(ls chroot/boot/ | sed -n 's/^vmlinuz-//p' | head -1)
mv "$iso" "$out/live.iso"
lb clean --purge >/dev/null 2>&1 || true
echo "ISO=live.iso" >&3
echo "KERNEL=$kernel" >&3
echo "LIVE_BUILD=$(dpkg-query -W -f='${Version}' live-build)" >&3
