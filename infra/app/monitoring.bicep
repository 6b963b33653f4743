// Log Analytics workspace + workspace-based Application Insights with local (key) auth disabled: the function
// app sends telemetry with its managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
param location string
param tags object
param logAnalyticsName string
param applicationInsightsName string
param identityPrincipalId string
param metricsPublisherRoleId string

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.11.1' = {
  name: 'logAnalytics'
  params: {
    name: logAnalyticsName
    location: location
    tags: tags
    dataRetention: 30
  }
}

module applicationInsights 'br/public:avm/res/insights/component:0.6.0' = {
  name: 'applicationInsights'
  params: {
    name: applicationInsightsName
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
    roleAssignments: [
      {
        principalId: identityPrincipalId
        principalType: 'ServicePrincipal'
        roleDefinitionIdOrName: metricsPublisherRoleId
      }
    ]
  }
}

output connectionString string = applicationInsights.outputs.connectionString
output applicationInsightsName string = applicationInsights.outputs.name
