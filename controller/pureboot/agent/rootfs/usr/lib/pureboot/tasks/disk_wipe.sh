#!/bin/sh
# disk_wipe: erase disks and leave evidence (PRD 17.1).
#
# Parameters: method quick|zero|secure (default quick); disks (list, default all local
# disks); require_hardware_erase (secure only: fail instead of falling back to zero).
#   quick   wipe signatures (wipefs -a) and zero the first and last MiB
#   zero    overwrite every byte with zeros, then check samples read back as zero
#   secure  the device's own erase: NVMe format (user data erase), ATA security erase,
#           or blkdiscard --secure; else a zero overwrite unless require_hardware_erase
# Evidence per disk: model, serial, size, method used, bytes, duration, result.
. /usr/lib/pureboot/lib.sh
load_cmdline
TASK=$1
METHOD=$(param "$TASK" method quick)
REQUIRE_HW=$(param "$TASK" require_hardware_erase false)
MiB=1048576
FAILED=0

attr() { [ -r "$1" ] && tr -d '\n' < "$1" 2>/dev/null | sed 's/ *$//'; }

zero_range() {
    # zero_range DISK START_MIB COUNT_MIB
    dd if=/dev/zero of="$1" bs=$MiB seek="$2" count="$3" conv=fsync 2>"$PB_RUN/dd.err"
}

zero_all() {
    disk=$1; size=$(disk_size "$disk"); full=$((size / MiB)); rest=$((size % MiB))
    zero_range "$disk" 0 "$full" || return 1
    if [ "$rest" -gt 0 ]; then
        dd if=/dev/zero of="$disk" bs=512 seek=$((full * 2048)) count=$((rest / 512)) conv=fsync 2>>"$PB_RUN/dd.err" || return 1
    fi
    BYTES=$size
}

is_zero_at() {
    # is_zero_at DISK OFFSET_MIB -> true when that MiB reads back as zeros
    [ -z "$(dd if="$1" bs=$MiB skip="$2" count=1 2>/dev/null | tr -d '\000' | head -c 1)" ]
}

sample_zero() {
    disk=$1; mibs=$(( $(disk_size "$disk") / MiB ))
    sync; echo 3 > /proc/sys/vm/drop_caches
    for at in 0 $((mibs / 2)) $((mibs - 1)); do
        [ "$at" -ge 0 ] && is_zero_at "$disk" "$at" || return 1
    done
}

quick() {
    disk=$1; mibs=$(( $(disk_size "$disk") / MiB ))
    wipefs -a -f "$disk" >/dev/null 2>"$PB_RUN/wipefs.err" || { ERR="wipefs: $(cat "$PB_RUN/wipefs.err")"; return 1; }
    zero_range "$disk" 0 1 || { ERR=$(cat "$PB_RUN/dd.err"); return 1; }
    [ "$mibs" -gt 1 ] && { zero_range "$disk" $((mibs - 1)) 1 || { ERR=$(cat "$PB_RUN/dd.err"); return 1; }; }
    BYTES=$(( mibs > 1 ? 2 * MiB : MiB )); USED="quick:wipefs+first/last-MiB"
    sync; echo 3 > /proc/sys/vm/drop_caches
    is_zero_at "$disk" 0 && VERIFIED="first MiB reads back zero" || { ERR="first MiB not zero after wipe"; return 1; }
}

zero() {
    disk=$1
    zero_all "$disk" || { ERR=$(cat "$PB_RUN/dd.err"); return 1; }
    USED=${USED:-zero}
    sample_zero "$disk" && VERIFIED="first/middle/last MiB read back zero" || { ERR="zero overwrite did not stick"; return 1; }
}

hardware_erase() {
    # Try the device's own erase; sets USED on success. Returns 1 when none worked.
    disk=$1; name=$(basename "$disk")
    case "$name" in
        nvme*)
            if nvme format "$disk" --ses=1 --force >"$PB_RUN/hw.out" 2>&1; then
                USED="secure:nvme-format-user-data-erase"; BYTES=$(disk_size "$disk"); return 0
            fi
            NOTES="nvme format: $(tail -n 1 "$PB_RUN/hw.out")" ;;
        sd*)
            if hdparm -I "$disk" 2>/dev/null | grep -q 'supported: enhanced erase\|^[[:space:]]*supported$' \
               && hdparm -I "$disk" 2>/dev/null | grep -q 'not[[:space:]]*frozen'; then
                if hdparm --user-master u --security-set-pass PureBoot "$disk" >/dev/null 2>&1 \
                   && hdparm --user-master u --security-erase PureBoot "$disk" >"$PB_RUN/hw.out" 2>&1; then
                    USED="secure:ata-security-erase"; BYTES=$(disk_size "$disk"); return 0
                fi
                NOTES="ata security erase: $(tail -n 1 "$PB_RUN/hw.out")"
            else
                NOTES="ata security erase not supported or frozen"
            fi ;;
    esac
    if blkdiscard --secure "$disk" >"$PB_RUN/hw.out" 2>&1; then
        USED="secure:blkdiscard-secure"; BYTES=$(disk_size "$disk"); return 0
    fi
    NOTES="${NOTES:+$NOTES; }blkdiscard --secure: $(tail -n 1 "$PB_RUN/hw.out")"
    return 1
}

secure() {
    disk=$1
    hardware_erase "$disk" && { VERIFIED="device reported erase complete"; return 0; }
    if is_true "$REQUIRE_HW"; then
        ERR="no hardware erase available and require_hardware_erase is set ($NOTES)"; return 1
    fi
    log "$disk: no hardware erase ($NOTES); falling back to a zero overwrite"
    USED="secure:fallback-zero"; zero "$disk"
}

wipe_one() {
    disk=$1; name=$(basename "$disk"); sys=/sys/block/$name
    USED=""; BYTES=0; ERR=""; NOTES=""; VERIFIED=""
    log "wiping $disk ($(disk_size "$disk") bytes) with method $METHOD"
    report installing "" "wiping $disk" "" >/dev/null 2>&1 || true
    start=$(date +%s); started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    if "$METHOD" "$disk"; then result=ok; else result=failed; FAILED=1; fi
    secs=$(( $(date +%s) - start ))
    model=$(attr "$sys/device/model"); serial=$(attr "$sys/device/serial"); [ -n "$serial" ] || serial=$(attr "$sys/serial")
    jq -n --arg disk "$disk" --arg model "$model" --arg serial "$serial" --argjson size "$(disk_size "$disk")" \
        --arg requested "$METHOD" --arg method "${USED:-$METHOD}" --argjson bytes "$BYTES" \
        --argjson secs "$secs" --arg result "$result" --arg error "$ERR" --arg notes "$NOTES" \
        --arg verified "$VERIFIED" --arg started "$started_at" \
        --arg rotational "$(attr "$sys/queue/rotational")" \
        '{disk: $disk, model: $model, serial: $serial, size_bytes: $size, rotational: ($rotational == "1"),
          method_requested: $requested, method: $method, bytes: $bytes, duration_s: $secs,
          started_at: $started, result: $result}
         + (if $verified != "" then {verified: $verified} else {} end)
         + (if $notes != "" then {notes: $notes} else {} end)
         + (if $error != "" then {error: $error} else {} end)' | add_evidence wipe
    log "$disk: $result (${USED:-$METHOD}, $BYTES bytes, ${secs}s)${ERR:+: $ERR}"
}

case "$METHOD" in quick|zero|secure) ;; *) echo "unknown wipe method '$METHOD'" > "$PB_RUN/failure"; exit 1 ;; esac
DISKS=$(jq -r '.disks // [] | if type == "array" then .[] else . end' "$TASK")
[ -n "$DISKS" ] && [ "$DISKS" != all ] || DISKS=$(list_disks)
[ -n "$DISKS" ] || { echo "no disks to wipe" > "$PB_RUN/failure"; exit 1; }
for d in $DISKS; do
    [ -b "$d" ] || { echo "disk $d not found" > "$PB_RUN/failure"; exit 1; }
done
for d in $DISKS; do wipe_one "$d"; done
if [ "$FAILED" = 1 ]; then
    echo "disk wipe failed: $(cat "$PB_RUN"/evidence.d/wipe.*.json | jq -r 'select(.result != "ok") | "\(.disk): \(.error)"' | tr '\n' ' ')" > "$PB_RUN/failure"
    exit 1
fi
