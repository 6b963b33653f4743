# azd postdeploy hook (Windows): same as postdeploy.sh. Subscribes the function's Event Grid blob trigger to
# BlobCreated events of the forms container, minus the pipeline's own outputs (filters defined by
# infra/main.bicep: BLOB_EVENT_SUBJECT_PREFIX, BLOB_EVENT_SKIP_SUFFIXES), using the `blobs_extension` system
# key that exists only after the code is deployed and the host has indexed the trigger.
$ErrorActionPreference = 'Stop'

$required = 'AZURE_FUNCTION_APP_NAME', 'RESOURCE_GROUP', 'SERVICE_PIPELINE_BASE_URL', 'FORMS_SYSTEM_TOPIC_NAME',
            'FORMS_CONTAINER_NAME', 'BLOB_FUNCTION_NAME', 'BLOB_EVENT_SUBJECT_PREFIX', 'BLOB_EVENT_SKIP_SUFFIXES'
foreach ($name in $required) {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        Write-Error "postdeploy: $name is not set; run 'azd provision' first"
        exit 1
    }
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Write-Error 'postdeploy: the Azure CLI (az) is required to create the Event Grid subscription'
    exit 1
}

$key = ''
for ($attempt = 1; $attempt -le 18; $attempt++) {
    $key = az functionapp keys list --name $env:AZURE_FUNCTION_APP_NAME --resource-group $env:RESOURCE_GROUP `
        --query 'systemKeys.blobs_extension' --output tsv 2>$null
    if ($key) { break }
    Write-Host "postdeploy: waiting for the blob trigger's key (attempt $attempt of 18)"
    Start-Sleep -Seconds 10
}
if (-not $key) {
    Write-Error "postdeploy: the function app has no blobs_extension key; check that $env:BLOB_FUNCTION_NAME is a blob trigger with source EventGrid"
    exit 1
}

$endpoint = "$($env:SERVICE_PIPELINE_BASE_URL)/runtime/webhooks/blobs?functionName=Host.Functions.$($env:BLOB_FUNCTION_NAME)&code=$key"
# One StringNotEndsWith filter on the subject per suffix (Event Grid ANDs the filters): the `.ocr.json` and
# `.prediction.json` blobs the function writes beside the forms are never delivered back to it.
$filters = @()
foreach ($suffix in ($env:BLOB_EVENT_SKIP_SUFFIXES -split ' ' | Where-Object { $_ })) {
    $filters += '--advanced-filter', 'subject', 'StringNotEndsWith', $suffix
}
# Event Grid validates the webhook when the subscription is created; a cold instance can miss the first
# handshake, so try a few times. az on Windows passes '&' through cmd: quote the whole URL.
for ($attempt = 1; $attempt -le 3; $attempt++) {
    az eventgrid system-topic event-subscription create `
        --name 'forms-blob-created' `
        --resource-group $env:RESOURCE_GROUP `
        --system-topic-name $env:FORMS_SYSTEM_TOPIC_NAME `
        --endpoint-type webhook `
        --endpoint "`"$endpoint`"" `
        --included-event-types Microsoft.Storage.BlobCreated `
        --subject-begins-with $env:BLOB_EVENT_SUBJECT_PREFIX `
        @filters `
        --max-delivery-attempts 30 `
        --event-ttl 1440 `
        --output none
    if ($LASTEXITCODE -eq 0) { break }
    if ($attempt -eq 3) {
        Write-Error "postdeploy: could not create the Event Grid subscription; re-run 'azd deploy' to retry"
        exit 1
    }
    Write-Host "postdeploy: webhook validation failed (attempt $attempt of 3); retrying in 20 s"
    Start-Sleep -Seconds 20
}
Write-Host ("postdeploy: Event Grid delivers BlobCreated in '$($env:FORMS_CONTAINER_NAME)' to $($env:BLOB_FUNCTION_NAME), " +
            "except blobs ending in: $($env:BLOB_EVENT_SKIP_SUFFIXES)")
