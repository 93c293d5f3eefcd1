#!/bin/sh
# The agent as an Ansible-managed host (engine "ansible" in /next): start dropbear with the
# run's public key, report ready with our address and host key, then wait while the
# controller's provisioning job drives the node over SSH. The node's state says when it
# is done: installed/retired/inventoried -> what /next's "after" says (or the play's reboot
# step wrote in $PB_RUN/final); anything else -> the failure path.
. /usr/lib/pureboot/lib.sh
load_cmdline
POLL=${PB_POLL:-5}

ssh_up() {
    # The job's tasks fetch images with the node token (scope: services/node_scope.py).
    (umask 077; printf %s "$PB_TOKEN" > "$PB_RUN/token")
    mkdir -p /root/.ssh /etc/dropbear
    chmod 700 /root /root/.ssh
    jq -r '.ssh.authorized_key // empty' "$PB_RUN/next.json" > /root/.ssh/authorized_keys
    [ -s /root/.ssh/authorized_keys ] || { echo "no ssh.authorized_key in /next" > "$PB_RUN/failure"; return 1; }
    chmod 600 /root/.ssh/authorized_keys
    dropbearkey -t ed25519 -f /etc/dropbear/host_ed25519 >/dev/null 2>&1 || return 1
    # -s: keys only; -E: log to stderr (the console); the job's SSH sessions get /bin/sh
    dropbear -s -E -p 22 -r /etc/dropbear/host_ed25519 -P /run/dropbear.pid 2>>/run/dropbear.log || return 1
    dropbearkey -y -f /etc/dropbear/host_ed25519 | awk '/^ssh-/ {print $1, $2}' > "$PB_RUN/host_key"
    log "sshd up on $(cat /run/pureboot.ip):22, host key $(cut -c1-40 "$PB_RUN/host_key")..."
}

report_ready() {
    jq -n --arg address "$(cat /run/pureboot.ip)" --rawfile key "$PB_RUN/host_key" \
        '{address: $address, host_key: ($key | rtrimstr("\n"))}' > "$PB_RUN/ready.json"
    n=0
    until report ready "" ready "agent ready for the provisioning job" "$PB_RUN/ready.json"; do
        n=$((n + 1)); [ $n -ge 10 ] && { echo "could not report ready (HTTP $API_CODE)" > "$PB_RUN/failure"; return 1; }
        sleep 3
    done
    log "ready: job $(jq -r '.job_id // "?"' "$PB_RUN/api.body")"
}

# Poll /next until the node leaves its run state. The controller down or slow: keep
# waiting (the job may still be running; its watchdog fails a run that never ends).
# The end of a run revokes our token (401): then the anonymous check-in by MAC, which
# has no side effects for a node that is done, says how it ended.
wait_outcome() {
    while sleep "$POLL"; do
        anonymous=""
        if api GET /api/v1/next; then
            state=$(jq -r '.state // empty' "$PB_RUN/api.body")
        elif [ "$API_CODE" = 401 ]; then
            mac=$(cat "/sys/class/net/$(cat /run/pureboot.iface)/address")
            token=$PB_TOKEN; PB_TOKEN=""
            api GET "/api/v1/next?mac=$mac"; rc=$?; PB_TOKEN=$token
            [ $rc = 0 ] || continue
            state=$(jq -r '.state // empty' "$PB_RUN/api.body"); anonymous=1
        else
            continue
        fi
        case "$state/$anonymous" in
            installing/*|deprovisioning/*|migrating/*|discovered/) continue ;;
            installed/*|active/*|retired/*) log "provisioning job done: node $state"; return 0 ;;
            discovered/1)  # the token is gone: stored facts say the inventory is done
                [ "$(jq -r '.action // empty' "$PB_RUN/api.body")" = agent ] && {
                    log "inventory job ended without facts"; return 1; }
                log "inventory job done"; return 0 ;;
            *) log "provisioning ended with the node ${state:-unknown}"; return 1 ;;
        esac
    done
}

fail() {
    log "FAILED: $1"
    # A discovered node has no failed state (its token cannot report one): the console says why.
    [ "$(jq -r '.state // empty' "$PB_RUN/next.json")" = discovered ] && exit 1
    report failed "" failed "agent: $1" >/dev/null 2>&1
    exit 1
}

jq -r '.after // "reboot"' "$PB_RUN/next.json" > "$PB_RUN/final"
ssh_up || fail "sshd: $(cat "$PB_RUN/failure" /run/dropbear.log 2>/dev/null | tail -3)"
report_ready || fail "$(cat "$PB_RUN/failure")"
wait_outcome
