import './pin.mjs';
await import('./garbage.mjs');
