import { fillerToken, hashText, type TokenizedPrompt } from './tokens.ts';

// One request inside the engine: its prompt, the tokens generated so far, the KV blocks it holds and
// the hash chain of its full blocks (prompt, then output as it is generated, so a multi-turn client
// that sends the reply back finds it cached).

export type FinishReason = 'stop' | 'length';
export type SeqState = 'waiting' | 'running' | 'finished' | 'aborted';

export interface SeqUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Prompt tokens served from the prefix cache at first scheduling. */
  readonly cachedTokens: number;
}

/** Where a sequence's output goes. The engine calls flush once per tick after token/finish calls. */
export interface SeqSink {
  token(text: string): void;
  finish(reason: FinishReason, usage: SeqUsage): void;
  flush(): void;
}

export interface SeqRequest {
  readonly prompt: TokenizedPrompt;
  /** Tokens to generate; the engine stops there with `finishReason`. */
  readonly maxTokens: number;
  readonly finishReason: FinishReason;
  readonly lora: string | null;
  /** First hash of the block chain (see chainSeed). */
  readonly chainSeed: number;
  /** Picks the filler words. */
  readonly fillerSeed: number;
  readonly sink: SeqSink;
}

export class Sequence {
  readonly request: SeqRequest;
  readonly arrivedAt: number;
  state: SeqState = 'waiting';
  /** Tokens whose KV is computed. */
  computed = 0;
  output = 0;
  readonly blocks: number[] = [];
  /** Leading blocks already registered in (or found in) the prefix cache. */
  registered = 0;
  readonly hashes: number[];
  private tailText: string;
  private tailCount: number;
  /** Prefix-cache hit tokens at first scheduling; -1 before. */
  cachedTokens = -1;
  firstScheduledAt = -1;
  firstTokenAt = -1;
  /** Set while queued for the end-of-tick flush. */
  touched = false;

  constructor(request: SeqRequest, arrivedAt: number) {
    this.request = request;
    this.arrivedAt = arrivedAt;
    this.hashes = request.prompt.blockHashes.slice();
    this.tailText = request.prompt.tailText;
    this.tailCount = request.prompt.tailCount;
  }

  /** Prompt plus generated tokens. */
  get total(): number {
    return this.request.prompt.count + this.output;
  }

  /** Generate the next filler token, extend the hash chain when a block fills, and return its text. */
  emit(blockSize: number): string {
    const text = fillerToken(this.request.fillerSeed, this.output);
    this.output++;
    this.tailText += text;
    this.tailCount++;
    if (this.tailCount === blockSize) {
      const parent =
        this.hashes.length > 0 ? (this.hashes[this.hashes.length - 1] ?? 0) : this.request.chainSeed;
      this.hashes.push(hashText(parent, this.tailText));
      this.tailText = '';
      this.tailCount = 0;
    }
    return text;
  }

  usage(): SeqUsage {
    return {
      promptTokens: this.request.prompt.count,
      completionTokens: this.output,
      cachedTokens: Math.max(0, this.cachedTokens),
    };
  }
}
