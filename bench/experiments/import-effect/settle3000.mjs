function tick() {}
for (let i = 0; i < 3000; i++) process.nextTick(tick, i);
