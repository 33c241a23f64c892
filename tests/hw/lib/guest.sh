# Booting the guest: QEMU (software emulation; this machine's KVM cannot boot a
# stock kernel). Model tgt: tgt's two LUNs attached through QEMU's own iSCSI
# initiator as virtio-scsi `scsi-generic` devices, so the guest kernel's
# sg/st/ch drivers see a real tape drive and changer. Model mhvtl: no emulated
# SCSI hardware; the guest loads mhVTL's pseudo HBA and starts its daemons.
# The result folder is shared over 9p.
#
# run_guest INITRD SHARE CONSOLE_LOG MODEL: boots, waits (bounded by
# HW_GUEST_TIMEOUT); the QEMU process is tracked in GUEST_PID for guest_stop.

HW_GUEST_TIMEOUT=${HW_GUEST_TIMEOUT:-1200}
GUEST_PID=

guest_stop() {
    [ -n "$GUEST_PID" ] || return 0
    kill "$GUEST_PID" 2>/dev/null || true
    wait "$GUEST_PID" 2>/dev/null || true
    GUEST_PID=
}

run_guest() {
    local initrd=$1 share=$2 console=$3 model=$4 devices=() mem=768
    if [ "$model" = tgt ]; then
        local target="iscsi://127.0.0.1:$TGT_PORT/$TGT_IQN"
        devices=(-iscsi initiator-name=iqn.2026-11.org.ptape:qemu
            -device virtio-scsi-pci,id=scsi0
            -drive if=none,id=tape0,format=raw,file="$target/1"
            -device scsi-generic,drive=tape0,bus=scsi0.0,channel=0,scsi-id=1,lun=0
            -drive if=none,id=chg0,format=raw,file="$target/2"
            -device scsi-generic,drive=chg0,bus=scsi0.0,channel=0,scsi-id=2,lun=0)
    else
        mem=1280    # the cartridges live in guest RAM (10 x HW_TAPE_MB at most), plus backup data
    fi
    timeout --kill-after=5 "$HW_GUEST_TIMEOUT" qemu-system-x86_64 \
        -accel "${HW_QEMU_ACCEL:-tcg,thread=multi}" -cpu "${HW_QEMU_CPU:-max}" -smp 2 -m "$mem" -M q35 \
        -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -kernel "$(ls "$KROOT"/boot/vmlinuz-*)" -initrd "$initrd" \
        -append "console=ttyS0 panic=-1 loglevel=4" \
        -virtfs local,path="$share",mount_tag=hw,security_model=none,id=hw \
        "${devices[@]}" \
        </dev/null >"$console" 2>&1 9>&- &
    GUEST_PID=$!
    local rc=0
    wait "$GUEST_PID" || rc=$?
    GUEST_PID=
    return "$rc"
}
