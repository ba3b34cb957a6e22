#!/bin/bash
# Helpers shared by the mmbatch-cdk boot scripts; render() inlines this file where a script sources it.
# Callers set MMB_STEP (a name for log lines) and MMB_LOG (a log file) first.
# MMB_ROOT prefixes every file path, so tests can run a script inside a temporary root.
MMB_ROOT="${MMB_ROOT:-}"
mkdir -p "$(dirname "$MMB_ROOT$MMB_LOG")"

mmb_log() {
  local line
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) mmbatch[$MMB_STEP]: $*"
  printf '%s\n' "$line" >>"$MMB_ROOT$MMB_LOG"
  printf '%s\n' "$line" >&2
}

# mmb_fail REASON: stop the script. On a compute node (node_lib.sh), its exit handler logs the reason as the
# one FATAL line and shuts the node down; elsewhere the reason is logged here.
mmb_fail() {
  export MMB_FATAL="$*"
  [ -n "${MMB_NODE:-}" ] || mmb_log "ERROR: $*"
  exit 1
}

# mmb_download URL FILE [SECONDS]: one try of an https:// download: https only (redirects too), TLS 1.2 or later,
# given up after 10 s without a connection or SECONDS in all (default 900: curl itself has no time limit).
mmb_download() {
  curl -fsSL --proto '=https' --tlsv1.2 --connect-timeout 10 --max-time "${3:-900}" -o "$2" "$1"
}

# mmb_retry ATTEMPTS MAX_DELAY COMMAND...: run COMMAND until it succeeds, doubling the pause up to MAX_DELAY seconds.
mmb_retry() {
  local attempts=$1 max_delay=$2 delay=2 attempt=1
  shift 2
  until "$@"; do
    if ((attempt >= attempts)); then
      mmb_log "giving up after $attempt attempts: $*"
      return 1
    fi
    mmb_log "attempt $attempt of $attempts failed: $*; next try in ${delay}s"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
  done
}

# mmb_install_aws_cli: the AWS CLI, from the distribution (dnf on Amazon Linux, snap on Ubuntu).
mmb_install_aws_cli() {
  command -v aws >/dev/null 2>&1 && return 0
  if command -v dnf >/dev/null 2>&1; then
    mmb_retry 5 30 dnf install -y awscli-2
  else
    mmb_retry 5 30 snap install aws-cli --classic
  fi
}

trap 'mmb_log "ERROR: command at line $LINENO failed with status $?; see $MMB_LOG"' ERR
