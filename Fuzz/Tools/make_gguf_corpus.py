#!/usr/bin/env python3
"""Seeds Fuzz/Corpus/FuzzGGUF with small GGUF files written by gguf-py's GGUFWriter (pinned in
Tools/bench/requirements.txt): glm4moe metadata, and tensors of several ggml types quantised by
gguf-py (F32, F16, BF16, Q8_0, Q4_0, Q5_0) or laid out as raw K-quant blocks.

    Tools/bench/work/venv/bin/python Fuzz/Tools/make_gguf_corpus.py
"""
from pathlib import Path
import numpy as np
import gguf

OUT = Path(__file__).resolve().parent.parent / "Corpus" / "FuzzGGUF"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)


def write(name, arch="glm4moe", tensors=(), kv=True):
    w = gguf.GGUFWriter(str(OUT / name), arch)
    if kv:
        w.add_block_count(1); w.add_embedding_length(32); w.add_head_count(2); w.add_head_count_kv(1)
        w.add_uint32("glm4moe.expert_count", 2); w.add_array("tokenizer.ggml.tokens", ["a", "b", "ab"])
        w.add_float32("glm4moe.rope.freq_base", 10000.0); w.add_bool("glm4moe.expert_weights_norm", True)
    for tname, qtype, shape in tensors:
        data = rng.standard_normal(shape).astype(np.float32)
        if qtype in (gguf.GGMLQuantizationType.F32,):
            w.add_tensor(tname, data)
        else:
            w.add_tensor(tname, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


T = gguf.GGMLQuantizationType
write("metadata-only")
write("f32", tensors=[("token_embd.weight", T.F32, (4, 32)), ("output_norm.weight", T.F32, (32,))])
write("legacy", tensors=[("blk.0.attn_q.weight", T.Q8_0, (2, 32)), ("blk.0.attn_k.weight", T.Q4_0, (2, 32)),
                         ("blk.0.attn_v.weight", T.Q5_0, (1, 64)), ("blk.0.attn_output.weight", T.BF16, (2, 32)),
                         ("blk.0.ffn_gate_exps.weight", T.F16, (2, 2, 32))])
write("other-arch", arch="llama", tensors=[("w", T.F32, (2, 2))], kv=False)
# A K-quant tensor: raw blocks (gguf-py cannot quantise Q4_K), dequantisable whatever the bytes.
w = gguf.GGUFWriter(str(OUT / "q4_k"), "glm4moe")
w.add_tensor("blk.0.ffn_down_exps.weight", rng.integers(0, 256, (2, 144), dtype=np.uint8),
             raw_dtype=T.Q4_K)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
for p in sorted(OUT.iterdir()):
    print(p.name, p.stat().st_size)
