// Sends the integration test's DogStatsD traffic through hot-shots, the Node.js client, to
// 127.0.0.1:PORT, then prints how many of each call it made. Sampling is made deterministic (every
// sampled call is sent, marked with its rate) so the test can check exact counts and sums.
'use strict';
const StatsD = require('hot-shots');

const port = Number(process.argv[2]);
const n = Number(process.argv[3] || 100);
Math.random = () => 0; // hot-shots sends a sampled call when Math.random() < rate: always, here

const client = new StatsD({ host: '127.0.0.1', port, prefix: 'aishell.', errorHandler: e => { console.error(e); process.exit(1); } });
for (let i = 0; i < n; i++) {
  client.timing('query', 100, 0.25, { database: 'hs', type: 'SELECT', status: 'success' }); // 4 queries of 0.1 s each
  client.increment('custom.business_transactions', 1, { type: 'card', status: 'ok' });
  client.increment('feature', 1, 0.1, { feature: 'hot-shots' }); // stands for 10
  client.histogram('custom.latency', 0.25, { route: 'h' });
  client.distribution('custom.latency', 2, 0.5, { route: 'd' }); // 2 observations of 2 s
}

client.gauge('custom.revenue', 10, { product: 'p' });
client.gaugeDelta('custom.revenue', 4, { product: 'p' });
client.gaugeDelta('custom.revenue', -3, { product: 'p' });
client.close(err => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log(JSON.stringify({ sent: n }));
});
