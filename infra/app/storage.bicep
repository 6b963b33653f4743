// Two storage accounts, both reachable only with Entra ID (no shared keys, no anonymous blob access, TLS 1.2,
// HTTPS only):
// - the forms account: the `forms` container and the `training-sets` snapshot container, the training and
//   prediction queues and their poison queues, the seven tables;
// - the host account: AzureWebJobsStorage (host locks, timer state) and the Flex Consumption package container.
// Keeping them apart means the data account holds only user data, and deleting or re-creating the function
// app never touches the forms.
// The identity's roles are assigned on each account as a whole, not per container, and they are the ones the
// Azure Functions docs list for an identity-based blob trigger ("Grant permission to the identity" and
// "Connecting to host storage with an identity" in articles/azure-functions/functions-reference.md):
// - forms account, the trigger's own connection (FORMS_STORAGE): Storage Blob Data Owner and Storage Queue
//   Data Contributor (the trigger's poison queue; here also the training and prediction queues), plus
//   Storage Table Data Contributor for the pipeline's tables. Owner also covers what the pipeline itself
//   does with blobs: read, write and delete in both containers, and the user-delegation key behind the
//   training SAS (Azure grants that key only at account scope or above);
// - host account (AzureWebJobsStorage): Storage Blob Data Owner (host locks, timer state, keys, the
//   deployment package), and for the blob trigger, which keeps its receipts and queues there whatever its
//   own connection is, Storage Account Contributor and Storage Queue Data Contributor as well; Storage
//   Table Data Contributor lets the host write its diagnostic events. Storage Account Contributor can list
//   account keys, which this account does not accept (shared-key access is off).
// With trainingSourceAuth=service-identity, Document Intelligence's own system-assigned identity gets
// Storage Blob Data Reader on the forms account (read + list of both containers), which is what the
// Document Intelligence docs ask for ("Managed identities for Document Intelligence").
param location string
param tags object
param formsStorageName string
param hostStorageName string
@description('Blob containers of the forms account: the forms, then the training-set snapshots.')
param containerNames array
param deploymentContainerName string
param queueNames array
param tableNames array
param identityPrincipalId string
@description('Optional: the deploying user, who gets data roles on the forms account. Empty = none.')
param userPrincipalId string = ''
param userPrincipalType string = 'User'
@description('Optional: Document Intelligence\'s system-assigned identity, which reads training sets. Empty = none.')
param documentIntelligencePrincipalId string = ''
@description('Built-in role definition ids, keyed by role (see main.bicep).')
param roles object

var identityDataRoles = [
  roles.storageBlobDataOwner // what the docs list for a blob trigger's connection (Contributor is not enough)
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]
var userDataRoles = [
  roles.storageBlobDataContributor
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]
var identityAssignments = [
  for role in identityDataRoles: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionIdOrName: role
  }
]
var userAssignments = [
  for role in userDataRoles: {
    principalId: userPrincipalId
    principalType: userPrincipalType
    roleDefinitionIdOrName: role
  }
]
// The blob trigger keeps its receipts and internal queues in the host account (AzureWebJobsStorage).
var hostAssignments = concat(identityAssignments, [
  {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionIdOrName: roles.storageAccountContributor
  }
])
var documentIntelligenceAssignment = [
  {
    principalId: documentIntelligencePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionIdOrName: roles.storageBlobDataReader
  }
]
var optionalUserAssignments = empty(userPrincipalId) ? [] : userAssignments
var optionalDocumentIntelligenceAssignments = empty(documentIntelligencePrincipalId) ? [] : documentIntelligenceAssignment
var formsAssignments = concat(identityAssignments, optionalUserAssignments, optionalDocumentIntelligenceAssignments)

var secureDefaults = {
  skuName: 'Standard_LRS'
  kind: 'StorageV2'
  allowBlobPublicAccess: false
  allowSharedKeyAccess: false
  supportsHttpsTrafficOnly: true
  minimumTlsVersion: 'TLS1_2'
  publicNetworkAccess: 'Enabled'
  networkAcls: {
    defaultAction: 'Allow'
    bypass: 'AzureServices'
  }
}

module forms 'br/public:avm/res/storage/storage-account:0.14.3' = {
  name: 'formsStorage'
  params: {
    name: formsStorageName
    location: location
    tags: tags
    skuName: secureDefaults.skuName
    kind: secureDefaults.kind
    allowBlobPublicAccess: secureDefaults.allowBlobPublicAccess
    allowSharedKeyAccess: secureDefaults.allowSharedKeyAccess
    supportsHttpsTrafficOnly: secureDefaults.supportsHttpsTrafficOnly
    minimumTlsVersion: secureDefaults.minimumTlsVersion
    publicNetworkAccess: secureDefaults.publicNetworkAccess
    networkAcls: secureDefaults.networkAcls
    blobServices: {
      containers: [
        for container in containerNames: {
          name: container
          publicAccess: 'None'
        }
      ]
    }
    queueServices: {
      queues: [
        for queue in queueNames: {
          name: queue
        }
      ]
    }
    tableServices: {
      tables: [
        for table in tableNames: {
          name: table
        }
      ]
    }
    roleAssignments: formsAssignments
  }
}

module host 'br/public:avm/res/storage/storage-account:0.14.3' = {
  name: 'hostStorage'
  params: {
    name: hostStorageName
    location: location
    tags: tags
    skuName: secureDefaults.skuName
    kind: secureDefaults.kind
    allowBlobPublicAccess: secureDefaults.allowBlobPublicAccess
    allowSharedKeyAccess: secureDefaults.allowSharedKeyAccess
    supportsHttpsTrafficOnly: secureDefaults.supportsHttpsTrafficOnly
    minimumTlsVersion: secureDefaults.minimumTlsVersion
    publicNetworkAccess: secureDefaults.publicNetworkAccess
    networkAcls: secureDefaults.networkAcls
    blobServices: {
      containers: [
        {
          name: deploymentContainerName
          publicAccess: 'None'
        }
      ]
    }
    roleAssignments: hostAssignments
  }
}

output formsStorageId string = forms.outputs.resourceId
output formsStorageName string = forms.outputs.name
output hostStorageName string = host.outputs.name
