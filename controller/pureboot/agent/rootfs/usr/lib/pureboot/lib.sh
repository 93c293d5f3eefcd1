# PureBoot agent: shared helpers (sourced; busybox ash).
# Logging to every console, kernel command line, the controller API and reports.

PB_RUN=/run/pureboot
PB_PENDING=$PB_RUN/pending.log   # log lines not yet sent to the controller
mkdir -p "$PB_RUN"

# -- logging ---------------------------------------------------------------------------
_consoles() {
    # Every registered console (serial and screen), so an operator sees us on either.
    if [ -r /proc/consoles ]; then
        awk '{print "/dev/" $1}' /proc/consoles
    else
        echo /dev/console
    fi
}

log() {
    line="pureboot: $*"
    for c in $(_consoles); do [ -c "$c" ] && echo "$line" > "$c" 2>/dev/null; done
    echo "$(date -u +%H:%M:%S) $*" >> "$PB_PENDING"
}

# -- kernel command line ---------------------------------------------------------------
cmdline_arg() {
    # cmdline_arg NAME -> value of NAME=value on /proc/cmdline (last wins), or empty
    v=""
    for word in $(cat /proc/cmdline); do
        case "$word" in "$1="*) v="${word#*=}" ;; esac
    done
    echo "$v"
}

load_cmdline() {
    PB_URL=$(cmdline_arg pureboot.url); PB_URL=${PB_URL%/}
    PB_TOKEN=$(cmdline_arg pureboot.token)
    PB_NODE=$(cmdline_arg pureboot.node)
    PB_ON_FAILURE=$(cmdline_arg pureboot.on_failure); PB_ON_FAILURE=${PB_ON_FAILURE:-poweroff}
    PB_BOOTIF=$(cmdline_arg BOOTIF)
}

# -- controller API --------------------------------------------------------------------
# api METHOD PATH [JSON_FILE] -> body in $PB_RUN/api.body, HTTP code in $API_CODE.
# Returns 0 on 2xx. Connection errors are retried; HTTP errors are not (they are answers).
api() {
    method=$1; path=$2; data=$3
    set -- -sS -m 60 --connect-timeout 10 --retry 6 --retry-delay 3 --retry-connrefused \
        -o "$PB_RUN/api.body" -w '%{http_code}' -X "$method" -H "Accept: application/json"
    [ -n "$PB_TOKEN" ] && set -- "$@" -H "Authorization: Bearer $PB_TOKEN"
    [ -n "$data" ] && set -- "$@" -H "Content-Type: application/json" --data-binary "@$data"
    API_CODE=$(curl "$@" "$PB_URL$path" 2>"$PB_RUN/api.err") || API_CODE=${API_CODE:-000}
    case "$API_CODE" in 2??) return 0 ;; esac
    return 1
}

# report STATUS [PROGRESS] [PHASE] [MESSAGE] [EXTRA_JSON_FILE]
# Sends the pending log lines with it; EXTRA is merged in (ready: address, host key).
report() {
    status=$1; progress=$2; phase=$3; message=$4; extra=${5:-}
    [ -n "$extra" ] && [ -s "$extra" ] || extra=$PB_RUN/empty.json
    [ -s "$PB_RUN/empty.json" ] || echo '{}' > "$PB_RUN/empty.json"
    touch "$PB_PENDING"
    mv "$PB_PENDING" "$PB_RUN/sending.log"
    jq -n --arg status "$status" --arg progress "$progress" --arg phase "$phase" \
        --arg message "$message" --rawfile logs "$PB_RUN/sending.log" --slurpfile extra "$extra" '
        {status: $status}
        + (if $progress != "" then {progress: ($progress | tonumber)} else {} end)
        + (if $phase != "" then {phase: $phase} else {} end)
        + (if $message != "" then {message: ($message | .[0:4000])} else {} end)
        + {logs: ($logs | split("\n") | map(select(length > 0)) | .[-500:])}
        + ($extra[0] // {})' > "$PB_RUN/report.json"
    if api POST /api/v1/report "$PB_RUN/report.json"; then
        rm -f "$PB_RUN/sending.log"
        return 0
    fi
    # Keep the lines for the next report; say why this one failed (console only).
    cat "$PB_RUN/sending.log" "$PB_PENDING" 2>/dev/null > "$PB_RUN/merged.log"
    mv "$PB_RUN/merged.log" "$PB_PENDING"
    for c in $(_consoles); do
        echo "pureboot: report $status failed: HTTP $API_CODE $(head -c 300 "$PB_RUN/api.body" 2>/dev/null)" > "$c" 2>/dev/null
    done
    return 1
}

# -- end of the run --------------------------------------------------------------------
finish_machine() {
    rc=$1
    [ -n "$PB_ON_FAILURE" ] || load_cmdline
    # Success: what the run decided (reboot, or poweroff after a wipe); failure: never
    # reboot into a half-written disk unless pureboot.on_failure says so.
    if [ "$rc" = 0 ]; then
        action=$(cat "$PB_RUN/final" 2>/dev/null); action=${action:-reboot}
    else
        action=${PB_ON_FAILURE:-poweroff}
    fi
    delay=$(cat "$PB_RUN/final_delay" 2>/dev/null); [ -n "$delay" ] && [ "$delay" -gt 0 ] && sleep "$delay"
    sync
    log "finished (rc=$rc): $action"
    case "$action" in
        shell) exec /bin/sh ;;
        reboot) reboot -f ;;
        *) poweroff -f ;;
    esac
    sleep 5; echo o > /proc/sysrq-trigger
}
