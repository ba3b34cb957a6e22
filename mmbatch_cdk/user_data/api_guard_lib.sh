#!/bin/bash
# Keeps job containers off the MMAB API (item 10 of issue 22), sourced by node_bootstrap.sh; render() inlines it.
#
# The nodes' security group may reach the server's 8080 (the agent installer and API), and job containers leave
# through the node's interface, so without this every job could call MMAB's API. The MMBatch agent runs on the host:
# MemVerge installs it there (`curl -k https://<server>:8080/api/v1/scripts/install-pagent | bash` on the node), it
# logs under /var/log/memverge on the host, and its container-runtime wrapper (mmrunc) is a host program (MMBatch
# Overview, https://docs.memverge.com/MMBatch/latest/User%20Guide/MMBatch%20Overview/; mmbatch-runtime-facts.md). Batch
# jobs on EC2 run in Docker's bridge network, so their traffic is forwarded by the host and passes the FORWARD chain,
# which Docker sends through DOCKER-USER before its own rules (Docker docs "Packet filtering and firewalls",
# https://docs.docker.com/engine/network/packet-filtering-firewalls/); the host's own traffic (the agent's) leaves
# through OUTPUT and is not affected. So DOCKER-USER gets one rule first: reject TCP to the server's name on its port.
# iptables resolves the name when it adds (or checks) the rule (iptables(8): "Hostnames will be resolved once only,
# before the rule is submitted to the kernel"), so the rule names the server's address at this boot; rules do not
# survive a reboot, and boot_check_lib.sh's unit adds it again on every boot, before ECS. A server replaced without a
# node roll is guarded again from the nodes' next boot (a new mmabVersion rolls them: their user data names it).
# A failure (no DOCKER-USER chain, no answer for the name after 5 tries) is fatal (node_lib.sh).

# mmb_api_guard: reject job containers' TCP to $MMAB_ADDRESS:$MMAB_PORT in DOCKER-USER, once.
mmb_api_guard() {
  local rule=(DOCKER-USER -p tcp -d "$MMAB_ADDRESS" --dport "$MMAB_PORT" -j REJECT --reject-with tcp-reset)
  # shellcheck disable=SC2034 # read by lib.sh's mmb_log and node_lib.sh's FATAL line
  MMB_STEP=api-guard
  iptables -C "${rule[@]}" 2>/dev/null || mmb_retry 5 10 iptables -I "${rule[@]}" ||
    mmb_fail "could not keep jobs off $MMAB_ADDRESS:$MMAB_PORT (DOCKER-USER)"
  mmb_log "jobs cannot reach $MMAB_ADDRESS:$MMAB_PORT"
}
