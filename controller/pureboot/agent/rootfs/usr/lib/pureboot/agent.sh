#!/bin/sh
# PureBoot agent main: network, ask the controller what to do, run the tasks, report.
# Exit status 0 = success (then reboot by default), non-zero = failure (power off).
. /usr/lib/pureboot/lib.sh
TASKS=/usr/lib/pureboot/tasks
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

# -- tasks -----------------------------------------------------------------------------
run_task() {
    # run_task INDEX TASK_FILE COUNT
    type=$(jq -r .type "$2")
    name=$(jq -r '.name // .type' "$2")
    log "task $(( $1 + 1 ))/$3: $name ($type)"
    case "$type" in
        image_deploy|disk_wipe|inventory|reboot)
            PB_TASK_INDEX=$1 PB_TASK_COUNT=$3 sh "$TASKS/$type.sh" "$2" ;;
        pxe_boot|playbook|domain_join|package_install|script_run|chain_boot)
            log "task $type is not run by the agent (controller or installer step): skipped" ;;
        *)
            echo "unsupported task type $type" > "$PB_RUN/failure"; return 1 ;;
    esac
}

fail() {
    msg=$(cat "$PB_RUN/failure" 2>/dev/null); msg=${msg:-$1}
    log "FAILED: $msg"
    inventory_mode && exit 1  # a discovered node has no failed state: the console says why
    i=0
    until report failed "" "failed" "$msg" "$(collect_extra)"; do
        i=$((i + 1)); [ $i -ge 5 ] && break; sleep 3
    done
    exit 1
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
        # The run is a playbook: the controller's job drives this node over SSH.
        exec sh /usr/lib/pureboot/ansible.sh
    fi
    jq '.phone_home // empty' "$PB_RUN/next.json" > "$PB_RUN/phone_home.json"
    jq -c '.tasks // [] | map(select(type == "object"))' "$PB_RUN/next.json" > "$PB_RUN/tasks.json"
    if [ "$state" = deprovisioning ]; then
        # Deprovisioning only inventories and wipes, whatever else the workflow lists;
        # with no disk_wipe task it still wipes (secure, falling back to zeros).
        jq -c 'map(select(.type == "disk_wipe" or .type == "inventory" or .type == "reboot"))
               | if any(.[]; .type == "disk_wipe") then . else . + [{"type": "disk_wipe", "method": "secure"}] end' \
            "$PB_RUN/tasks.json" > "$PB_RUN/tasks.wipe" && mv "$PB_RUN/tasks.wipe" "$PB_RUN/tasks.json"
    fi
    if [ "$state" = discovered ]; then
        # Inventory boot of a discovered node: its token allows the inventory report and
        # nothing else, so only inventory (and how to end) runs and no progress is sent.
        jq -c 'map(select(.type == "inventory" or .type == "reboot"))
               | if any(.[]; .type == "inventory") then . else [{"type": "inventory"}] + . end' \
            "$PB_RUN/tasks.json" > "$PB_RUN/tasks.inv" && mv "$PB_RUN/tasks.inv" "$PB_RUN/tasks.json"
        echo inventory > "$PB_RUN/mode"
    fi
    case "$state" in
        deprovisioning) done_status=wiped; final=poweroff ;;
        discovered) done_status=inventoried; final=poweroff ;;
        *) done_status=installed; final=reboot ;;
    esac
    echo "$final" > "$PB_RUN/final"
    count=$(jq length "$PB_RUN/tasks.json")
    inventory_mode || report installing 0 "starting" "agent running $count task(s)" || true
    i=0
    while [ "$i" -lt "$count" ]; do
        jq ".[$i]" "$PB_RUN/tasks.json" > "$PB_RUN/task.json"
        rm -f "$PB_RUN/failure"
        run_task "$i" "$PB_RUN/task.json" "$count" || fail "task $(( i + 1 )) failed"
        i=$((i + 1))
    done
    log "all tasks done"
    n=0
    until report "$done_status" 100 done "agent finished $count task(s)" "$(collect_extra)"; do
        n=$((n + 1)); [ $n -ge 10 ] && { log "could not report $done_status"; exit 5; }; sleep 3
    done
    exit 0
}

main
