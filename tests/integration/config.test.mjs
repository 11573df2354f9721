// Command line and configuration checking: --check-config, FILE:LINE: key.path: message
// diagnostics, ${VAR} substitution, --version, --help.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import {
  GATEWAY_BIN,
  REPO_ROOT,
  chatBody,
  makeTempDir,
  postJson,
  runToExit,
  startFake,
  startGateway,
  stopAll,
  test,
  writeConfig,
} from './harness.mjs';

after(stopAll);

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The config as lines, with named substitutions; returns {text, lineOf(marker)}. */
function configText(over = {}) {
  const v = {
    baseUrl: 'http://127.0.0.1:9/v1',
    connectMs: '2000',
    apiKey: null,
    deploymentUpstream: 'gpu-box',
    ...over,
  };
  const lines = [
    '# Switchyard config used by config.test.mjs',
    'listen: 127.0.0.1:0',
    'workers: 1',
    'logging: { level: warn }',
    'server:',
    '  max_body_bytes: 1048576',
    '  header_timeout_ms: 10000',
    '  body_timeout_ms: 30000',
    '  idle_timeout_ms: 60000',
    '  shutdown_grace_ms: 10000',
    'upstreams:',
    '  gpu-box:',
    '    kind: openai',
    `    base_url: ${v.baseUrl}`, // @base_url
    ...(v.apiKey ? [`    api_key: ${v.apiKey}`] : []), // @api_key
    '    timeouts:',
    `      connect_ms: ${v.connectMs}`, // @connect_ms
    '      first_byte_ms: 30000',
    '      chunk_gap_ms: 30000',
    'models:',
    '  qwen-7b:',
    '    deployments:',
    `      - upstream: ${v.deploymentUpstream}`, // @deployment
    '        model: Qwen/Qwen2.5-7B-Instruct',
  ];
  const text = `${lines.join('\n')}\n`;
  const lineOf = (prefix) => {
    const i = lines.findIndex((l) => l.trimStart().startsWith(prefix));
    assert.ok(i >= 0, `marker ${prefix}`);
    return i + 1;
  };
  return { text, lineOf };
}

async function checkConfig(text, env = {}) {
  const file = writeConfig(text, makeTempDir(), 'check.yaml');
  const r = await runToExit(GATEWAY_BIN, ['--check-config', '--config', file], { env });
  return { ...r, file };
}

function assertDiagnostic(r, line, keyRe, what) {
  const ctx = `${what}: exit ${r.code}, stderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
  assert.notEqual(r.code, 0, `non-zero exit for ${ctx}`);
  assert.equal(r.signal, null, `exited normally (no crash) for ${ctx}`);
  const re = new RegExp(`^${esc(r.file)}:${line}: ${keyRe}: \\S`, 'm');
  assert.match(r.stderr, re, `expected "${r.file}:${line}: <key>: message" for ${ctx}`);
}

test('--check-config on a valid file exits 0', async () => {
  const r = await checkConfig(configText().text);
  assert.equal(r.code, 0, `stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
});

test('--check-config: a deployment naming an unknown upstream is reported with file, line and key', async () => {
  const c = configText({ deploymentUpstream: 'no-such-box' });
  const r = await checkConfig(c.text);
  assertDiagnostic(r, c.lineOf('- upstream:'), 'models\\.qwen-7b\\.deployments(\\[0\\]|\\.0)?\\.upstream', 'unknown upstream');
  assert.match(r.stderr, /no-such-box/, 'the message names the unknown upstream');
});

test('--check-config: a bad base_url is reported with file, line and key', async () => {
  for (const bad of ['not-a-url', '"ftp://127.0.0.1/v1"', '"http://"']) {
    const c = configText({ baseUrl: bad });
    const r = await checkConfig(c.text);
    assertDiagnostic(r, c.lineOf('base_url:'), 'upstreams\\.gpu-box\\.base_url', `base_url ${bad}`);
  }
});

test('--check-config: a non-integer timeout is reported with file, line and key', async () => {
  for (const bad of ['soon', '1.5', '"2000ms"']) {
    const c = configText({ connectMs: bad });
    const r = await checkConfig(c.text);
    assertDiagnostic(r, c.lineOf('connect_ms:'), 'upstreams\\.gpu-box\\.timeouts\\.connect_ms', `connect_ms: ${bad}`);
  }
});

test('--check-config: a YAML syntax error is reported with file and line', async () => {
  const text = `${configText().text}  broken: [unclosed\n`;
  const r = await checkConfig(text);
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`${esc(r.file)}:\\d+:`), r.stderr);
});

test('--check-config: ${VAR} must be set; an unset one is an error naming it', async () => {
  const c = configText({ apiKey: '${SY_IT_UNSET_VARIABLE_42}' });
  assert.equal(process.env.SY_IT_UNSET_VARIABLE_42, undefined, 'the variable is unset in the test process (and so in the child)');
  const bad = await checkConfig(c.text);
  assert.notEqual(bad.code, 0, `unset variable accepted: ${bad.stderr}`);
  assert.match(bad.stderr, /SY_IT_UNSET_VARIABLE_42/, `error names the variable: ${bad.stderr}`);

  const good = await checkConfig(c.text, { SY_IT_UNSET_VARIABLE_42: 'set-now' });
  assert.equal(good.code, 0, `with the variable set: ${good.stderr}`);
});

test('${VAR} substitution is applied when serving (base_url port and api_key from env)', async () => {
  const fake = await startFake();
  const c = configText({ baseUrl: 'http://127.0.0.1:${SY_IT_FAKE_PORT}/v1', apiKey: '${SY_IT_KEY}' });
  const gw = await startGateway(c.text, { env: { SY_IT_FAKE_PORT: String(fake.port), SY_IT_KEY: 'from-env-123' } });
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody());
  assert.equal(r.status, 200, r.text);
  const last = await fake.last();
  assert.equal(last.headers.authorization, 'Bearer from-env-123');
});

test('serving with an invalid config exits non-zero without listening', async () => {
  const c = configText({ deploymentUpstream: 'no-such-box' });
  const file = writeConfig(c.text);
  const r = await runToExit(GATEWAY_BIN, ['--config', file]);
  assert.notEqual(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /listening on/);
  assert.match(r.stderr, new RegExp(`${esc(file)}:${c.lineOf('- upstream:')}:`), r.stderr);
});

test('a missing config file is an error naming it', async () => {
  const file = path.join(makeTempDir(), 'does-not-exist.yaml');
  const r = await runToExit(GATEWAY_BIN, ['--check-config', '--config', file]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(esc(file)), r.stderr);
});

test('--version prints "switchyard <project version>" and exits 0', async () => {
  const cmake = fs.readFileSync(path.join(REPO_ROOT, 'CMakeLists.txt'), 'utf8');
  const version = /project\(switchyard\s+VERSION\s+([0-9.]+)/.exec(cmake)?.[1];
  assert.ok(version, 'project version in CMakeLists.txt');
  const r = await runToExit(GATEWAY_BIN, ['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^switchyard ${esc(version)}\\b`, 'm'), r.stdout);
});

test('--help exits 0 and documents --config and --check-config', async () => {
  const r = await runToExit(GATEWAY_BIN, ['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--config/);
  assert.match(r.stdout, /--check-config/);
});
