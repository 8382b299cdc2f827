import type { GatewayError } from '../../core/errors.ts';
import type { Usage } from '../../core/usage.ts';
import type { ApiKind, JsonObject } from '../../contracts/request.ts';
import type {
  StreamTranslator,
  TranslatedResponse,
  TranslateInput,
  Translator,
  UpstreamRequest,
} from '../../contracts/translator.ts';
import { ChatToMessagesStream, type ChatStreamOptions } from './chat-stream-to-messages.ts';
import { chatToMessage } from './chat-to-message.ts';
import { messagesToChat, type MessagesToChatOptions } from './messages-to-chat.ts';

// Serve the Messages API through any chat translator: Messages request → chat body → the provider's own
// translator → upstream, and back: chat.completion → Message, chunk stream → Messages events. Built once
// per provider at compile time; stateless. The inner translator always sees clientWantsUsage (usage feeds
// message_delta). Errors stay GatewayErrors, rendered Anthropic-shaped by the surface (errors.ts).
// After request(), the inner translator's inputs carry the client's (Messages) body: translators read only
// api, model and the flags once the request is built.

const APIS: ReadonlySet<ApiKind> = new Set<ApiKind>(['messages']);
const STREAM_USAGE = Object.freeze({ include_usage: true });

function chatInput(input: TranslateInput, body: JsonObject = input.body): TranslateInput {
  return { api: 'chat', body, model: input.model, stream: input.stream, clientWantsUsage: true };
}

/** Chains a chat StreamTranslator and the chunk → Messages event converter. */
export class MessagesOverChatStream implements StreamTranslator {
  private readonly inner: StreamTranslator;
  private readonly outer: ChatToMessagesStream;

  constructor(inner: StreamTranslator, options: ChatStreamOptions) {
    this.inner = inner;
    this.outer = new ChatToMessagesStream(options);
  }

  get usage(): Usage | null {
    return this.inner.usage;
  }

  get done(): boolean {
    return this.inner.done;
  }

  get error(): GatewayError | null {
    return this.inner.error ?? this.outer.error;
  }

  get sawContent(): boolean {
    return this.inner.sawContent;
  }

  push(chunk: Buffer): string | null {
    return this.relay(this.inner.push(chunk), false);
  }

  end(): string | null {
    return this.relay(this.inner.end(), true);
  }

  private relay(chat: string | Buffer | null, last: boolean): string | null {
    // The inner translator's error (with the upstream's status) decides the Anthropic error type, whether
    // or not it also wrote an OpenAI error frame.
    const err = this.inner.error;
    let out = chat === null ? '' : (this.outer.push(err === null ? chat : beforeError(chat)) ?? '');
    if (last) out += this.outer.end() ?? '';
    if (err !== null) out += this.outer.fail(err);
    return out === '' ? null : out;
  }
}

/** The frames before an OpenAI error frame (the error is re-sent by `fail` in Anthropic shape). */
function beforeError(chat: string | Buffer): string {
  const text = chat.toString();
  const at = text.indexOf('data: {"error"');
  return at === -1 ? text : text.slice(0, at);
}

export function messagesOverChat(chat: Translator, options: MessagesToChatOptions = {}): Translator {
  return {
    name: `${chat.name}+messages`,
    apis: APIS,

    request(input: TranslateInput): UpstreamRequest {
      const body = messagesToChat(input.body, options);
      if (input.stream && body.stream !== true)
        Object.assign(body, { stream: true, stream_options: STREAM_USAGE });
      return chat.request(chatInput(input, body));
    },

    response(body: Buffer, input: TranslateInput): TranslatedResponse {
      const out = chat.response(body, chatInput(input));
      return { body: chatToMessage(out.body, input.model), usage: out.usage };
    },

    stream(input: TranslateInput): StreamTranslator {
      return new MessagesOverChatStream(chat.stream(chatInput(input)), { model: input.model });
    },

    error(status: number, body: Buffer, input: TranslateInput): GatewayError {
      return chat.error(status, body, chatInput(input));
    },
  };
}

/**
 * A provider translator that also serves the Messages API: itself when it does natively (an Anthropic
 * provider), else `messagesOverChat` for api 'messages' and itself for the rest. Build once per provider.
 */
export function withMessagesSurface(translator: Translator, options: MessagesToChatOptions = {}): Translator {
  if (translator.apis.has('messages') || !translator.apis.has('chat')) return translator;
  const messages = messagesOverChat(translator, options);
  const pick = (input: TranslateInput): Translator => (input.api === 'messages' ? messages : translator);
  return {
    name: translator.name,
    apis: new Set<ApiKind>([...translator.apis, 'messages']),
    request: (input) => pick(input).request(input),
    response: (body, input) => pick(input).response(body, input),
    stream: (input) => pick(input).stream(input),
    error: (status, body, input) => pick(input).error(status, body, input),
  };
}
