#!/bin/sh
# /init of the guest: mount the basics, load the SCSI and 9p modules, wait for
# the tape drive and the changer to appear, run the suite, power off.
export PATH=/opt/ptape/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/modules/$m" || echo "[init] insmod $m failed"; done </modules/load.order
# The host's result folder (QEMU virtfs, mount tag "hw").
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 hw /host || echo "[init] 9p mount failed"
# Wait (bounded) until sysfs shows a tape and a changer with their st/ch nodes.
i=0
while [ $i -lt 100 ]; do
    [ -e /dev/nst0 ] && [ -e /dev/sch0 ] && [ "$(ls /sys/class/scsi_generic 2>/dev/null | wc -l)" -ge 2 ] && break
    sleep 0.1; i=$((i + 1))
done
echo "[init] devices ready after $(cut -d' ' -f1 /proc/uptime)s"
sh /hw/suite.sh
echo "[init] suite exited rc=$? at $(cut -d' ' -f1 /proc/uptime)s"
sync
poweroff -f
