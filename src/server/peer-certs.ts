import type { IncomingHttpHeaders } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { RequestContext } from '../contracts/request.ts';

// The verified client certificate of a request, for mTLS identities. The context carries the request's
// header object; this map leads from it back to the TLS socket without widening RequestContext.

const sockets = new WeakMap<IncomingHttpHeaders, TLSSocket>();

export function rememberSocket(headers: IncomingHttpHeaders, socket: TLSSocket): void {
  sockets.set(headers, socket);
}

/** The peer certificate when the client sent one that chains to the configured CA, else null. */
export function peerCertificateOf(ctx: RequestContext): PeerCertificate | null {
  const socket = sockets.get(ctx.clientHeaders);
  if (socket === undefined || !socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  return cert !== null && Object.keys(cert).length > 0 ? cert : null;
}
