#!/bin/bash
# JuiceFS helpers for the JuiceFS boot scripts, which source lib.sh first; render() inlines this file too.

# mmb_fetch URL FILE: download an https:// or s3:// URL (s3:// needs the AWS CLI), with retries.
mmb_fetch() {
  case "$1" in
    s3://*) mmb_retry 5 30 aws s3 cp --only-show-errors "$1" "$2" ;;
    https://*) mmb_retry 5 30 mmb_download "$1" "$2" ;;
    *) mmb_fail "unsupported source $1 (expected https:// or s3://)" ;;
  esac
}

# mmb_install_juicefs: the pinned JuiceFS client into /usr/local/bin. JUICEFS_SOURCE is an https:// or s3:// URL
# template ({version}, {arch}: amd64 or arm64); s3:// (fetched with the AWS CLI, so install that first) serves
# subnets without internet. JUICEFS_SHA256 is "amd64=<sha256>,arm64=<sha256>" (or one bare digest); for an
# architecture it does not name, the checksums.txt published beside the tarball is used.
mmb_install_juicefs() {
  local arch url dir tarball expected="" entry actual sums="${JUICEFS_SHA256:-}" installed=""
  # The pinned release exactly ("juicefs version 1.3.1+<date>.<commit>"): a substring match took 1.3.10 for 1.3.1.
  if command -v juicefs >/dev/null 2>&1; then
    installed=$(juicefs --version 2>/dev/null || true)
    if [[ "$installed" == *"version $JUICEFS_VERSION+"* || "$installed" == *"version $JUICEFS_VERSION" ]]; then
      return 0
    fi
  fi
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) mmb_fail "no JuiceFS build for $(uname -m)" ;;
  esac
  url="${JUICEFS_SOURCE//\{version\}/$JUICEFS_VERSION}"
  url="${url//\{arch\}/$arch}"
  dir="$(mktemp -d)"
  tarball="$dir/${url##*/}"
  mmb_log "downloading JuiceFS $JUICEFS_VERSION from $url"
  mmb_fetch "$url" "$tarball"
  for entry in ${sums//,/ }; do
    case "$entry" in
      "$arch="*) expected="${entry#*=}" ;;
      *=*) ;;
      *) expected="$entry" ;;
    esac
  done
  if [ -z "$expected" ]; then
    mmb_fetch "${url%/*}/checksums.txt" "$dir/checksums.txt"
    expected="$(awk -v f="${url##*/}" '$2 == f {print $1}' "$dir/checksums.txt")"
    [ -n "$expected" ] || mmb_fail "checksums.txt of the JuiceFS release does not list ${url##*/}"
  fi
  actual="$(sha256sum "$tarball" | cut -d' ' -f1)"
  [ "$actual" = "$expected" ] || mmb_fail "checksum mismatch for $url: expected $expected, got $actual"
  tar -xzf "$tarball" -C "$dir" juicefs
  mkdir -p "$MMB_ROOT/usr/local/bin"
  install -m 0755 "$dir/juicefs" "$MMB_ROOT/usr/local/bin/juicefs"
  rm -rf "$dir"
  mmb_log "JuiceFS $JUICEFS_VERSION installed (sha256 $actual)"
}

# mmb_memorydb_endpoint CLUSTER: prints the cluster's endpoint once it is available (fails until then).
mmb_memorydb_endpoint() {
  local answer
  answer="$(aws memorydb describe-clusters --region "$AWS_REGION" --cluster-name "$1" \
    --query 'Clusters[0].[Status,ClusterEndpoint.Address]' --output text)" || return 1
  [ "${answer%%[[:space:]]*}" = "available" ] || return 1
  printf '%s\n' "${answer##*[[:space:]]}"
}

# mmb_meta_password: the MemoryDB user's password from Secrets Manager, never echoed to the log; an empty or
# missing one (the CLI prints None) is a failure, not a password.
mmb_meta_password() {
  local password
  password="$(aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$SECRET_ARN" \
    --query SecretString --output text)" && [ -n "$password" ] && [ "$password" != None ] && printf '%s\n' "$password"
}
