# lab-init.sh: the parts of the lab's rescue /init that the base image (build-rescue.sh) and its OpenRC variant
# (openrc-layer.sh) share; both source this file, and its hash is part of both images' cache keys.
# Each function prints a piece of /init (a busybox sh script) on stdout.

# Mounts, the console logger `say`, the first console line (its tail naming the variant: $1) and the NIC modules.
lab_init_head() {
  cat <<'EOF'
/bin/busybox --install -s /usr/bin 2>/dev/null
export PATH=/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs tmpfs /dev/shm
say() { echo "XEPA-LAB: $*" > /dev/console; }
EOF
  printf '%s\n' "say \"init up after \$(cut -d' ' -f1 /proc/uptime) s, kernel \$(uname -r)$1\""
  cat <<'EOF'
hostname xepa-lab
for m in virtio_pci virtio_net vmxnet3; do modprobe -q "$m"; done
EOF
}

# KVM, the lab's environment, and the management NIC: found, DHCP, a default route towards the controller.
lab_init_network() {
  cat <<'EOF'
modprobe -q kvm_amd || modprobe -q kvm_intel || say "no KVM module loads (no SVM/VMX): the agent will use TCG"
[ -f /etc/xepa/lab.env ] && . /etc/xepa/lab.env
ip link set lo up
nic=""
for i in 1 2 3 4 5 6 7 8 9 10; do
  for d in /sys/class/net/*; do n=${d##*/}; [ "$n" != lo ] && [ -e "$d/device" ] && { nic=$n; break 2; }; done
  sleep 0.2
done
[ -n "$nic" ] || say "no network interface found"
[ -n "$nic" ] && udhcpc -i "$nic" -q -t 10 -T 1 -s /etc/udhcpc.script > /dev/null 2>&1 || say "DHCP failed on ${nic:-none}"
# QEMU's restricted user networking offers no router: route via its host side, where the controller is.
if [ -n "$nic" ] && ! ip -4 route show default | grep -q .; then
  ip -4 route add default via "${XEPA_LAB_GATEWAY:-10.0.2.2}" dev "$nic" && say "default route via ${XEPA_LAB_GATEWAY:-10.0.2.2} on $nic"
fi
EOF
}

# The control shell on virtio-serial, started in the background.
lab_init_control_shell() {
  cat <<'EOF'
# The lab's control channel: a root shell on the virtio-serial port "xepa.lab" (out of band, like a BMC
# console), for the host harness only. Not a tty: sh reads commands as they come, without prompts or echo.
modprobe -q virtio_console
(
  while true; do
    dev=""
    for p in /sys/class/virtio-ports/*; do [ "$(cat "$p/name" 2>/dev/null)" = xepa.lab ] && dev=/dev/${p##*/}; done
    [ -n "$dev" ] && [ -e "$dev" ] && setsid sh <> "$dev" >&0 2>&0
    sleep 1
  done
) &
EOF
}
