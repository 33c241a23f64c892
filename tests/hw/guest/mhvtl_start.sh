# Sourced by the guest's /init for the mhVTL model: one cartridge per
# "Slot NN: BARCODE" of /etc/mhvtl/library_contents.10 (mktape; CAPACITY of
# mhvtl.conf in MB; CLN* = cleaning cartridges, LTO-8 density so the TD8
# drives accept them), then the daemons (one vtltape per drive, vtllibrary
# for the changer; they daemonize and log to syslog, kept in
# /host/mhvtl-messages), then wait until the kernel shows their sg nodes.
export LD_LIBRARY_PATH=/usr/lib HOME=/root
syslogd -O /var/log/messages
CONF=/etc/mhvtl
CAP=$(sed -n 's/^CAPACITY=//p' $CONF/mhvtl.conf)
mkdir -p /opt/mhvtl
n=0
for bc in $(awk '/^Slot/ && NF >= 3 {print $3}' $CONF/library_contents.10); do
    case $bc in CLN*) t=clean;; *) t=data;; esac
    mktape -l 10 -s "${CAP:-24}" -t $t -m "$bc" -d LTO8 -C $CONF -H /opt/mhvtl >/tmp/mktape.log 2>&1 ||
        { echo "[init] mktape $bc failed: $(cat /tmp/mktape.log)"; }
    n=$((n + 1))
done
NDEV=0
for id in $(awk '/^Drive:/ {print $2+0}' $CONF/device.conf); do vtltape -q "$id" -v0; NDEV=$((NDEV + 1)); done
for id in $(awk '/^Library:/ {print $2+0}' $CONF/device.conf); do vtllibrary -q "$id" -v0; NDEV=$((NDEV + 1)); done
echo "[init] mhVTL: $n cartridges of ${CAP} MB, daemons $(pidof vtltape vtllibrary | tr '\n' ' ')"
# the daemons' syslog (mktape/vtltape messages) for the logs of this run
mhvtl_stop() {
    for id in $(awk '/^Library:/ || /^Drive:/ {print $2+0}' $CONF/device.conf); do
        vtlcmd "$id" exit >/dev/null 2>&1
    done
    sleep 0.5
    cp /var/log/messages /host/mhvtl-messages 2>/dev/null
}
