export * from './scrape.js';
export * from './http.js';
