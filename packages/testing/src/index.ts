export * from './scrape.js';
export * from './labels.js';
export * from './http.js';
export * from './server.js';
export * from './poll.js';
export * from './traffic.js';
