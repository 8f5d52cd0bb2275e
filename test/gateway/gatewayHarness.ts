// Test support for the gateway's integration tests: a real HTTP server on 127.0.0.1 with the gateway
// attached, and real `ws` clients with small helpers to await frames, refusals and closes.
import http from 'node:http';
import type net from 'node:net';
import WebSocket, { type ClientOptions } from 'ws';
import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { createGateway, GATEWAY_PATH, type Gateway, type GatewayDeps } from '../../src/gateway/gateway.js';

export interface RunningGateway {
  gateway: Gateway;
  registry: Registry;
  /** ws://127.0.0.1:<port>/v1/ws */
  url: string;
  stop(): Promise<void>;
}

/** Builds the REST app that shares the gateway's server (given the gateway for presence, the registry for /metrics). */
export type AppFactory = (gateway: Gateway, registry: Registry) => Promise<FastifyInstance>;

/**
 * Listens on 127.0.0.1 with the gateway attached: to a bare HTTP server, or to the REST API's own server
 * when an app factory is given (the production arrangement: one port for both).
 */
export async function startGateway(deps: Omit<GatewayDeps, 'metrics' | 'nodeId'>, buildApp?: AppFactory): Promise<RunningGateway & { app?: FastifyInstance }> {
  const registry = new Registry();
  const gateway = createGateway({ ...deps, metrics: registry, nodeId: 'test-node' });
  const app = buildApp ? await buildApp(gateway, registry) : undefined;
  const server = app?.server ?? http.createServer((_req, res) => res.writeHead(404).end());
  gateway.attach(server);
  if (app) await app.listen({ port: 0, host: '127.0.0.1' });
  else await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    gateway,
    registry,
    app,
    url: `ws://127.0.0.1:${port}${GATEWAY_PATH}`,
    async stop() {
      await gateway.close();
      if (app) return void (await app.close());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Frame = Record<string, unknown> & { type: string };

/** A connected client that records every frame it receives. */
export interface TestClient {
  ws: WebSocket;
  frames: Frame[];
  send(frame: unknown): void;
  /** Resolves with the first recorded frame (from `from` on) matching, or rejects after timeoutMs. */
  waitFor(predicate: (frame: Frame) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<Frame>;
  /** Sends an op and resolves with the reply carrying the same id. */
  request(frame: Record<string, unknown> & { id: string | number }): Promise<Frame>;
  closed: Promise<{ code: number; reason: string }>;
}

export function connect(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<TestClient> {
  const { protocols, ...clientOptions } = options;
  const ws = new WebSocket(url, protocols, clientOptions);
  const frames: Frame[] = [];
  const listeners = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const listener of [...listeners]) listener();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const client: TestClient = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(JSON.stringify(frame)),
    waitFor(predicate, { from = 0, timeoutMs = 5000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.slice(from).find(predicate);
          if (!found) return false;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const listener = () => void check();
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`No matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(from)).slice(0, 500)}`));
        }, timeoutMs);
        if (!check()) listeners.add(listener);
      });
    },
    request(frame) {
      const from = frames.length;
      client.send(frame);
      return client.waitFor((f) => f.id === frame.id, { from });
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`Upgrade refused with ${res.statusCode}`)));
  });
}

/** Attempts an upgrade that should be refused: resolves with the HTTP status and problem body. */
export function refusal(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const { protocols, ...clientOptions } = options;
  const ws = new WebSocket(url, protocols, clientOptions);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('The upgrade was accepted'));
    });
    ws.once('error', () => {});
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        ws.terminate();
      });
    });
  });
}

/** Current value of a counter or gauge (summed over labels) in the registry. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`No metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries an assertion until it passes or timeoutMs elapsed (server-side effects of a close are asynchronous). */
export async function eventually(assertion: () => void | Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
}
