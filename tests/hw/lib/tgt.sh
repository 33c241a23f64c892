# tgtd, the Linux SCSI target daemon (Debian package tgt), as the device model:
# LUN 1 an LTO tape drive (SSC), LUN 2 a media changer (SMC) with barcoded
# cartridges, exported over iSCSI on 127.0.0.1 only.
#
# tgt_start: starts a private tgtd (a child of this shell; PID in TGT_PID) on
#   TGT_PORT with control channel TGT_CN, cartridges as files under $WORK/vtl.
# tgt_stop: ends it (graceful, then SIGKILL by PID) and reaps it. Idempotent.

TGT_IQN=iqn.2026-11.org.ptape:hw
TGT_PID=
# Slot contents, slot 1 first ("-" = empty slot). CLN* are cleaning cartridges.
HW_TAPES=${HW_TAPES:-"ABC001L9 ABC002L9 ABC003L9 ABC004L9 ABC005L9 ABC006L9 - CLN001L1"}
HW_TAPE_MB=${HW_TAPE_MB:-64}
# Element addresses (SMC): picker, drive, import/export, first storage slot.
HW_ADDR_PICKER=1
HW_ADDR_DRIVE=256
HW_ADDR_IE=768
HW_ADDR_SLOT=1024
# Identity the emulated devices report (the guest checks compare against these).
HW_DRIVE_VENDOR=HP
HW_DRIVE_PRODUCT="Ultrium 5-SCSI"
HW_DRIVE_SERIAL=HU1234567A
HW_CHANGER_VENDOR=HP
HW_CHANGER_PRODUCT="MSL G3 Series"
HW_CHANGER_SERIAL=ABC01234G3

tgt_adm() { tgtadm -C "$TGT_CN" --lld iscsi "$@"; }
tgt_lun2() { tgt_adm --mode logicalunit --op update --tid 1 --lun 2 --params "$1"; }

tgt_stop() {
    [ -n "$TGT_PID" ] || return 0
    if kill -0 "$TGT_PID" 2>/dev/null; then
        # tgtd ignores SIGTERM; a graceful end is: delete the target, then the system.
        tgt_adm --op delete --mode target --tid 1 --force >/dev/null 2>&1 || true
        tgtadm -C "$TGT_CN" --op delete --mode system >/dev/null 2>&1 || true
        for _ in $(seq 30); do
            case $(ps -o stat= -p "$TGT_PID" 2>/dev/null) in ''|Z*) break;; esac
            sleep 0.1
        done
        kill -9 "$TGT_PID" 2>/dev/null || true
    fi
    wait "$TGT_PID" 2>/dev/null || true
    TGT_PID=
}

tgt_make_media() {
    local vtl=$1 bc type
    rm -rf "$vtl"; mkdir -p "$vtl"
    for bc in $HW_TAPES; do
        [ "$bc" = - ] && continue
        type=data; case $bc in CLN*) type=clean;; esac
        tgtimg --op new --device-type tape --barcode "$bc" --size "$HW_TAPE_MB" \
            --type "$type" --file "$vtl/$bc" --thin-provisioning >/dev/null
    done
    # The drive LUN needs a backing file even while empty; the changer one too.
    tgtimg --op new --device-type tape --barcode "" --size 1 --type clean --file "$vtl/empty-drive" >/dev/null
    dd if=/dev/zero of="$vtl/changer" bs=1k count=1 status=none
}

tgt_start() {
    local vtl=$WORK/vtl logf=$1 addr bc nslots
    tgt_make_media "$vtl"
    mkdir -p /var/run/tgtd
    tgtd -f -C "$TGT_CN" --iscsi portal=127.0.0.1:"$TGT_PORT" >"$logf" 2>&1 9>&- &
    TGT_PID=$!
    for _ in $(seq 100); do
        tgtadm -C "$TGT_CN" --op show --mode system >/dev/null 2>&1 && break
        kill -0 "$TGT_PID" 2>/dev/null || die "tgtd exited at start: $(tail -3 "$logf")"
        sleep 0.05
    done
    tgt_adm --op new --mode target --tid 1 -T "$TGT_IQN"
    # LUN 1: the tape drive, empty at start (offline = no cartridge).
    tgt_adm --mode logicalunit --op new --tid 1 --lun 1 -b "$vtl/empty-drive" --device-type tape
    tgt_adm --mode logicalunit --op update --tid 1 --lun 1 --params \
        "vendor_id=$HW_DRIVE_VENDOR,product_id=$HW_DRIVE_PRODUCT,product_rev=Z39W,scsi_sn=$HW_DRIVE_SERIAL,removable=1"
    tgt_adm --mode logicalunit --op update --tid 1 --lun 1 --params online=0
    # LUN 2: the media changer; it opens $media_home/<barcode> on MOVE MEDIUM.
    tgt_adm --mode logicalunit --op new --tid 1 --lun 2 -b "$vtl/changer" --device-type changer
    tgt_lun2 "vendor_id=$HW_CHANGER_VENDOR,product_id=$HW_CHANGER_PRODUCT,product_rev=3.00,scsi_sn=$HW_CHANGER_SERIAL,removable=1"
    tgt_lun2 "media_home=$vtl"
    nslots=$(wc -w <<<"$HW_TAPES")
    # element types: 1 medium transport, 2 storage, 3 import/export, 4 data transfer
    tgt_lun2 "element_type=1,start_address=$HW_ADDR_PICKER,quantity=1"
    tgt_lun2 "element_type=4,start_address=$HW_ADDR_DRIVE,quantity=1"
    tgt_lun2 "element_type=4,address=$HW_ADDR_DRIVE,tid=1,lun=1"
    tgt_lun2 "element_type=3,start_address=$HW_ADDR_IE,quantity=1"
    tgt_lun2 "element_type=2,start_address=$HW_ADDR_SLOT,quantity=$nslots"
    addr=$HW_ADDR_SLOT
    for bc in $HW_TAPES; do
        [ "$bc" = - ] || tgt_lun2 "element_type=2,address=$addr,barcode=$bc,sides=1"
        addr=$((addr + 1))
    done
    tgt_adm --op bind --mode target --tid 1 -I 127.0.0.1
}

# model_env_tgt: the guest suite's view of this model (written to env.sh).
# Slot numbers are mtx's: storage slots 1..N, then the import/export slots.
model_env_tgt() {
    local a
    for a in HW_TAPES HW_DRIVE_VENDOR HW_DRIVE_PRODUCT HW_DRIVE_SERIAL \
             HW_CHANGER_VENDOR HW_CHANGER_PRODUCT HW_CHANGER_SERIAL; do
        echo "$a='${!a}'"
    done
    echo "HW_DRIVES=1 HW_IE_FIRST=$(($(wc -w <<<"$HW_TAPES") + 1)) HW_FREE_SLOT=7 HW_CLEAN_SLOT=8"
}
