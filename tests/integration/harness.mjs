// Shared harness for the Switchyard integration tests.
//
// It starts the real binaries (build/bin/fake-upstream and build/bin/switchyard, or the ones in
// $SWITCHYARD_BIN_DIR) on loopback with port 0, learns each port from the
// "listening on http://HOST:PORT" line the binary prints on stdout, keeps each process's stderr
// for diagnostics, and kills everything when the test file ends (after() hook) or the process exits.
//
// Every wait in here is bounded: nothing may hang the suite.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { test as nodeTest } from 'node:test';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');
export const BIN_DIR = path.resolve(process.env.SWITCHYARD_BIN_DIR ?? path.join(REPO_ROOT, 'build', 'bin'));
export const GATEWAY_BIN = path.join(BIN_DIR, 'switchyard');
export const FAKE_BIN = path.join(BIN_DIR, 'fake-upstream');

/** Upper bound for any single wait in the suite. */
export const MAX_WAIT_MS = 10_000;
const LISTEN_TIMEOUT_MS = 10_000;
const LOG_KEEP_CHARS = 64 * 1024;

const live = new Set(); // every Service not yet known to have exited
const recent = []; // every Service started by this test file, for diagnostics
const tempDirs = [];

function appendCapped(prev, chunk) {
  const s = prev + chunk;
  return s.length > LOG_KEEP_CHARS ? s.slice(s.length - LOG_KEEP_CHARS) : s;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `promise`, or rejects after `ms` with an error naming `what`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `fn` (async allowed) every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function pollUntil(fn, { timeoutMs = 2000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = performance.now() + Math.min(timeoutMs, MAX_WAIT_MS);
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}

export function makeTempDir(prefix = 'switchyard-it-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A loopback port that nothing listens on (bound then closed). */
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Processes

export class Service {
  constructor(name, bin, args, env) {
    this.name = name;
    this.bin = bin;
    this.args = args;
    this.stdout = '';
    this.stderr = '';
    this.exitInfo = null;
    this.url = null;
    this.host = null;
    this.port = null;
    if (!fs.existsSync(bin)) {
      throw new Error(`${name}: binary ${bin} does not exist (build it, or set SWITCHYARD_BIN_DIR)`);
    }
    this.child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    live.add(this);
    recent.push(this);
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (d) => {
      this.stdout = appendCapped(this.stdout, d);
    });
    this.child.stderr.on('data', (d) => {
      this.stderr = appendCapped(this.stderr, d);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
      this.child.on('error', (err) => {
        this.stderr = appendCapped(this.stderr, `\n[spawn error] ${err.message}\n`);
        this.exitInfo = { code: null, signal: null, error: err };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
  }

  /** Waits for "listening on http(s)://HOST:PORT" on stdout. */
  async waitListening(timeoutMs = LISTEN_TIMEOUT_MS) {
    const re = /listening on (https?):\/\/(\[[^\]]+\]|[^\s:/]+):(\d+)/;
    const found = await withTimeout(
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(this.stdout);
          if (m) {
            cleanup();
            resolve(m);
          }
        };
        const onExit = () => {
          cleanup();
          reject(new Error(`${this.name} exited (${JSON.stringify(this.exitInfo)}) before listening`));
        };
        const cleanup = () => {
          this.child.stdout.off('data', check);
          this.child.off('exit', onExit);
        };
        this.child.stdout.on('data', check);
        this.child.once('exit', onExit);
        check();
        if (this.exitInfo) onExit();
      }),
      timeoutMs,
      `${this.name} to print "listening on ..."`,
    ).catch((err) => {
      err.message += `\n${this.diag()}`;
      throw err;
    });
    this.scheme = found[1];
    this.host = found[2];
    this.port = Number(found[3]);
    // Always talk to loopback by IP, whatever name the binary printed.
    const ipHost = this.host === 'localhost' ? '127.0.0.1' : this.host;
    this.url = `${this.scheme}://${ipHost}:${this.port}`;
    return this;
  }

  get running() {
    return this.exitInfo === null;
  }

  signal(sig) {
    if (this.running) this.child.kill(sig);
  }

  /** Sends `sig`, waits up to timeoutMs for exit, then SIGKILLs. Returns the exit info. */
  async stop({ signal = 'SIGKILL', timeoutMs = 5000 } = {}) {
    if (!this.running) return this.exitInfo;
    this.child.kill(signal);
    try {
      return await withTimeout(this.exited, timeoutMs, `${this.name} to exit`);
    } catch {
      this.child.kill('SIGKILL');
      return withTimeout(this.exited, 5000, `${this.name} to exit after SIGKILL`);
    }
  }

  diag(maxChars = 4000) {
    const tail = (s) => (s.length > maxChars ? `…${s.slice(s.length - maxChars)}` : s);
    return (
      `--- ${this.name}: ${this.bin} ${this.args.join(' ')}` +
      ` (exit: ${this.exitInfo ? JSON.stringify(this.exitInfo) : 'running'})\n` +
      `--- ${this.name} stdout:\n${tail(this.stdout)}\n--- ${this.name} stderr:\n${tail(this.stderr)}\n`
    );
  }
}

export function diagnostics() {
  return recent.map((s) => s.diag()).join('');
}

/** Kills every process this file started and removes temp dirs. Use as `after(stopAll)`. */
export async function stopAll() {
  await Promise.all([...live].map((s) => s.stop({ signal: 'SIGKILL', timeoutMs: 3000 }).catch(() => {})));
  for (const dir of tempDirs.splice(0)) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.on('exit', () => {
  for (const s of live) {
    try {
      s.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
});

/**
 * node:test's test() with a default 30 s timeout and, on failure, the stdout/stderr of every process
 * this file started appended to the error message.
 */
export function test(name, opts, fn) {
  if (typeof opts === 'function') {
    fn = opts;
    opts = {};
  }
  return nodeTest(name, { timeout: 30_000, ...opts }, async (t) => {
    try {
      return await fn(t);
    } catch (err) {
      if (err && typeof err === 'object') {
        try {
          err.message = `${err.message}\n${diagnostics()}`;
        } catch {
          /* read-only message */
        }
      }
      throw err;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// fake-upstream

export class Fake extends Service {
  get base() {
    return `${this.url}/v1`;
  }

  async stats() {
    return getJson(`${this.url}/fake/stats`);
  }

  async last() {
    return getJson(`${this.url}/fake/last`);
  }

  async reset() {
    const res = await fetch(`${this.url}/fake/reset`, { method: 'POST', signal: AbortSignal.timeout(MAX_WAIT_MS) });
    await res.arrayBuffer();
    if (res.status >= 300) throw new Error(`POST /fake/reset -> ${res.status}`);
  }
}

/** Starts fake-upstream with extra CLI args (e.g. ['--tokens', '5']); on a port of its choosing unless args has --listen. */
export async function startFake(args = [], { name = 'fake-upstream' } = {}) {
  const listen = args.includes('--listen') ? [] : ['--listen', '127.0.0.1:0'];
  const svc = new Fake(name, FAKE_BIN, [...listen, ...args], {});
  return svc.waitListening();
}

// ---------------------------------------------------------------------------------------------
// Gateway config

const YAML_RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function yamlScalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  if (/^[A-Za-z_$/][A-Za-z0-9_./:${}@+-]*$/.test(s) && !YAML_RESERVED.test(s) && !s.includes(': ')) return s;
  return JSON.stringify(s);
}

function yamlKey(k) {
  return /^[A-Za-z0-9_.-]+$/.test(k) && !YAML_RESERVED.test(k) ? k : JSON.stringify(k);
}

const isComposite = (v) => v !== null && typeof v === 'object';
const isEmptyComposite = (v) => isComposite(v) && Object.keys(v).length === 0;

function yamlLines(v, ind) {
  const pad = ' '.repeat(ind);
  const out = [];
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isComposite(item) && !isEmptyComposite(item)) {
        const sub = yamlLines(item, ind + 2);
        out.push(`${pad}- ${sub[0].slice(ind + 2)}`, ...sub.slice(1));
      } else {
        out.push(`${pad}- ${isEmptyComposite(item) ? (Array.isArray(item) ? '[]' : '{}') : yamlScalar(item)}`);
      }
    }
  } else {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) continue;
      if (isComposite(val) && !isEmptyComposite(val)) {
        out.push(`${pad}${yamlKey(k)}:`, ...yamlLines(val, ind + 2));
      } else if (isEmptyComposite(val)) {
        out.push(`${pad}${yamlKey(k)}: ${Array.isArray(val) ? '[]' : '{}'}`);
      } else {
        out.push(`${pad}${yamlKey(k)}: ${yamlScalar(val)}`);
      }
    }
  }
  return out;
}

/** Block-style YAML for a plain JS object (strings that are not obviously plain are double-quoted). */
export function toYaml(obj) {
  return `${yamlLines(obj, 0).join('\n')}\n`;
}

/** An `openai`-kind upstream entry pointing at a fake. */
export function openaiUpstream(fakeOrBaseUrl, extra = {}) {
  const base_url = typeof fakeOrBaseUrl === 'string' ? fakeOrBaseUrl : fakeOrBaseUrl.base;
  const { timeouts, ...rest } = extra;
  return {
    kind: 'openai',
    base_url,
    timeouts: { connect_ms: 2000, first_byte_ms: 30000, chunk_gap_ms: 30000, ...timeouts },
    ...rest,
  };
}

/**
 * A gateway with local models `models` ({alias: {vram_mib, env, pinned, parallel, load_timeout_sec,
 * deployments}}) served by the fake llama-server on fake GPUs; `gw.stateDir` holds their logs.
 */
export async function localGateway(
  models,
  { gpus = [{ total_mib: 10000 }], local = {}, upstreams = {}, extra = {}, dir = makeTempDir('switchyard-local-'), name } = {},
) {
  const entries = {};
  for (const [alias, m] of Object.entries(models)) {
    const file = path.join(dir, `${alias}.gguf`);
    fs.writeFileSync(file, 'not a real model; the fake llama-server only checks that it exists');
    entries[alias] = {
      local: {
        model_path: file,
        vram_mib: m.vram_mib ?? 1000,
        pinned: m.pinned ?? false,
        load_timeout_sec: m.load_timeout_sec ?? 10,
        params: { parallel: m.parallel ?? 2, n_ctx: 4096 },
        env: { FAKE_LLAMA_TOKENS: '3', ...(m.env ?? {}) },
      },
      queue: { timeout_ms: 10000 },
      ...(m.deployments ? { deployments: m.deployments } : {}),
    };
  }
  const config = gatewayConfig({
    upstreams,
    models: entries,
    extra: {
      local: {
        llama_server_path: FAKE_BIN,
        state_dir: path.join(dir, 'state'),
        idle_timeout_sec: 0,
        health_interval_ms: 200,
        restart_backoff_ms: 100,
        fake_gpus: gpus,
        ...local,
      },
      ...extra,
    },
  });
  const gw = await startGateway(config, name ? { name } : {});
  gw.stateDir = path.join(dir, 'state');
  return gw;
}

/** An upstream entry of `kind` with health checks off (the fakes answer every request anyway). */
export function upstreamOf(kind, base_url, extra = {}) {
  return { kind, base_url, health: false, ...extra };
}

/** Per upstream kind: the alias that reaches it and the model name it is sent. */
export const KIND_ALIASES = {
  openai: { alias: 'via-openai', model: 'gpt-up' },
  anthropic: { alias: 'via-anthropic', model: 'claude-up' },
  ollama: { alias: 'via-ollama', model: 'llama-up' },
};

/** One fake upstream as all three kinds: upstreams up-openai, up-anthropic and up-ollama. */
export function kindUpstreams(fake) {
  return {
    'up-openai': upstreamOf('openai', fake.base),
    'up-anthropic': upstreamOf('anthropic', fake.url, { api_key: 'sk-ant-upstream' }),
    'up-ollama': upstreamOf('ollama', fake.url),
  };
}

/** The aliases of KIND_ALIASES over kindUpstreams. */
export function kindModels() {
  return Object.fromEntries(
    Object.entries(KIND_ALIASES).map(([kind, u]) => [u.alias, { deployments: [{ upstream: `up-${kind}`, model: u.model }] }]),
  );
}

/** The standard config shape; `server` overrides are merged into the defaults. */
export function gatewayConfig({ upstreams, models, server = {}, workers = 2, extra = {} }) {
  return {
    listen: '127.0.0.1:0',
    workers,
    logging: { level: 'warn' },
    server: {
      max_body_bytes: 1048576,
      header_timeout_ms: 10000,
      body_timeout_ms: 30000,
      idle_timeout_ms: 60000,
      shutdown_grace_ms: 10000,
      ...server,
    },
    upstreams,
    models,
    ...extra,
  };
}

/** The one-upstream, one-alias setup most tests use: alias qwen-7b -> gpu-box -> fake. */
export function simpleConfig(fake, { upstream = {}, server = {}, models = {} } = {}) {
  return gatewayConfig({
    upstreams: { 'gpu-box': openaiUpstream(fake, upstream) },
    models: {
      'qwen-7b': { deployments: [{ upstream: 'gpu-box', model: 'Qwen/Qwen2.5-7B-Instruct' }] },
      ...models,
    },
    server,
  });
}

export function writeConfig(config, dir = makeTempDir(), name = 'switchyard.yaml') {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof config === 'string' ? config : toYaml(config));
  return file;
}

/** Starts switchyard with `config` (object or YAML text); `env` is added to the process env. */
export async function startGateway(config, { env = {}, name = 'switchyard', args = [] } = {}) {
  const configPath = writeConfig(config);
  const svc = new Service(name, GATEWAY_BIN, ['--config', configPath, ...args], env);
  svc.configPath = configPath;
  return svc.waitListening();
}

/** Runs a binary to completion (bounded) and returns {code, signal, stdout, stderr}. */
export function runToExit(bin, args, { env = {}, timeoutMs = MAX_WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bin} ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:${stdout}\nstderr:${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers (global fetch, always with a timeout)

/** fetch with a bounded timeout; returns {status, headers, text, json, ms}. json is undefined when not JSON. */
export async function request(url, { method = 'GET', headers = {}, body, timeoutMs = MAX_WAIT_MS } = {}) {
  const t0 = performance.now();
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, ms: performance.now() - t0 };
}

export function postJson(url, body, headers = {}, opts = {}) {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, ...opts });
}

export async function getJson(url) {
  const r = await request(url);
  if (r.status !== 200 || r.json === undefined) throw new Error(`GET ${url} -> ${r.status}: ${r.text.slice(0, 500)}`);
  return r.json;
}

/** Splits SSE text into events: [{data, event, json}]; comment lines are dropped. */
export function parseSseText(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const dataLines = [];
    let event;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('data:')) dataLines.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('event:')) event = line.slice(6).trim();
    }
    if (dataLines.length === 0 && event === undefined) continue;
    const data = dataLines.join('\n');
    let json;
    try {
      json = data === '[DONE]' ? undefined : JSON.parse(data);
    } catch {
      json = undefined;
    }
    events.push({ data, event, json });
  }
  return events;
}

/**
 * POSTs `body` and reads the response as an SSE stream, recording when each event arrived.
 * Returns {status, headers, events:[{data, json, t}], raw, t0, tEnd, ended}; `t` is ms since the
 * request started. The whole exchange is bounded by timeoutMs (the read rejects after that).
 */
export async function streamSse(url, body, headers = {}, { timeoutMs = MAX_WAIT_MS } = {}) {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const out = { status: res.status, headers: res.headers, events: [], raw: '', t0, tEnd: null };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    const now = performance.now() - t0;
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    out.raw += text;
    pending += text;
    const parts = pending.split(/\r?\n\r?\n/);
    pending = parts.pop();
    for (const part of parts) {
      for (const ev of parseSseText(`${part}\n\n`)) out.events.push({ ...ev, t: now });
    }
  }
  out.tEnd = performance.now() - t0;
  if (pending.trim()) {
    for (const ev of parseSseText(pending)) out.events.push({ ...ev, t: out.tEnd, unterminated: true });
  }
  return out;
}

/**
 * Opens a request with node:http (its own connection, no keep-alive pool) and resolves once the
 * response headers arrive: {req, res}. Used where the test must control the socket.
 */
export function httpOpen(url, { method = 'POST', headers = {}, body, timeoutMs = MAX_WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(url, {
      method,
      agent: false,
      headers: {
        ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        ...headers,
      },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no response headers within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve({ req, res });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Reads the body of an http.IncomingMessage fully (bounded). */
export function readBody(res, timeoutMs = MAX_WAIT_MS) {
  return withTimeout(
    new Promise((resolve, reject) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve(data));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    }),
    timeoutMs,
    'response body',
  );
}

// ---------------------------------------------------------------------------------------------
// Prometheus text

/** Parses Prometheus text exposition into [{name, labels:{}, value}]. */
export function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line.trim());
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm;
      while ((lm = re.exec(m[3]))) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include every pair in `match`. */
export function metricSum(samples, name, match = {}) {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

export async function scrape(gw) {
  const r = await request(`${gw.url}/metrics`);
  if (r.status !== 200) throw new Error(`GET /metrics -> ${r.status}: ${r.text.slice(0, 500)}`);
  return { text: r.text, samples: parsePrometheus(r.text), headers: r.headers };
}

// ---------------------------------------------------------------------------------------------
// OpenAI-shape assertions

/** Asserts `json` is {"error":{"message","type","param","code"}} with all four keys present. */
export function assertOpenAIError(assert, r, status, what = '') {
  const ctx = `${what} -> ${r.status} ${r.text.slice(0, 800)}`;
  assert.equal(r.status, status, `status ${ctx}`);
  assert.ok(r.json && typeof r.json === 'object', `body is JSON ${ctx}`);
  assert.ok(r.json.error && typeof r.json.error === 'object', `body has an "error" object ${ctx}`);
  for (const k of ['message', 'type', 'param', 'code']) {
    assert.ok(Object.hasOwn(r.json.error, k), `error.${k} present ${ctx}`);
  }
  assert.equal(typeof r.json.error.message, 'string', `error.message is a string ${ctx}`);
  assert.ok(r.json.error.message.length > 0, `error.message non-empty ${ctx}`);
  assert.equal(typeof r.json.error.type, 'string', `error.type is a string ${ctx}`);
  assert.ok(r.json.error.param === null || typeof r.json.error.param === 'string', `error.param string|null ${ctx}`);
  assert.ok(r.json.error.code === null || typeof r.json.error.code === 'string', `error.code string|null ${ctx}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/, `content-type ${ctx}`);
  return r.json.error;
}

/** A chat request body. */
export function chatBody(extra = {}) {
  return { model: 'qwen-7b', messages: [{ role: 'user', content: 'Hello' }], ...extra };
}

/** Concatenated delta.content of chat chunks. */
export function chatContent(events) {
  return events
    .filter((e) => e.json?.choices?.length)
    .map((e) => e.json.choices[0].delta?.content ?? '')
    .join('');
}
