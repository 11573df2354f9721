// Capacity, the per-alias queue and tiers: overflow to the next tier when tier 0 is full and back,
// priorities (high before low, low still served), a full queue (429 + Retry-After), the queue timeout
// (503) and a client that leaves while queued. Real fake upstreams, slowed down so slots stay taken.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after } from 'node:test';
import {
  assertOpenAIError,
  chatBody,
  gatewayConfig,
  getJson,
  metricSum,
  openaiUpstream,
  pollUntil,
  postJson,
  scrape,
  sleep,
  startFake,
  startGateway,
  stopAll,
  test,
} from './harness.mjs';

after(stopAll);

const NO_HEALTH = { health: false };

function chat(gw, headers = {}) {
  return postJson(`${gw.url}/v1/chat/completions`, chatBody(), headers);
}

async function queueStats(gw) {
  return (await getJson(`${gw.url}/v1/queue/stats`)).models['qwen-7b'];
}

async function oneSlowDeployment(queue, ttftMs = 300) {
  const slow = await startFake(['--ttft-ms', String(ttftMs)], { name: 'slow' });
  return startGateway(
    gatewayConfig({
      workers: 2,
      upstreams: { gpu0: openaiUpstream(slow, NO_HEALTH) },
      models: { 'qwen-7b': { deployments: [{ upstream: 'gpu0', model: 'm', capacity: 1 }], queue } },
    }),
  );
}

test('tier 0 full: overflow goes to tier 1 after overflow_after_ms, and comes back when tier 0 frees', async () => {
  const local = await startFake(['--ttft-ms', '400'], { name: 'local' });
  const cloud = await startFake([], { name: 'cloud' });
  const gw = await startGateway(
    gatewayConfig({
      workers: 2,
      upstreams: { gpu0: openaiUpstream(local, NO_HEALTH), cloud: openaiUpstream(cloud, NO_HEALTH) },
      models: {
        'qwen-7b': {
          deployments: [
            { upstream: 'gpu0', model: 'm', capacity: 2, tier: 0 },
            { upstream: 'cloud', model: 'm', tier: 1 },
          ],
          queue: { max_size: 50, timeout_ms: 5000, overflow_after_ms: 100 },
        },
      },
    }),
  );
  const busy = [chat(gw), chat(gw)];
  await sleep(50);
  const overflow = await chat(gw);
  assert.equal(overflow.status, 200, overflow.text);
  assert.equal(overflow.headers.get('x-routed-node'), 'cloud');
  assert.ok(overflow.ms >= 90, `waited ${overflow.ms} ms before overflowing`);
  const local2 = await Promise.all(busy);
  assert.ok(local2.every((r) => r.status === 200 && r.headers.get('x-routed-node') === 'gpu0'));
  const back = await chat(gw);
  assert.equal(back.headers.get('x-routed-node'), 'gpu0', 'tier 0 has room again');
});

test('priorities: high queued later is served before low; low is still served', async () => {
  const gw = await oneSlowDeployment({ max_size: 50, timeout_ms: 20000, overflow_after_ms: 100 }, 150);
  const order = [];
  const send = (priority, tag) =>
    chat(gw, { 'x-request-priority': priority }).then((r) => {
      assert.equal(r.status, 200, r.text);
      order.push(tag);
    });
  // Sent a little apart, so they reach the gateway in this order over their separate connections.
  const spaced = async (priority, prefix) => {
    const sent = [];
    for (let i = 0; i < 3; i += 1) {
      sent.push(send(priority, `${prefix}${i}`));
      await sleep(15);
    }
    return sent;
  };
  const first = send('normal', 'first');
  await sleep(40);
  const lows = await spaced('low', 'low');
  const highs = await spaced('high', 'high');
  await Promise.all([first, ...lows, ...highs]);
  assert.equal(order[0], 'first');
  const highsDone = order.filter((t) => t.startsWith('high')).map((t) => order.indexOf(t));
  const lowsDone = order.filter((t) => t.startsWith('low')).map((t) => order.indexOf(t));
  assert.ok(Math.max(...highsDone) < Math.min(...lowsDone), order.join(' '));
  assert.deepEqual(order.filter((t) => t.startsWith('low')), ['low0', 'low1', 'low2'], 'FIFO within a class');
  const stats = await queueStats(gw);
  assert.equal(stats.priorities.high.served, 3);
  assert.equal(stats.priorities.low.served, 3);
  assert.equal(stats.priorities.low.depth, 0);
  const { samples } = await scrape(gw);
  const waited = (priority) =>
    metricSum(samples, 'switchyard_queue_wait_seconds_count', { alias: 'qwen-7b', priority });
  assert.equal(waited('high'), 3);
  assert.equal(waited('low'), 3);
  assert.equal(metricSum(samples, 'switchyard_queue_depth', { alias: 'qwen-7b' }), 0);
});

test('a full queue answers 429 with Retry-After; a long wait answers 503', async () => {
  const gw = await oneSlowDeployment({ max_size: 1, timeout_ms: 250, overflow_after_ms: 100 }, 600);
  const running = chat(gw);
  await sleep(50);
  const queued = chat(gw);
  await sleep(50);
  const rejected = await chat(gw);
  const error = assertOpenAIError(assert, rejected, 429, 'queue full');
  assert.equal(error.code, 'queue_full');
  assert.equal(rejected.headers.get('retry-after'), '1');
  const timedOut = await queued;
  const error2 = assertOpenAIError(assert, timedOut, 503, 'queue timeout');
  assert.equal(error2.code, 'queue_timeout');
  assert.ok(timedOut.ms >= 200 && timedOut.ms < 2000, `${timedOut.ms} ms`);
  assert.equal((await running).status, 200);
  const stats = await queueStats(gw);
  assert.equal(stats.priorities.normal.rejected_full, 1);
  assert.equal(stats.priorities.normal.timed_out, 1);
  const { samples } = await scrape(gw);
  const refusals = (reason) => metricSum(samples, 'switchyard_queue_rejections_total', { alias: 'qwen-7b', reason });
  assert.equal(refusals('full'), 1);
  assert.equal(refusals('timeout'), 1);
});

test('a client that leaves while queued gives its place back at once', async () => {
  const gw = await oneSlowDeployment({ max_size: 10, timeout_ms: 20000, overflow_after_ms: 100 }, 800);
  const running = chat(gw);
  await sleep(50);
  const body = JSON.stringify(chatBody());
  const req = http.request(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  req.on('error', () => {});
  req.end(body);
  await pollUntil(async () => (await queueStats(gw)).priorities.normal.depth === 1, { what: 'request queued' });
  const left = Date.now();
  req.destroy();
  await pollUntil(async () => (await queueStats(gw)).priorities.normal.depth === 0, {
    timeoutMs: 500,
    what: 'queue emptied',
  });
  assert.ok(Date.now() - left < 500);
  assert.equal((await queueStats(gw)).priorities.normal.abandoned, 1);
  assert.equal((await running).status, 200);
});
