import type { SimPerf } from './options.ts';

// The step-time model: how long one engine step of continuous batching takes, in simulated ms.
//
//   step = stepBaseMs
//        + decodeMsPerSeq      × sequences in the batch
//        + prefillMsPerToken   × prompt tokens computed in this step (uncached, chunked)
//        + kvReadMsPer1kTokens × (context tokens of every scheduled sequence) / 1000
//
// Calibration (defaults in options.ts), Llama-3.1-8B BF16 on one A100-class GPU, vLLM V1:
// - Decode at batch 1 is memory-bound: ~16 GB of weights read per step. J. Musgrave, "vLLM
//   throughput-latency sweep on NVIDIA A100" (johnmusgrave.com/p/vllm-throughput-latency-sweep-on,
//   vLLM 0.23, A100-40GB, 1024 in / 128 out) measures ~75 tokens/s at concurrency 1, i.e. ~13.3 ms per
//   step; stepBaseMs 12 plus ~1 ms of attention over ~1.1k tokens reproduces it.
// - Batching is nearly free up to ~8 sequences (the same sweep: 6.6x throughput at concurrency 8 with
//   almost no per-token latency cost), then per-token latency climbs. decodeMsPerSeq 0.1 and the KV
//   read term give ~13.5 ms at batch 8 and ~24 ms at batch 64 with 1k-token contexts, in the 10–30 ms
//   range vLLM reports for 8B models (vLLM blog, "vLLM v0.6.0: 2.7x Throughput Improvement and 5x
//   Latency Reduction", 2024-09-05, Llama 3 8B on H100; an A100 is ~1.5–2x slower).
// - KV read: Llama-3-8B keeps 32 layers × 8 KV heads × 128 dims × 2 (K,V) × 2 bytes = 128 KiB per
//   token; 1,000 tokens are 131 MB, ~0.085 ms at the A100's ~1.5 TB/s.
// - Prefill is compute-bound: ~2 × 7B matmul parameters = ~14 GFLOP per token; at ~200 TFLOPS
//   sustained (65% of the A100's 312 TFLOPS BF16 peak) that is ~0.07 ms per token, ~14k tokens/s, so
//   a 2,048-token chunk (vLLM's default max_num_batched_tokens on non-H100 GPUs) takes ~155 ms. With
//   these values the model gives ~6.4x at concurrency 8 on Musgrave's workload, against 6.6x measured.
// - KV capacity: (40 GB × 0.9 − 16 GB weights) / 128 KiB ≈ 150k tokens ≈ 9.5k blocks of 16 on an
//   A100-40GB; numGpuBlocks defaults to 8192 (131k tokens). An H100 is roughly: stepBaseMs 6,
//   prefillMsPerToken 0.03, kvReadMsPer1kTokens 0.04.

export interface StepShape {
  /** Sequences scheduled in the step (prefilling or decoding). */
  readonly seqs: number;
  /** Prompt (or recomputed) tokens computed in the step. */
  readonly prefillTokens: number;
  /** Sum over scheduled sequences of the tokens their attention reads. */
  readonly contextTokens: number;
}

/** Simulated duration of one step, in ms. */
export function stepMs(perf: SimPerf, shape: StepShape): number {
  return (
    perf.stepBaseMs +
    perf.decodeMsPerSeq * shape.seqs +
    perf.prefillMsPerToken * shape.prefillTokens +
    (perf.kvReadMsPer1kTokens * shape.contextTokens) / 1000
  );
}
