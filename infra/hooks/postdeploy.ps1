# azd postdeploy hook (Windows): same as postdeploy.sh. Subscribes the function's Event Grid blob trigger to
# BlobCreated events of the forms container, minus the pipeline's own outputs (filters defined by
# infra/main.bicep: BLOB_EVENT_SUBJECT_PREFIX, BLOB_EVENT_SKIP_SUFFIXES), using the `blobs_extension` system
# key that exists only after the code is deployed and the host has indexed the trigger.
#
# Every az call names the subscription azd deployed to (AZURE_SUBSCRIPTION_ID), so the Azure CLI's own default
# subscription does not matter. An az error is shown as az wrote it; errors that waiting cannot cure end the
# hook at once.
$ErrorActionPreference = 'Stop'

$required = 'AZURE_SUBSCRIPTION_ID', 'AZURE_FUNCTION_APP_NAME', 'RESOURCE_GROUP', 'SERVICE_PIPELINE_BASE_URL',
            'FORMS_SYSTEM_TOPIC_NAME', 'FORMS_CONTAINER_NAME', 'BLOB_FUNCTION_NAME', 'BLOB_EVENT_SUBJECT_PREFIX',
            'BLOB_EVENT_SKIP_SUFFIXES'
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

# az errors that trying again does not cure (the same list as postdeploy.sh): not signed in or sign-in
# expired, a subscription the account cannot see, a missing resource group or resource, a missing permission,
# an Azure CLI too old for a command or option.
$lasting = @(
    'az login'
    'AADSTS'
    'not found. Check the spelling'
    'SubscriptionNotFound'
    'InvalidSubscriptionId'
    'NotFound)'
    'could not be found'
    'was not found'
    'AuthorizationFailed'
    'does not have authorization'
    'unrecognized arguments'
    'invalid choice'
    'misspelled or not recognized'
    'command group'
)

function Test-Lasting([string]$text) {
    foreach ($pattern in $lasting) {
        if ($text.Contains($pattern)) { return $true }
    }
    return $false
}

# az in the deployment's subscription: its exit status, standard output and what it wrote to stderr.
function Invoke-Az {
    $errorFile = New-TemporaryFile
    $ErrorActionPreference = 'Continue'  # az's stderr is read from the file, never raised
    try {
        $output = & az @args --subscription $env:AZURE_SUBSCRIPTION_ID 2> $errorFile.FullName
        $status = $LASTEXITCODE
        $message = Get-Content -Raw -Path $errorFile.FullName
    } finally {
        Remove-Item -Path $errorFile.FullName -ErrorAction SilentlyContinue
    }
    [pscustomobject]@{ Status = $status; Out = "$($output -join "`n")".Trim(); Err = "$message".Trim() }
}

function Stop-Hook([string]$what, [string]$azError) {
    [Console]::Error.WriteLine("postdeploy: $what")
    if ($azError) { [Console]::Error.WriteLine($azError) }
    exit 1
}

# First: can the Azure CLI use the subscription azd deployed to at all?
$check = Invoke-Az account show --query id --output tsv
if ($check.Status -ne 0) {
    $tenant = if ($env:AZURE_TENANT_ID) { " --tenant $($env:AZURE_TENANT_ID)" } else { '' }
    Stop-Hook ("the Azure CLI cannot use subscription $($env:AZURE_SUBSCRIPTION_ID), where azd deployed. Sign in " +
               "with an account that can (az login$tenant) and run 'azd deploy' again. az said:") $check.Err
}

# The key appears a little after deployment, when the host has started and indexed the functions.
$key = ''
$lastError = ''
for ($attempt = 1; $attempt -le 18; $attempt++) {
    $keys = Invoke-Az functionapp keys list --name $env:AZURE_FUNCTION_APP_NAME --resource-group $env:RESOURCE_GROUP `
        --query 'systemKeys.blobs_extension' --output tsv
    if ($keys.Status -eq 0) {
        $key = $keys.Out
        $lastError = ''
        if ($key) { break }
    } elseif (Test-Lasting $keys.Err) {
        Stop-Hook ("could not read the keys of function app $($env:AZURE_FUNCTION_APP_NAME) in resource group " +
                   "$($env:RESOURCE_GROUP) (subscription $($env:AZURE_SUBSCRIPTION_ID)); az said:") $keys.Err
    } else {
        $lastError = $keys.Err
        [Console]::Error.WriteLine($lastError)  # maybe passing (the app is still starting): shown, tried again
    }
    if ($attempt -eq 18) { break }
    Write-Host "postdeploy: waiting for the blob trigger's key (attempt $attempt of 18)"
    Start-Sleep -Seconds 10
}
if (-not $key) {
    if ($lastError) {
        Stop-Hook "az kept failing to read the keys of function app $($env:AZURE_FUNCTION_APP_NAME); the last error:" $lastError
    }
    Stop-Hook ("the function app has no blobs_extension key; check that $($env:BLOB_FUNCTION_NAME) is a blob trigger " +
               "with source EventGrid and that the app started (Application Insights logs)") ''
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
    $create = Invoke-Az eventgrid system-topic event-subscription create `
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
    if ($create.Status -eq 0) { break }
    if (-not ($create.Err -match 'validation') -and (Test-Lasting $create.Err)) {
        Stop-Hook "could not create the Event Grid subscription on $($env:FORMS_SYSTEM_TOPIC_NAME); az said:" $create.Err
    }
    [Console]::Error.WriteLine($create.Err)
    if ($attempt -eq 3) {
        Stop-Hook "could not create the Event Grid subscription (the error above); re-run 'azd deploy' to retry" ''
    }
    Write-Host "postdeploy: creating the Event Grid subscription failed (attempt $attempt of 3); retrying in 20 s"
    Start-Sleep -Seconds 20
}
Write-Host ("postdeploy: Event Grid delivers BlobCreated in '$($env:FORMS_CONTAINER_NAME)' to $($env:BLOB_FUNCTION_NAME), " +
            "except blobs ending in: $($env:BLOB_EVENT_SKIP_SUFFIXES)")
