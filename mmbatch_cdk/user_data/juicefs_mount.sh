#!/bin/bash
# Compute node, storage part (after the CloudWatch agent's): installs the ECS gate (gate_lib.sh), then mounts the JuiceFS volumes as
# systemd services that start before Docker and the ECS agent (and so before any job and the MMBatch agent).
# No --writeback: a write returns only once its blocks are in S3, so a checkpoint never sits only in the
# local cache of a Spot instance that is about to vanish.
set -Eeuo pipefail
MMB_STEP=juicefs-mount
MMB_LOG=/var/log/mmbatch/boot.log
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=node_lib.sh
. "$(dirname "$0")/node_lib.sh"
# shellcheck source=gate_lib.sh
. "$(dirname "$0")/gate_lib.sh"
# shellcheck source=juicefs_lib.sh
. "$(dirname "$0")/juicefs_lib.sh"
mmb_gate_install
: "${JUICEFS_VERSION:?}" "${JUICEFS_SOURCE:?}" "${AWS_REGION:?}" "${SECRET_ARN:?}" "${META_USER:?}" "${META_DB:?}"
: "${VOLUMES:?}" "${CACHE_DIR:?}" "${CACHE_SIZE_MIB:?}" "${MAX_UPLOADS:?}" "${BUFFER_SIZE_MIB:?}" "${FORMAT_WAIT_ATTEMPTS:?}"
: "${FATAL_SHUTDOWN_MINUTES:?}"
# How long a mount service waits for its mount point; its start timeout must be longer (systemd's default,
# DefaultTimeoutStartSec=90s, would kill a slow mount first).
mount_wait=120

# The AWS CLI first: it reads the secret and MemoryDB, and fetches an s3:// JUICEFS_SOURCE.
mmb_install_aws_cli
mmb_install_juicefs
META_PASSWORD="$(mmb_retry 5 30 mmb_meta_password)" || mmb_fail "cannot read the MemoryDB password from $SECRET_ARN"
export META_PASSWORD

# The password reaches the mount services through a root-only environment file, never fstab or the unit.
env_file="$MMB_ROOT/etc/juicefs/meta.env"
mkdir -p "$(dirname "$env_file")"
(umask 077 && printf 'META_PASSWORD=%s\n' "$META_PASSWORD" >"$env_file")

units=()
# VOLUMES: "name:cluster:mount-point" entries separated by spaces.
for spec in $VOLUMES; do
  IFS=: read -r name cluster mount_point <<<"$spec"
  host="$(mmb_retry "$FORMAT_WAIT_ATTEMPTS" 60 mmb_memorydb_endpoint "$cluster")" ||
    mmb_fail "MemoryDB cluster $cluster is not available"
  meta_url="rediss://$META_USER@$host:6379/$META_DB"
  # The management server formats each volume; wait for it rather than race it.
  mmb_retry "$FORMAT_WAIT_ATTEMPTS" 60 juicefs status "$meta_url" >/dev/null ||
    mmb_fail "volume $name was never formatted; see /var/log/mmab/juicefs-format.log on the management server"
  unit="juicefs-$name.service"
  mkdir -p "$MMB_ROOT/etc/systemd/system"
  cat >"$MMB_ROOT/etc/systemd/system/$unit.mmbatch" <<UNIT
[Unit]
Description=JuiceFS volume $name at $mount_point (mmbatch-cdk)
Wants=network-online.target
After=network-online.target
Before=docker.service ecs.service

[Service]
Type=simple
EnvironmentFile=/etc/juicefs/meta.env
ExecStartPre=/usr/bin/mkdir -p $mount_point $CACHE_DIR/$name
ExecStart=/usr/local/bin/juicefs mount --no-usage-report --cache-dir $CACHE_DIR/$name --cache-size $CACHE_SIZE_MIB --buffer-size $BUFFER_SIZE_MIB --max-uploads $MAX_UPLOADS $meta_url $mount_point
ExecStartPost=/usr/bin/bash -c 'for _ in \$(seq $mount_wait); do mountpoint -q $mount_point && exit 0; sleep 1; done; exit 1'
ExecStop=/usr/local/bin/juicefs umount --flush $mount_point
TimeoutStartSec=$((mount_wait + 60))
TimeoutStopSec=300
Restart=on-failure

[Install]
WantedBy=multi-user.target
RequiredBy=ecs.service
UNIT
  mv "$MMB_ROOT/etc/systemd/system/$unit.mmbatch" "$MMB_ROOT/etc/systemd/system/$unit"
  units+=("$unit")
done

systemctl daemon-reload
systemctl enable --now "${units[@]}" || mmb_fail "a JuiceFS mount service failed to start: journalctl -u ${units[*]}"
mmb_log "mounted: $VOLUMES"
