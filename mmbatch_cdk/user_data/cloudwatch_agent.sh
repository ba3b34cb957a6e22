#!/bin/bash
# Node or management server: installs the CloudWatch agent and starts it with a logs-only configuration
# (mmbatch_cdk/log_shipping.py writes AGENT_CONFIG). It runs first, so the agent also ships the logs of a
# later boot step that fails. Nothing here reads or prints a secret.
set -Eeuo pipefail
MMB_STEP=cloudwatch-agent
MMB_LOG="${AGENT_LOG:?}"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${AGENT_SOURCE:?}" "${AGENT_CONFIG:?}"
AGENT_SHA256="${AGENT_SHA256:-}"
AGENT_HOME=/opt/aws/amazon-cloudwatch-agent

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) mmb_fail "no CloudWatch agent package for $(uname -m)" ;;
esac

# cwa_download URL FILE: an https:// or s3:// object to FILE.
cwa_download() {
  case "$1" in
    s3://*)
      if ! command -v aws >/dev/null 2>&1; then
        if command -v dnf >/dev/null 2>&1; then mmb_retry 5 30 dnf install -y awscli-2; else mmb_retry 5 30 snap install aws-cli --classic; fi
      fi
      mmb_retry 5 30 aws s3 cp --only-show-errors "$1" "$2"
      ;;
    https://*) mmb_retry 5 30 curl -fsSL --proto '=https' --tlsv1.2 -o "$2" "$1" ;;
    *) mmb_fail "unsupported CloudWatch agent source $1 (expected dnf, https:// or s3://)" ;;
  esac
}

marker="$MMB_ROOT/var/lib/mmbatch/cloudwatch-agent.installed"
if [ -f "$marker" ]; then
  mmb_log "CloudWatch agent already installed"
elif [ "$AGENT_SOURCE" = dnf ]; then
  mmb_log "installing the CloudWatch agent from the distribution's repository"
  mmb_retry 5 30 dnf install -y amazon-cloudwatch-agent
else
  url="${AGENT_SOURCE//\{arch\}/$arch}"
  dir="$(mktemp -d)"
  package="$dir/${url##*/}"
  mmb_log "downloading the CloudWatch agent from $url"
  cwa_download "$url" "$package"
  actual="$(sha256sum "$package" | cut -d' ' -f1)"
  if [ -n "$AGENT_SHA256" ]; then
    [ "$actual" = "$AGENT_SHA256" ] || mmb_fail "checksum mismatch for $url: expected $AGENT_SHA256, got $actual"
  else
    mmb_log "WARNING: no checksum configured for the CloudWatch agent package (sha256 $actual)"
  fi
  case "$package" in
    *.deb) mmb_retry 3 30 dpkg -i -E "$package" ;;
    *.rpm) mmb_retry 3 30 dnf install -y "$package" ;;
    *) mmb_fail "$url is neither a .deb nor an .rpm package" ;;
  esac
  rm -rf "$dir"
fi
if [ ! -f "$marker" ]; then
  mkdir -p "$(dirname "$marker")"
  date -u >"$marker"
fi

config="$MMB_ROOT$AGENT_HOME/etc/mmbatch-logs.json"
mkdir -p "$(dirname "$config")"
printf '%s\n' "$AGENT_CONFIG" >"$config.mmbatch"
mv "$config.mmbatch" "$config"
ctl="$(command -v amazon-cloudwatch-agent-ctl || echo "$AGENT_HOME/bin/amazon-cloudwatch-agent-ctl")"
# fetch-config replaces any earlier configuration, so a second run leaves one agent with this one.
mmb_retry 3 10 "$ctl" -a fetch-config -m ec2 -s -c "file:$config" ||
  mmb_fail "the CloudWatch agent did not start; see $AGENT_HOME/logs/amazon-cloudwatch-agent.log"
mmb_log "CloudWatch agent shipping logs ($config)"
