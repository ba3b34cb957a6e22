#!/bin/bash
# Compute-node helpers, sourced after lib.sh by every node script; render() inlines this file too.
#
# A node fails closed. cloud-init runs every user-data part even after one fails (it only records the
# failure), and the ECS agent's unit starts after cloud-final regardless of how the parts ended
# (aws/amazon-ecs-agent, packaging/amazon-linux-ami-integrated/ecs.service: "After=cloud-final.service").
# So the storage part (the first part after the CloudWatch agent's) first installs a gate (gate_lib.sh): an ecs.service
# drop-in whose ExecStartPre runs /usr/local/sbin/mmbatch-gate. ECS, and with it every AWS Batch job,
# starts only once the gate passes: /mmc-checkpoint is a mount point, the agent is installed (or not
# required: AGENT_MODE=absent), and no fatal boot error was recorded. ExecStartPre= lines in a drop-in are
# added to the unit's own. A failed ExecStartPre fails the start, and the unit's Restart=on-failure with
# RestartSec=10s tries again every 10 s (systemd.service(5): Restart= also covers ExecStartPre= processes),
# too slowly to reach systemd's default start limit (5 starts within 10 s), so ECS starts by itself once
# the gate opens.
#
# Any non-zero exit of a node script (mmb_fail, a failed command under set -e, a missing setting) is fatal:
# one "mmbatch: FATAL ..." line goes to the boot log, stderr (cloud-init's log) and /dev/console (the EC2
# console output), the gate records it, and the node asks to shut down in FATAL_SHUTDOWN_MINUTES
# ("never" keeps it, still gated, for debugging). AWS Batch runs its nodes in an Auto Scaling group,
# whose default EC2 health check counts any instance that is not running as unhealthy and replaces it.
MMB_STATE="$MMB_ROOT/var/lib/mmbatch"
# shellcheck disable=SC2034 # read by lib.sh's mmb_fail
MMB_NODE=1

mmb_node_exit() {
  local status=${1:-$?} line minutes="${FATAL_SHUTDOWN_MINUTES:-0}"
  ((status != 0)) || return 0
  line="mmbatch: FATAL $MMB_STEP: ${MMB_FATAL:-exit status $status, see $MMB_LOG}; shutting down so AWS Batch replaces this node"
  mkdir -p "$MMB_STATE"
  printf '%s\n' "$line" >>"$MMB_STATE/boot-failed"
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$line" >>"$MMB_ROOT$MMB_LOG"
  printf '%s\n' "$line" >&2
  { printf '%s\n' "$line" >"$MMB_ROOT/dev/console"; } 2>/dev/null || true
  if [ "$minutes" = never ]; then
    mmb_log "FATAL_SHUTDOWN_MINUTES=never: this node stays up, and ECS stays gated off"
  else
    shutdown -h "+$minutes" "$line" || mmb_log "ERROR: shutdown -h +$minutes failed"
  fi
}
trap mmb_node_exit EXIT
# A stop by signal (systemd's TERM at a unit's start timeout) is a failure too: without these, bash runs the EXIT
# trap with the last command's status, 0, and a stopped script would record nothing and never shut down.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
