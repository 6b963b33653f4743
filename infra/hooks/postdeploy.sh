#!/bin/sh
# azd postdeploy hook: subscribe the function's Event Grid blob trigger to BlobCreated events of the forms
# container, minus the pipeline's own outputs. It runs after code deployment because the webhook needs the
# `blobs_extension` system key, which the host creates only once it has indexed the blob trigger. Re-running
# it updates the subscription. Inputs come from the azd environment (AZURE_SUBSCRIPTION_ID, and the outputs of
# infra/main.bicep, which defines the filters: BLOB_EVENT_SUBJECT_PREFIX, BLOB_EVENT_SKIP_SUFFIXES).
#
# Every az call names the subscription azd deployed to, so the Azure CLI's own default subscription does not
# matter. An az error is shown as az wrote it; errors that waiting cannot cure (sign-in, subscription, a
# resource or a permission that is missing, an Azure CLI too old for an option) end the hook at once.
set -eu

for name in AZURE_SUBSCRIPTION_ID AZURE_FUNCTION_APP_NAME RESOURCE_GROUP SERVICE_PIPELINE_BASE_URL \
            FORMS_SYSTEM_TOPIC_NAME FORMS_CONTAINER_NAME BLOB_FUNCTION_NAME BLOB_EVENT_SUBJECT_PREFIX \
            BLOB_EVENT_SKIP_SUFFIXES; do
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
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

# az in the deployment's subscription: its standard output in $out, what it wrote to stderr in $err.
az_() {
  status=0
  out=$(az "$@" --subscription "$AZURE_SUBSCRIPTION_ID" 2>"$errors") || status=$?
  err=$(cat "$errors")
  return "$status"
}

# az errors that trying again does not cure (one text a line; postdeploy.ps1 has the same list): not signed
# in or sign-in expired, a subscription the account cannot see, a missing resource group or resource, a
# missing permission, an Azure CLI too old for a command or option.
lasting_errors="az login
AADSTS
not found. Check the spelling
SubscriptionNotFound
InvalidSubscriptionId
NotFound)
could not be found
was not found
AuthorizationFailed
does not have authorization
unrecognized arguments
invalid choice
misspelled or not recognized
command group"
lasting() {
  found=1
  saved_ifs=$IFS
  IFS='
'
  for text in $lasting_errors; do
    case "$1" in *"$text"*) found=0 ;; esac
  done
  IFS=$saved_ifs
  return "$found"
}

fail() {  # what failed (the arguments, joined by spaces), then az's own words
  echo "postdeploy: $*" >&2
  [ -n "$err" ] && printf '%s\n' "$err" >&2
  exit 1
}

# First: can the Azure CLI use the subscription azd deployed to at all?
if ! az_ account show --query id --output tsv; then
  fail "the Azure CLI cannot use subscription $AZURE_SUBSCRIPTION_ID, where azd deployed." \
       "Sign in with an account that can (az login${AZURE_TENANT_ID:+ --tenant $AZURE_TENANT_ID})" \
       "and run 'azd deploy' again. az said:"
fi

# The key appears a little after deployment, when the host has started and indexed the functions.
key=""
attempt=1
while :; do
  if az_ functionapp keys list --name "$AZURE_FUNCTION_APP_NAME" --resource-group "$RESOURCE_GROUP" \
       --query "systemKeys.blobs_extension" --output tsv; then
    key=$out
    err=""
    [ -n "$key" ] && break
  elif lasting "$err"; then
    fail "could not read the keys of function app $AZURE_FUNCTION_APP_NAME in resource group" \
         "$RESOURCE_GROUP (subscription $AZURE_SUBSCRIPTION_ID); az said:"
  else
    printf '%s\n' "$err" >&2  # maybe passing (the app is still starting): shown, and tried again
  fi
  [ "$attempt" -ge 18 ] && break
  echo "postdeploy: waiting for the blob trigger's key (attempt $attempt of 18)"
  sleep "$wait"
  attempt=$((attempt + 1))
done
if [ -z "$key" ]; then
  if [ -n "$err" ]; then
    fail "az kept failing to read the keys of function app $AZURE_FUNCTION_APP_NAME; the last error:"
  fi
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
until az_ eventgrid system-topic event-subscription create \
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
  case "$err" in
    *[Vv]alidation*) ;;  # the webhook handshake: the instance may still be cold
    *) lasting "$err" && fail "could not create the Event Grid subscription on $FORMS_SYSTEM_TOPIC_NAME; az said:" ;;
  esac
  printf '%s\n' "$err" >&2
  if [ "$attempt" -ge 3 ]; then
    echo "postdeploy: could not create the Event Grid subscription (the error above); re-run 'azd deploy' to retry" >&2
    exit 1
  fi
  echo "postdeploy: creating the Event Grid subscription failed (attempt $attempt of 3); retrying"
  sleep $((wait * 2))
  attempt=$((attempt + 1))
done
echo "postdeploy: Event Grid delivers BlobCreated in '${FORMS_CONTAINER_NAME}' to ${BLOB_FUNCTION_NAME}," \
     "except blobs ending in: ${BLOB_EVENT_SKIP_SUFFIXES}"
