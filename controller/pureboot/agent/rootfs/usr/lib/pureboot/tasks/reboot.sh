#!/bin/sh
# reboot: how the agent ends (after the final report): reboot (default) or power off.
# Parameters: poweroff (bool), delay (seconds before it happens).
. /usr/lib/pureboot/lib.sh
TASK=$1
if is_true "$(param "$TASK" poweroff false)"; then echo poweroff; else echo reboot; fi > "$PB_RUN/final"
delay=$(param "$TASK" delay 0)
case "$delay" in ''|*[!0-9]*) delay=0 ;; esac
echo "$delay" > "$PB_RUN/final_delay"
log "will $(cat "$PB_RUN/final") after the final report${delay:+ (delay ${delay}s)}"
