#!/bin/sh
# azd postdeploy hook: subscribe the function's Event Grid blob trigger to BlobCreated events of the forms
# container, minus the pipeline's own outputs. It runs after code deployment because the webhook needs the
# `blobs_extension` system key, which the host creates only once it has indexed the blob trigger. Re-running
# it updates the subscription. Inputs come from the azd environment (outputs of infra/main.bicep, which
# defines the filters: BLOB_EVENT_SUBJECT_PREFIX, BLOB_EVENT_SKIP_SUFFIXES).
set -eu

for name in AZURE_FUNCTION_APP_NAME RESOURCE_GROUP SERVICE_PIPELINE_BASE_URL FORMS_SYSTEM_TOPIC_NAME \
            FORMS_CONTAINER_NAME BLOB_FUNCTION_NAME BLOB_EVENT_SUBJECT_PREFIX BLOB_EVENT_SKIP_SUFFIXES; do
  eval "value=\${$name:-}"
  if [ -z "$value" ]; then
    echo "postdeploy: $name is not set; run 'azd provision' first" >&2
    exit 1
  fi
done
if ! command -v az >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI (az) is required to create the Event Grid subscription" >&2
  exit 1
fi

wait="${POSTDEPLOY_WAIT_SECONDS:-10}"  # pause between attempts (tests shorten it)

# The key appears a little after deployment, when the host has started and indexed the functions.
key=""
attempt=1
while [ "$attempt" -le 18 ]; do
  key=$(az functionapp keys list --name "$AZURE_FUNCTION_APP_NAME" --resource-group "$RESOURCE_GROUP" \
        --query "systemKeys.blobs_extension" --output tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  echo "postdeploy: waiting for the blob trigger's key (attempt $attempt of 18)"
  sleep "$wait"
  attempt=$((attempt + 1))
done
if [ -z "$key" ]; then
  echo "postdeploy: the function app has no blobs_extension key; check that $BLOB_FUNCTION_NAME is a blob" \
       "trigger with source EventGrid and that the app started (Application Insights logs)" >&2
  exit 1
fi

endpoint="${SERVICE_PIPELINE_BASE_URL}/runtime/webhooks/blobs?functionName=Host.Functions.${BLOB_FUNCTION_NAME}&code=${key}"
# One StringNotEndsWith filter on the subject per suffix (Event Grid ANDs the filters): the `.ocr.json` and
# `.prediction.json` blobs the function writes beside the forms are never delivered back to it.
set -f  # the suffixes are split on spaces, never globbed
set --
for suffix in $BLOB_EVENT_SKIP_SUFFIXES; do
  set -- "$@" --advanced-filter subject StringNotEndsWith "$suffix"
done
set +f
# Event Grid validates the webhook when the subscription is created; a cold instance can miss the first
# handshake, so try a few times.
attempt=1
until az eventgrid system-topic event-subscription create \
        --name "forms-blob-created" \
        --resource-group "$RESOURCE_GROUP" \
        --system-topic-name "$FORMS_SYSTEM_TOPIC_NAME" \
        --endpoint-type webhook \
        --endpoint "$endpoint" \
        --included-event-types Microsoft.Storage.BlobCreated \
        --subject-begins-with "$BLOB_EVENT_SUBJECT_PREFIX" \
        "$@" \
        --max-delivery-attempts 30 \
        --event-ttl 1440 \
        --output none; do
  if [ "$attempt" -ge 3 ]; then
    echo "postdeploy: could not create the Event Grid subscription; re-run 'azd deploy' to retry" >&2
    exit 1
  fi
  echo "postdeploy: webhook validation failed (attempt $attempt of 3); retrying"
  sleep $((wait * 2))
  attempt=$((attempt + 1))
done
echo "postdeploy: Event Grid delivers BlobCreated in '${FORMS_CONTAINER_NAME}' to ${BLOB_FUNCTION_NAME}," \
     "except blobs ending in: ${BLOB_EVENT_SKIP_SUFFIXES}"
