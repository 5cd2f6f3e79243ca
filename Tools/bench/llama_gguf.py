#!/usr/bin/env python3
"""llama.cpp (llama-cpp-python) on one GGUF, as `glm bench` measures swift-glm: 512 random prompt
tokens in one batch, then gen_len single-token steps after the prompt (tg@d512) and from an
empty cache (tg), 2 threads. Wall-clock rates; Python's per-call overhead is included.

    Tools/bench/work/venv/bin/python Tools/bench/llama_gguf.py FILE.gguf [GEN_LEN]
"""
import sys, time, random, llama_cpp
path=sys.argv[1]; n_gen=int(sys.argv[2]) if len(sys.argv)>2 else 32
m=llama_cpp.Llama(path, n_ctx=1024, n_batch=512, n_ubatch=512, n_threads=2, n_threads_batch=2, verbose=False, logits_all=False)
random.seed(0); toks=[random.randrange(150000) for _ in range(512)]
m.eval(toks[:8]); m.reset()
t=time.time(); m.eval(toks); pp=512/(time.time()-t)
t=time.time()
for i in range(n_gen):
    m.eval([toks[i]])
tg=n_gen/(time.time()-t)
m.reset(); t=time.time()
for i in range(n_gen): m.eval([toks[i]])
tg0=n_gen/(time.time()-t)
print(f"{path}: prefill {pp:.2f} decode@512 {tg:.2f} decode@0 {tg0:.2f}")
