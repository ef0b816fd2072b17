#!/usr/bin/env bash
# Build the lab's guest image from Debian packages, or reuse the cached one.
#
# Output (printed on stdout, last line): the image directory, holding
#   vmlinux      uncompressed kernel, booted by QEMU through PVH (no decompression under TCG)
#   initrd.img   busybox initramfs: loads virtio + ext4 modules, switches root to /dev/vda
#   rootfs.qcow2 the root filesystem; every VM boots a copy-on-write overlay of it
#
# The image is keyed by a hash of its recipe (this script, lab/guest/, the package list),
# cached outside the repository, and rebuilt only when the recipe changes.
#
# Host safety: nothing of the host is ever mounted into the image tree. mmdebstrap manages its
# own mounts and removes them before it returns; after that the tree is plain files. Every write
# into the tree goes through `inside`, which refuses any path that resolves outside it, and
# nothing is deleted while anything is mounted below the build directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${LVSFLEET_CACHE:-/var/cache/lvsfleet}
suite=bookworm
mirror=${LVSFLEET_MIRROR:-http://deb.debian.org/debian}

packages=(
  systemd-sysv openssh-server python3 python3-apt sudo kmod iproute2 iputils-ping procps
  iptables netcat-openbsd curl ipvsadm keepalived tcpdump openssl nginx-light apache2-utils mariadb-server
  dnsmasq-base prometheus-node-exporter prometheus bird2
)

recipe_hash=$(
  { cat "$0"; printf '%s\n' "${packages[@]}"; find "$here/guest" -type f -print0 | sort -z | xargs -0 cat; } \
    | sha256sum | cut -c1-16
)
image_dir="$cache/images/$recipe_hash"

if [[ -f "$image_dir/ok" ]]; then
  echo "lab image: reusing $image_dir" >&2
  echo "$image_dir"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || { echo "build-image: must run as root (mmdebstrap root mode, device nodes)" >&2; exit 1; }

mkdir -p "$cache/images"
work=$(mktemp -d "$cache/images/build.XXXXXX")
root="$work/rootfs"
[[ -n "$work" && "$work" != "/" && "$root" == "$cache/images/build."*/rootfs ]] || { echo "bad build dir" >&2; exit 1; }

cleanup() {
  # Never delete through a mount point: if anything is still mounted below the build dir, leave it.
  if findmnt -rn -o TARGET | grep -qF "$work"; then
    echo "build-image: something is still mounted under $work; not deleting it" >&2
    return
  fi
  rm -rf --one-file-system -- "$work"
}
trap cleanup EXIT

# inside PATH: print PATH's absolute form under $root, or fail if it would resolve outside it.
inside() {
  local rel=$1 target
  [[ "$rel" == /* ]] || { echo "inside: $rel is not absolute" >&2; return 1; }
  target=$(realpath -m -- "$root$rel")
  case "$target" in
    "$root"/*) printf '%s\n' "$target" ;;
    *) echo "inside: $rel resolves outside the image ($target)" >&2; return 1 ;;
  esac
}
put() { # put MODE GUEST_PATH < content
  local dst; dst=$(inside "$1" ) || return 1
  mkdir -p -- "$(dirname -- "$dst")"
  cat > "$dst"
  chmod "$2" -- "$dst"
}

t0=$(date +%s)
echo "lab image: building $recipe_hash (this takes a few minutes once)" >&2

# 1. Root filesystem from Debian packages.
mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  "$suite" "$root" "deb $mirror $suite main" "deb $mirror $suite-updates main" >&2
if findmnt -rn -o TARGET | grep -qF "$root"; then echo "mmdebstrap left mounts under $root" >&2; exit 1; fi

# 2. Kernel: the stock Debian kernel, unpacked; modules trimmed of hardware drivers.
kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ && !n++ {print $2}')
[[ -n "$kpkg" ]] || { echo "cannot resolve the kernel package (run apt-get update)" >&2; exit 1; }
(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$kpkg" >&2)
dpkg -x "$work"/linux-image-*.deb "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
vmlinuz="$work/kernel/boot/vmlinuz-$kver"
# The bzImage wraps an XZ stream; QEMU boots the inner ELF directly (PVH), saving ~4 s per boot.
xzoff=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().find(b"\xfd7zXZ\x00"))' "$vmlinuz")
[[ "$xzoff" -gt 0 ]] || { echo "no XZ stream in $vmlinuz" >&2; exit 1; }
tail -c +"$((xzoff + 1))" "$vmlinuz" | xz -dcq > "$work/vmlinux" 2>/dev/null || true
file_magic=$(head -c4 "$work/vmlinux" | od -An -c | tr -d ' ')
[[ "$file_magic" == '177ELF' ]] || { echo "could not extract vmlinux from $vmlinuz" >&2; exit 1; }

moddst=$(inside "/lib/modules/$kver")
mkdir -p "$moddst"
cp -a "$work/kernel/lib/modules/$kver/." "$moddst/"
for d in drivers/gpu drivers/media drivers/infiniband drivers/staging drivers/usb drivers/scsi drivers/iio \
         drivers/hid drivers/input drivers/isdn drivers/bluetooth drivers/mmc drivers/mtd drivers/net/wireless \
         drivers/net/ethernet drivers/net/can drivers/net/usb drivers/hwmon drivers/video drivers/platform \
         drivers/nfc drivers/ata drivers/md drivers/thunderbolt drivers/firewire drivers/pinctrl drivers/gpio \
         drivers/i2c drivers/spi drivers/edac drivers/watchdog drivers/power drivers/regulator drivers/mfd \
         drivers/leds drivers/rtc drivers/crypto drivers/soundwire drivers/target drivers/misc drivers/pci/controller \
         drivers/net/wwan drivers/net/ieee802154 drivers/atm drivers/uwb drivers/comedi sound net/bluetooth net/wireless \
         net/mac80211 fs/btrfs fs/xfs fs/ocfs2 fs/nfs fs/nfsd fs/ceph fs/gfs2 fs/smb fs/cifs fs/f2fs fs/ntfs3; do
  p=$(inside "/lib/modules/$kver/kernel/$d")
  rm -rf --one-file-system -- "$p"
done
# The guest's own depmod; chroot needs no mounts for it.
chroot "$root" /sbin/depmod -a "$kver"

# 3. Initramfs: busybox + the modules needed to reach the root filesystem.
ird="$work/initramfs"
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,mods}
cp /bin/busybox "$ird/bin/busybox"
: > "$ird/mods/order"
resolve() { # print a module's dependency closure, dependencies first
  local m=$1 line deps dep
  line=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$moddst/modules.dep" | head -1) || true
  [[ -n "$line" ]] || return 0   # built into the kernel
  deps=${line#*:}
  for dep in $deps; do resolve "$(basename "${dep%%.ko*}")"; done
  echo "${line%%:*}"
}
for m in virtio_pci virtio_blk virtio_net crc32c_generic ext4; do resolve "$m"; done | awk '!seen[$0]++' | while read -r rel; do
  cp "$moddst/$rel" "$ird/mods/"
  basename "$rel" >> "$ird/mods/order"
done
cat > "$ird/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
for m in $(cat /mods/order); do insmod /mods/$m; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
mount -o rw,noatime /dev/vda /newroot || { echo "initramfs: cannot mount /dev/vda"; sh; }
umount /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
INIT
chmod 755 "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initrd.img"

# 4. Guest configuration (lab/guest/ is copied as is; modes kept).
(cd "$here/guest" && find . -type f) | while read -r f; do
  put "${f#.}" "$(stat -c %a "$here/guest/$f")" < "$here/guest/$f"
done
# Host keys are generated per VM at boot (see lvsfleet-net), never shared through the image.
for k in "$root"/etc/ssh/ssh_host_*; do [[ -e "$k" ]] && rm -f -- "$(inside "${k#"$root"}")"; done
echo "lvsfleet" | put /etc/hostname 644
printf '/dev/vda / ext4 rw,noatime 0 1\n' | put /etc/fstab 644
# Trim boot: units not needed in a headless VM with a lab-managed network.
systemctl --root="$root" mask --quiet \
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-udev-trigger.service \
  systemd-udev-settle.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
  fstrim.timer getty@tty1.service serial-getty@ttyS0.service systemd-timesyncd.service \
  systemd-networkd.service systemd-networkd-wait-online.service systemd-journal-flush.service \
  systemd-random-seed.service systemd-update-utmp.service systemd-update-utmp-runlevel.service \
  systemd-remount-fs.service keyboard-setup.service console-setup.service dpkg-db-backup.timer \
  systemd-tmpfiles-clean.timer man-db.timer logrotate.timer ipvsadm.service systemd-binfmt.service \
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount dev-hugepages.mount dev-mqueue.mount \
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount \
  getty-static.service kmod-static-nodes.service modprobe@configfs.service modprobe@dm_mod.service \
  modprobe@efi_pstore.service modprobe@loop.service modprobe@fuse.service modprobe@drm.service \
  systemd-sysusers.service systemd-tmpfiles-setup-dev.service systemd-pstore.service systemd-firstboot.service \
  systemd-machine-id-commit.service systemd-hwdb-update.service systemd-journal-catalog-update.service
# The lab backend's web server starts only where the demo_backend role enables it (real servers).
systemctl --root="$root" disable --quiet nginx.service
# MariaDB (the authenticated mysql check's peer) likewise starts only where lab_backends enables it.
systemctl --root="$root" disable --quiet mariadb.service
# node_exporter and Prometheus start only where the metrics and monitoring roles enable them.
systemctl --root="$root" disable --quiet prometheus-node-exporter.service prometheus.service
# BIRD starts only where the bgp or lab_router role configures and enables it.
systemctl --root="$root" disable --quiet bird.service
systemctl --root="$root" set-default --quiet multi-user.target
gen_dir=$(inside /etc/systemd/system-generators)
mkdir -p "$gen_dir"
for g in systemd-gpt-auto-generator systemd-getty-generator systemd-fstab-generator systemd-hibernate-resume-generator \
         systemd-bless-boot-generator systemd-cryptsetup-generator systemd-debug-generator systemd-veritysetup-generator; do
  ln -sfn /dev/null "$(inside "/etc/systemd/system-generators/$g")"
done
systemctl --root="$root" enable --quiet lvsfleet-net.service lvsfleet-ready.service
# keepalived starts only when a role installs a config and enables it.
systemctl --root="$root" disable --quiet keepalived.service 2>/dev/null || true

# 5. Filesystem image, written without any loop mount.
size_mb=$(( $(du -sm "$root" | cut -f1) + 400 ))
mkfs.ext4 -q -F -L lvsroot -d "$root" "$work/rootfs.ext4" "${size_mb}M"
qemu-img convert -O qcow2 "$work/rootfs.ext4" "$work/rootfs.qcow2"

mkdir -p "$work/out"
mv "$work/vmlinux" "$work/initrd.img" "$work/rootfs.qcow2" "$work/out/"
echo "$kver" > "$work/out/kernel-version"
echo "built in $(( $(date +%s) - t0 )) s" > "$work/out/build-time"
touch "$work/out/ok"
rm -rf --one-file-system -- "$image_dir"
mv "$work/out" "$image_dir"
# Older images (other recipe hashes) are no longer used by this checkout: drop them.
for old in "$cache"/images/*; do
  name=$(basename "$old")
  [[ "$old" != "$image_dir" && "$name" =~ ^[0-9a-f]{16}$ && -d "$old" ]] || continue
  findmnt -rn -o TARGET | grep -qF "$old" && continue
  rm -rf --one-file-system -- "$old"
done
echo "lab image: built $image_dir in $(( $(date +%s) - t0 )) s ($(du -sh "$image_dir/rootfs.qcow2" | cut -f1) qcow2)" >&2
echo "$image_dir"
