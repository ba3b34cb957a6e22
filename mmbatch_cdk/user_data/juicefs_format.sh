#!/bin/bash
# Management server: formats the JuiceFS checkpoint and scratch volumes once the MemoryDB clusters are up.
# --no-update makes a second run (a reboot, a replaced server) a no-op for an existing volume.
set -Eeuo pipefail
MMB_STEP=juicefs-format
MMB_LOG=/var/log/mmab/juicefs-format.log
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=juicefs_lib.sh
. "$(dirname "$0")/juicefs_lib.sh"
: "${JUICEFS_VERSION:?}" "${JUICEFS_SOURCE:?}" "${AWS_REGION:?}" "${SECRET_ARN:?}" "${META_USER:?}" "${META_DB:?}"
: "${VOLUMES:?}" "${BLOCK_SIZE_KIB:?}" "${CLUSTER_WAIT_ATTEMPTS:?}" "${AWS_URL_SUFFIX:?}"

# The AWS CLI first: it reads the secret and MemoryDB, and fetches an s3:// JUICEFS_SOURCE.
mmb_install_aws_cli
mmb_install_juicefs
META_PASSWORD="$(mmb_retry 5 30 mmb_meta_password)" || mmb_fail "cannot read the MemoryDB password from $SECRET_ARN"
export META_PASSWORD

# VOLUMES: "name:cluster:bucket" entries separated by spaces.
for spec in $VOLUMES; do
  IFS=: read -r name cluster bucket <<<"$spec"
  mmb_log "waiting for MemoryDB cluster $cluster (creation takes about 15 minutes)"
  host="$(mmb_retry "$CLUSTER_WAIT_ATTEMPTS" 60 mmb_memorydb_endpoint "$cluster")" ||
    mmb_fail "MemoryDB cluster $cluster never became available"
  mmb_retry 5 30 juicefs format --storage s3 --bucket "https://$bucket.s3.$AWS_REGION.$AWS_URL_SUFFIX" \
    --trash-days 0 --block-size "$BLOCK_SIZE_KIB" --no-update \
    "rediss://$META_USER@$host:6379/$META_DB" "$name" ||
    mmb_fail "juicefs format of volume $name failed"
  mmb_log "volume $name ready (bucket $bucket, metadata $cluster)"
done
