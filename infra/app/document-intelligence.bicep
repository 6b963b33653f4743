// Azure AI Document Intelligence (kind FormRecognizer; it serves the v2.1 and v4.0 REST APIs the pipeline
// speaks). A custom subdomain is required for Entra ID tokens; with local auth disabled the function's identity
// (Cognitive Services User) is the only way in.
// Outbound: the Verified Module restricts the account's outbound network access by default (data loss
// prevention), which would also stop it reading a training set from storage; the only host it may reach is
// the forms account's blob endpoint (`allowedFqdns`), whether it reads with a SAS or with its own identity.
// With `systemAssignedIdentity` the account gets a system-assigned identity (Document Intelligence reads
// storage only with that kind), which main.bicep grants Storage Blob Data Reader on the forms account.
param name string
param location string
param tags object
param sku string
param disableLocalAuth bool
param identityPrincipalId string
param userPrincipalId string = ''
param userPrincipalType string = 'User'
param cognitiveServicesUserRoleId string
@description('Give the account a system-assigned identity, to read training sets without a SAS.')
param systemAssignedIdentity bool = false
@description('Hosts the account may reach (data loss prevention): the forms account\'s blob endpoint.')
param allowedFqdns array

var identityAssignment = [
  {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionIdOrName: cognitiveServicesUserRoleId
  }
]
var systemIdentity = {
  systemAssigned: true
}
var userAssignment = [
  {
    principalId: userPrincipalId
    principalType: userPrincipalType
    roleDefinitionIdOrName: cognitiveServicesUserRoleId
  }
]

module account 'br/public:avm/res/cognitive-services/account:0.10.2' = {
  name: 'documentIntelligenceAccount'
  params: {
    name: name
    location: location
    tags: tags
    kind: 'FormRecognizer'
    sku: sku
    customSubDomainName: name
    disableLocalAuth: disableLocalAuth
    publicNetworkAccess: 'Enabled'
    restrictOutboundNetworkAccess: true
    allowedFqdnList: allowedFqdns
    managedIdentities: systemAssignedIdentity ? systemIdentity : null // null: no identity at all
    roleAssignments: empty(userPrincipalId) ? identityAssignment : concat(identityAssignment, userAssignment)
  }
}

output endpoint string = account.outputs.endpoint
output name string = account.outputs.name
@description('Principal id of the account\'s system-assigned identity; empty without one.')
output systemAssignedPrincipalId string = systemAssignedIdentity ? (account.outputs.?systemAssignedMIPrincipalId ?? '') : ''
