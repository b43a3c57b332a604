export * from './scrape.js';
export * from './http.js';
export * from './tracing.js';
