// Slow or idle clients: the gateway closes (or answers 408) after header/body/idle timeouts.

import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before } from 'node:test';
import { simpleConfig, startFake, startGateway, stopAll, test, withTimeout } from './harness.mjs';

let fake;
let gw;

before(async () => {
  fake = await startFake();
  gw = await startGateway(
    simpleConfig(fake, { server: { header_timeout_ms: 500, body_timeout_ms: 500, idle_timeout_ms: 1000 } }),
  );
});
after(stopAll);

/**
 * Opens a raw socket, writes `chunks` (strings, written at once), and resolves when the server
 * closes the connection: {ms, data} (ms since the last write). Bounded by limitMs.
 */
function rawUntilClose(port, chunks, limitMs = 5000) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      let data = '';
      let t0;
      sock.setEncoding('utf8');
      sock.on('connect', () => {
        for (const c of chunks) sock.write(c);
        t0 = performance.now();
      });
      sock.on('data', (d) => (data += d));
      sock.on('error', () => {}); // a reset also counts as closed
      sock.on('close', () => resolve({ ms: performance.now() - t0, data }));
      setTimeout(() => {
        if (!sock.destroyed) {
          sock.destroy();
          reject(new Error(`connection still open after ${limitMs} ms; received: ${JSON.stringify(data)}`));
        }
      }, limitMs).unref();
    }),
    limitMs + 1000,
    'the server to close the connection',
  );
}

function assertClosedOr408(r, what) {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(r.data)?.[1];
  assert.ok(
    r.data === '' || status === '408',
    `${what}: expected a silent close or 408, got ${JSON.stringify(r.data.slice(0, 300))}`,
  );
}

test('a client that sends headers but not the whole body is cut off after body_timeout_ms', async () => {
  const head =
    'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';
  const r = await rawUntilClose(gw.port, [head, '{"model":"']);
  assertClosedOr408(r, 'incomplete body');
  assert.ok(r.ms >= 300, `closed after ${r.ms.toFixed(0)} ms, before body_timeout_ms (500) could elapse`);
  assert.ok(r.ms < 3000, `closed after ${r.ms.toFixed(0)} ms; body_timeout_ms is 500`);
  const stats = await fake.stats();
  assert.equal(stats.requests, 0, 'nothing reached the upstream');
});

test('a client that never finishes its headers is cut off after header_timeout_ms', async () => {
  const r = await rawUntilClose(gw.port, ['POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: ye']);
  assertClosedOr408(r, 'incomplete headers');
  assert.ok(r.ms >= 300, `closed after ${r.ms.toFixed(0)} ms, before header_timeout_ms (500) could elapse`);
  assert.ok(r.ms < 3000, `closed after ${r.ms.toFixed(0)} ms; header_timeout_ms is 500`);
});

test('an idle keep-alive connection is closed after idle_timeout_ms; an active one is served', async () => {
  // Its own gateway, so that the header timeout (5 s) cannot be what closes the idle connection.
  const idleGw = await startGateway(
    simpleConfig(fake, { server: { header_timeout_ms: 5000, body_timeout_ms: 5000, idle_timeout_ms: 1000 } }),
    { name: 'switchyard-idle' },
  );
  const req = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  const r = await rawUntilClose(idleGw.port, [req], 6000);
  assert.match(r.data, /^HTTP\/1\.1 200/, `health answered first: ${JSON.stringify(r.data.slice(0, 200))}`);
  // The close comes after the idle timeout (1000 ms), not right after the response.
  assert.ok(r.ms >= 700, `closed after ${r.ms.toFixed(0)} ms; idle_timeout_ms is 1000`);
  assert.ok(r.ms < 4000, `closed after ${r.ms.toFixed(0)} ms; idle_timeout_ms is 1000`);
});
