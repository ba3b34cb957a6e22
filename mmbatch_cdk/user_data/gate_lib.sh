#!/bin/bash
# The ECS gate (see node_lib.sh), sourced by the storage mount scripts (the part after the CloudWatch agent's),
# which run mmb_gate_install before anything else; render() inlines this file too.

# mmb_gate_install: the ECS gate; the same files on every run, so a second run changes nothing.
# The drop-in's ExecStartPre runs after the unit's own two: the Docker-active check and `amazon-ecs-init
# pre-start`, which only prepares the host (GPU setup, loopback routing, the credentials iptables route,
# loading the agent image: amazon-ecs-agent ecs-init/engine/engine.go PreStart). The instance registers
# with the cluster, and so gets jobs, only once the agent itself runs (ExecStart), after the gate passed.
# Any boot-failed file closes it, even an empty one (a FATAL line that a full disk kept from being written);
# agent-ready opens it only with content (what node_bootstrap.sh installed), as a half-written file is no install.
mmb_gate_install() {
  local gate="$MMB_ROOT/usr/local/sbin/mmbatch-gate" dropin="$MMB_ROOT/etc/systemd/system/ecs.service.d/mmbatch.conf"
  mkdir -p "$(dirname "$gate")" "$(dirname "$dropin")"
  cat >"$gate.mmbatch" <<'GATE'
#!/bin/bash
state="${MMB_ROOT:-}/var/lib/mmbatch"
if [ -e "$state/boot-failed" ]; then
  last="$(tail -n 1 "$state/boot-failed")"
  echo "mmbatch-gate: closed: ${last:-a boot step failed (see /var/log/mmbatch/boot.log)}"; exit 1
fi
if ! mountpoint -q /mmc-checkpoint; then echo "mmbatch-gate: closed: /mmc-checkpoint is not mounted"; exit 1; fi
if [ ! -s "$state/agent-ready" ]; then echo "mmbatch-gate: closed: the MMBatch agent is not installed"; exit 1; fi
echo "mmbatch-gate: open: /mmc-checkpoint mounted; agent: $(cat "$state/agent-ready")"
GATE
  chmod 0755 "$gate.mmbatch"
  mv "$gate.mmbatch" "$gate"
  cat >"$dropin.mmbatch" <<'DROPIN'
[Service]
ExecStartPre=/usr/local/sbin/mmbatch-gate
DROPIN
  mv "$dropin.mmbatch" "$dropin"
  systemctl daemon-reload
}
