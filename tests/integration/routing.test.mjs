// Routing across several deployments: each strategy's distribution, failover with retries, the
// circuit breaker, Retry-After cool-downs and the retry limit. Several real fake upstreams on loopback;
// which one answered is read from X-Routed-Node.

import assert from 'node:assert/strict';
import { after } from 'node:test';
import {
  assertOpenAIError,
  chatBody,
  closedPort,
  gatewayConfig,
  getJson,
  openaiUpstream,
  pollUntil,
  postJson,
  sleep,
  startFake,
  startGateway,
  stopAll,
  test,
} from './harness.mjs';

after(stopAll);

const NO_HEALTH = { health: false };

async function fakes(n, args = []) {
  return Promise.all(Array.from({ length: n }, (_, i) => startFake(args, { name: `fake-${i}` })));
}

function upstreamsOf(list, extra = {}) {
  return Object.fromEntries(list.map((f, i) => [`gpu${i}`, openaiUpstream(f, { ...NO_HEALTH, ...extra })]));
}

async function gatewayFor(upstreams, model, workers = 1) {
  return startGateway(gatewayConfig({ workers, upstreams, models: { 'qwen-7b': model } }));
}

async function chat(gw, headers = {}) {
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), headers);
  return r;
}

function countBy(list) {
  const counts = {};
  for (const x of list) counts[x] = (counts[x] ?? 0) + 1;
  return counts;
}

// Sends `n` requests from `concurrency` loops at once; returns the responses.
async function load(gw, n, concurrency, headers = {}) {
  const results = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next += 1;
        results.push(await chat(gw, headers));
      }
    }),
  );
  return results;
}

test('round_robin takes the deployments in turn, exactly', async () => {
  const list = await fakes(3);
  const deployments = list.map((_, i) => ({ upstream: `gpu${i}`, model: 'm' }));
  const gw = await gatewayFor(upstreamsOf(list), { strategy: 'round_robin', deployments });
  const order = [];
  for (let i = 0; i < 30; i += 1) {
    const r = await chat(gw);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-switchyard-attempts'), '1');
    order.push(r.headers.get('x-routed-node'));
  }
  assert.deepEqual(countBy(order), { gpu0: 10, gpu1: 10, gpu2: 10 });
  for (let i = 3; i < order.length; i += 1) assert.equal(order[i], order[i - 3], `request ${i} breaks the cycle`);
});

test('weighted follows the weights (smooth: no long runs)', async () => {
  const list = await fakes(2);
  const deployments = [
    { upstream: 'gpu0', model: 'm', weight: 3 },
    { upstream: 'gpu1', model: 'm', weight: 1 },
  ];
  const gw = await gatewayFor(upstreamsOf(list), { strategy: 'weighted', deployments }, 2);
  const nodes = (await load(gw, 80, 1)).map((r) => r.headers.get('x-routed-node'));
  const counts = countBy(nodes);
  // Two workers each run the 3:1 cycle on their own share: exact per worker, within one cycle overall.
  assert.ok(Math.abs(counts.gpu0 - 60) <= 4, JSON.stringify(counts));
  assert.ok(Math.abs(counts.gpu1 - 20) <= 4, JSON.stringify(counts));
});

test('least_loaded sends new requests away from the busy deployment', async () => {
  const slow = await startFake(['--ttft-ms', '300'], { name: 'slow' });
  const fast = await startFake([], { name: 'fast' });
  const deployments = [
    { upstream: 'gpu0', model: 'm' },
    { upstream: 'gpu1', model: 'm' },
  ];
  const gw = await gatewayFor(upstreamsOf([slow, fast]), { strategy: 'least_loaded', deployments }, 2);
  const started = Date.now();
  const results = await load(gw, 200, 4);
  const counts = countBy(results.map((r) => r.headers.get('x-routed-node')));
  assert.ok(results.every((r) => r.status === 200));
  // Round robin would give the slow one half; following in-flight it gets about one request per 300 ms.
  const slowShare = (counts.gpu0 ?? 0) / results.length;
  assert.ok(slowShare < 0.15, `slow share ${slowShare} (${JSON.stringify(counts)}, ${Date.now() - started} ms)`);
  assert.ok((counts.gpu0 ?? 0) >= 1, 'the slow one still gets work when it is idle');
});

test('latency_based shifts to the faster deployment and keeps probing the slow one', async () => {
  const slow = await startFake(['--ttft-ms', '40'], { name: 'slow' });
  const fast = await startFake([], { name: 'fast' });
  const deployments = [
    { upstream: 'gpu0', model: 'm' },
    { upstream: 'gpu1', model: 'm' },
  ];
  const gw = await gatewayFor(upstreamsOf([slow, fast]), { strategy: 'latency_based', deployments });
  const nodes = (await load(gw, 300, 1)).map((r) => r.headers.get('x-routed-node'));
  const counts = countBy(nodes);
  assert.ok(counts.gpu1 >= 255, `fast one gets most: ${JSON.stringify(counts)} ${nodes.join(' ')}`);
  assert.ok(counts.gpu0 >= 2, `slow one is still probed: ${JSON.stringify(counts)}`);
  assert.ok(nodes.slice(150).includes('gpu0'), 'probing goes on after the averages settled');
});

test('random (power of two choices) spreads over every deployment', async () => {
  const list = await fakes(3);
  const deployments = list.map((_, i) => ({ upstream: `gpu${i}`, model: 'm' }));
  const gw = await gatewayFor(upstreamsOf(list), { strategy: 'random', deployments }, 2);
  const counts = countBy((await load(gw, 150, 3)).map((r) => r.headers.get('x-routed-node')));
  for (const node of ['gpu0', 'gpu1', 'gpu2']) assert.ok(counts[node] >= 25, JSON.stringify(counts));
});

test('a dead deployment: requests fail over (no client sees an error), then its circuit opens', async () => {
  const list = await fakes(2);
  const dead = await closedPort();
  const upstreams = {
    ...upstreamsOf(list, { circuit: { failures: 3, open_ms: 60000 } }),
    gone: openaiUpstream(`http://127.0.0.1:${dead}/v1`, { ...NO_HEALTH, circuit: { failures: 3, open_ms: 60000 } }),
  };
  const deployments = [{ upstream: 'gone', model: 'm' }, ...list.map((_, i) => ({ upstream: `gpu${i}`, model: 'm' }))];
  const gw = await gatewayFor(upstreams, { strategy: 'round_robin', deployments });
  const results = await load(gw, 30, 1);
  assert.ok(results.every((r) => r.status === 200), results.map((r) => r.status).join(','));
  assert.ok(results.every((r) => r.headers.get('x-routed-node') !== 'gone'));
  const retried = results.filter((r) => r.headers.get('x-switchyard-attempts') === '2');
  assert.equal(retried.length, 3, 'three failures open the circuit; after that the dead one is skipped');
  assert.ok(results.slice(-10).every((r) => r.headers.get('x-switchyard-attempts') === '1'));
});

test('SIGKILL one of three upstreams under load: no failed request', async () => {
  const list = await fakes(3, ['--ttft-ms', '5']);
  const deployments = list.map((_, i) => ({ upstream: `gpu${i}`, model: 'm' }));
  const gw = await gatewayFor(upstreamsOf(list), { strategy: 'round_robin', deployments }, 2);
  const running = load(gw, 600, 8);
  await sleep(150);
  await list[1].stop({ signal: 'SIGKILL' });
  const results = await running;
  const failed = results.filter((r) => r.status !== 200);
  const described = failed.slice(0, 3).map((r) => `${r.status} ${r.headers.get('x-switchyard-attempts')} ${r.text}`);
  assert.equal(failed.length, 0, described.join('\n'));
  assert.ok(results.some((r) => r.headers.get('x-routed-node') === 'gpu1'), 'gpu1 served before it died');
});

test('a 5xx is retried on another deployment; with retries.max 0 it is passed on', async () => {
  const broken = await startFake(['--status', '500'], { name: 'broken' });
  const good = await startFake([], { name: 'good' });
  const deployments = [
    { upstream: 'gpu0', model: 'm' },
    { upstream: 'gpu1', model: 'm' },
  ];
  const retrying = await gatewayFor(upstreamsOf([broken, good], { circuit: { failures: 100 } }), {
    strategy: 'round_robin',
    deployments,
  });
  const results = await load(retrying, 10, 1);
  assert.ok(results.every((r) => r.status === 200 && r.headers.get('x-routed-node') === 'gpu1'));
  assert.equal(results.filter((r) => r.headers.get('x-switchyard-attempts') === '2').length, 5);

  const strict = await gatewayFor(upstreamsOf([broken, good], { circuit: { failures: 100 } }), {
    strategy: 'round_robin',
    deployments,
    retries: { max: 0 },
  });
  const statuses = (await load(strict, 10, 1)).map((r) => r.status);
  assert.deepEqual(countBy(statuses), { 200: 5, 500: 5 });
});

test('429 with Retry-After cools that deployment down', async () => {
  const limited = await startFake(['--status', '429', '--retry-after', '30'], { name: 'limited' });
  const good = await startFake([], { name: 'good' });
  const deployments = [
    { upstream: 'gpu0', model: 'm' },
    { upstream: 'gpu1', model: 'm' },
  ];
  const gw = await gatewayFor(upstreamsOf([limited, good]), { strategy: 'round_robin', deployments });
  const results = await load(gw, 12, 1);
  assert.ok(results.every((r) => r.status === 200));
  const stats = await limited.stats();
  assert.equal(stats.requests, 1, 'asked once, then left alone for its Retry-After');
  assert.equal(results[0].headers.get('x-switchyard-attempts'), '2');
});

test('every deployment down: the last upstream error, then 503 once the circuits are open', async () => {
  const deadA = await closedPort();
  const deadB = await closedPort();
  const upstreams = {
    a: openaiUpstream(`http://127.0.0.1:${deadA}/v1`, { ...NO_HEALTH, circuit: { failures: 2, open_ms: 60000 } }),
    b: openaiUpstream(`http://127.0.0.1:${deadB}/v1`, { ...NO_HEALTH, circuit: { failures: 2, open_ms: 60000 } }),
  };
  const gw = await gatewayFor(upstreams, {
    deployments: [
      { upstream: 'a', model: 'm' },
      { upstream: 'b', model: 'm' },
    ],
  });
  const first = await chat(gw);
  assertOpenAIError(assert, first, 502, 'both refuse');
  assert.equal(first.headers.get('x-switchyard-attempts'), '2');
  await chat(gw);
  const later = await chat(gw);
  const error = assertOpenAIError(assert, later, 503, 'circuits open');
  assert.equal(error.code, 'no_deployment_available');
});

test('active health checks: a loading upstream (503 on /health) gets no traffic until it is up', async () => {
  const loading = await startFake(['--loading-ms', '1500'], { name: 'loading' });
  const ready = await startFake([], { name: 'ready' });
  const health = { path: '/health', interval_ms: 100, timeout_ms: 500, unhealthy_after: 1, healthy_after: 1 };
  const upstreams = {
    gpu0: openaiUpstream(loading, { health }),
    gpu1: openaiUpstream(ready, { health }),
  };
  const deployments = [
    { upstream: 'gpu0', model: 'm' },
    { upstream: 'gpu1', model: 'm' },
  ];
  const gw = await gatewayFor(upstreams, { strategy: 'round_robin', deployments });
  await pollUntil(async () => (await getJson(`${gw.url}/health`)).upstreams.gpu0.state === 'down', {
    what: 'gpu0 reported down',
  });
  const stats = await getJson(`${gw.url}/stats`);
  const [d0, d1] = stats.models['qwen-7b'].deployments;
  assert.equal(d0.healthy, false);
  assert.equal(d1.healthy, true);
  const during = await load(gw, 10, 1);
  assert.ok(during.every((r) => r.status === 200 && r.headers.get('x-routed-node') === 'gpu1'));
  assert.ok(during.every((r) => r.headers.get('x-switchyard-attempts') === '1'), 'down ones are not even tried');
  await pollUntil(async () => (await getJson(`${gw.url}/health`)).upstreams.gpu0.state !== 'down', {
    timeoutMs: 5000,
    what: 'gpu0 back up after loading',
  });
  const afterwards = countBy((await load(gw, 10, 1)).map((r) => r.headers.get('x-routed-node')));
  assert.deepEqual(afterwards, { gpu0: 5, gpu1: 5 });
});

test('a hung upstream: requests move on after the first-byte timeout', async () => {
  const hung = await startFake(['--hang'], { name: 'hung' });
  const good = await startFake([], { name: 'good' });
  const timeouts = { first_byte_ms: 300 };
  const upstreams = upstreamsOf([hung, good], { timeouts, circuit: { failures: 100 } });
  const deployments = [
    { upstream: 'gpu0', model: 'm' },
    { upstream: 'gpu1', model: 'm' },
  ];
  const gw = await gatewayFor(upstreams, { strategy: 'round_robin', deployments });
  const first = await chat(gw);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('x-routed-node'), 'gpu1');
  assert.equal(first.headers.get('x-switchyard-attempts'), '2');
  assert.ok(first.ms >= 280 && first.ms < 2000, `${first.ms} ms`);
});

test('the circuit opens, probes half-open and closes when the upstream recovers', async () => {
  const port = await closedPort();
  let flaky = await startFake(['--listen', `127.0.0.1:${port}`], { name: 'flaky' });
  const good = await startFake([], { name: 'good' });
  const upstreams = {
    gpu0: openaiUpstream(flaky, { ...NO_HEALTH, circuit: { failures: 2, open_ms: 300 } }),
    gpu1: openaiUpstream(good, NO_HEALTH),
  };
  const deployments = [
    { upstream: 'gpu0', model: 'm' },
    { upstream: 'gpu1', model: 'm' },
  ];
  const gw = await gatewayFor(upstreams, { strategy: 'round_robin', deployments });
  assert.equal((await load(gw, 4, 1)).filter((r) => r.headers.get('x-routed-node') === 'gpu0').length, 2);
  await flaky.stop({ signal: 'SIGKILL' });
  await load(gw, 6, 1);
  const circuit = async () => (await getJson(`${gw.url}/stats`)).models['qwen-7b'].deployments[0].circuit;
  assert.equal(await circuit(), 'open');
  const whileOpen = await load(gw, 6, 1);
  assert.ok(whileOpen.every((r) => r.status === 200 && r.headers.get('x-routed-node') === 'gpu1'));
  flaky = await startFake(['--listen', `127.0.0.1:${port}`], { name: 'flaky-again' });
  await sleep(700);  // past the (possibly doubled) open time: the next request is the probe
  await load(gw, 4, 1);
  assert.equal(await circuit(), 'closed');
  const recovered = countBy((await load(gw, 10, 1)).map((r) => r.headers.get('x-routed-node')));
  assert.deepEqual(recovered, { gpu0: 5, gpu1: 5 });
});
