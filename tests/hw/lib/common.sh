# Shared helpers of the real-kernel harness (sourced by tests/hw/run.sh).
# Everything the harness creates lives under $WORK (tests/hw/work, git-ignored).

# Debian packages the harness needs on the host. The guest image takes its
# tools (busybox, mtx, mt-st, sg3-utils, lsscsi, jq) from the host as well;
# build-essential and zlib1g-dev build mhVTL (module and daemons).
HW_PACKAGES="build-essential zlib1g-dev tgt sg3-utils mtx mt-st lsscsi busybox-static jq qemu-system-x86 qemu-block-extra cpio kmod xz-utils binutils"

log() { echo "[hw] $*"; }
die() { echo "[hw] error: $*" >&2; exit 2; }

# Install the packages in $HW_PACKAGES that are missing (apt-get update once, only then).
ensure_packages() {
    local missing=() p
    for p in $HW_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# A TCP port on 127.0.0.1 nobody listens on, from 3261 up (3260, the iSCSI
# default, is left to other tools on the machine).
free_port() {
    local p
    for p in $(seq 3261 3299); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}
