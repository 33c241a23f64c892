# The guest kernel: a Debian 6.12 linux-image package fetched with
# `apt-get download` into $WORK/cache and unpacked (never installed) into
# $WORK/kernel/<package>/.  Sets KROOT (unpacked tree) and KVER.
# ensure_kernel_headers (mhVTL only: its pseudo HBA is an out-of-tree module)
# adds the headers and kbuild packages of exactly that version, unpacked into
# $WORK/kernel/headers-<version>/, and sets KHDR (the arch headers tree).

KERNEL_PATTERN='^linux-image-6\.12\.[0-9.]+\+deb[0-9]+-amd64$'

# apt_download PKG...: into $WORK/cache (apt-get update once when a name is unknown).
apt_download() {
    (cd "$WORK/cache" && apt-get download -qq "$@" >"$WORK/cache/download.log" 2>&1) && return 0
    apt-get update -qq
    # (apt warns that it downloads unsandboxed as root: harmless, kept in the log)
    (cd "$WORK/cache" && apt-get download -qq "$@" >"$WORK/cache/download.log" 2>&1) ||
        die "apt-get download $* failed: $(tail -3 "$WORK/cache/download.log")"
}

ensure_kernel() {
    local deb pkg
    mkdir -p "$WORK/cache" "$WORK/kernel"
    deb=$(ls "$WORK"/cache/linux-image-6.12.*_amd64.deb 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$deb" ]; then
        pkg=$(apt-cache search --names-only "$KERNEL_PATTERN" | awk '{print $1}' | sort -V | tail -1)
        if [ -z "$pkg" ]; then
            apt-get update -qq
            pkg=$(apt-cache search --names-only "$KERNEL_PATTERN" | awk '{print $1}' | sort -V | tail -1)
        fi
        [ -n "$pkg" ] || die "no Debian 6.12 kernel package found (apt-cache search $KERNEL_PATTERN)"
        log "downloading $pkg"
        apt_download "$pkg"
        deb=$(ls "$WORK"/cache/"$pkg"_*_amd64.deb | tail -1)
    fi
    KDEB=$deb
    KROOT=$WORK/kernel/$(basename "$deb" .deb)
    if ! ls "$KROOT"/boot/vmlinuz-* >/dev/null 2>&1; then
        rm -rf "$KROOT.tmp"
        dpkg-deb -x "$deb" "$KROOT.tmp" || die "cannot unpack $deb"
        depmod -b "$KROOT.tmp" "$(ls "$KROOT.tmp/lib/modules")"
        rm -rf "$KROOT"; mv "$KROOT.tmp" "$KROOT"
    fi
    KVER=$(ls "$KROOT/lib/modules")
    log "kernel $KVER ($(basename "$deb"))"
}

# ensure_kernel_headers: linux-headers-$KVER, its -common tree and the matching
# linux-kbuild, unpacked side by side. Debian's arch Makefile includes the
# common tree by its absolute /usr/src path: that include is pointed at the
# unpacked copy, so nothing is installed on the host.
ensure_kernel_headers() {
    local base=${KVER%-amd64} dir pkgs p
    dir=$WORK/kernel/headers-$KVER
    if ! ls -d "$dir"/usr/src/linux-headers-*-amd64 >/dev/null 2>&1; then
        pkgs="linux-headers-$KVER linux-headers-$base-common linux-kbuild-$base"
        for p in $pkgs; do
            ls "$WORK"/cache/"${p}"_*.deb >/dev/null 2>&1 || { log "downloading $p"; apt_download "$p"; }
        done
        rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
        for p in $pkgs; do
            dpkg-deb -x "$(ls "$WORK"/cache/"${p}"_*.deb | tail -1)" "$dir.tmp" || die "cannot unpack $p"
        done
        rm -rf "$dir"; mv "$dir.tmp" "$dir"
    fi
    KHDR=$(ls -d "$dir"/usr/src/linux-headers-*-amd64)
    KHDR_COMMON=$(ls -d "$dir"/usr/src/linux-headers-*-common)
    sed -i "s|^include .*/linux-headers-\(.*-common\)/Makefile|include $KHDR_COMMON/Makefile|" "$KHDR/Makefile"
    log "kernel headers $(basename "$KHDR")"
}
