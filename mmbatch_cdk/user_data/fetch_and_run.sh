#!/bin/bash
# Job container (Cromwell's AWS Batch backend, S3 file system): the node writes this file to
# /usr/local/bin/fetch_and_run.sh and Cromwell mounts it read-only at /var/scratch/fetch_and_run.sh, with the
# node's /usr/local/aws-cli at the same path. Cromwell's job command is `/bin/bash -c /var/scratch/fetch_and_run.sh`
# and its environment names the task script it stored: BATCH_FILE_TYPE=script, BATCH_FILE_S3_URL=s3://... .
# This downloads that script with the mounted AWS CLI and runs it with bash, its exit status becoming the job's.
# Source of the contract: broadinstitute/cromwell supportedBackends/aws/.../AwsBatchJobDefinition.scala
# (volumes, mount points, command) and AwsBatchJob.scala (environment, the script's own CLI calls).
# Runs in the job's image, not on the node: bash and coreutils only, no helpers of the boot scripts.
set -euo pipefail
: "${AWS_CLI_BIN:?}"

fail() {
  echo "fetch_and_run: $*" >&2
  exit 1
}

[ "${BATCH_FILE_TYPE:-}" = script ] ||
  fail "BATCH_FILE_TYPE is '${BATCH_FILE_TYPE:-}'; only 'script' (what Cromwell sets) is supported"
case "${BATCH_FILE_S3_URL:-}" in
  s3://?*/?*) ;;
  *) fail "BATCH_FILE_S3_URL is '${BATCH_FILE_S3_URL:-}'; expected s3://bucket/key" ;;
esac
[ -x "$AWS_CLI_BIN" ] || fail "no AWS CLI at $AWS_CLI_BIN: is the node's /usr/local/aws-cli mounted?"

# In the job's container this shell is PID 1, and the kernel delivers to PID 1 only the signals it handles: so it
# handles the SIGTERM that stopping the job sends, from the start. Before the task runs it just stops; after, it
# passes the signal to the task, which it runs as a child, and returns the task's exit status.
task=""
trap 'if [ -n "$task" ]; then kill -TERM "$task" 2>/dev/null || true; else exit 143; fi' TERM
script="$(mktemp "${TMPDIR:-/tmp}/fetch_and_run.XXXXXX")"
# The CLI retries within its own bounds (Cromwell sets AWS_MAX_ATTEMPTS and AWS_RETRY_MODE in the job).
"$AWS_CLI_BIN" s3 cp --no-progress "$BATCH_FILE_S3_URL" "$script" >&2 || fail "could not download $BATCH_FILE_S3_URL"
bash "$script" "$@" &
task=$!
status=0
wait "$task" || status=$?
while kill -0 "$task" 2>/dev/null; do  # a signal interrupted the wait; the task is still running
  status=0
  wait "$task" || status=$?
done
exit "$status"
