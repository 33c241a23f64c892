# The guest kernel: a Debian 6.12 linux-image package fetched with
# `apt-get download` into $WORK/cache and unpacked (never installed) into
# $WORK/kernel/<package>/.  Sets KROOT (unpacked tree) and KVER.

KERNEL_PATTERN='^linux-image-6\.12\.[0-9.]+\+deb[0-9]+-amd64$'

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
        # (apt warns that it downloads unsandboxed as root: harmless, kept in the log)
        (cd "$WORK/cache" && apt-get download -qq "$pkg" >"$WORK/cache/download.log" 2>&1) ||
            die "apt-get download $pkg failed: $(tail -3 "$WORK/cache/download.log")"
        deb=$(ls "$WORK"/cache/"$pkg"_*_amd64.deb | tail -1)
    fi
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
