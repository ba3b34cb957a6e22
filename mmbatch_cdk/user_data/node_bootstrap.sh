#!/bin/bash
# Compute node: tunes the ECS agent for checkpoint/restore, then installs the MMBatch agent (pagent)
# from the management server. Runs after the storage mount script.
set -Eeuo pipefail
MMB_STEP=node-bootstrap
MMB_LOG=/var/log/mmbatch/boot.log
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${MMAB_ADDRESS:?}" "${MMAB_PORT:?}" "${MMAB_VERSION:?}" "${AGENT_INSTALL_ATTEMPTS:?}"
: "${ECS_STOP_TIMEOUT:?}" "${ECS_START_TIMEOUT:?}" "${ECS_CREATE_TIMEOUT:?}"

ecs_config="$MMB_ROOT/etc/ecs/ecs.config"

# set_ecs_option KEY VALUE: one line per key, replaced in place when the script runs again.
set_ecs_option() {
  mkdir -p "$(dirname "$ecs_config")"
  touch "$ecs_config"
  grep -v "^$1=" "$ecs_config" >"$ecs_config.mmbatch" || true
  printf '%s=%s\n' "$1" "$2" >>"$ecs_config.mmbatch"
  mv "$ecs_config.mmbatch" "$ecs_config"
}

# Spot interruption notice -> the instance drains, so jobs get their stop timeout to checkpoint.
set_ecs_option ECS_ENABLE_SPOT_INSTANCE_DRAINING true
set_ecs_option ECS_CONTAINER_STOP_TIMEOUT "$ECS_STOP_TIMEOUT"
# A restore runs when the container starts: give it time.
set_ecs_option ECS_CONTAINER_START_TIMEOUT "$ECS_START_TIMEOUT"
set_ecs_option ECS_CONTAINER_CREATE_TIMEOUT "$ECS_CREATE_TIMEOUT"
set_ecs_option ECS_IMAGE_PULL_BEHAVIOR prefer-cached
mmb_log "ECS agent configured in $ecs_config"

marker="$MMB_ROOT/var/lib/mmbatch/pagent-$MMAB_VERSION.installed"
if [ -f "$marker" ]; then
  mmb_log "pagent for MMAB $MMAB_VERSION already installed"
  exit 0
fi
url="https://$MMAB_ADDRESS:$MMAB_PORT/api/v1/scripts/install-pagent"
installer="$(mktemp)"
# The server's certificate is self-signed by default (-k); traffic stays inside the VPC.
fetch_installer() { curl -fsSk --connect-timeout 5 --max-time 120 -o "$installer" "$url"; }
mmb_log "fetching the pagent installer from $url (the server may still be starting)"
mmb_retry "$AGENT_INSTALL_ATTEMPTS" 60 fetch_installer || mmb_fail "management server $MMAB_ADDRESS:$MMAB_PORT never answered"
bash "$installer" || mmb_fail "the pagent installer from $url failed"
rm -f "$installer"
mkdir -p "$(dirname "$marker")"
date -u >"$marker"
mmb_log "pagent installed for MMAB $MMAB_VERSION"
