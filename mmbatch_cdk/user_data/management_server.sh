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
    "Set the context key mmabSource (docs/deploy.md: 'Installing MMAB') and deploy again."
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
      mmb_install_aws_cli
      mmb_retry 5 30 aws s3 cp --only-show-errors "$source_url" "$artifact"
      ;;
    https://*)
      mmb_retry 5 30 mmb_download "$source_url" "$artifact"
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
    *.deb)
      # cloud-init does not refresh the package lists (package_update defaults to false), and on first boot
      # Ubuntu's apt-daily/unattended-upgrades jobs hold apt's locks, possibly for many minutes. The lists
      # lock: about 7 minutes of retries; the dpkg lock: apt waits up to 10 minutes per attempt, 3 attempts.
      export DEBIAN_FRONTEND=noninteractive
      mmb_retry 10 60 apt-get update
      mmb_retry 3 60 apt-get install -y -o DPkg::Lock::Timeout=600 "$artifact"
      ;;
    *) MMAB_VERSION="$MMAB_VERSION" bash "$artifact" ;;
  esac
  date -u >"$marker"
  mmb_log "MMAB $MMAB_VERSION installed"
fi

# mmab_fatal REASON: MMAB is installed but could not be configured, so it would run at its defaults unseen. One
# "mmbatch: FATAL" line (the ServerBootFailures alarm counts it in the server log group; also on the console), the
# failed-boot marker $state/boot-failed, and the script stops. The server stays up, for debugging.
mmab_fatal() {
  local line="mmbatch: FATAL $MMB_STEP: $*"
  printf '%s\n' "$line" >>"$state/boot-failed"
  mmb_log "$line"
  { printf '%s\n' "$line" >"$MMB_ROOT/dev/console"; } 2>/dev/null || true
  exit 1
}

# mmab_put_once: PUT $body to $api; sets $code to the HTTP status (000: no answer). Done on 2xx, and on any other
# 4xx but 408 and 429 (a login it demands, a setting it refuses: retrying changes nothing); fails otherwise (MMAB
# still starting, a server error, a timeout), so mmb_retry tries again.
mmab_put_once() {
  code="$(curl -sSk -o /dev/null -w '%{http_code}' --connect-timeout 5 --max-time 30 -X PUT \
    -H 'Content-Type: application/json' --data "$body" "$api")" || true
  code="${code:-000}"
  case "$code" in
    408 | 429) ;;
    2?? | 4??) return 0 ;;
  esac
  mmb_log "PUT $api answered HTTP $code"
  return 1
}

# mmab_put PATH BODY WHAT DONE: set WHAT through MMAB's API once (a marker records success); anything but success
# is fatal (mmab_fatal).
mmab_put() {
  local marker="$state/${1##*/}.done" done_line=$4
  what=$3 body=$2 api="https://127.0.0.1:$MMAB_PORT$1"
  [ ! -f "$marker" ] || return 0
  if ! mmb_retry 20 30 mmab_put_once; then
    mmab_fatal "MMAB's API did not take $what after 20 tries (last HTTP status $code); MMAB runs at its defaults"
  fi
  case "$code" in
    2??) ;;
    401 | 403) mmab_fatal "PUT $api answered HTTP $code: MMAB's API requires a login, so this is NOT set: $what" ;;
    *) mmab_fatal "PUT $api answered HTTP $code: MMAB refused $what" ;;
  esac
  date -u >"$marker"
  mmb_log "$done_line (HTTP $code)"
}

mmab_put /api/v1/ckptConfig "{\"ckptMode\":\"iterative\",\"ckptInterval\":\"$CKPT_INTERVAL\",\"diagnosisMode\":false}" \
  checkpointing "checkpointing on: iterative, every $CKPT_INTERVAL"
# The per-job EBS volumes MMAB creates must carry this deployment's tag: the server may create, attach, detach and
# delete only volumes with it (IAM conditions). MMAB's job.customTags ("key:value,...") names the tags of what it
# creates; that it tags volumes at creation is assumed (docs/security.md).
if [ -n "${MMAB_CUSTOM_TAGS:-}" ]; then
  mmab_put /api/v1/configKV "{\"kvMap\":{\"job.customTags\":\"$MMAB_CUSTOM_TAGS\"}}" \
    "the job tags (job.customTags=$MMAB_CUSTOM_TAGS)" "per-job volumes tagged $MMAB_CUSTOM_TAGS"
fi
