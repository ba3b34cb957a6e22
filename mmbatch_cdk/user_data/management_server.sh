#!/bin/bash
# Management server (Ubuntu): installs MMAB from the configured source, then switches checkpointing on.
set -Eeuo pipefail
MMB_STEP=management-server
MMB_LOG=/var/log/mmab/bootstrap.log
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${MMAB_VERSION:?}" "${MMAB_PORT:?}" "${CKPT_INTERVAL:?}"
MMAB_SOURCE="${MMAB_SOURCE:-}"
MMAB_SHA256="${MMAB_SHA256:-}"

state="$MMB_ROOT/var/lib/mmbatch"
mkdir -p "$state"

if [ -z "$MMAB_SOURCE" ]; then
  mmb_log "WARNING: MMAB $MMAB_VERSION is NOT installed: no install source is configured." \
    "Set the context key mmabSource (README: 'Installing MMAB') and deploy again."
  exit 0
fi

marker="$state/mmab-$MMAB_VERSION.installed"
if [ -f "$marker" ]; then
  mmb_log "MMAB $MMAB_VERSION already installed"
else
  source_url="${MMAB_SOURCE//\{version\}/$MMAB_VERSION}"
  workdir="$MMB_ROOT/opt/mmab/download"
  mkdir -p "$workdir"
  artifact="$workdir/${source_url##*/}"
  mmb_log "downloading MMAB $MMAB_VERSION from $source_url"
  case "$source_url" in
    s3://*)
      if ! command -v aws >/dev/null 2>&1; then
        mmb_retry 5 30 snap install aws-cli --classic
      fi
      mmb_retry 5 30 aws s3 cp --only-show-errors "$source_url" "$artifact"
      ;;
    https://*)
      mmb_retry 5 30 curl -fsSL --proto '=https' --tlsv1.2 -o "$artifact" "$source_url"
      ;;
    *) mmb_fail "unsupported install source $source_url (expected https:// or s3://)" ;;
  esac
  if [ -n "$MMAB_SHA256" ]; then
    actual="$(sha256sum "$artifact" | cut -d' ' -f1)"
    [ "$actual" = "$MMAB_SHA256" ] || mmb_fail "checksum mismatch for $source_url: expected $MMAB_SHA256, got $actual"
    mmb_log "sha256 verified"
  else
    mmb_log "WARNING: mmabSha256 is not set; the installer is not verified"
  fi
  case "$artifact" in
    *.deb) DEBIAN_FRONTEND=noninteractive mmb_retry 3 30 apt-get install -y "$artifact" ;;
    *) MMAB_VERSION="$MMAB_VERSION" bash "$artifact" ;;
  esac
  date -u >"$marker"
  mmb_log "MMAB $MMAB_VERSION installed"
fi

ckpt_marker="$state/ckpt-config.done"
if [ ! -f "$ckpt_marker" ]; then
  body="{\"ckptMode\":\"iterative\",\"ckptInterval\":\"$CKPT_INTERVAL\",\"diagnosisMode\":false}"
  put_ckpt_config() {
    curl -fsSk --connect-timeout 5 --max-time 30 -X PUT -H 'Content-Type: application/json' \
      --data "$body" "https://127.0.0.1:$MMAB_PORT/api/v1/ckptConfig"
  }
  if mmb_retry 20 30 put_ckpt_config; then
    date -u >"$ckpt_marker"
    mmb_log "checkpointing on: iterative, every $CKPT_INTERVAL"
  else
    mmb_log "WARNING: could not set the checkpoint configuration through the API; set it in the dashboard"
  fi
fi
