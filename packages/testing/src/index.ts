export * from './scrape.js';
export * from './labels.js';
export * from './http.js';
