#!/bin/bash
# Compute node, storage part (after the CloudWatch agent's): installs the ECS gate (gate_lib.sh), then mounts the EFS checkpoint
# file system through its access point, TLS and IAM on.
set -Eeuo pipefail
MMB_STEP=efs-mount
MMB_LOG=/var/log/mmbatch/boot.log
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=node_lib.sh
. "$(dirname "$0")/node_lib.sh"
# shellcheck source=gate_lib.sh
. "$(dirname "$0")/gate_lib.sh"
mmb_gate_install
: "${FILE_SYSTEM_ID:?}" "${ACCESS_POINT_ID:?}" "${MOUNT_POINT:?}" "${FATAL_SHUTDOWN_MINUTES:?}"

if ! command -v mount.efs >/dev/null 2>&1; then
  mmb_log "installing amazon-efs-utils (the TLS mount helper)"
  mmb_retry 5 30 dnf install -y amazon-efs-utils
fi
# EFS allows 1,500 MiB/s per client with Elastic throughput from amazon-efs-utils 2.0 on, 500 MiB/s before.
efs_utils=$(rpm -q --queryformat '%{VERSION}' amazon-efs-utils 2>/dev/null) || efs_utils=""
case "$efs_utils" in
  [2-9].* | [1-9][0-9].*) mmb_log "amazon-efs-utils $efs_utils" ;;
  *) mmb_log "WARNING: amazon-efs-utils ${efs_utils:-of unknown version} limits this node to 500 MiB/s on EFS (2.0 or later: 1,500 MiB/s); checkpoints take longer" ;;
esac

fstab="$MMB_ROOT/etc/fstab"
entry="$FILE_SYSTEM_ID:/ $MOUNT_POINT efs _netdev,noresvport,tls,iam,accesspoint=$ACCESS_POINT_ID 0 0"
mkdir -p "$MMB_ROOT$MOUNT_POINT" "$(dirname "$fstab")"
touch "$fstab"
if ! grep -qxF "$entry" "$fstab"; then
  # Replace any earlier entry for the mount point, so a re-run never leaves two.
  awk -v mp="$MOUNT_POINT" '$2 != mp' "$fstab" >"$fstab.mmbatch"
  printf '%s\n' "$entry" >>"$fstab.mmbatch"
  cat "$fstab.mmbatch" >"$fstab"
  rm -f "$fstab.mmbatch"
fi

if mountpoint -q "$MOUNT_POINT"; then
  mmb_log "$MOUNT_POINT is already mounted"
else
  # A new mount target's DNS name can take a minute or two to resolve.
  mmb_retry 12 30 mount "$MOUNT_POINT" || mmb_fail "could not mount $FILE_SYSTEM_ID at $MOUNT_POINT"
fi
mmb_log "mounted $FILE_SYSTEM_ID (access point $ACCESS_POINT_ID) at $MOUNT_POINT"
