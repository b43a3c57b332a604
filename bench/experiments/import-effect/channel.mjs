// What meterline's runtime opens in the main thread for worker threads' totals (threads.ts): one BroadcastChannel.
const channel = new BroadcastChannel('meterline.threads.experiment');
channel.unref();
channel.onmessage = () => {};
channel.postMessage({ t: 'collect', id: 0 });
globalThis.__channel = channel;
