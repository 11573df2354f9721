// A client that goes away must cancel the upstream request (the fake counts it as cancelled).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import {
  chatBody,
  httpOpen,
  pollUntil,
  simpleConfig,
  sleep,
  startFake,
  startGateway,
  stopAll,
  test,
  withTimeout,
} from './harness.mjs';

let fake;
let gw;

before(async () => {
  fake = await startFake();
  gw = await startGateway(simpleConfig(fake));
});
after(stopAll);

async function waitCancelled(baseline, what) {
  let last;
  try {
    await pollUntil(
      async () => {
        last = await fake.stats();
        return last.cancelled >= baseline.cancelled + 1 && last.active === 0;
      },
      { timeoutMs: 2000, intervalMs: 50, what },
    );
  } catch (err) {
    err.message += `; fake stats before ${JSON.stringify(baseline)}, last ${JSON.stringify(last)}`;
    throw err;
  }
  return last;
}

test('closing a streaming client cancels the upstream stream within 2 s', async () => {
  const baseline = await fake.stats();
  assert.equal(baseline.active, 0, `fake idle at start: ${JSON.stringify(baseline)}`);
  const { req, res } = await httpOpen(`${gw.url}/v1/chat/completions`, {
    body: chatBody({ stream: true }),
    headers: { 'x-fake-tokens': '200', 'x-fake-gap-ms': '100' },
  });
  assert.equal(res.statusCode, 200);
  // Read two data events, then drop the connection.
  let buf = '';
  await withTimeout(
    new Promise((resolve, reject) => {
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buf += d;
        if ((buf.match(/^data: /gm) ?? []).length >= 2) resolve();
      });
      res.on('end', () => reject(new Error(`stream ended early: ${buf}`)));
      res.on('error', reject);
    }),
    5000,
    'two chunks',
  );
  const during = await fake.stats();
  assert.equal(during.active, 1, `the upstream stream is active before the disconnect: ${JSON.stringify(during)}`);
  res.on('error', () => {});
  req.on('error', () => {});
  req.socket.destroy();
  const st = await waitCancelled(baseline, 'fake to see the cancelled stream');
  assert.ok(st.completed === baseline.completed, `the stream must not have completed: ${JSON.stringify(st)}`);
});

test('aborting a non-streaming request to a hanging upstream cancels it', async () => {
  const baseline = await fake.stats();
  assert.equal(baseline.active, 0, `fake idle at start: ${JSON.stringify(baseline)}`);
  const { port } = new URL(gw.url);
  const payload = JSON.stringify(chatBody());
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/chat/completions',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-fake-hang': '1' },
  });
  let gotResponse = null;
  req.on('response', (res) => {
    gotResponse = res.statusCode;
    res.resume();
  });
  req.on('error', () => {});
  req.end(payload);
  await sleep(300);
  assert.equal(gotResponse, null, 'no response from a hanging upstream yet');
  const during = await fake.stats();
  assert.equal(during.active, 1, `the upstream request is in progress: ${JSON.stringify(during)}`);
  req.destroy();
  await waitCancelled(baseline, 'fake to see the cancelled request');
});

test('a cancelled stream does not disturb the next request', async () => {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(chatBody()),
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(r.status, 200, await r.text());
});
