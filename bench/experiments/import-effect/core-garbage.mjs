await import('@meterline/core/adapter');
await import('./garbage.mjs');
