#!/bin/bash
# The per-boot check (N6 of the second pre-deploy review), sourced by node_bootstrap.sh; render() inlines it.
#
# User-data scripts run once per instance, and the ECS gate (gate_lib.sh) only keeps ECS off a node whose
# checkpoint storage is not mounted: after a reboot whose mount fails (an EFS mount unit that failed once is not
# retried; a JuiceFS service may keep failing), the node would sit idle, gated, until someone notices. So the node's
# copy of node_bootstrap.sh runs as `mmbatch-node-bootstrap boot-check` from a unit on every boot, ordered before
# ecs.service: it waits up to BOOT_CHECK_SECONDS for /mmc-checkpoint (the gate's path), mounting an fstab entry for it
# (if any) again between checks, and otherwise fails like a first boot (node_lib.sh): one FATAL line, the gate stays closed,
# and the node shuts down so AWS Batch replaces it. With an agent, the same unit then keeps job containers off the
# MMAB API (api_guard_lib.sh), whose iptables rules do not survive a reboot either.

MMB_BOOT_UNIT=mmbatch-boot-check.service

# mmb_boot_check: fail unless /mmc-checkpoint is mounted within BOOT_CHECK_SECONDS, or at once after a failed boot.
mmb_boot_check() {
  local deadline mp=/mmc-checkpoint
  # shellcheck disable=SC2034 # read by lib.sh's mmb_log and node_lib.sh's FATAL line
  MMB_STEP=boot-check
  # Present at all, empty or not: a full disk can leave the FATAL line unwritten (gate_lib.sh reads it the same way).
  [ ! -e "$MMB_STATE/boot-failed" ] || mmb_fail "an earlier boot failed"
  deadline=$(($(date +%s) + BOOT_CHECK_SECONDS))
  until mountpoint -q $mp; do
    (($(date +%s) + 10 <= deadline)) || mmb_fail "$mp not mounted after ${BOOT_CHECK_SECONDS}s"
    # The fstab entry (EFS) again; without one (JuiceFS, whose service restarts itself) mount just fails.
    timeout -k 5 60 mount $mp 2>/dev/null || true
    sleep 10
  done
  mmb_log "$mp is mounted"
}

# mmb_boot_unit: write, enable and queue the unit that runs the boot check (and guard) on every boot; a second run
# with the same settings changes nothing.
mmb_boot_unit() {
  local unit="$MMB_ROOT/etc/systemd/system/$MMB_BOOT_UNIT"
  cat >"$unit.mmbatch" <<UNIT
[Unit]
Description=mmbatch-cdk boot check
After=docker.service remote-fs.target
Before=ecs.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/mmbatch-node-bootstrap boot-check
TimeoutStartSec=$((BOOT_CHECK_SECONDS + 240))

[Install]
WantedBy=multi-user.target
UNIT
  if cmp -s "$unit.mmbatch" "$unit"; then
    rm -f "$unit.mmbatch"
    return 0
  fi
  mv "$unit.mmbatch" "$unit"
  systemctl daemon-reload
  systemctl enable $MMB_BOOT_UNIT
  # --no-block, and queued before ECS's start (Before=): Docker starts only once cloud-final is done.
  systemctl start --no-block $MMB_BOOT_UNIT
}
