/** The demo data and behaviour are the same in every framework's demo. */
export * from '../../express-demo/src/data.js';
