# mhVTL, the second device model: the mhvtl.ko pseudo HBA (built out of tree
# against the guest kernel's headers, with upstream's own sg table size) and
# its daemons vtllibrary/vtltape (an STK L700 changer with two IBM LTO-8
# drives, see tests/hw/mhvtl/), run inside the guest.
#
# mhvtl_build: finds the upstream source tarball, builds the module and the
# userspace into $WORK/mhvtl/<tarball name>/; sets MHVTL_TREE.

# The unmodified upstream source (GPL-2): HW_MHVTL_SRC, else the project's
# shared/vendor folder beside the checkout (as laid out for CI).
mhvtl_source() {
    local c
    for c in "${HW_MHVTL_SRC:-}" "$REPO"/../shared/vendor/mhvtl-*.tar.gz \
             "$REPO"/../../shared/vendor/mhvtl-*.tar.gz /work/shared/vendor/mhvtl-*.tar.gz; do
        [ -n "$c" ] && [ -f "$c" ] && { realpath "$c"; return 0; }
    done
    return 1
}

mhvtl_build() {
    local src tree kdir
    src=$(mhvtl_source) || die "mhVTL source not found (set HW_MHVTL_SRC=/path/to/mhvtl-*.tar.gz; looked in ../shared/vendor)"
    ensure_kernel_headers
    tree=$WORK/mhvtl/$(basename "$src" .tar.gz)
    if [ ! -f "$tree/.unpacked" ]; then
        rm -rf "$tree"; mkdir -p "$tree"
        tar -xzf "$src" -C "$tree" --strip-components=1 || die "cannot unpack $src"
        touch "$tree/.unpacked"
    fi
    # mhvtl's kernel/config.sh looks for the headers at KDIR/include or KDIR/../source/include
    kdir=$WORK/mhvtl/kdir
    mkdir -p "$kdir"; ln -sfn "$KHDR" "$kdir/build"; ln -sfn "$KHDR_COMMON" "$kdir/source"
    if [ ! -f "$tree/kernel/mhvtl.ko" ] || [ "$(cat "$tree/kernel/.kver" 2>/dev/null)" != "$KVER" ]; then
        rm -f "$tree/kernel/mhvtl.ko" "$tree/kernel"/*.o
        # No BTF for the module (pahole is not needed); upstream sg_tablesize (no KCFLAGS):
        # one SG_IO moves at most 128 pages = 512 KiB, a real HBA limit ptape must respect.
        make -C "$tree/kernel" KDIR="$kdir/build" CONFIG_DEBUG_INFO_BTF_MODULES= mhvtl.ko \
            >"$WORK/mhvtl/kmod-build.log" 2>&1 || die "mhvtl.ko build failed: $(tail -5 "$WORK/mhvtl/kmod-build.log")"
        echo "$KVER" >"$tree/kernel/.kver"
    fi
    if [ ! -x "$tree/usr/bin/vtltape" ]; then
        make -C "$tree/usr" -j"$(nproc)" MHVTL_HOME_PATH=/opt/mhvtl MHVTL_CONFIG_PATH=/etc/mhvtl \
            GITHASH="$(basename "$src" .tar.gz | sed 's/^mhvtl-//')" GITDATE=unknown \
            >"$WORK/mhvtl/usr-build.log" 2>&1 || die "mhVTL userspace build failed: $(tail -5 "$WORK/mhvtl/usr-build.log")"
    fi
    MHVTL_TREE=$tree
    log "mhVTL $(basename "$src" .tar.gz): mhvtl.ko for $(modinfo -F vermagic "$tree/kernel/mhvtl.ko" | cut -d' ' -f1), daemons built"
}

# mhvtl_image_add: the daemons, their library and configuration, the module
# (into the image root $IMG; called by build_image for this model).
mhvtl_image_add() {
    local b
    for b in vtltape vtllibrary vtlcmd mktape; do
        copy_with_libs "$MHVTL_TREE/usr/bin/$b" "/usr/bin/$b"
    done
    mkdir -p "$IMG/usr/lib" "$IMG/etc/mhvtl" "$IMG/opt/mhvtl" "$IMG/var/lock" "$IMG/var/run" "$IMG/var/log"
    cp "$MHVTL_TREE/usr/libvtlscsi.so" "$IMG/usr/lib/"
    # libvtlscsi.so's own dependencies (the daemons were copied before it existed in the image)
    copy_with_libs "$MHVTL_TREE/usr/libvtlscsi.so" /usr/lib/libvtlscsi.so
    cp "$HW_DIR"/mhvtl/device.conf "$HW_DIR"/mhvtl/library_contents.10 "$HW_DIR"/mhvtl/mhvtl.conf "$IMG/etc/mhvtl/"
    cp "$MHVTL_TREE/kernel/mhvtl.ko" "$IMG/modules/mhvtl.ko"
    echo mhvtl.ko >>"$IMG/modules/load.order"       # needs scsi_mod, loaded before as sg's dependency
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$IMG/etc/passwd"
    printf 'root:x:0:\n' >"$IMG/etc/group"
}

# model_env_mhvtl: the guest suite's view of this model (tests/hw/mhvtl/*).
model_env_mhvtl() {
    local tapes
    tapes=$(awk '/^Slot/ {print (NF >= 3) ? $3 : "-"}' "$HW_DIR/mhvtl/library_contents.10" | tr '\n' ' ')
    echo "HW_TAPES='${tapes% }'"
    echo "HW_DRIVE_VENDOR=IBM HW_DRIVE_PRODUCT=ULT3580-TD8 HW_DRIVE_SERIAL=MHVDRV0011 HW_DRIVE2_SERIAL=MHVDRV0012"
    echo "HW_CHANGER_VENDOR=STK HW_CHANGER_PRODUCT=L700 HW_CHANGER_SERIAL=MHVLIB0010"
    echo "HW_DRIVES=2 HW_IE_FIRST=11 HW_FREE_SLOT=9 HW_CLEAN_SLOT=10"
    echo "HW_TAPE_MB=$(sed -n 's/^CAPACITY=//p' "$HW_DIR/mhvtl/mhvtl.conf")"
}
