#!/bin/sh
# image_deploy: stream an image over HTTP straight onto a disk, then prove it landed.
#
# Parameters: image (template id or name) or url; format raw|raw.gz|raw.zst|qcow2|auto;
# sha256 (of the file as served); target (disk, default the first one); grow_partition;
# inject (write pureboot.json into the first partition); retries (default 5).
#
# raw/raw.gz/raw.zst are streamed: curl -> fifo [-> tee(sha256 of the download)
#   -> decompressor -> tee(sha256 + length of the image)] -> dd onto the disk.
# A dropped connection is resumed with a Range request into the same pipeline. After the
# write the disk is read back (page cache dropped) and must hash like the image did.
# qcow2 cannot be streamed: it is downloaded to RAM, checked, and converted onto the disk.
. /usr/lib/pureboot/lib.sh
load_cmdline
TASK=$1
W=$PB_RUN/deploy
rm -rf "$W"; mkdir -p "$W"

die() {
    echo "$*" > "$PB_RUN/failure"; log "image_deploy: $*"
    if [ -n "$WRITING" ]; then  # never leave a bootable half-image behind: kill the boot sector
        dd if=/dev/zero of="$DISK" bs=1M count=1 conv=fsync 2>/dev/null \
            && log "cleared the first MiB of $DISK (unverified content must not boot)"
    fi
    exit 1
}

progress() { report installing "$1" "$2" "" >/dev/null 2>&1 || true; }

# -- what to fetch ---------------------------------------------------------------------
resolve_source() {
    URL=$(param "$TASK" url); IMAGE=$(param "$TASK" image)
    SHA=$(param "$TASK" sha256); FORMAT=$(param "$TASK" format auto)
    META=""
    if [ -z "$URL" ] && [ -n "$IMAGE" ]; then
        case "$IMAGE" in
            *://*) URL=$IMAGE ;;
            *[!0-9]*)
                api GET "/api/v1/templates?name=$IMAGE&order_by=-id&page_size=1" \
                    || die "cannot look up template '$IMAGE': HTTP $API_CODE"
                jq '.results[0] // empty' "$PB_RUN/api.body" > "$W/meta.json"
                [ -s "$W/meta.json" ] || die "no template named '$IMAGE'"
                META=$W/meta.json ;;
            *)
                api GET "/api/v1/templates/$IMAGE" || die "template $IMAGE: HTTP $API_CODE"
                cp "$PB_RUN/api.body" "$W/meta.json"; META=$W/meta.json ;;
        esac
        if [ -n "$META" ]; then
            URL="$PB_URL/api/v1/templates/$(jq -r .id "$META")/content"
            [ -n "$SHA" ] || SHA=$(jq -r '.sha256 // empty' "$META")
        fi
    fi
    [ -n "$URL" ] || die "image_deploy needs 'image' (template id or name) or 'url'"
    SHA=$(echo "$SHA" | tr 'A-F' 'a-f')
}

fetch_head() {
    # Size and first bytes of the source; a 404 or 401 here is final.
    code=$(curl -sS -m 60 --retry 5 --retry-connrefused -H "Authorization: Bearer $PB_TOKEN" \
        -r 0-7 -o "$W/magic" -D "$W/headers" -w '%{http_code}' "$URL" 2>"$W/curl.err") || code=${code:-000}
    case "$code" in
        200|206) ;;
        000) die "cannot reach $URL: $(tail -n 1 "$W/curl.err")" ;;
        *) die "image download failed: HTTP $code for $URL" ;;
    esac
    SIZE=$(tr -d '\r' < "$W/headers" | awk -F/ 'tolower($0) ~ /^content-range:/ {print $2}' | tail -n 1)
    [ -n "$SIZE" ] || SIZE=$(param "$TASK" size)
    magic=$(od -An -tx1 -N4 "$W/magic" | tr -d ' \n')
    if [ "$FORMAT" = auto ]; then
        case "$magic" in
            1f8b*) FORMAT=raw.gz ;;
            28b52ffd) FORMAT=raw.zst ;;
            514649fb) FORMAT=qcow2 ;;
            *) FORMAT=raw ;;
        esac
    fi
}

# -- streaming write -------------------------------------------------------------------
decompressor() {
    case "$FORMAT" in
        raw) echo cat ;;
        raw.gz|gz) echo "gzip -dc" ;;
        raw.zst|zst) echo "zstd -dcq" ;;
        *) die "unsupported image format '$FORMAT' (raw, raw.gz, raw.zst, qcow2)" ;;
    esac
}

position_file() {
    # The fdinfo of dd's descriptor on the disk: its "pos:" is the bytes written so far.
    for fd in /proc/"$1"/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "$DISK" ] && echo "/proc/$1/fdinfo/${fd##*/}" && return
    done
}

written_bytes() {
    # Shell builtins only: a fork per poll would steal the one vCPU from the copy.
    pos=0
    [ -n "$POSFILE" ] && while read -r key value; do
        [ "$key" = "pos:" ] && pos=$value && break
    done < "$POSFILE" 2>/dev/null
    echo "$pos"
}

watch_progress() {
    # Report percent and bytes about every 10 s while `curl` ($1) runs.
    ticks=0
    while kill -0 "$1" 2>/dev/null; do
        sleep 1; ticks=$((ticks + 1))
        [ -z "$POSFILE" ] && POSFILE=$(position_file "$DDPID")
        [ $((ticks % 10)) = 0 ] || continue
        written=$(written_bytes)
        if [ -n "$SIZE" ] && [ "$SIZE" -gt 0 ] && [ "$FORMAT" = raw ]; then
            progress $(( written * 90 / SIZE )) "writing $written/$SIZE bytes"
        else
            progress 50 "writing $written bytes"
        fi
    done
}

stream_to_disk() {
    # Every extra pipe stage and hash pass costs (busybox copies in small blocks), so a
    # raw image with a known sha256 goes straight to dd and is hashed once, on read-back.
    dec=$(decompressor)
    cd "$W" && mkfifo feed
    WRITING=1
    if [ "$dec" = cat ] && [ -n "$SHA" ]; then
        STREAM_SHA=""
        dd of="$DISK" bs=1M conv=fsync < feed 2>dd.err &
    else
        mkfifo img.sum.in
        sha256sum < img.sum.in > img.sum &
        STREAM_SHA=img.sum
        if [ "$dec" = cat ]; then
            tee img.sum.in < feed | dd of="$DISK" bs=1M conv=fsync 2>dd.err &
        else
            mkfifo src.sum.in img.len.in
            sha256sum < src.sum.in > src.sum &
            wc -c < img.len.in > img.len &
            # shellcheck disable=SC2086
            tee src.sum.in < feed | $dec | tee img.sum.in img.len.in | dd of="$DISK" bs=1M conv=fsync 2>dd.err &
        fi
    fi
    DDPID=$!; POSFILE=""  # dd ends the pipeline: $! is dd, its status is the write's
    exec 3>feed  # held open across download attempts: the pipeline sees one stream
    offset=0; attempt=0; retries=$(param "$TASK" retries 5)
    while :; do
        attempt=$((attempt + 1))
        set -- -sS --connect-timeout 10 -m 7200 --speed-limit 1024 --speed-time 30 \
            -H "Authorization: Bearer $PB_TOKEN" -o feed -w '%{http_code} %{size_download}'
        [ "$offset" -gt 0 ] && set -- "$@" -C "$offset"
        curl "$@" "$URL" > curl.out 2>curl.err &
        cpid=$!
        watch_progress "$cpid"
        wait "$cpid"; rc=$?
        read -r code got < curl.out; got=${got%.*}
        offset=$((offset + ${got:-0}))
        [ "$rc" = 0 ] && case "$code" in 200|206) break ;; esac
        case "$code" in 4??) exec 3>&-; wait; die "image download failed: HTTP $code" ;; esac
        kill -0 "$DDPID" 2>/dev/null || { exec 3>&-; wait; die "writing to $DISK failed: $(cat dd.err)"; }
        [ "$attempt" -gt "$retries" ] && { exec 3>&-; wait; die "download failed after $attempt attempts: $(tail -n 1 curl.err)"; }
        log "download interrupted at $offset bytes ($(tail -n 1 curl.err)); resuming (attempt $((attempt + 1)))"
        sleep 2
    done
    exec 3>&-
    wait "$DDPID"; ddrc=$?
    wait
    [ "$ddrc" = 0 ] || {
        grep -q "No space left" dd.err && die "disk $DISK ($(disk_size "$DISK") bytes) is too small for the image"
        die "writing to $DISK failed: $(cat dd.err)"
    }
    IMG_LEN=$offset; [ -f img.len ] && IMG_LEN=$(cat img.len)
    IMG_SHA=""; [ -n "$STREAM_SHA" ] && IMG_SHA=$(cut -d' ' -f1 "$STREAM_SHA")
    SRC_SHA=$IMG_SHA; [ -f src.sum ] && SRC_SHA=$(cut -d' ' -f1 src.sum)
    cd /
}

# -- qcow2 -----------------------------------------------------------------------------
qcow2_to_disk() {
    avail=$(df -k /tmp | awk 'NR==2 {print $4 * 1024}')
    [ -n "$SIZE" ] && [ "$SIZE" -ge "$avail" ] && die "qcow2 image ($SIZE bytes) does not fit in RAM ($avail free); use raw.zst"
    code=$(curl -sS --retry 5 --retry-connrefused -C - -H "Authorization: Bearer $PB_TOKEN" \
        -o /tmp/image.qcow2 -w '%{http_code}' "$URL" 2>"$W/curl.err") || die "download failed: $(cat "$W/curl.err")"
    case "$code" in 200|206) ;; *) die "image download failed: HTTP $code" ;; esac
    SRC_SHA=$(sha256sum /tmp/image.qcow2 | cut -d' ' -f1)
    check_source
    vsize=$(qemu-img info --output=json /tmp/image.qcow2 | jq '."virtual-size"')
    [ "$vsize" -le "$(disk_size "$DISK")" ] || die "disk $DISK ($(disk_size "$DISK") bytes) is too small for the image ($vsize bytes)"
    progress 40 "converting qcow2 onto $DISK"
    WRITING=1
    qemu-img convert -n -f qcow2 -O raw /tmp/image.qcow2 "$DISK" 2>"$W/convert.err" \
        || die "qemu-img convert onto $DISK failed: $(cat "$W/convert.err")"
    sync; echo 3 > /proc/sys/vm/drop_caches
    qemu-img compare --image-opts "driver=qcow2,file.filename=/tmp/image.qcow2" \
        "driver=raw,size=$vsize,file.driver=host_device,file.filename=$DISK" >"$W/compare.out" 2>&1 \
        || die "verification failed: the disk differs from the image ($(cat "$W/compare.out"))"
    IMG_LEN=$vsize; IMG_SHA="qemu-img-compare:identical"
    rm -f /tmp/image.qcow2
}

check_source() {
    if [ -n "$SHA" ] && [ "$SHA" != "$SRC_SHA" ]; then
        die "checksum mismatch: expected sha256 $SHA, got $SRC_SHA"
    fi
}

read_back() {
    # The first $1 bytes of the disk in 1 MiB reads (head -c reads in small blocks: 4x slower).
    mib=$(( $1 >> 20 )); rest=$(( $1 & 1048575 ))
    dd if="$DISK" bs=1M count="$mib" 2>/dev/null
    [ "$rest" -gt 0 ] && dd if="$DISK" bs=1M skip="$mib" count=1 2>/dev/null | head -c "$rest"
    return 0
}

verify_readback() {
    # The disk, read back past the page cache, must hash like the image: the expected
    # sha256 for a raw image (proves download and write at once), else the stream's hash.
    progress 92 "verifying $IMG_LEN bytes on $DISK"
    sync; echo 3 > /proc/sys/vm/drop_caches
    got=$(read_back "$IMG_LEN" | sha256sum | cut -d' ' -f1)
    if [ -z "$IMG_SHA" ]; then  # raw, hashed only here
        IMG_SHA=$got; SRC_SHA=$got
        check_source
    fi
    [ "$got" = "$IMG_SHA" ] || die "verification failed: $DISK reads back sha256 $got, image was $IMG_SHA"
    log "verified: $IMG_LEN bytes on $DISK hash $got"
}

# -- after the write -------------------------------------------------------------------
reread() { blockdev --rereadpt "$DISK" 2>/dev/null; sleep 1; }

grow_last_partition() {
    reread
    sfdisk --relocate gpt-bak-std "$DISK" >/dev/null 2>&1  # GPT backup header to the disk's end
    last=$(sfdisk -J "$DISK" 2>/dev/null | jq -r '.partitiontable.partitions | length')
    [ -n "$last" ] && [ "$last" -gt 0 ] || { log "grow_partition: no partition table, skipped"; return 0; }
    echo ", +" | sfdisk --no-reread --no-tell-kernel -N "$last" "$DISK" >"$W/grow.out" 2>&1 \
        || die "growing partition $last failed: $(tail -n 3 "$W/grow.out")"
    reread
    part=$(part_dev "$DISK" "$last")
    if [ "$(od -An -tx1 -j 1080 -N2 "$part" | tr -d ' \n')" = 53ef ]; then  # ext2/3/4 magic
        e2fsck -fy "$part" >/dev/null 2>&1; resize2fs "$part" >"$W/resize.out" 2>&1 \
            || die "resize2fs $part failed: $(tail -n 2 "$W/resize.out")"
    fi
    log "grew partition $last of $DISK to the end of the disk"
}

inject_phone_home() {
    [ -s "$PB_RUN/phone_home.json" ] || die "inject requested but the controller sent no phone_home credentials"
    reread
    part=$(part_dev "$DISK" 1)
    [ -b "$part" ] || die "inject: $DISK has no first partition ($part)"
    mkdir -p /mnt/target
    mount "$part" /mnt/target 2>"$W/mount.err" || die "inject: cannot mount $part: $(cat "$W/mount.err")"
    jq --arg node "$PB_NODE" '{url: .url, node: ($node | tonumber? // $node), token: .token}' \
        "$PB_RUN/phone_home.json" > /mnt/target/pureboot.json
    chmod 600 /mnt/target/pureboot.json 2>/dev/null
    sync; umount /mnt/target
    log "wrote pureboot.json (phone-home credentials) to $part"
}

# -- main ------------------------------------------------------------------------------
resolve_source
DISK=$(param "$TASK" target); case "$DISK" in ""|auto) DISK=$(first_disk) ;; esac
[ -b "$DISK" ] || die "target disk '$DISK' not found (disks: $(list_disks | tr '\n' ' '))"
fetch_head
log "deploying $URL ($FORMAT, ${SIZE:-?} bytes) to $DISK ($(disk_size "$DISK") bytes)"
if [ "$FORMAT" = raw ] && [ -n "$SIZE" ] && [ "$SIZE" -gt "$(disk_size "$DISK")" ]; then
    die "disk $DISK ($(disk_size "$DISK") bytes) is too small for the image ($SIZE bytes)"
fi
uptime_ms() { read -r up _ < /proc/uptime; echo $(( ${up%.*} * 1000 + 10#${up#*.}0 )); }
started=$(uptime_ms)
progress 1 "downloading"
if [ "$FORMAT" = qcow2 ]; then
    qcow2_to_disk
else
    stream_to_disk
    written_at=$(uptime_ms)
    [ -n "$SRC_SHA" ] && check_source  # compressed: the download itself, before reading back
    verify_readback
fi
ended=$(uptime_ms); written_at=${written_at:-$ended}
elapsed=$(( (ended - started) / 1000 ))
is_true "$(param "$TASK" grow_partition false)" && grow_last_partition
is_true "$(param "$TASK" inject false)" && inject_phone_home
jq -n --arg disk "$DISK" --arg url "$URL" --arg format "$FORMAT" --arg sha "$SRC_SHA" \
    --arg img "$IMG_SHA" --argjson bytes "$IMG_LEN" --argjson secs "$elapsed" \
    --argjson write_ms $((written_at - started)) --argjson verify_ms $((ended - written_at)) \
    '{disk: $disk, source: $url, format: $format, source_sha256: $sha, image_sha256: $img,
      bytes: $bytes, duration_s: $secs, write_ms: $write_ms, verify_ms: $verify_ms, verified: true}' \
    | add_evidence deploy
progress 95 "image written and verified"
log "image_deploy done: $IMG_LEN bytes in ${elapsed}s"
