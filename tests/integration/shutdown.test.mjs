// Graceful shutdown on SIGTERM: in-flight streams finish, new connections are refused, exit 0.

import assert from 'node:assert/strict';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { after } from 'node:test';
import {
  chatBody,
  httpOpen,
  parseSseText,
  simpleConfig,
  sleep,
  startFake,
  startGateway,
  stopAll,
  test,
  withTimeout,
} from './harness.mjs';

after(stopAll);

const GRACE_MS = 5000;

/** A fresh connection to /health; resolves {status} or {error}. Bounded. */
function tryNewConnection(port) {
  return withTimeout(
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
        res.on('error', (error) => resolve({ error }));
      });
      req.on('error', (error) => resolve({ error }));
    }),
    3000,
    'a connection attempt after SIGTERM',
  );
}

test('SIGTERM: the in-flight stream completes with [DONE], new connections fail, exit code 0', async () => {
  const fake = await startFake();
  const gw = await startGateway(simpleConfig(fake, { server: { shutdown_grace_ms: GRACE_MS } }));
  const port = gw.port;

  const { res } = await httpOpen(`${gw.url}/v1/chat/completions`, {
    body: chatBody({ stream: true }),
    headers: { 'x-fake-tokens': '5', 'x-fake-gap-ms': '200' },
  });
  assert.equal(res.statusCode, 200);
  res.setEncoding('utf8');
  let raw = '';
  let sentTerm = false;
  let termAt = 0;
  const ended = new Promise((resolve, reject) => {
    res.on('data', (d) => {
      raw += d;
      if (!sentTerm && /^data: /m.test(raw)) {
        sentTerm = true;
        termAt = performance.now();
        gw.signal('SIGTERM');
      }
    });
    res.on('end', resolve);
    res.on('error', reject);
    res.on('aborted', () => reject(new Error(`stream aborted after SIGTERM; got so far: ${raw}`)));
  });

  // Once SIGTERM is sent, a new connection must not be served.
  await withTimeout(
    (async () => {
      while (!sentTerm) await sleep(10);
    })(),
    5000,
    'the first chunk',
  );
  await sleep(200); // let the gateway act on the signal
  const attempt = await tryNewConnection(port);
  assert.ok(
    attempt.error || attempt.status === 503,
    `a new connection after SIGTERM was served with status ${attempt.status}`,
  );

  await withTimeout(ended, 8000, 'the in-flight stream to finish');
  const events = parseSseText(raw);
  assert.equal(events.at(-1)?.data, '[DONE]', `stream completed normally: ${raw}`);
  assert.ok(events.filter((e) => e.json?.choices?.[0]?.delta?.content).length >= 5, `all 5 tokens arrived: ${raw}`);
  assert.ok(!events.some((e) => e.json?.error), `no error event: ${raw}`);

  const exit = await withTimeout(gw.exited, GRACE_MS + 3000, 'switchyard to exit after SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, 'clean exit');
  const took = performance.now() - termAt;
  assert.ok(took < GRACE_MS + 1000, `exited ${took.toFixed(0)} ms after SIGTERM; grace is ${GRACE_MS}`);
});

test('SIGTERM with no traffic: exits 0 promptly', async () => {
  const fake = await startFake();
  const gw = await startGateway(simpleConfig(fake, { server: { shutdown_grace_ms: GRACE_MS } }));
  const t0 = performance.now();
  gw.signal('SIGTERM');
  const exit = await withTimeout(gw.exited, GRACE_MS + 3000, 'switchyard to exit');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(performance.now() - t0 < 3000, `idle shutdown took ${(performance.now() - t0).toFixed(0)} ms`);
});

test('a stream longer than shutdown_grace_ms is cut at the deadline and the process still exits', async () => {
  const fake = await startFake();
  const grace = 1000;
  const gw = await startGateway(simpleConfig(fake, { server: { shutdown_grace_ms: grace } }));
  const { res } = await httpOpen(`${gw.url}/v1/chat/completions`, {
    body: chatBody({ stream: true }),
    headers: { 'x-fake-tokens': '100', 'x-fake-gap-ms': '100' }, // ~10 s
  });
  assert.equal(res.statusCode, 200);
  res.setEncoding('utf8');
  let raw = '';
  const ended = new Promise((resolve) => {
    res.on('data', (d) => (raw += d));
    res.on('end', resolve);
    res.on('error', resolve);
    res.on('aborted', resolve);
    res.on('close', resolve);
  });
  await sleep(300);
  const t0 = performance.now();
  gw.signal('SIGTERM');
  await withTimeout(ended, grace + 4000, 'the long stream to be closed');
  const exit = await withTimeout(gw.exited, grace + 4000, 'switchyard to exit');
  const took = performance.now() - t0;
  assert.ok(took >= grace - 200, `stopped after ${took.toFixed(0)} ms, before the ${grace} ms grace`);
  assert.ok(took < grace + 3000, `took ${took.toFixed(0)} ms with a ${grace} ms grace`);
  assert.ok(exit.code !== null, `exited by itself, not by a signal: ${JSON.stringify(exit)}`);
  assert.ok(!parseSseText(raw).some((e) => e.data === '[DONE]'), 'a cut stream does not claim completion');
});
