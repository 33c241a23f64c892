#!/bin/sh
# /init of the guest: mount the basics, load the SCSI and 9p modules, start the
# device model's daemons when it lives in the guest (mhVTL), wait for the tape
# drives and the changer to appear, run the suite, power off.
export PATH=/opt/ptape/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /hw/env.sh
while read -r m; do insmod "/modules/$m" || echo "[init] insmod $m failed"; done </modules/load.order
# The host's result folder (QEMU virtfs, mount tag "hw").
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 hw /host || echo "[init] 9p mount failed"
# shellcheck disable=SC1091  # in the image
[ "$HW_MODEL" = mhvtl ] && . /hw/mhvtl_start.sh
# Wait (bounded, 60 s) until sysfs shows every drive and the changer with their st/ch nodes.
i=0
while [ $i -lt 600 ]; do
    [ -e "/dev/nst$((HW_DRIVES - 1))" ] && [ -e /dev/sch0 ] &&
        [ "$(ls /sys/class/scsi_generic 2>/dev/null | wc -l)" -ge $((HW_DRIVES + 1)) ] && break
    sleep 0.1; i=$((i + 1))
done
echo "[init] devices ready after $(cut -d' ' -f1 /proc/uptime)s"
sh /hw/suite.sh
echo "[init] suite exited rc=$? at $(cut -d' ' -f1 /proc/uptime)s"
[ "$HW_MODEL" = mhvtl ] && mhvtl_stop
sync
poweroff -f
