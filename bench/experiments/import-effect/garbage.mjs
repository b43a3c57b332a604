let keep = 0;
for (let i = 0; i < 300_000; i++) {
  const o = { a: i, b: String(i), c: [i] };
  keep += o.c.length;
}
globalThis.__keep = keep;
