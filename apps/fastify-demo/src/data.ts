// The demo data and behaviour are the same in every framework's demo: shared with the Express demo.
export * from '../../express-demo/src/data.js';
