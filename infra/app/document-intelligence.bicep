// Azure AI Document Intelligence (kind FormRecognizer; it serves the v2.1 REST API the pipeline speaks).
// A custom subdomain is required for Entra ID tokens; with local auth disabled the function's identity
// (Cognitive Services User) is the only way in.
param name string
param location string
param tags object
param sku string
param disableLocalAuth bool
param identityPrincipalId string
param userPrincipalId string = ''
param userPrincipalType string = 'User'
param cognitiveServicesUserRoleId string

var identityAssignment = [
  {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionIdOrName: cognitiveServicesUserRoleId
  }
]
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
    roleAssignments: empty(userPrincipalId) ? identityAssignment : concat(identityAssignment, userAssignment)
  }
}

output endpoint string = account.outputs.endpoint
output name string = account.outputs.name
