# The guest image: an initramfs with busybox, the reference tools (mtx, mt-st,
# sg3-utils, lsscsi), jq, the ptape binaries under test (with their shared
# libraries), the SCSI/9p kernel modules and the guest suite (tests/hw/guest).
#
# build_image BIN_DIR OUTPUT MODEL: writes OUTPUT (cpio.gz) for device model
# MODEL (tgt: devices come from the host over iSCSI; mhvtl: the pseudo HBA
# module and the daemons run in the guest); needs KROOT/KVER (kernel.sh).

GUEST_MODULES="virtio_scsi sg st ch 9pnet_virtio 9p"
GUEST_TOOLS="/usr/bin/sg_raw /usr/bin/sg_inq /usr/bin/sg_turs /usr/bin/sg_vpd /usr/bin/sg_modes
    /usr/bin/sg_logs /usr/bin/sg_read_attr
    /usr/sbin/mtx /usr/bin/mt-st /usr/bin/lsscsi /usr/bin/jq"
PTAPE_BINS="pmt pmtx ptape"

# copy_with_libs SRC DEST: copy one executable to DEST inside the image root
# $IMG and every shared library ldd names for it, at their host paths.
copy_with_libs() {
    local src=$1 dest=$2 lib
    mkdir -p "$IMG$(dirname "$dest")"
    cp -L "$src" "$IMG$dest"
    ldd "$src" 2>/dev/null | awk '/=> \// {print $3} /^\t\// {print $1}' | while read -r lib; do
        [ -e "$IMG$lib" ] && continue
        mkdir -p "$IMG$(dirname "$lib")"
        cp -L "$lib" "$IMG$lib"
    done
}

# add_module NAME: the module and its dependencies (modules.dep), decompressed,
# appended to /modules/load.order in load order.
add_module() {
    local name=$1 moddir=$KROOT/lib/modules/$KVER path dep
    path=$(awk -F: -v n="/$name.ko" '{p = $1; sub(/\.(xz|zst|gz)$/, "", p)}
        substr(p, length(p) - length(n) + 1) == n {print $1; exit}' "$moddir/modules.dep")
    [ -n "$path" ] || die "kernel module $name not found in $moddir"
    grep -qxF "$(basename "${path%.ko*}.ko")" "$IMG/modules/load.order" 2>/dev/null && return 0
    for dep in $(grep -F "$path:" "$moddir/modules.dep" | head -1 | cut -d: -f2); do
        add_module "$(basename "${dep%.ko*}")"
    done
    case $path in
        *.xz) xz -dc "$moddir/$path" >"$IMG/modules/$(basename "${path%.xz}")";;
        *.zst) zstd -qdc "$moddir/$path" >"$IMG/modules/$(basename "${path%.zst}")";;
        *) cp "$moddir/$path" "$IMG/modules/";;
    esac
    basename "${path%.ko*}.ko" >>"$IMG/modules/load.order"
}

build_image() {
    local bin_dir=$1 out=$2 model=$3 a b
    IMG=$WORK/build/root
    rm -rf "$IMG"; mkdir -p "$IMG"/{bin,sbin,proc,sys,dev,tmp,host,modules,opt/ptape/bin,hw}
    cp /bin/busybox "$IMG/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$IMG/bin/$a"
    done
    for b in $GUEST_TOOLS; do
        [ -x "$b" ] || die "$b missing on the host (package list in lib/common.sh)"
        copy_with_libs "$b" "$b"
    done
    # The binaries under test, without debug info (smaller image, same code).
    for b in $PTAPE_BINS; do
        if [ -x "$bin_dir/$b" ]; then
            copy_with_libs "$bin_dir/$b" "/opt/ptape/bin/$b"
            strip --strip-debug "$IMG/opt/ptape/bin/$b"
        else
            log "warning: $bin_dir/$b not found: its checks will fail"
        fi
    done
    : >"$IMG/modules/load.order"
    for a in $GUEST_MODULES; do add_module "$a"; done
    # libgcc_s: glibc loads it at run time for thread cancellation (mhVTL's daemons, jq)
    copy_with_libs /lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/libgcc_s.so.1
    if [ "$model" = mhvtl ]; then mhvtl_image_add; fi
    cp "$HW_DIR/guest/init.sh" "$IMG/init"
    cp "$HW_DIR"/guest/*.sh "$IMG/hw/"
    # HW_SUITE=FILE runs FILE instead of the suite (debugging the lab itself)
    [ -z "${HW_SUITE:-}" ] || cp "$HW_SUITE" "$IMG/hw/suite.sh"
    # what the guest checks compare against: the model's configuration (model_env_MODEL)
    {
        echo "HW_MODEL='$model'"
        echo "HW_GROUPS='${HW_GROUPS:-}'"
        "model_env_$model"
    } >"$IMG/hw/env.sh"
    chmod +x "$IMG/init"
    (cd "$IMG" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
    log "guest image $(du -h "$out" | cut -f1) ($(wc -l <"$IMG/modules/load.order") modules)"
}
