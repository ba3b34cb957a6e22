#!/bin/bash
# The per-boot check (N6), sourced by the storage mount scripts after gate_lib.sh; render() inlines this file too.
#
# User-data scripts run once per instance, and the ECS gate (gate_lib.sh) only keeps ECS off a node whose
# checkpoint storage is not mounted: after a reboot whose mount fails (an EFS mount unit that failed once is not
# retried; a JuiceFS service may keep failing), the node would sit idle, gated, until someone notices. So the
# storage part also installs a copy of itself, settings included, and a unit that runs it with "boot-check" on
# every later boot, ordered before ecs.service: it waits up to BOOT_CHECK_SECONDS for /mmc-checkpoint (the gate's
# path), retrying an fstab mount, and otherwise fails like a first boot (node_lib.sh): one FATAL line, the gate
# stays closed, and the node shuts down so AWS Batch replaces it. The unit is only enabled, never started here:
# the first boot is checked by the storage part itself.

MMB_BOOT_CHECK_UNIT=mmbatch-boot-check.service

# mmb_boot_check_install SCRIPT: install SCRIPT (the running storage part) as the per-boot check and enable its unit;
# a second run with the same settings changes nothing.
mmb_boot_check_install() {
  local copy="$MMB_ROOT/usr/local/sbin/mmbatch-boot-check" unit="$MMB_ROOT/etc/systemd/system/$MMB_BOOT_CHECK_UNIT"
  mkdir -p "$(dirname "$copy")" "$(dirname "$unit")"
  install -m 0700 "$1" "$copy"
  cat >"$unit.mmbatch" <<UNIT
[Unit]
Description=MMBatch per-boot check: checkpoint storage mounted within ${BOOT_CHECK_SECONDS}s, else shut down (mmbatch-cdk)
Wants=network-online.target
After=network-online.target remote-fs.target
Before=ecs.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/mmbatch-boot-check boot-check
TimeoutStartSec=$((BOOT_CHECK_SECONDS + 120))

[Install]
WantedBy=multi-user.target
UNIT
  if cmp -s "$unit.mmbatch" "$unit"; then
    rm -f "$unit.mmbatch"
    return 0
  fi
  mv "$unit.mmbatch" "$unit"
  systemctl daemon-reload
  systemctl enable "$MMB_BOOT_CHECK_UNIT"
}

# mmb_boot_check: on a later boot, fail (node_lib.sh's FATAL line and shutdown) unless /mmc-checkpoint is mounted
# within BOOT_CHECK_SECONDS; an fstab entry for it (EFS) is mounted again between checks, each try bounded.
mmb_boot_check() {
  # shellcheck disable=SC2034 # read by lib.sh's mmb_log and node_lib.sh's FATAL line
  MMB_STEP=boot-check
  : "${BOOT_CHECK_SECONDS:?}" "${FATAL_SHUTDOWN_MINUTES:?}"
  local deadline mount_point=/mmc-checkpoint
  [ ! -s "$MMB_STATE/boot-failed" ] || mmb_fail "an earlier boot of this node failed (see $MMB_STATE/boot-failed)"
  deadline=$(($(date +%s) + BOOT_CHECK_SECONDS))
  until mountpoint -q "$mount_point"; do
    if (($(date +%s) + 10 > deadline)); then
      mmb_fail "$mount_point is not mounted ${BOOT_CHECK_SECONDS}s into this boot"
    fi
    if awk -v mp="$mount_point" '$1 !~ /^#/ && $2 == mp {found = 1} END {exit !found}' "$MMB_ROOT/etc/fstab" 2>/dev/null; then
      timeout -k 5 60 mount "$mount_point" 2>/dev/null || true
    fi
    sleep 10
  done
  mmb_log "$mount_point is mounted on this boot; the ECS gate checks the rest"
}
