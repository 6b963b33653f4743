// The function app on the Flex Consumption plan (the plan that scales to zero and supports identity-based
// deployment storage). Flex takes the runtime from functionAppConfig.runtime, so FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION must NOT be app settings. It supports only the Event Grid blob trigger, hence
// BLOB_TRIGGER_SOURCE=EventGrid in main.bicep.
param name string
param location string
param tags object
param planName string
param identityId string
@description('Blob container URL the deployment package is uploaded to (identity access).')
param deploymentContainerUrl string
param instanceMemoryMB int
param maximumInstanceCount int
param appSettings object

module plan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'flexPlan'
  params: {
    name: planName
    location: location
    tags: tags
    sku: {
      name: 'FC1'
      tier: 'FlexConsumption'
    }
    reserved: true
  }
}

module site 'br/public:avm/res/web/site:0.15.1' = {
  name: 'functionSite'
  params: {
    kind: 'functionapp,linux'
    name: name
    location: location
    tags: union(tags, {
      'azd-service-name': 'pipeline'
    })
    serverFarmResourceId: plan.outputs.resourceId
    httpsOnly: true
    managedIdentities: {
      userAssignedResourceIds: [
        identityId
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      alwaysOn: false
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    appSettingsKeyValuePairs: appSettings
  }
}

output name string = site.outputs.name
output baseUrl string = 'https://${site.outputs.defaultHostname}'
