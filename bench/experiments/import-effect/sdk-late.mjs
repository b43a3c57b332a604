// the OpenTelemetry SDK loaded and a MeterProvider created 2 s after startup (under load in gc-count.mjs)
setTimeout(async () => {
  const sdk = await import('@opentelemetry/sdk-metrics');
  const res = await import('@opentelemetry/resources');
  globalThis.__mp = new sdk.MeterProvider({ resource: res.defaultResource() });
}, 2000).unref();
