import { createServer } from 'node:http';
import { Pool } from 'undici';

// The least a Node proxy can do for an LLM request: read and parse the JSON body, forward it with an
// undici pool, and for a JSON reply parse it (streams are piped). The runtime's limit, as a baseline.

const upstream = process.argv[2]!;
const pool = new Pool(upstream, { connections: 256, pipelining: 1 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { stream?: boolean };
    pool
      .request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      .then(async (up) => {
        if (body.stream === true) {
          res.writeHead(up.statusCode, { 'content-type': 'text/event-stream' });
          for await (const chunk of up.body) res.write(chunk);
          res.end();
          return;
        }
        const reply = JSON.stringify(await up.body.json());
        res.writeHead(up.statusCode, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(reply),
        });
        res.end(reply);
      })
      .catch(() => {
        res.writeHead(502);
        res.end();
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
