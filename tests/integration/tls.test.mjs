// HTTPS upstreams with certificate verification against a private CA made with the openssl CLI.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before } from 'node:test';
import {
  chatBody,
  chatContent,
  gatewayConfig,
  getJson,
  makeTempDir,
  openaiUpstream,
  pollUntil,
  postJson,
  runToExit,
  sleep,
  startFake,
  startGateway,
  stopAll,
  streamSse,
  test,
  withTimeout,
} from './harness.mjs';

let dir;
let fake;
let gw;

async function openssl(args) {
  const r = await runToExit('openssl', args, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r;
}

async function makeCerts() {
  dir = makeTempDir('switchyard-tls-');
  const f = (n) => path.join(dir, n);
  await openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Switchyard Integration Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl([
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost',
  ]);
  fs.writeFileSync(
    f('server.ext'),
    [
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  await openssl([
    'x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext'),
  ]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

let certs;

before(async () => {
  certs = await makeCerts();
  fake = await startFake(['--tls-cert', certs.cert, '--tls-key', certs.key], { name: 'fake-upstream-tls' });
  const port = fake.port;
  const up = (host, tls) => openaiUpstream(`https://${host}:${port}/v1`, { tls });
  gw = await startGateway(
    gatewayConfig({
      upstreams: {
        'tls-name': up('localhost', { verify: true, ca_file: certs.ca }),
        'tls-ip': up('127.0.0.1', { verify: true, ca_file: certs.ca }),
        'tls-no-ca': up('127.0.0.1', { verify: true }),
        'tls-no-verify': up('127.0.0.1', { verify: false }),
      },
      models: {
        'secure-name': { deployments: [{ upstream: 'tls-name', model: 'up-model' }] },
        'secure-ip': { deployments: [{ upstream: 'tls-ip', model: 'up-model' }] },
        'no-ca': { deployments: [{ upstream: 'tls-no-ca', model: 'up-model' }] },
        'no-verify': { deployments: [{ upstream: 'tls-no-verify', model: 'up-model' }] },
      },
    }),
  );
});
after(stopAll);

test('sanity: the fake serves TLS with a certificate the test CA verifies', async () => {
  const status = await withTimeout(
    new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: fake.port, path: '/health', ca: fs.readFileSync(certs.ca), servername: 'localhost', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
        .on('error', reject);
    }),
    5000,
    'https GET /health on the fake',
  );
  assert.equal(status, 200);
});

test('https upstream by host name with ca_file -> 200', async () => {
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody({ model: 'secure-name' }), { 'x-fake-tokens': '3' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'secure-name');
  assert.match(r.json.choices[0].message.content, /tok0/);
  assert.equal(r.headers.get('x-routed-node'), 'tls-name');
});

test('https upstream by IP with ca_file -> 200, streaming too', async () => {
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody({ model: 'secure-ip' }));
  assert.equal(r.status, 200, r.text);
  const s = await streamSse(`${gw.url}/v1/chat/completions`, chatBody({ model: 'secure-ip', stream: true }), {
    'x-fake-tokens': '4',
  });
  assert.equal(s.status, 200, s.raw);
  assert.equal(s.events.at(-1)?.data, '[DONE]', s.raw);
  assert.match(chatContent(s.events), /tok3/);
});

test('https upstream whose CA is not trusted (no ca_file) -> 502', async () => {
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody({ model: 'no-ca' }));
  assert.equal(r.status, 502, r.text);
  assert.ok(r.json?.error, `OpenAI error body: ${r.text}`);
  for (const k of ['message', 'type', 'param', 'code']) assert.ok(Object.hasOwn(r.json.error, k), r.text);
});

test('https upstream with verify: false -> 200 even without the CA', async () => {
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody({ model: 'no-verify' }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'no-verify');
});

test('health checks over TLS: the verified upstream stays up, the one with an untrusted CA goes down', async () => {
  const health = { interval_ms: 100, timeout_ms: 1000, unhealthy_after: 1 };
  const checked = await startGateway(
    gatewayConfig({
      upstreams: {
        trusted: openaiUpstream(`https://localhost:${fake.port}/v1`, { tls: { ca_file: certs.ca }, health }),
        untrusted: openaiUpstream(`https://localhost:${fake.port}/v1`, { health }),
      },
      models: {
        good: { deployments: [{ upstream: 'trusted', model: 'up-model' }] },
        bad: { deployments: [{ upstream: 'untrusted', model: 'up-model' }] },
      },
    }),
    { name: 'switchyard-health-tls' },
  );
  await pollUntil(async () => (await getJson(`${checked.url}/health`)).upstreams.untrusted.state === 'down', {
    what: 'untrusted upstream reported down',
  });
  await sleep(300);  // a few more checks
  const upstreams = (await getJson(`${checked.url}/health`)).upstreams;
  assert.notEqual(upstreams.trusted.state, 'down', JSON.stringify(upstreams));
  const r = await postJson(`${checked.url}/v1/chat/completions`, chatBody({ model: 'good' }));
  assert.equal(r.status, 200, r.text);
  const refused = await postJson(`${checked.url}/v1/chat/completions`, chatBody({ model: 'bad' }));
  assert.equal(refused.status, 503, refused.text);
  assert.equal(refused.json.error.code, 'no_deployment_available');
});
