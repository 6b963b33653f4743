// formloop on Azure: the function app (Flex Consumption, Python 3.11) with a user-assigned identity, the
// forms storage account (the forms and training-set snapshot containers, the training and prediction queues,
// the tables; no shared keys), an Event Grid system topic for the blob trigger, Azure AI Document
// Intelligence (reading training sets through a short SAS or, with trainingSourceAuth=service-identity, with
// its own identity), and Application Insights. `azd up` deploys it; the Event Grid subscription itself is
// created after code deployment by infra/hooks/postdeploy.* (it needs the function's `blobs_extension` key,
// which exists only once the blob trigger has been indexed), with the filters this file outputs.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to derive a unique suffix for every resource name.')
param environmentName string

@minLength(1)
@description('Region for all resources. Pick one that offers the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the user or service principal running azd; gets data roles so `formloop status` works from a laptop. Empty = none.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of the principal in principalId.')
param principalType string = 'User'

@description('Optional explicit resource group name (default rg-<environmentName>).')
param resourceGroupName string = ''

@description('Blob container the forms are uploaded to (one folder per form type).')
param formsContainerName string = 'forms'

@description('Queue the blob trigger writes training requests to (its poison queue is <name>-poison).')
param trainingQueueName string = 'training-requests'

@description('Queue of re-prediction requests, one per folder whose model became current (its poison queue is <name>-poison).')
param predictionQueueName string = 'prediction-requests'

@description('Blob container (forms account) for the training-set snapshots Document Intelligence trains from; must differ from formsContainerName.')
param snapshotContainerName string = 'training-sets'

@description('NCRONTAB (6 fields) for polling unfinished training runs.')
param pollSchedule string = '0 */1 * * * *'

@description('Labeled documents a folder needs before the first model is trained.')
param trainingThreshold string = '10'

// The pipeline also speaks the 2019 `2.0-preview` routes, but only the local engine serves them: Azure retired
// Form Recognizer v2.0 on 2026-08-31, so it is not offered here (and shared/settings.py refuses it with an
// Azure endpoint).
@description('Document Intelligence REST API the pipeline speaks: v2.1 (supported until 2027-09-15) or 2024-11-30 (v4.0).')
@allowed([
  'v2.1'
  '2024-11-30'
])
param formRecognizerApi string = 'v2.1'

@description('How Document Intelligence reads a training set: sas (a short user-delegation SAS in the source URL) or service-identity (the plain container URL, read with the Document Intelligence account\'s own system-assigned identity, which gets Storage Blob Data Reader on the forms account).')
@allowed([
  'sas'
  'service-identity'
])
param trainingSourceAuth string = 'sas'

@description('Client id of the Entra ID app registration people sign in to the review page with (docs/deploy.md); empty keeps the page closed.')
param reviewClientId string = ''

@allowed([
  'S0'
  'F0'
])
@description('Document Intelligence pricing tier: S0 (pay per page) or F0 (free, one per subscription, 500 pages/month).')
param documentIntelligenceSku string = 'S0'

@description('Disable key authentication on Document Intelligence (the app uses its managed identity). Set false to also allow FORM_RECOGNIZER_KEY.')
param documentIntelligenceDisableLocalAuth bool = true

@description('Memory per Flex Consumption instance (MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on Flex Consumption instances (caps cost under a burst of uploads).')
param maximumInstanceCount int = 40

@description('Python function name of the blob trigger in function_app.py (the Event Grid webhook targets Host.Functions.<name>).')
param blobFunctionName string = 'on_blob'

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'formloop'
}
var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
var formsStorageName = '${abbrs.storageStorageAccounts}${resourceToken}'
var hostStorageName = '${abbrs.storageStorageAccounts}fn${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 12)}'
var documentIntelligenceName = '${abbrs.cognitiveServicesFormRecognizer}${resourceToken}'
var systemTopicName = '${abbrs.eventGridSystemTopics}forms-${resourceToken}'
var poisonQueueName = '${trainingQueueName}-poison'
var predictionPoisonQueueName = '${predictionQueueName}-poison'
var tableNames = {
  documents: 'Documents'
  trainingRuns: 'TrainingRuns'
  models: 'Models'
  fields: 'Fields'
  trainingDocuments: 'TrainingDocuments'
  predictions: 'Predictions'
  reviews: 'Reviews'
}
// The blob trigger's Event Grid subscription, created by infra/hooks/postdeploy.* (it needs the function's
// `blobs_extension` key, which exists only after code deployment) from the two outputs below:
// - BlobCreated whose subject begins with '/blobServices/default/containers/<forms container>/': the trailing
//   '/' keeps out the snapshot container and any container whose name merely starts with the forms
//   container's name, so writing and deleting snapshots never invokes the function;
// - one StringNotEndsWith advanced filter on the subject per suffix below (filters are ANDed): the blobs the
//   pipeline writes beside the forms itself (shared/names.py OCR_SUFFIX, PREDICTION_SUFFIX), which the
//   function would only ignore, cost no delivery and no invocation. Comparisons are case-insensitive, like
//   shared/names.py classify(). Event Grid allows 25 advanced filters and 25 values in all per subscription.
var formsEventSubjectPrefix = '/blobServices/default/containers/${formsContainerName}/'
var pipelineOutputSuffixes = [
  '.ocr.json'
  '.prediction.json'
]
var storageSuffix = environment().suffixes.storage
var documentIntelligenceReadsWithIdentity = trainingSourceAuth == 'service-identity'

// Built-in role definition ids (stable across tenants).
var roles = {
  storageAccountContributor: '17d1049b-9a84-46fb-8f53-869881c3d3ab'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}pipeline-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    identityPrincipalId: identity.outputs.principalId
    metricsPublisherRoleId: roles.monitoringMetricsPublisher
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    formsStorageName: formsStorageName
    hostStorageName: hostStorageName
    containerNames: [
      formsContainerName
      snapshotContainerName
    ]
    deploymentContainerName: deploymentContainerName
    queueNames: [
      trainingQueueName
      poisonQueueName
      predictionQueueName
      predictionPoisonQueueName
    ]
    tableNames: [
      tableNames.documents
      tableNames.trainingRuns
      tableNames.models
      tableNames.fields
      tableNames.trainingDocuments
      tableNames.predictions
      tableNames.reviews
    ]
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    documentIntelligencePrincipalId: documentIntelligenceReadsWithIdentity ? documentIntelligence.outputs.systemAssignedPrincipalId : ''
    roles: roles
  }
}

module documentIntelligence 'app/document-intelligence.bicep' = {
  name: 'documentIntelligence'
  scope: rg
  params: {
    name: documentIntelligenceName
    location: location
    tags: tags
    sku: documentIntelligenceSku
    disableLocalAuth: documentIntelligenceDisableLocalAuth
    systemAssignedIdentity: documentIntelligenceReadsWithIdentity
    allowedFqdns: [
      '${formsStorageName}.blob.${storageSuffix}'
    ]
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    cognitiveServicesUserRoleId: roles.cognitiveServicesUser
  }
}

module eventGridTopic 'br/public:avm/res/event-grid/system-topic:0.6.1' = {
  name: 'eventGridTopic'
  scope: rg
  params: {
    name: systemTopicName
    location: location
    tags: tags
    source: storage.outputs.formsStorageId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// Every app setting the function reads (shared/settings.py SETTINGS_SPEC); tests/infra checks the two agree.
// Binding expressions (%FORMS_CONTAINER%, %TRAINING_QUEUE%, %PREDICTION_QUEUE%, %POLL_SCHEDULE%) are resolved
// by the Functions host from these settings, so they must be set here even where the Python code has a default.
var appSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  AzureWebJobsStorage__blobServiceUri: 'https://${hostStorageName}.blob.${storageSuffix}'
  AzureWebJobsStorage__queueServiceUri: 'https://${hostStorageName}.queue.${storageSuffix}'
  AzureWebJobsStorage__tableServiceUri: 'https://${hostStorageName}.table.${storageSuffix}'
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  AZURE_CLIENT_ID: identity.outputs.clientId
  FORMS_STORAGE__credential: 'managedidentity'
  FORMS_STORAGE__clientId: identity.outputs.clientId
  FORMS_STORAGE__blobServiceUri: 'https://${formsStorageName}.blob.${storageSuffix}'
  FORMS_STORAGE__queueServiceUri: 'https://${formsStorageName}.queue.${storageSuffix}'
  FORMS_STORAGE__tableServiceUri: 'https://${formsStorageName}.table.${storageSuffix}'
  FORMS_CONTAINER: formsContainerName
  SNAPSHOT_CONTAINER: snapshotContainerName
  TRAINING_QUEUE: trainingQueueName
  PREDICTION_QUEUE: predictionQueueName
  DOCUMENTS_TABLE: tableNames.documents
  TRAINING_RUNS_TABLE: tableNames.trainingRuns
  MODELS_TABLE: tableNames.models
  FIELDS_TABLE: tableNames.fields
  TRAINING_DOCUMENTS_TABLE: tableNames.trainingDocuments
  PREDICTIONS_TABLE: tableNames.predictions
  REVIEWS_TABLE: tableNames.reviews
  POLL_SCHEDULE: pollSchedule
  // Not on every start: each new instance of a scale-out would run the timer at once (the schedule and
  // its past-due beats cover Azure; locally the default `true` keeps the first sweep immediate).
  TIMER_RUN_ON_STARTUP: 'false'
  BLOB_TRIGGER_SOURCE: 'EventGrid'
  FORM_RECOGNIZER_ENDPOINT: documentIntelligence.outputs.endpoint
  FORM_RECOGNIZER_API: formRecognizerApi
  TRAINING_THRESHOLD: trainingThreshold
  TRAINING_SOURCE_AUTH: trainingSourceAuth
  // The review page signs people in with Entra ID and lets in only holders of the app role. Its two
  // secrets (ENTRA_CLIENT_SECRET, REVIEW_SESSION_KEY) are not set here: Key Vault references, by hand.
  REVIEW_AUTH: 'entra'
  REVIEW_ROLE: 'Reviewer'
  ENTRA_TENANT_ID: tenant().tenantId
  ENTRA_CLIENT_ID: reviewClientId
}

module functionApp 'app/function.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    planName: '${abbrs.webServerFarms}${resourceToken}'
    identityId: identity.outputs.resourceId
    deploymentContainerUrl: 'https://${hostStorageName}.blob.${storageSuffix}/${deploymentContainerName}'
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    appSettings: appSettings
  }
  dependsOn: [
    storage
  ]
}

// Read by azd (written to .azure/<env>/.env) and by the postdeploy hook.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_PIPELINE_BASE_URL string = functionApp.outputs.baseUrl
output AZURE_STORAGE_ACCOUNT_NAME string = formsStorageName
output FORMS_CONTAINER_NAME string = formsContainerName
output FORMS_SYSTEM_TOPIC_NAME string = systemTopicName
output BLOB_FUNCTION_NAME string = blobFunctionName
output BLOB_EVENT_SUBJECT_PREFIX string = formsEventSubjectPrefix
output BLOB_EVENT_SKIP_SUFFIXES string = join(pipelineOutputSuffixes, ' ')
output FORM_RECOGNIZER_ENDPOINT string = documentIntelligence.outputs.endpoint
output AZURE_CLIENT_ID string = identity.outputs.clientId
