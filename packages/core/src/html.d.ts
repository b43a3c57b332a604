// Page assets are bundled as text (tsup's text loader; a Vite plugin in vitest.config.ts for the tests).
declare module '*.html' {
  const text: string;
  export default text;
}
