// The pin, then 3,000 ticks alive at once (what core's runtime did until 2026-12): a scavenge during them makes V8
// pretenure the tick-object literal (see gc-count.mjs).
import './pin.mjs';
await import('./settle3000.mjs');
