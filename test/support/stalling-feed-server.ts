// A feed server on loopback whose answer stalls half-way until released: an update that
// downloads from it holds its feed lock (and a partial download) for as long as the test wants.
import type { TestContext } from 'node:test';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

export interface StallingFeedServer {
  url: string;
  requests(): number;
  /** Sends the rest of every stalled answer. */
  release(): void;
}

export async function stallingFeedServer(t: TestContext, file: string): Promise<StallingFeedServer> {
  const body = readFileSync(file);
  const stalled: ServerResponse[] = [];
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    res.write(body.subarray(0, 100));
    stalled.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${basename(file)}`,
    requests: () => requests,
    release: () => {
      for (const res of stalled.splice(0)) res.end(body.subarray(100));
    },
  };
}
