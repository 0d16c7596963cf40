// Test helper: the probe test ISO with a network probe in place of its fact report, cached beside it.
// The guest reads `xepa-netprobe` from any CD (the job's answer medium) — lines "tcp NAME HOST PORT" or
// "http NAME HOST PATH" (HTTP/1.0 GET over nc: busybox-static's wget crashes without NSS) — tries each from inside the guest and prints "XEPA-PROBE net.NAME=ok <reply>|fail ...",
// then "XEPA-PROBE end", and powers off.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestIso } from '../../../build/test-iso/index.js';

const run = promisify(execFile);

// Sourced by the probe ISO's installer init after its drivers are loaded (`say` prints to the console).
// The guest's address is slirp's default (10.0.2.15, gateway 10.0.2.2), set statically: no DHCP wait.
export const NETPROBE_SCRIPT = String.raw`p() { say "XEPA-PROBE $*"; }
list=""
mkdir -p /mnt/m /tmp
t=0
while [ -z "$list" ] && [ $t -lt 40 ]; do
  for b in /sys/block/sr*; do
    [ -e "$b" ] || continue
    mount -o ro -t iso9660 /dev/$(basename $b) /mnt/m 2>/dev/null || continue
    if [ -f /mnt/m/xepa-netprobe ]; then cp /mnt/m/xepa-netprobe /etc/netprobe; list=/etc/netprobe; fi
    umount /mnt/m
  done
  [ -n "$list" ] || { sleep 0.25; t=$((t + 1)); }
done
[ -n "$list" ] || { p "net.error=no xepa-netprobe file on any CD"; p end; sync; poweroff -f; sleep 10; }
ip link set lo up
t=0; while [ ! -e /sys/class/net/eth0 ] && [ $t -lt 40 ]; do sleep 0.25; t=$((t + 1)); done
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
t=0; while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $t -lt 40 ]; do sleep 0.25; t=$((t + 1)); done
while read -r kind name a b; do
  case "$kind" in
    tcp) r=$(timeout 15 nc -w 8 "$a" "$b" < /dev/null 2>&1); rc=$?
      if [ $rc = 0 ] && [ -n "$r" ]; then p "net.$name=ok $r"; else p "net.$name=fail rc=$rc $(echo $r | tr -d '\n')"; fi ;;
    http) printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$b" "$a" | timeout 20 nc -w 8 "$a" 80 > /tmp/got 2>/tmp/err; rc=$?
      if [ $rc = 0 ] && head -n 1 /tmp/got | grep -q ' 200 '; then awk 'b { print } /^\r?$/ { b = 1 }' /tmp/got > /tmp/body; p "net.$name=ok $(sha256sum /tmp/body | cut -d' ' -f1)"
      else p "net.$name=fail rc=$rc $(head -n 1 /tmp/got | tr -d '\r\n') $(tr -d '\n' < /tmp/err)"; fi ;;
  esac
done < "$list"
p end
sync
poweroff -f
sleep 10
`;

// The probe ISO (ensureTestIso with probe: true) rebuilt with NETPROBE_SCRIPT as its /etc/xepa-probe: a second
// cpio appended to the initramfs overrides the file (the kernel unpacks concatenated archives in order).
// Keyed on the base ISO, the script and the layout (NETPROBE_LAYOUT: ISOs built before the padding are not reused).
const NETPROBE_LAYOUT = 'overlay appended at a 4-byte boundary';

export async function ensureNetprobeIso(base: TestIso, cacheDir: string): Promise<string> {
  const key = createHash('sha256').update(base.sha256).update(NETPROBE_SCRIPT).update(NETPROBE_LAYOUT).digest('hex').slice(0, 16);
  const out = join(cacheDir, `netprobe-${key}.iso`);
  if (existsSync(out)) return out;
  await mkdir(cacheDir, { recursive: true });
  const tmp = await mkdtemp(join(cacheDir, '.tmp-netprobe-'));
  try {
    const tree = join(tmp, 'tree');
    await run('xorriso', ['-osirrox', 'on', '-indev', base.iso,
      '-extract', '/boot/vmlinuz', join(tree, 'boot/vmlinuz'),
      '-extract', '/boot/initrd.zst', join(tree, 'boot/initrd.zst'),
      '-extract', '/boot/grub/grub.cfg', join(tree, 'boot/grub/grub.cfg')]);
    await run('chmod', ['-R', 'u+w', tree]);
    const overlay = join(tmp, 'overlay');
    await mkdir(join(overlay, 'etc'), { recursive: true });
    await writeFile(join(overlay, 'etc/xepa-probe'), NETPROBE_SCRIPT);
    await chmod(join(overlay, 'etc/xepa-probe'), 0o644);
    const { stdout } = await run('sh', ['-c', 'cd "$1" && find . | cpio -o -H newc -R 0:0 --quiet', 'sh', overlay], { encoding: 'buffer', maxBuffer: 1 << 24 });
    // The kernel finds an appended archive only at a 4-byte boundary: pad the base initrd with zeros first (its
    // zstd size is whatever it is; without this the overlay is silently ignored on 3 builds out of 4).
    const initrd = join(tree, 'boot/initrd.zst');
    const { size } = await stat(initrd);
    await appendFile(initrd, Buffer.alloc((4 - (size % 4)) % 4));
    await appendFile(initrd, stdout);
    const iso = join(tmp, 'netprobe.iso');
    await run('grub-mkrescue', ['-d', '/usr/lib/grub/i386-pc', '-o', iso, '--fonts=', '--locales=', '--themes=',
      '--install-modules=linux normal iso9660 biosdisk search search_fs_uuid serial terminal echo', tree, '--', '-volid', 'XEPA_NETPROBE']);
    await rename(iso, out);
    return out;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
