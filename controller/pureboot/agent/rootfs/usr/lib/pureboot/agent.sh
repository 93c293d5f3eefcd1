#!/bin/sh
# PureBoot agent main: network, ask the controller what to do, then become the host its
# provisioning job drives (ansible.sh). The agent runs no step itself.
# Exit status 0 = success (then what the run decided), non-zero = failure (power off).
. /usr/lib/pureboot/lib.sh
load_cmdline

# -- network ---------------------------------------------------------------------------
net_candidates() {
    # The interface we booted from first (BOOTIF=01-aa-bb-..), then every other NIC.
    want=""
    [ -n "$PB_BOOTIF" ] && want=$(echo "${PB_BOOTIF#01-}" | tr '-' ':' | tr 'A-F' 'a-f')
    for n in /sys/class/net/*; do
        i=$(basename "$n"); [ "$i" = lo ] && continue
        [ "$(cat "$n/address")" = "$want" ] && echo "$i"
    done
    for n in /sys/class/net/*; do
        i=$(basename "$n"); [ "$i" = lo ] && continue
        [ "$(cat "$n/address")" = "$want" ] || echo "$i"
    done
}

net_up() {
    ip link set lo up
    for attempt in 1 2 3; do
        for i in $(net_candidates); do
            ip link set "$i" up
            if udhcpc -i "$i" -n -q -f -t 6 -T 2 -A 1 -s /usr/share/udhcpc/default.script \
                -x hostname:pureboot-agent >/dev/null 2>&1; then
                log "network: $i $(cat /run/pureboot.ip) (attempt $attempt)"
                return 0
            fi
        done
    done
    return 1
}

main() {
    if [ -z "$PB_URL" ] || [ -z "$PB_TOKEN" ]; then
        log "no pureboot.url/pureboot.token on the kernel command line: nothing to do"
        echo poweroff > "$PB_RUN/final"; exit 2
    fi
    net_up || { log "no DHCP answer on any interface"; exit 3; }
    if ! api GET /api/v1/next; then
        log "GET /api/v1/next failed: HTTP $API_CODE $(head -c 300 "$PB_RUN/api.body") $(cat "$PB_RUN/api.err")"
        exit 4
    fi
    cp "$PB_RUN/api.body" "$PB_RUN/next.json"
    state=$(jq -r '.state // empty' "$PB_RUN/next.json")
    action=$(jq -r '.action // empty' "$PB_RUN/next.json")
    log "controller: node ${PB_NODE:-?} state=$state action=$action"
    if [ "$(jq -r '.engine // empty' "$PB_RUN/next.json")" = ansible ]; then
        # Every run is a playbook: the controller's job drives this node over SSH.
        exec sh /usr/lib/pureboot/ansible.sh
    fi
    log "the controller has no run for this node in state ${state:-unknown}: powering off"
    echo poweroff > "$PB_RUN/final"
    exit 0
}

main
