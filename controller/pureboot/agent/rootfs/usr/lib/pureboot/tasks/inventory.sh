#!/bin/sh
# inventory: hardware facts from /proc and /sys (no dmidecode needed): CPU, memory, disks,
# NICs, DMI identity, firmware mode. Saved for the final report and sent right away.
. /usr/lib/pureboot/lib.sh
load_cmdline
TASK=$1
DMI=/sys/class/dmi/id

attr() { [ -r "$1" ] && tr -d '\n' < "$1" 2>/dev/null | sed 's/ *$//'; }

cpu_json() {
    model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
    threads=$(grep -c '^processor' /proc/cpuinfo)
    sockets=$(awk -F': ' '/^physical id/ {print $2}' /proc/cpuinfo | sort -u | wc -l)
    flags=$(awk -F': ' '/^flags/ {print $2; exit}' /proc/cpuinfo)
    virt=false; case " $flags " in *" vmx "*|*" svm "*) virt=true ;; esac
    jq -n --arg model "$model" --argjson threads "$threads" --argjson sockets "${sockets:-0}" \
        --arg arch "$(uname -m)" --argjson virt "$virt" \
        '{model: $model, threads: $threads, sockets: (if $sockets > 0 then $sockets else 1 end),
          arch: $arch, virtualization: $virt}'
}

disks_json() {
    for disk in $(list_disks); do
        n=$(basename "$disk"); s=/sys/block/$n
        serial=$(attr "$s/device/serial"); [ -n "$serial" ] || serial=$(attr "$s/serial")
        jq -n --arg name "$n" --arg model "$(attr "$s/device/model")" --arg serial "$serial" \
            --argjson size "$(disk_size "$disk")" --arg rot "$(attr "$s/queue/rotational")" \
            --arg discard "$(attr "$s/queue/discard_max_bytes")" \
            --arg transport "$(case "$n" in nvme*) echo nvme ;; vd*) echo virtio ;; sd*) echo scsi ;; mmc*) echo mmc ;; *) echo other ;; esac)" \
            '{name: $name, model: $model, serial: $serial, size_bytes: $size, rotational: ($rot == "1"),
              discard: (($discard | tonumber? // 0) > 0), transport: $transport}'
    done | jq -s .
}

nics_json() {
    for n in /sys/class/net/*; do
        i=$(basename "$n"); [ "$i" = lo ] && continue
        driver=$(basename "$(readlink "$n/device/driver" 2>/dev/null)" 2>/dev/null)
        carrier=$(cat "$n/carrier" 2>/dev/null); speed=$(cat "$n/speed" 2>/dev/null)
        ip4=$(ip -4 -o addr show dev "$i" 2>/dev/null | awk '{print $4}' | head -n 1)
        jq -n --arg name "$i" --arg mac "$(attr "$n/address")" --arg driver "$driver" \
            --arg carrier "$carrier" --arg speed "$speed" --arg ip "$ip4" \
            '{name: $name, mac: $mac, driver: $driver, link: ($carrier == "1"),
              speed_mbps: ($speed | tonumber? // null | if . != null and . < 0 then null else . end),
              ipv4: (if $ip == "" then null else $ip end)}'
    done | jq -s .
}

dmi_json() {
    jq -n --arg vendor "$(attr $DMI/sys_vendor)" --arg product "$(attr $DMI/product_name)" \
        --arg version "$(attr $DMI/product_version)" --arg serial "$(attr $DMI/product_serial)" \
        --arg uuid "$(attr $DMI/product_uuid | tr 'A-F' 'a-f')" --arg board "$(attr $DMI/board_name)" \
        --arg bios_vendor "$(attr $DMI/bios_vendor)" --arg bios_version "$(attr $DMI/bios_version)" \
        --arg chassis "$(attr $DMI/chassis_type)" \
        '{vendor: $vendor, product: $product, version: $version, serial: $serial, uuid: $uuid,
          board: $board, bios_vendor: $bios_vendor, bios_version: $bios_version, chassis_type: $chassis}'
}

firmware=bios; [ -d /sys/firmware/efi ] && firmware=uefi
mem=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
jq -n --argjson cpu "$(cpu_json)" --argjson mem "$mem" --argjson disks "$(disks_json)" \
    --argjson nics "$(nics_json)" --argjson dmi "$(dmi_json)" --arg fw "$firmware" \
    --arg kernel "$(uname -r)" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    '{cpu: $cpu, memory_bytes: $mem, disks: $disks, nics: $nics, dmi: $dmi, firmware: $fw,
      collected_by: "pureboot-agent", agent_kernel: $kernel, collected_at: $at}' > "$PB_RUN/hardware.json" \
    || { echo "inventory: could not assemble the hardware facts" > "$PB_RUN/failure"; exit 1; }
log "inventory: $(jq -r '"\(.cpu.threads) CPU(s) \(.cpu.model), \(.memory_bytes / 1048576 | floor) MiB, \(.disks | length) disk(s), \(.nics | length) NIC(s), \(.firmware)"' "$PB_RUN/hardware.json")"
jq '{hardware: .}' "$PB_RUN/hardware.json" > "$PB_RUN/inventory-report.json"
# An inventory boot sends the facts with its final report, the only one it may make.
inventory_mode || report installing "" "inventory" "hardware inventory collected" "$PB_RUN/inventory-report.json" || true
