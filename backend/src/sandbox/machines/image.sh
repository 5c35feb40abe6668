#!/bin/sh
# Builds the sandbox machines' base image: Debian 12 with systemd and sshd, and a login user
# `admin` with password-less sudo, as on AWS's Debian AMI. Usage: image.sh ROOT MIRROR.
# ROOT is made as ROOT.partial and renamed when complete.
set -eu
root=$1
mirror=$2
# A wrong root would rewrite this machine's own system: only a path of the form
# /.../machines/debian-12-..., which no system folder has.
case "$root" in
  /?*/machines/debian-12-*) ;;
  *) echo "refusing to build an image at '$root': not of the form /.../machines/debian-12-..." >&2; exit 2 ;;
esac
partial="$root.partial"
rm -rf -- "$partial"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,libpam-systemd,openssh-server,sudo,iproute2,python3,ca-certificates,procps,curl,netbase,locales,tzdata \
  bookworm "$partial" "$mirror"
chroot "$partial" useradd --create-home --shell /bin/bash --groups sudo admin
printf 'admin ALL=(ALL) NOPASSWD:ALL\n' > "$partial/etc/sudoers.d/90-admin"
chmod 440 "$partial/etc/sudoers.d/90-admin"
# Every machine makes its own identity: the sandbox writes host keys, systemd a machine id.
rm -f "$partial"/etc/ssh/ssh_host_*
: > "$partial/etc/machine-id"
rm -f "$partial/var/lib/dbus/machine-id"
chroot "$partial" apt-get clean
rm -rf "$partial"/var/lib/apt/lists/*
mv -- "$partial" "$root"
