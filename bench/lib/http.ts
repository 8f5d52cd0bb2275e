// A small JSON-over-HTTP client for the load generator: keep-alive sockets (a real client does not
// reconnect per request), an optional loopback source address, and the status kept next to the body so
// callers decide what a 429 or a 5xx means for them.
import http from 'node:http';

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface JsonClient {
  request<T = unknown>(method: string, path: string, token: string | null, body?: unknown): Promise<HttpAnswer<T>>;
  close(): void;
}

export function createJsonClient(baseUrl: string, options: { maxSockets?: number; localAddress?: string } = {}): JsonClient {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  return {
    request<T>(method: string, path: string, token: string | null, body?: unknown): Promise<HttpAnswer<T>> {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }
      return new Promise((resolve, reject) => {
        const req = http.request(
          { host: base.hostname, port: base.port, method, path, headers, agent, localAddress: options.localAddress, timeout: 60_000 },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => {
              try {
                resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
              } catch (error) {
                reject(new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`, { cause: error }));
              }
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Throws unless the status is one of `ok`: for set-up calls, where any refusal is a bench bug. */
export async function expectStatus<T>(answer: Promise<HttpAnswer<T>>, ok: number[], what: string): Promise<T> {
  const { status, body } = await answer;
  if (!ok.includes(status)) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}
