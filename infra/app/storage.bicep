// Two storage accounts, both reachable only with Entra ID (no shared keys, no anonymous blob access, TLS 1.2,
// HTTPS only):
// - the forms account: the `forms` container and the `training-sets` snapshot container, the training and
//   prediction queues and their poison queues, the seven tables;
// - the host account: AzureWebJobsStorage (host locks, timer state) and the Flex Consumption package container.
// Keeping them apart means the data account holds only user data, and deleting or re-creating the function
// app never touches the forms.
// The identity's data roles are assigned on each account as a whole, not per container: Storage Blob Data
// Owner on the forms account covers reading, writing and deleting in both containers and creating the
// user-delegation key behind the SAS Document Intelligence reads the forms and snapshots with (that key can
// only be granted at account scope or above).
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
@description('Built-in role definition ids, keyed by role (see main.bicep).')
param roles object

var identityDataRoles = [
  roles.storageBlobDataOwner // Owner, not Contributor: user-delegation SAS for the training source needs it
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
    roleAssignments: empty(userPrincipalId) ? identityAssignments : concat(identityAssignments, userAssignments)
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
    roleAssignments: identityAssignments
  }
}

output formsStorageId string = forms.outputs.resourceId
output formsStorageName string = forms.outputs.name
output hostStorageName string = host.outputs.name
