#!/bin/bash
# Compute node: installs AWS CLI v2 (self-contained: its own Python) where AWS's installer puts it by default,
# /usr/local/aws-cli, for workflow engines that run the host's CLI inside job containers (Nextflow's
# aws.batch.cliPath mounts its grandparent directory read-only; Cromwell mounts /usr/local/aws-cli), and writes
# Cromwell's fetch-and-run script (aws_cli.py says what Cromwell expects). The zip is verified before it is
# unpacked: against a pinned sha256 for the node's architecture, and/or against AWS's PGP signature (the .sig
# beside the zip) by the key whose primary fingerprint is pinned (AWS_CLI_PGP_FINGERPRINT), so the key file
# itself may come from anywhere (by default a keyserver).
# Sources: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html (install -i/-b,
# "Verify the integrity and authenticity of the downloaded zip files").
set -Eeuo pipefail
MMB_STEP=aws-cli
MMB_LOG=/var/log/mmbatch/boot.log
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# A node that was to carry the CLI and cannot is a failed boot (node_lib.sh): Nextflow's jobs would fail without it.
# shellcheck source=node_lib.sh
. "$(dirname "$0")/node_lib.sh"
: "${AWS_CLI_SOURCE:?}" "${AWS_CLI_DIR:?}" "${AWS_CLI_PGP_FINGERPRINT:?}" "${FETCH_AND_RUN_PATH:?}"
AWS_CLI_SHA256_X86_64="${AWS_CLI_SHA256_X86_64:-}"
AWS_CLI_SHA256_AARCH64="${AWS_CLI_SHA256_AARCH64:-}"
AWS_CLI_PGP_KEY_SOURCE="${AWS_CLI_PGP_KEY_SOURCE:-}"

mkdir -p "$(dirname "$MMB_ROOT$FETCH_AND_RUN_PATH")"
# aws_cli.py puts user_data/fetch_and_run.sh (rendered) in place of the marker line below.
cat >"$MMB_ROOT$FETCH_AND_RUN_PATH.new" <<'FETCH_AND_RUN'
@FETCH_AND_RUN_SCRIPT@
FETCH_AND_RUN
chmod 0755 "$MMB_ROOT$FETCH_AND_RUN_PATH.new"
mv -f "$MMB_ROOT$FETCH_AND_RUN_PATH.new" "$MMB_ROOT$FETCH_AND_RUN_PATH"
mmb_log "wrote $FETCH_AND_RUN_PATH (Cromwell's AWS Batch backend runs it in job containers)"

bin="$AWS_CLI_DIR/bin/aws"
if [ -x "$MMB_ROOT$bin" ] && "$MMB_ROOT$bin" --version >/dev/null 2>&1; then
  mmb_log "AWS CLI already installed at $bin"
  exit 0
fi

arch="$(uname -m)"
case "$arch" in
  x86_64) sha256="$AWS_CLI_SHA256_X86_64" ;;
  aarch64) sha256="$AWS_CLI_SHA256_AARCH64" ;;
  *) mmb_fail "no AWS CLI build for architecture $arch" ;;
esac
if [ -z "$sha256" ] && [ -z "$AWS_CLI_PGP_KEY_SOURCE" ]; then
  mmb_fail "refusing to install an unverified AWS CLI: no sha256 for $arch and no PGP key"
fi
url="${AWS_CLI_SOURCE//\{arch\}/$arch}"

work="$(mktemp -d)"
# Clean up, then the FATAL handler of node_lib.sh (one EXIT trap only).
trap 'status=$?; rm -rf "$work"; mmb_node_exit "$status"' EXIT

# fetch SOURCE DEST [SECONDS]: one try of an https:// or s3:// download (aws_cli.py accepts no other scheme),
# given up after SECONDS (default 600, for the ~60 MB zip; the signature and the key take 60).
fetch() {
  case "$1" in
    s3://*) timeout -k 10 "${3:-600}" aws s3 cp --only-show-errors "$1" "$2" ;;
    https://*) mmb_download "$1" "$2" "${3:-600}" ;;
    *) return 2 ;;
  esac
}

# s3:// sources need the distribution's AWS CLI (package awscli-2 on Amazon Linux 2023) to fetch this one.
case "$url $AWS_CLI_PGP_KEY_SOURCE" in
  *s3://*) mmb_install_aws_cli || mmb_fail "no aws command for the s3:// source" ;;
esac
mmb_log "downloading the AWS CLI from $url"
mmb_retry 5 30 fetch "$url" "$work/awscli.zip" || mmb_fail "could not download $url"

if [ -n "$sha256" ]; then
  actual="$(sha256sum "$work/awscli.zip" | cut -d' ' -f1)"
  [ "$actual" = "$sha256" ] || mmb_fail "checksum mismatch for $url: expected $sha256, got $actual"
  mmb_log "sha256 verified"
fi
if [ -n "$AWS_CLI_PGP_KEY_SOURCE" ]; then
  mmb_retry 5 30 fetch "$url.sig" "$work/awscli.zip.sig" 60 || mmb_fail "could not download $url.sig"
  mmb_retry 5 30 fetch "$AWS_CLI_PGP_KEY_SOURCE" "$work/key.asc" 60 || mmb_fail "could not download $AWS_CLI_PGP_KEY_SOURCE"
  export GNUPGHOME="$work/gnupg"
  mkdir -m 700 "$GNUPGHOME"
  gpg --batch --quiet --import "$work/key.asc" 2>/dev/null || mmb_fail "$AWS_CLI_PGP_KEY_SOURCE is not a PGP public key"
  # VALIDSIG's last field is the signing key's primary fingerprint; an unknown key or a bad signature gives none.
  # gpg also gives VALIDSIG for a key its owner revoked, with REVKEYSIG beside it (tests/boot/test_aws_cli.py shows
  # it with a revoked test key): that one is refused.
  status="$(gpg --batch --status-fd 1 --verify "$work/awscli.zip.sig" "$work/awscli.zip" 2>/dev/null)" || true
  signer="$(awk '$2 == "VALIDSIG" {print $NF}' <<<"$status")"
  [ "$signer" = "$AWS_CLI_PGP_FINGERPRINT" ] ||
    mmb_fail "PGP signature of $url is not a valid signature by $AWS_CLI_PGP_FINGERPRINT${signer:+ (signed by $signer)}"
  if grep -q '^\[GNUPG:\] REVKEYSIG ' <<<"$status"; then
    mmb_fail "PGP key $AWS_CLI_PGP_FINGERPRINT is revoked; refusing $url"
  fi
  # An expired key (EXPKEYSIG) is accepted: AWS extends this key's expiry from time to time, and a key copy that
  # predates an extension must not stop every node; the fingerprint is what is trusted.
  if grep -q '^\[GNUPG:\] EXPKEYSIG ' <<<"$status"; then
    mmb_log "note: the copy of key $AWS_CLI_PGP_FINGERPRINT from $AWS_CLI_PGP_KEY_SOURCE has expired; signature accepted"
  fi
  mmb_log "PGP signature verified (key $AWS_CLI_PGP_FINGERPRINT)"
fi

if ! command -v unzip >/dev/null 2>&1; then
  mmb_retry 5 30 dnf install -y unzip || mmb_fail "could not install unzip"
fi
unzip -q "$work/awscli.zip" -d "$work"
mkdir -p "$MMB_ROOT$AWS_CLI_DIR"
"$work/aws/install" --install-dir "$MMB_ROOT$AWS_CLI_DIR" --bin-dir "$MMB_ROOT$AWS_CLI_DIR/bin" --update
version="$("$MMB_ROOT$bin" --version 2>&1)" || mmb_fail "the installed AWS CLI does not run: $version"
mmb_log "AWS CLI installed at $bin: $version"
