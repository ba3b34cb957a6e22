#!/bin/bash
# Node or management server: installs the CloudWatch agent and starts it with its logs-only configuration,
# which mmbatch_cdk/log_shipping.py keeps in the SSM parameter AGENT_CONFIG_PARAMETER. It runs first, so the
# agent also ships the logs of a later boot step that fails. Nothing here reads or prints a secret. Kept
# short: it rides in every node's user data, which EC2 caps at 16 KiB. LogShipping checks AGENT_SOURCE's
# form (dnf, https:// or s3://, {arch} = amd64 or arm64).
set -Eeuo pipefail
MMB_STEP=cloudwatch-agent
MMB_LOG="${AGENT_LOG:?}"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${AGENT_SOURCE:?}" "${AGENT_CONFIG_PARAMETER:?}"

marker="$MMB_ROOT/var/lib/mmbatch/cloudwatch-agent.installed"
if [ -f "$marker" ]; then
  mmb_log "agent already installed"
elif [ "$AGENT_SOURCE" = dnf ]; then
  mmb_retry 5 30 dnf install -y amazon-cloudwatch-agent
else
  arch=amd64
  [ "$(uname -m)" != aarch64 ] || arch=arm64
  url="${AGENT_SOURCE//\{arch\}/$arch}"
  pkg="$(mktemp -d)/${url##*/}"
  case "$url" in
    s3://*)
      mmb_install_aws_cli
      mmb_retry 5 30 aws s3 cp --only-show-errors "$url" "$pkg"
      ;;
    *) mmb_retry 5 30 mmb_download "$url" "$pkg" ;;
  esac
  sum="$(sha256sum "$pkg" | cut -d' ' -f1)"
  [ "${AGENT_SHA256:-$sum}" = "$sum" ] || mmb_fail "checksum mismatch for $url: expected $AGENT_SHA256, got $sum"
  [ -n "${AGENT_SHA256:-}" ] || mmb_log "WARNING: $url not verified (sha256 $sum)"
  case "$pkg" in
    *.deb) mmb_retry 3 30 dpkg -i -E "$pkg" ;;
    *) mmb_retry 3 30 dnf install -y "$pkg" ;;
  esac
fi
mkdir -p "${marker%/*}"
date -u >"$marker"

home=/opt/aws/amazon-cloudwatch-agent
# fetch-config replaces any earlier configuration: a second run leaves one agent, with this one.
mmb_retry 3 10 "$(command -v amazon-cloudwatch-agent-ctl || echo "$home/bin/amazon-cloudwatch-agent-ctl")" \
  -a fetch-config -m ec2 -s -c "ssm:$AGENT_CONFIG_PARAMETER" || mmb_fail "agent did not start: $home/logs/amazon-cloudwatch-agent.log"
mmb_log "agent shipping logs ($AGENT_CONFIG_PARAMETER)"
