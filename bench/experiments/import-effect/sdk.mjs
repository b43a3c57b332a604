const sdk = await import('@opentelemetry/sdk-metrics');
const res = await import('@opentelemetry/resources');
globalThis.__mp = new sdk.MeterProvider({ resource: res.defaultResource() });
