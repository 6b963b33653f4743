// Azurite requires "applicationinsights" when it loads and uses it only when telemetry is on; formloop starts
// Azurite with --disableTelemetry. Should anything call it, Azurite's own try/catch logs "Fail to init telemetry".
module.exports = {};
