#!/bin/bash
# Compute node, after the storage mount part: tunes the ECS agent for checkpoint/restore, then has the MMBatch
# agent (pagent) installed from the management server by a systemd unit (AGENT_MODE=required), or records
# that this deployment has no agent (AGENT_MODE=absent: no MMAB install source, so checkpointing is off).
#
# Why a unit and not this script: cloud-init runs this script inside cloud-final.service, and the ECS and
# Docker units wait for cloud-init to finish; AWS warns that starting them from user data "may cause a
# deadlock" (ECS developer guide, installing the container agent; aws/amazon-ecs-agent#1707). MemVerge's
# installer is closed, so whether it (re)starts Docker or needs it running is unknown. The unit runs it
# After=docker.service (which, AWS says, itself waits for cloud-init) and is started with --no-block, so
# user data never waits on it.
# It is deliberately NOT ordered Before=ecs.service: an installer that ran `systemctl restart ecs` would
# then wait for the unit that runs it until the unit's start timeout. The ECS gate (node_lib.sh) keeps ECS
# off the node until the install has succeeded instead.
#
# Run by the unit as `mmbatch-node-bootstrap install-agent`: a copy of this rendered script, settings included; the
# same copy runs as `mmbatch-node-bootstrap boot-check` on every boot, before ECS (boot_check_lib.sh, api_guard_lib.sh).
set -Eeuo pipefail
MMB_STEP=node-bootstrap
MMB_LOG=/var/log/mmbatch/boot.log
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=node_lib.sh
. "$(dirname "$0")/node_lib.sh"
# shellcheck source=boot_check_lib.sh
. "$(dirname "$0")/boot_check_lib.sh"
# shellcheck source=api_guard_lib.sh
. "$(dirname "$0")/api_guard_lib.sh"
# The storage part, which runs first, installs the ECS gate before anything else.
[ -x "$MMB_ROOT/usr/local/sbin/mmbatch-gate" ] || mmb_fail "the ECS gate is missing: the storage part must run first"
: "${MMAB_VERSION:?}" "${AGENT_MODE:?}" "${FATAL_SHUTDOWN_MINUTES:?}" "${BOOT_CHECK_SECONDS:?}"

marker="$MMB_STATE/pagent-$MMAB_VERSION.installed"
ready="$MMB_STATE/agent-ready"
# Bounds of one install: the installer's own run, and the rest of the unit's start timeout (one curl try).
installer_timeout=600
unit_margin=180

# mmb_retry_until DEADLINE MAX_DELAY COMMAND...: like mmb_retry, but bounded by a clock: gives up once the next
# try would start after DEADLINE (seconds since the epoch), however many tries that allowed.
mmb_retry_until() {
  local deadline=$1 max_delay=$2 delay=2 attempt=1
  shift 2
  until "$@"; do
    if (($(date +%s) + delay > deadline)); then
      mmb_log "giving up after $attempt attempts: $*"
      return 1
    fi
    mmb_log "attempt $attempt failed: $*; next try in ${delay}s"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
  done
}

# The server's certificate is self-signed by default (-k); traffic stays inside the VPC.
fetch_installer() { curl -fsSk --connect-timeout 5 --max-time 60 -o "$installer" "$url"; }

# install_agent: fetch the installer from the server until AGENT_WAIT_SECONDS have passed, run it, record it.
install_agent() {
  MMB_STEP=agent-install
  if [ -f "$marker" ]; then
    mmb_log "pagent for MMAB $MMAB_VERSION already installed"
    return 0
  fi
  local deadline
  url="https://$MMAB_ADDRESS:$MMAB_PORT/api/v1/scripts/install-pagent"
  installer="$(mktemp)"
  deadline=$(($(date +%s) + AGENT_WAIT_SECONDS))
  mmb_log "fetching the pagent installer from $url for up to ${AGENT_WAIT_SECONDS}s (the server may still be starting)"
  mmb_retry_until "$deadline" 60 fetch_installer ||
    mmb_fail "management server $MMAB_ADDRESS:$MMAB_PORT did not serve the agent installer within ${AGENT_WAIT_SECONDS}s"
  timeout "$installer_timeout" bash "$installer" || mmb_fail "the pagent installer from $url failed (or ran over ${installer_timeout}s)"
  rm -f "$installer"
  mkdir -p "$MMB_STATE"
  date -u >"$marker"
  printf 'installed for MMAB %s\n' "$MMAB_VERSION" >"$ready"
  mmb_log "pagent installed for MMAB $MMAB_VERSION; the ECS gate opens"
}

case "$AGENT_MODE" in
  required) : "${MMAB_ADDRESS:?}" "${MMAB_PORT:?}" "${AGENT_WAIT_SECONDS:?}" ;;
  absent) ;;
  *) mmb_fail "AGENT_MODE is '$AGENT_MODE'; expected required or absent" ;;
esac
case "${1:-}" in
  install-agent)
    install_agent
    exit 0
    ;;
  boot-check)
    mmb_boot_check
    [ "$AGENT_MODE" = absent ] || mmb_api_guard
    exit 0
    ;;
esac
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

# Spot draining: on a Spot interruption notice ECS sets this instance DRAINING, so no new task is placed here.
# Draining does not stop running Batch jobs: they are standalone tasks, and AWS's container-instance-draining
# page says "Standalone tasks in the PENDING or RUNNING state are unaffected". So ECS_CONTAINER_STOP_TIMEOUT is
# NOT a final-checkpoint window after a Spot notice; it is the grace a job's container gets whenever ECS stops
# it (a terminated job, an agent shutdown). Whether a final checkpoint is taken within the 2-minute notice
# depends on the MMBatch agent's own handling of the notice, which MemVerge does not document (assumed, not
# known); the periodic checkpoints (ckptInterval) are what a restore can count on.
set_ecs_option ECS_ENABLE_SPOT_INSTANCE_DRAINING true
set_ecs_option ECS_CONTAINER_STOP_TIMEOUT "$ECS_STOP_TIMEOUT"
# A restore runs when the container starts: give it time.
set_ecs_option ECS_CONTAINER_START_TIMEOUT "$ECS_START_TIMEOUT"
set_ecs_option ECS_CONTAINER_CREATE_TIMEOUT "$ECS_CREATE_TIMEOUT"
set_ecs_option ECS_IMAGE_PULL_BEHAVIOR prefer-cached
mmb_log "ECS agent configured in $ecs_config"

mkdir -p "$MMB_ROOT/usr/local/sbin" "$MMB_ROOT/etc/systemd/system"
install -m 0700 "$0" "$MMB_ROOT/usr/local/sbin/mmbatch-node-bootstrap"
mmb_boot_unit

if [ "$AGENT_MODE" = absent ]; then
  mkdir -p "$MMB_STATE"
  printf 'absent: checkpointing is OFF\n' >"$ready"
  mmb_log "WARNING: checkpointing is OFF: this deployment has no MMAB install source (mmabSource), so this node" \
    "runs jobs without the MMBatch agent, and a Spot reclaim loses a running job's progress"
  exit 0
fi
if [ -f "$marker" ]; then
  mmb_log "pagent for MMAB $MMAB_VERSION already installed"
  exit 0
fi

# Type=oneshot with RemainAfterExit=yes, like cloud-final.service itself: the unit stays active after the
# installer returns, so systemd does not stop it and end whatever the installer left running in its cgroup.
unit=mmbatch-agent-install.service
cat >"$MMB_ROOT/etc/systemd/system/$unit.mmbatch" <<UNIT
[Unit]
Description=MMBatch agent install from the management server (mmbatch-cdk)
Wants=network-online.target docker.service
After=network-online.target docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/mmbatch-node-bootstrap install-agent
TimeoutStartSec=$((AGENT_WAIT_SECONDS + installer_timeout + unit_margin))

[Install]
WantedBy=multi-user.target
UNIT
mv "$MMB_ROOT/etc/systemd/system/$unit.mmbatch" "$MMB_ROOT/etc/systemd/system/$unit"
systemctl daemon-reload
systemctl enable "$unit"
# --no-block: queue the start and return; the unit runs once cloud-final (and Docker) are done.
systemctl start --no-block "$unit"
mmb_log "agent install queued ($unit, up to ${AGENT_WAIT_SECONDS}s for the server); ECS stays gated until it succeeds"
