#!/usr/bin/env python3
"""GGUF oracle fixtures for swift-glm, made by llama.cpp and gguf-py (never by hand-written quantisers).

    Tools/bench/work/venv/bin/python Tools/gguf/make_fixtures.py            # everything
    Tools/bench/work/venv/bin/python Tools/gguf/make_fixtures.py --only quants,vocab
    Tools/bench/work/venv/bin/python Tools/gguf/make_fixtures.py --only models --model-types bf16
    Tools/bench/work/venv/bin/python Tools/gguf/make_fixtures.py --work /tmp/gguf-work --keep-work

Writes Tests/Fixtures/gguf/:
  quants.gguf                 ggml blocks made by libggml's ggml_quantize_chunk + gguf-py dequantisations
  models/<type>/model.gguf    a tiny random glm4moe converted by llama.cpp's convert_hf_to_gguf.py (f32)
                              and quantised by llama.cpp's llama_model_quantize (the other types)
  models/<type>/oracle.json   transformers Glm4MoeForCausalLM logits on the gguf-py-dequantised tensors
  models/<type>/mtp_oracle.json  the MTP head (blk.2.nextn.*) on the same tensors (no llama.cpp counterpart)
  models/<type>/llama_cpp.json   llama.cpp's logits on the same file
  models/hf_config.json       the HF config.json the models were converted from
  glm45-vocab.gguf            llama.cpp's converter --vocab-only on the real GLM-4.5 tokenizer
  glm45-vocab-cases.json      HF tokenizer ids (+ llama.cpp's ids) for a set of strings
  MANIFEST.json               types, KL / top-1 numbers, tokenizer keys, versions, sha256 of every file

Everything is seeded; see Tools/gguf/README.md (versions, workarounds).
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import glob
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "Tests" / "Fixtures" / "gguf"
LLAMA_CPP_PY_VERSION = "0.3.36"
DEFAULT_LLAMA_SRC = REPO_ROOT / "Tools" / "bench" / "work" / "src" / f"llama_cpp_python-{LLAMA_CPP_PY_VERSION}" / "vendor" / "llama.cpp"
SHARED = Path("/work/shared")
SHARED_TOKENIZER = SHARED / "tokenizer" / "glm45"
SHARED_GLM45 = SHARED / "glm45"


# ============================================================================================
# Child process: llama.cpp's converter, optionally with the pre-tokenizer name forced
# ============================================================================================

def convert_child(argv):
    """`make_fixtures.py _convert <llama.cpp dir> <force-pre or -> <convert_hf_to_gguf.py args...>`.

    Runs the vendored convert_hf_to_gguf.py in this (separate) process so that its vendored gguf-py
    does not mix with the pip gguf used by the parent. With a force-pre value, the converter's
    pre-tokenizer detection (a hash of the tokens of a fixed text, which a truncated vocabulary
    cannot match) is replaced by that name; nothing else of the converter is changed.
    """
    llama_dir, force_pre, rest = Path(argv[0]), argv[1], argv[2:]
    sys.path.insert(0, str(llama_dir))
    os.chdir(llama_dir)
    import convert_hf_to_gguf  # noqa: E402  (inserts llama_dir/gguf-py itself)
    if force_pre != "-":
        from conversion.base import TextModel

        def get_vocab_base_pre(self, tokenizer):
            return force_pre
        TextModel.get_vocab_base_pre = get_vocab_base_pre
    sys.argv = ["convert_hf_to_gguf.py"] + rest
    convert_hf_to_gguf.main()


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "_convert":
    convert_child(sys.argv[2:])
    sys.exit(0)


# ============================================================================================
# Parent imports
# ============================================================================================

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import gguf  # noqa: E402  (pip gguf==0.19.0)
from gguf import GGMLQuantizationType as QT  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import Glm4MoeConfig, Glm4MoeForCausalLM  # noqa: E402
from transformers.models.glm4_moe import modeling_glm4_moe as hf_glm  # noqa: E402

import llama_cpp  # noqa: E402


def versions():
    v = {
        "script": "Tools/gguf/make_fixtures.py",
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "gguf": importlib.metadata.version("gguf"),
        "transformers": transformers.__version__,
        "tokenizers": importlib.metadata.version("tokenizers"),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": importlib.metadata.version("safetensors"),
    }
    return v


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# ============================================================================================
# libggml: ggml_quantize_chunk
# ============================================================================================

GGML_TYPE_ID = {  # ggml.h enum ggml_type (checked against gguf-py's GGMLQuantizationType below)
    "F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q2_K": 10,
    "Q3_K": 11, "Q4_K": 12, "Q5_K": 13, "Q6_K": 14, "IQ4_NL": 20, "IQ4_XS": 23, "BF16": 30,
}


class GGML:
    def __init__(self):
        libdir = Path(llama_cpp.__file__).parent / "lib"
        cands = sorted(glob.glob(str(libdir / "libggml-base.so*"))) or sorted(glob.glob(str(libdir / "libggml*.so*")))
        lib = None
        for c in cands:
            l = ctypes.CDLL(c)
            if hasattr(l, "ggml_quantize_chunk"):
                lib, self.path = l, c
                break
        assert lib is not None, f"no ggml_quantize_chunk in {cands}"
        lib.ggml_quantize_chunk.restype = ctypes.c_size_t
        lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                            ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        lib.ggml_quantize_requires_imatrix.restype = ctypes.c_bool
        lib.ggml_quantize_requires_imatrix.argtypes = [ctypes.c_int]
        lib.ggml_quantize_init.argtypes = [ctypes.c_int]
        lib.ggml_row_size.restype = ctypes.c_size_t
        lib.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
        self.lib = lib

    def quantize(self, tname: str, x: np.ndarray) -> np.ndarray:
        """llama.cpp's quantiser, no imatrix (what llama-quantize does without --imatrix)."""
        t = GGML_TYPE_ID[tname]
        assert int(QT[tname]) == t
        assert not self.lib.ggml_quantize_requires_imatrix(t)
        x = np.ascontiguousarray(x, dtype=np.float32)
        nrows, n = x.shape
        rb = self.lib.ggml_row_size(t, n)
        bs, ts = gguf.GGML_QUANT_SIZES[QT[tname]]
        assert rb == n // bs * ts
        dst = np.zeros((nrows, rb), dtype=np.uint8)
        self.lib.ggml_quantize_init(t)
        got = self.lib.ggml_quantize_chunk(t, x.ctypes.data, dst.ctypes.data, 0, nrows, n, None)
        assert got == nrows * rb, (tname, got, nrows * rb)
        return dst


# ============================================================================================
# Fixture 1: quants.gguf
# ============================================================================================

QUANT_TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
               "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"]
SINGLE_ROW_TYPES = ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"]
QUANT_SEED = 4242


def quant_inputs():
    """4 rows x 512 and 1 row x 256 of seeded float32 inputs with edge cases."""
    rng = np.random.default_rng(QUANT_SEED)
    x = np.zeros((4, 512), dtype=np.float32)
    # row 0: typical weights
    x[0] = rng.standard_normal(512) * 0.02
    # row 1: large values, with a positive offset in the second half (asymmetric blocks)
    x[1] = rng.standard_normal(512) * 3.0
    x[1, 256:] += 2.0
    # row 2: outliers, exact zeros, an all-zero 32-block and all-zero 16-sub-blocks, sign-skewed blocks
    r = rng.standard_normal(512) * 0.5
    r[rng.random(512) < 0.25] = 0.0            # scattered exact zeros
    r[64:96] = 0.0                             # one whole 32-block (Q4_0/Q8_0 d = 0, Q4_K sub-block)
    r[288:304] = 0.0                           # one 16-wide sub-block of the second 256-block (Q2_K/Q3_K/Q6_K)
    r[7] = 40.0                                # positive outlier: max|x| positive -> negative d for Q4_0/Q5_0/IQ4
    r[200] = -35.0                             # negative outlier
    r[320:352] = np.abs(r[320:352]) + 1.0      # all-positive block
    r[352:384] = -np.abs(r[352:384]) - 1.0     # all-negative block
    x[2] = r
    # row 3: tiny values (f16 subnormals; scales near f16's lower range)
    x[3] = rng.standard_normal(512) * 1e-6
    x[3, 480:512] = 0.0
    # single 256-row: mixed-scale sub-blocks (each 32 values its own scale), one zero sub-block
    s = rng.standard_normal(256)
    scales = np.repeat(np.array([0.001, 0.01, 0.1, 1.0, 10.0, 0.0, 0.5, 3.0]), 32)
    x1 = (s * scales).astype(np.float32).reshape(1, 256)
    return x, x1


def encode_float(tname, x):
    """F32/F16/BF16 payloads the way gguf-py / the converter produce them."""
    if tname == "F32":
        return x.astype(np.float32)
    if tname == "F16":
        return x.astype(np.float16)  # round to nearest even, as ggml
    if tname == "BF16":
        return gguf.quants.quantize(x.astype(np.float32), QT.BF16)  # uint8 bytes
    raise ValueError(tname)


def make_quants(out: Path, ggml: GGML):
    x, x1 = quant_inputs()
    path = out / "quants.gguf"
    w = gguf.GGUFWriter(str(path), arch="quant-fixture")
    w.add_string("general.name", "swift-glm quant oracle fixture")
    w.add_string("quant-fixture.description",
                 "T.q = llama.cpp ggml_quantize_chunk(T) of the seeded inputs (no imatrix; F32/F16/BF16 by numpy / "
                 "gguf-py); T.dq = gguf.quants.dequantize(T.q) as F32. T.q1/T.dq1: one row of 256.")
    info = {}
    for tname in QUANT_TYPES:
        for suffix, data in (("", x), ("1", x1)):
            if suffix == "1" and tname not in SINGLE_ROW_TYPES:
                continue
            if tname in ("F32", "F16", "BF16"):
                q = encode_float(tname, data)
            else:
                q = ggml.quantize(tname, data)
            if tname == "BF16" or tname not in ("F32", "F16"):
                w.add_tensor(f"{tname}.q{suffix}", q, raw_dtype=QT[tname])
            else:
                w.add_tensor(f"{tname}.q{suffix}", q)
            dq = gguf.quants.dequantize(q, QT[tname]).astype(np.float32).reshape(data.shape)
            assert np.all(np.isfinite(dq))
            w.add_tensor(f"{tname}.dq{suffix}", np.ascontiguousarray(dq))
            err = np.abs(dq - data)
            info[f"{tname}.q{suffix}"] = {
                "type": tname, "ne": [data.shape[1], data.shape[0]],
                "max_abs_err_vs_input_per_row": [float(f"{e:.6g}") for e in err.max(axis=1)],
            }
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # read back with GGUFReader: types, shapes, payload round trip
    rd = gguf.GGUFReader(str(path))
    got = {t.name: t for t in rd.tensors}
    for name, meta in info.items():
        t = got[name]
        assert t.tensor_type.name == meta["type"], (name, t.tensor_type.name)
        assert [int(v) for v in t.shape] == meta["ne"], (name, t.shape)
        dq = got[name.replace(".q", ".dq")]
        assert dq.tensor_type == QT.F32
        assert np.array_equal(gguf.quants.dequantize(t.data, t.tensor_type).reshape(-1), np.asarray(dq.data).reshape(-1))
    # edge cases that must occur
    q40 = got["Q4_0.q"].data.reshape(-1, 18)
    d = q40[:, :2].copy().view(np.float16).astype(np.float32).reshape(-1)
    assert (d < 0).any() and (d > 0).any() and (d == 0).any(), "Q4_0 blocks should have negative, positive and zero d"
    print(f"  quants.gguf: {len(info)} quantised tensors, {path.stat().st_size} bytes")
    return {
        "file": "quants.gguf",
        "architecture": "quant-fixture",
        "quantizer": "libggml ggml_quantize_chunk(type, src, dst, 0, nrows, n_per_row, NULL) (llama-cpp-python "
                     f"{llama_cpp.__version__}); F32 as is, F16 numpy astype (RNE), BF16 gguf.quants.quantize",
        "dequantizer": "gguf.quants.dequantize (pip gguf " + importlib.metadata.version("gguf") + ")",
        "inputs": ("numpy default_rng(%d): row 0 N(0,1)*0.02; row 1 N(0,1)*3 (+2 on elements 256..511); row 2 "
                   "N(0,1)*0.5 with ~25%% exact zeros, zeros at 64..95 and 288..303, outliers +40 at 7 and -35 at "
                   "200, all-positive 320..351, all-negative 352..383; row 3 N(0,1)*1e-6 with zeros at 480..511; "
                   "q1 row: N(0,1) times per-32 scales [1e-3,1e-2,0.1,1,10,0,0.5,3]" % QUANT_SEED),
        "tensors": info,
    }


# ============================================================================================
# Fixture 2: tiny glm4moe models
# ============================================================================================

REGULAR_VOCAB = 476
GLM_N_ADDED = 36
VOCAB = REGULAR_VOCAB + GLM_N_ADDED  # 512
MODEL_SEED = 3001
MODEL_CONFIG = dict(
    vocab_size=VOCAB, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
    first_k_dense_replace=1, moe_intermediate_size=128, n_routed_experts=4, num_experts_per_tok=2,
    n_shared_experts=1, n_group=1, topk_group=1, num_attention_heads=4, num_key_value_heads=2, head_dim=64,
    partial_rotary_factor=0.5, attention_bias=True, use_qk_norm=False, norm_topk_prob=True,
    routed_scaling_factor=2.5, num_nextn_predict_layers=1, tie_word_embeddings=False, rope_theta=10000.0,
    max_position_embeddings=256, rms_norm_eps=1e-5, hidden_act="silu",
    eos_token_id=[REGULAR_VOCAB + 0, REGULAR_VOCAB + 7, REGULAR_VOCAB + 9], pad_token_id=REGULAR_VOCAB + 0,
)
SEQ_LENGTHS = (7, 4, 11)
MODEL_TYPES = [  # folder, llama_ftype name (None: the converter's f32 output)
    ("f32", None), ("q8_0", "LLAMA_FTYPE_MOSTLY_Q8_0"), ("q4_0", "LLAMA_FTYPE_MOSTLY_Q4_0"),
    ("q4_k_m", "LLAMA_FTYPE_MOSTLY_Q4_K_M"), ("q6_k", "LLAMA_FTYPE_MOSTLY_Q6_K"),
    ("iq4_xs", "LLAMA_FTYPE_MOSTLY_IQ4_XS"), ("bf16", "LLAMA_FTYPE_MOSTLY_BF16"),
]

# init: std = gain / sqrt(fan_in) for matrices (fan_in 256 -> 0.1 for gain 1.6)
# (gains 1.6 / 2.0 / 4.0 made a chaotic model: Q8 activation rounding alone flipped routing, KL ~1 at some positions)
MATRIX_GAIN = 1.0
QK_GAIN = 1.0
ROUTER_GAIN = 2.0
LM_HEAD_GAIN = 2.4
EMBED_STD = 0.5
BIAS_STD = 0.05
CORR_BIAS_STD = 0.1
NORM_JITTER = 0.1


def init_tensor_(name: str, t: torch.Tensor, g: torch.Generator):
    shape = tuple(t.shape)
    n = torch.randn(shape, generator=g, dtype=torch.float32)
    fan_in = shape[-1] if len(shape) == 2 else 1
    if name.endswith("e_score_correction_bias"):
        v = CORR_BIAS_STD * n
    elif name.endswith("norm.weight") or name.endswith("layernorm.weight"):
        v = 1.0 + NORM_JITTER * n
    elif name.endswith(".bias"):
        v = BIAS_STD * n
    elif name.endswith("mlp.gate.weight"):
        v = ROUTER_GAIN / math.sqrt(fan_in) * n
    elif "embed_tokens" in name:
        v = EMBED_STD * n
    elif name.endswith("lm_head.weight") or name.endswith("shared_head.head.weight"):
        v = LM_HEAD_GAIN / math.sqrt(fan_in) * n
    elif re.search(r"self_attn\.[qk]_proj\.weight$", name):
        v = QK_GAIN / math.sqrt(fan_in) * n
    elif name.endswith(".weight") and t.dim() == 2:
        v = MATRIX_GAIN / math.sqrt(fan_in) * n
    else:
        raise RuntimeError(f"no init rule for {name} {shape}")
    with torch.no_grad():
        t.copy_(v.to(t.dtype))


def init_module_(module: torch.nn.Module, g: torch.Generator, prefix: str = ""):
    tensors = {prefix + n: p for n, p in module.named_parameters()}
    non_persistent = set()
    for mname, m in module.named_modules():
        for b in getattr(m, "_non_persistent_buffers_set", ()):
            non_persistent.add(f"{mname}.{b}" if mname else b)
    for n, b in module.named_buffers():
        if n not in non_persistent and b.is_floating_point():
            tensors[prefix + n] = b
    for n in sorted(tensors):
        init_tensor_(n, tensors[n], g)
    return sorted(tensors)


def make_hf_config(extra=None) -> Glm4MoeConfig:
    c = Glm4MoeConfig(**dict(MODEL_CONFIG, **(extra or {})))
    c._attn_implementation = "eager"
    return c


class MtpHead(torch.nn.Module):
    """enorm / hnorm / eh_proj / shared_head.{norm,head} of the MTP layer + its decoder layer."""

    def __init__(self, cfg):
        super().__init__()
        L, H = cfg.num_hidden_layers, cfg.hidden_size
        self.layer = hf_glm.Glm4MoeDecoderLayer(cfg, layer_idx=L)
        assert isinstance(self.layer.mlp, hf_glm.Glm4MoeMoE)
        self.enorm = hf_glm.Glm4MoeRMSNorm(H, eps=cfg.rms_norm_eps)
        self.hnorm = hf_glm.Glm4MoeRMSNorm(H, eps=cfg.rms_norm_eps)
        self.eh_proj = torch.nn.Linear(2 * H, H, bias=False)
        self.embed_tokens = torch.nn.Embedding(cfg.vocab_size, H)
        self.shared_head = torch.nn.Module()
        self.shared_head.norm = hf_glm.Glm4MoeRMSNorm(H, eps=cfg.rms_norm_eps)
        self.shared_head.head = torch.nn.Linear(H, cfg.vocab_size, bias=False)

    def hf_state(self, L):
        sd = {}
        for n, t in self.state_dict().items():
            n = n[len("layer."):] if n.startswith("layer.") else n
            sd[f"model.layers.{L}.{n}"] = t.detach().clone().float().contiguous()
        return sd

    def load_hf_state(self, sd, L):
        p = f"model.layers.{L}."
        sub = {}
        for k, v in sd.items():
            if k.startswith(p):
                k = k[len(p):]
                top = k.split(".")[0]
                sub[k if top in ("enorm", "hnorm", "eh_proj", "embed_tokens", "shared_head") else "layer." + k] = v
        self.load_state_dict(sub, strict=True)


def build_model(seed):
    cfg = make_hf_config()
    torch.manual_seed(seed)
    model = Glm4MoeForCausalLM(cfg).eval()
    g = torch.Generator().manual_seed(seed)
    names = init_module_(model, g)
    assert set(model.state_dict()) <= set(names)
    mtp = MtpHead(cfg).eval()
    g2 = torch.Generator().manual_seed(seed + 5000)
    init_module_(mtp, g2, prefix="mtp.")
    with torch.no_grad():  # as in real checkpoints: exact copies of the main tables
        mtp.embed_tokens.weight.copy_(model.model.embed_tokens.weight)
        mtp.shared_head.head.weight.copy_(model.lm_head.weight)
    return model, mtp


def make_sequences(seed):
    g = torch.Generator().manual_seed(seed + 77)
    seqs = []
    for i, n in enumerate(SEQ_LENGTHS):
        t = torch.randint(0, VOCAB, (n,), generator=g).tolist()
        if i == 0:
            t[-1] = VOCAB - 1
        if i == 2:
            t[0] = 0
            t[5] = t[2]
        seqs.append(t)
    return seqs


@torch.no_grad()
def logits_of(model, seqs):
    return [model(input_ids=torch.tensor([t]), use_cache=False).logits[0].float() for t in seqs]


@torch.no_grad()
def mtp_logits(model, mtp, tokens):
    """MTP head for positions i = 0..n-2 (row i predicts t_{i+2}); the MTP layer's own embedding / head
    copies (llama.cpp uses nextn.embed_tokens / nextn.shared_head_head when the file has them)."""
    ids = torch.tensor([tokens])
    h = model.model(input_ids=ids, use_cache=False).last_hidden_state  # after model.norm
    n = len(tokens)
    e = mtp.embed_tokens(ids[:, 1:])
    x = mtp.eh_proj(torch.cat([mtp.enorm(e), mtp.hnorm(h[:, : n - 1])], dim=-1))
    pos = torch.arange(n - 1).unsqueeze(0)
    cos, sin = model.model.rotary_emb(x, pos)
    mask = torch.full((n - 1, n - 1), torch.finfo(torch.float32).min).triu(1)[None, None]
    out = mtp.layer(x, attention_mask=mask, position_ids=pos, position_embeddings=(cos, sin))
    if isinstance(out, tuple):
        out = out[0]
    return mtp.shared_head.head(mtp.shared_head.norm(out))[0].float()


class RouterProbe:
    def __init__(self, model):
        self.used = {}
        self.handles = [m.register_forward_hook(self._hook(n)) for n, m in model.named_modules()
                        if isinstance(m, hf_glm.Glm4MoeTopkRouter)]

    def _hook(self, name):
        def fn(mod, args, out):
            self.used.setdefault(name, set()).update(out[0].reshape(-1).tolist())
        return fn

    def close(self):
        for h in self.handles:
            h.remove()


def model_problems(model, mtp, seqs):
    problems = []
    probe = RouterProbe(model)
    lg = logits_of(model, seqs)
    probe.close()
    for name, used in probe.used.items():
        if len(used) < MODEL_CONFIG["n_routed_experts"]:
            problems.append(f"{name}: experts used {sorted(used)}")
    probe = RouterProbe(mtp)
    for t in seqs:
        mtp_logits(model, mtp, t)
    probe.close()
    for name, used in probe.used.items():
        if len(used) < MODEL_CONFIG["n_routed_experts"]:
            problems.append(f"mtp {name}: experts used {sorted(used)}")
    for l in lg:
        if float(l.std(dim=-1).min()) < 1.0:
            problems.append(f"logits too flat ({float(l.std(dim=-1).min()):.2f})")
        if float((l[1:] - l[:-1]).abs().max()) < 0.5:
            problems.append("rows hardly differ")
    return problems


def write_tiny_tokenizer(d: Path):
    """GLM's tokenizer.json with the first REGULAR_VOCAB regular tokens, the merges among them, and GLM's 36
    added tokens renumbered to REGULAR_VOCAB.. (same order, same flags); official tokenizer_config.json with
    the added-token ids moved; official chat_template.jinja."""
    real = json.loads((SHARED_TOKENIZER / "tokenizer.json").read_text())
    vocab = real["model"]["vocab"]
    inv = {i: t for t, i in vocab.items()}
    keep = {inv[i]: i for i in range(REGULAR_VOCAB)}
    merges = [m for m in real["model"]["merges"] if m[0] in keep and m[1] in keep and (m[0] + m[1]) in keep]
    added = sorted(real["added_tokens"], key=lambda a: a["id"])
    assert len(added) == GLM_N_ADDED and added[0]["id"] == 151329 and added[-1]["id"] == 151364
    remap = {}
    out = copy.deepcopy(real)
    out["model"]["vocab"] = keep
    out["model"]["merges"] = merges
    out["added_tokens"] = []
    for i, a in enumerate(added):
        a = dict(a)
        remap[a["id"]] = REGULAR_VOCAB + i
        a["id"] = REGULAR_VOCAB + i
        out["added_tokens"].append(a)
    (d / "tokenizer.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    cfg = json.loads((SHARED_TOKENIZER / "tokenizer_config.json").read_text())
    cfg["added_tokens_decoder"] = {str(remap[int(k)]): v for k, v in cfg["added_tokens_decoder"].items()}
    cfg["model_max_length"] = MODEL_CONFIG["max_position_embeddings"]
    (d / "tokenizer_config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=2) + "\n")
    shutil.copyfile(SHARED_TOKENIZER / "chat_template.jinja", d / "chat_template.jinja")
    return {"regular_tokens": REGULAR_VOCAB, "merges": len(merges), "added": GLM_N_ADDED}


def write_hf_checkpoint(d: Path, model, mtp):
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    model.save_pretrained(d, safe_serialization=True)
    sd = load_file(d / "model.safetensors")
    L = model.config.num_hidden_layers
    for k, v in mtp.hf_state(L).items():
        assert k not in sd
        sd[k] = v
    save_file({k: v.contiguous() for k, v in sorted(sd.items())}, d / "model.safetensors", metadata={"format": "pt"})
    gen = transformers.GenerationConfig.from_model_config(model.config)
    gen.save_pretrained(d)
    tok = write_tiny_tokenizer(d)
    return sd, tok


def run_converter(llama_src: Path, args, force_pre="-"):
    cmd = [sys.executable, str(Path(__file__).resolve()), "_convert", str(llama_src), force_pre] + [str(a) for a in args]
    env = dict(os.environ, PYTHONHASHSEED="0", TOKENIZERS_PARALLELISM="false")
    env.pop("NO_LOCAL_GGUF", None)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-8000:])
        raise RuntimeError(f"converter failed: {cmd}")
    return r.stderr


def quantize_model(src: Path, dst: Path, ftype_name: str):
    llama_cpp.llama_backend_init()
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype = getattr(llama_cpp, ftype_name)
    p.nthread = 2
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(p))
    assert rc == 0, f"llama_model_quantize({ftype_name}) failed: {rc}"


# GGUF name -> HF name for glm4moe (the inverse of the converter's map; checked bit-exactly on the f32 file)
_LAYER_MAP = {
    "attn_norm.weight": "input_layernorm.weight",
    "post_attention_norm.weight": "post_attention_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight", "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.weight": "self_attn.k_proj.weight", "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.weight": "self_attn.v_proj.weight", "attn_v.bias": "self_attn.v_proj.bias",
    "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
    "ffn_gate_inp.weight": "mlp.gate.weight", "exp_probs_b.bias": "mlp.gate.e_score_correction_bias",
    "ffn_gate_shexp.weight": "mlp.shared_experts.gate_proj.weight",
    "ffn_up_shexp.weight": "mlp.shared_experts.up_proj.weight",
    "ffn_down_shexp.weight": "mlp.shared_experts.down_proj.weight",
    "nextn.eh_proj.weight": "eh_proj.weight", "nextn.enorm.weight": "enorm.weight",
    "nextn.hnorm.weight": "hnorm.weight", "nextn.embed_tokens.weight": "embed_tokens.weight",
    "nextn.shared_head_head.weight": "shared_head.head.weight",
    "nextn.shared_head_norm.weight": "shared_head.norm.weight",
}
_EXPS = {"ffn_gate_exps.weight": "gate_proj", "ffn_up_exps.weight": "up_proj", "ffn_down_exps.weight": "down_proj"}
_GLOBAL = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
           "output.weight": "lm_head.weight"}


def gguf_to_hf_state(path: Path):
    """Read a GGUF with gguf.GGUFReader, dequantise every tensor with gguf.quants.dequantize, map to HF names."""
    rd = gguf.GGUFReader(str(path))
    sd, types = {}, {}
    for t in rd.tensors:
        types[t.name] = t.tensor_type.name
        ne = [int(v) for v in t.shape]
        a = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32)
        a = a.reshape(list(reversed(ne)))  # numpy order = reversed ne
        x = torch.from_numpy(np.ascontiguousarray(a))
        if t.name in _GLOBAL:
            sd[_GLOBAL[t.name]] = x
            continue
        m = re.match(r"blk\.(\d+)\.(.+)$", t.name)
        assert m, t.name
        b, rest = int(m.group(1)), m.group(2)
        if rest in _EXPS:
            assert x.dim() == 3  # [E, out, in]
            for e in range(x.shape[0]):
                sd[f"model.layers.{b}.mlp.experts.{e}.{_EXPS[rest]}.weight"] = x[e].clone()
        elif rest in _LAYER_MAP:
            sd[f"model.layers.{b}.{_LAYER_MAP[rest]}"] = x
        else:
            raise KeyError(f"unmapped GGUF tensor {t.name}")
    return sd, types, rd


def reference_from_state(sd, hf_dir: Path):
    cj = json.loads((hf_dir / "config.json").read_text())
    for k in ("architectures", "transformers_version", "model_type", "dtype", "torch_dtype"):
        cj.pop(k, None)
    cfg = Glm4MoeConfig(**cj)
    cfg._attn_implementation = "eager"
    model = Glm4MoeForCausalLM(cfg).eval()
    L = cfg.num_hidden_layers
    main = {k: v for k, v in sd.items() if not (k.startswith("model.layers.") and int(k.split(".")[2]) >= L)}
    model.load_state_dict(main, strict=True)
    mtp = MtpHead(cfg).eval()
    mtp.load_hf_state(sd, L)
    return model, mtp


def fmt_row(row):
    out = []
    for x in row:
        assert math.isfinite(x)
        out.append(f"{x:.7g}")
    return "[" + ",".join(out) + "]"


def write_logits_json(path: Path, head: dict, seqs, logits):
    parts = ["{"]
    for k, v in head.items():
        parts.append(f"{json.dumps(k)}: {json.dumps(v)},")
    parts.append('"sequences": [')
    for si, (t, lg) in enumerate(zip(seqs, logits)):
        rows = ",\n".join(fmt_row(r) for r in np.asarray(lg, dtype=np.float32).tolist())
        parts.append('{"tokens": ' + json.dumps(t) + ', "logits": [\n' + rows + "\n]}" + ("," if si + 1 < len(seqs) else ""))
    parts.append("]}")
    path.write_text("\n".join(parts) + "\n")
    json.loads(path.read_text())


def read_logits_json(path: Path):
    j = json.loads(path.read_text())
    return [np.array(s["logits"], dtype=np.float64) for s in j["sequences"]]


def llama_cpp_logits(path: Path, seqs, kv_f32=False):
    """llama.cpp's logits for every position of each sequence, each from an empty KV cache.

    Default: the Llama arguments of the brief (KV cache f16, llama.cpp's default). kv_f32: the same with
    type_k = type_v = GGML_TYPE_F32 (separates the KV-cache rounding from the weight/activation paths)."""
    kw = dict(type_k=GGML_TYPE_ID["F32"], type_v=GGML_TYPE_ID["F32"]) if kv_f32 else {}
    llm = llama_cpp.Llama(model_path=str(path), logits_all=True, n_ctx=64, n_threads=2, n_batch=64, seed=0,
                          verbose=False, **kw)
    assert llm.n_vocab() == VOCAB, llm.n_vocab()
    out = []
    for t in seqs:
        llm.reset()  # n_tokens = 0; eval() then removes every KV cell from position 0 on
        llm.eval(t)
        out.append(np.array(llm.scores[: len(t), :], dtype=np.float32))
    # cache independence: the first sequence again, after the others
    llm.reset()
    llm.eval(seqs[0])
    again = np.array(llm.scores[: len(seqs[0]), :], dtype=np.float32)
    assert np.array_equal(again, out[0]), "llama.cpp logits depend on what ran before"
    info = {"n_ctx": 64, "n_batch": 64, "n_threads": 2, "logits_all": True, "seed": 0,
            "type_k": int(llm.context_params.type_k), "type_v": int(llm.context_params.type_v),
            "flash_attn_type": int(llm.context_params.flash_attn_type)}
    del llm
    return out, info


def compare(oracle, other):
    """mean KL(oracle || other) over all positions (softmax, float64), top-1 agreement, max |dlogit|."""
    kls, agree, n, mad = [], 0, 0, 0.0
    for a, b in zip(oracle, other):
        a = np.asarray(a, np.float64)
        b = np.asarray(b, np.float64)
        la = a - a.max(-1, keepdims=True)
        la = la - np.log(np.exp(la).sum(-1, keepdims=True))
        lb = b - b.max(-1, keepdims=True)
        lb = lb - np.log(np.exp(lb).sum(-1, keepdims=True))
        kls.extend((np.exp(la) * (la - lb)).sum(-1).tolist())
        agree += int((a.argmax(-1) == b.argmax(-1)).sum())
        n += a.shape[0]
        mad = max(mad, float(np.abs(a - b).max()))
    return {"kl_mean": float(f"{np.mean(kls):.4g}"), "kl_max": float(f"{np.max(kls):.4g}"),
            "top1_agreement": float(f"{agree / n:.6g}"), "positions": n,
            "max_abs_logit_diff": float(f"{mad:.4g}")}


def gguf_kv_summary(rd, prefix):
    out = {}
    for k, f in rd.fields.items():
        if not k.startswith(prefix):
            continue
        out[k] = field_value(f)
    return out


def field_value(f, max_list=8):
    from gguf import GGUFValueType as VT
    tp = f.types[0]
    if tp == VT.ARRAY:
        n = len(f.data)
        if f.types[-1] == VT.STRING:
            return {"array_of": "string", "len": n}
        return {"array_of": f.types[-1].name.lower(), "len": n} if n > max_list else [f.parts[i].tolist()[0] for i in f.data]
    if tp == VT.STRING:
        s = bytes(f.parts[f.data[0]]).decode("utf-8")
        return s if len(s) <= 200 else {"string_len": len(s), "sha256": hashlib.sha256(s.encode()).hexdigest()}
    v = f.parts[f.data[0]].tolist()[0]
    if tp in (VT.FLOAT32, VT.FLOAT64):
        return float(f"{v:.7g}")
    return bool(v) if tp == VT.BOOL else v


def make_models(out: Path, work: Path, llama_src: Path, folders: list[str] | None = None):
    """Every model folder, or only `folders` (the others, and their MANIFEST cases, are kept)."""
    mdir = out / "models"
    if folders is None and mdir.exists():
        shutil.rmtree(mdir)
    mdir.mkdir(parents=True, exist_ok=True)
    old_manifest = out / "MANIFEST.json"
    kept = json.loads(old_manifest.read_text()).get("models", {}).get("cases", {}) if folders and old_manifest.exists() else {}
    torch.use_deterministic_algorithms(True)

    # a deterministic seed search: every expert (main MoE layer and MTP layer) is picked by some token
    for attempt in range(50):
        seed = MODEL_SEED + 1000 * attempt
        model, mtp = build_model(seed)
        seqs = make_sequences(seed)
        problems = model_problems(model, mtp, seqs)
        if not problems:
            break
        print(f"  seed {seed} rejected: {problems[:3]}")
    else:
        raise RuntimeError("no acceptable seed")
    print(f"  model seed {seed}")

    hf_dir = work / "glm4moe-tiny"  # the folder name becomes general.name / basename in the GGUF
    hf_sd, tok_info = write_hf_checkpoint(hf_dir, model, mtp)
    shutil.copyfile(hf_dir / "config.json", mdir / "hf_config.json")

    f32_path = work / "glm4moe-tiny-f32.gguf"
    run_converter(llama_src, ["--outtype", "f32", "--outfile", f32_path, hf_dir], force_pre="glm4")

    cases = {k: v for k, v in kept.items() if k not in folders} if folders else {}
    for folder, ftype in MODEL_TYPES:
        if folders and folder not in folders:
            continue
        d = mdir / folder
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        gpath = d / "model.gguf"
        if ftype is None:
            shutil.copyfile(f32_path, gpath)
        else:
            quantize_model(f32_path, gpath, ftype)
        sd, types, rd = gguf_to_hf_state(gpath)
        assert set(sd) == set(hf_sd), (sorted(set(sd) ^ set(hf_sd)))[:10]
        if folder == "f32":
            for k in hf_sd:
                assert torch.equal(sd[k], hf_sd[k].float()), f"f32 GGUF tensor differs from the checkpoint: {k}"
            assert all(n.startswith("blk.2.") for n in types if ".nextn." in n)
            assert {n for n in types if ".nextn." in n} == {f"blk.2.nextn.{s}.weight" for s in (
                "eh_proj", "enorm", "hnorm", "embed_tokens", "shared_head_head", "shared_head_norm")}
        ref, ref_mtp = reference_from_state(sd, hf_dir)
        oracle = logits_of(ref, seqs)
        head = {"gguf": f"models/{folder}/model.gguf", "transformers_version": transformers.__version__,
                "torch_version": torch.__version__, "gguf_version": importlib.metadata.version("gguf"),
                "reference_dtype": "float32_from_gguf_dequant", "attn_implementation": "eager",
                "notes": ("transformers Glm4MoeForCausalLM (f32, eager) whose state dict is every tensor of the GGUF "
                          "dequantised by gguf.quants.dequantize and mapped back to HF names (experts unstacked); "
                          "each sequence run alone from position 0, no cache. Row p = logits after token p.")}
        write_logits_json(d / "oracle.json", head, seqs, [o.numpy() for o in oracle])
        mlog = [mtp_logits(ref, ref_mtp, t).numpy() for t in seqs]
        mhead = dict(head, mtp_layer_index=MODEL_CONFIG["num_hidden_layers"], notes=(
            "MTP head on the dequantised blk.2.* tensors: h_i = main final hidden state after output_norm at "
            "position i; e_i = blk.2.nextn.embed_tokens[t_{i+1}]; x_i = nextn.eh_proj(concat(nextn.enorm(e_i), "
            "nextn.hnorm(h_i))) (embedding part first); decoder layer blk.2 (attention + MoE) with RoPE position "
            "i, causal over MTP positions 0..i; logits_i = nextn.shared_head_head(nextn.shared_head_norm(out_i)). "
            "Row i (i = 0..n-2) predicts t_{i+2}. The nextn copies are used (as llama.cpp's graph does when the file "
            "has them); in quantised files they may have other types than token_embd / output."))
        write_logits_json(d / "mtp_oracle.json", mhead, seqs, mlog)

        metrics = {}
        for fname, kv_f32 in (("llama_cpp.json", False), ("llama_cpp_f32kv.json", True)):
            lc, lc_info = llama_cpp_logits(gpath, seqs, kv_f32=kv_f32)
            write_logits_json(d / fname, {
                "gguf": f"models/{folder}/model.gguf", "llama_cpp_python_version": llama_cpp.__version__,
                "llama_context": lc_info,
                "notes": ("llama_cpp.Llama(model_path, logits_all=True, n_ctx=64, n_threads=2, n_batch=64, seed=0"
                          + (", type_k=type_v=GGML_TYPE_F32" if kv_f32 else "") + "); per sequence: reset() + "
                          "eval(tokens) from an empty KV cache; scores of every position. KV cache "
                          + ("F32" if kv_f32 else "F16 (llama.cpp's default)") + ". CPU build with GGML_NATIVE "
                          "(AVX-512/VNNI here): quantised matmuls quantise the activations (Q8_0 / Q8_K), so these "
                          "logits are specific to the build and CPU.")},
                seqs, lc)
            # metrics on the rounded files (what a test reads)
            metrics[fname] = compare(read_logits_json(d / "oracle.json"), read_logits_json(d / fname))
        m = metrics["llama_cpp.json"]
        m32 = metrics["llama_cpp_f32kv.json"]
        kv = gguf_kv_summary(rd, "general.")
        cases[folder] = dict(
            ftype=ftype or "converter --outtype f32", general_file_type=kv.get("general.file_type"),
            tensor_types=dict(sorted(types.items())),
            type_counts={k: sum(1 for v in types.values() if v == k) for k in sorted(set(types.values()))},
            llama_cpp_vs_oracle=m, llama_cpp_f32kv_vs_oracle=m32, bytes=gpath.stat().st_size)
        print(f"  [{folder}] {gpath.stat().st_size} bytes; f16 kv {m}; f32 kv {m32}")
        if folder == "f32":  # the name mapping, rope and routing of the oracle agree with llama.cpp's graph
            assert m["kl_mean"] < 1e-5 and m["top1_agreement"] == 1.0, f"f32: llama.cpp disagrees with the oracle: {m}"
            assert m32["kl_mean"] < 1e-9 and m32["max_abs_logit_diff"] < 1e-4, f"f32 (f32 kv): {m32}"

    rd = gguf.GGUFReader(str(f32_path))
    cases = {folder: cases[folder] for folder, _ in MODEL_TYPES if folder in cases}
    return {
        "hf_config": "models/hf_config.json",
        "seed": seed,
        "sequences": seqs,
        "tokenizer": dict(tok_info, note=(
            "tokenizer.json = GLM-4.5's with regular ids 0..475 and the merges among them, GLM's 36 added tokens "
            "renumbered to 476..511 (same order and flags); the converter's pre-tokenizer hash of this vocabulary "
            "is unknown, so the pre name is forced to 'glm4' (Tools/gguf/README.md)")),
        "converter": "vendored llama.cpp convert_hf_to_gguf.py --outtype f32 (gguf-py from the same tree)",
        "quantizer": "llama_cpp.llama_model_quantize with llama_model_quantize_default_params(), ftype set, nthread 2",
        "metadata_f32": {k: v for k, v in gguf_kv_summary(rd, "").items()
                         if k.startswith(("glm4moe.", "general.", "tokenizer.ggml.model", "tokenizer.ggml.pre",
                                          "tokenizer.ggml.bos", "tokenizer.ggml.eos", "tokenizer.ggml.eot",
                                          "tokenizer.ggml.eom", "tokenizer.ggml.unk", "tokenizer.ggml.padding"))},
        "cases": cases,
    }


# ============================================================================================
# Fixture 3: the real GLM-4.5 vocabulary
# ============================================================================================

VOCAB_CASES = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "hello",
    " hello",
    "  leading spaces and trailing  ",
    "I've been 'told he's there, 'RE you sure? We'Ve a'lL",
    "don't DON'T can't",
    "UPPER lower MiXeD CamelCase snake_case kebab-case",
    "3 33 333 3333 33333 333333 3333333",
    "3.14159 -42 +7 1e-5 0x1F 1,234,567.89",
    "2024-01-15T10:30:00Z",
    "你好，世界！",
    "用户的回复。",
    "我想在apple工作1314151天～",
    "日本語のテキストとカタカナ",
    "한국어 텍스트",
    "нещо на Български",
    "Ελληνικά κείμενα",
    "مرحبا بالعالم",
    "कान्तिपुर नेपाली",
    "🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ 🦙🦙",
    "👨\u200d👩\u200d👧\u200d👦 family, 🇫🇷 flag",
    "def f(x):\n    return x * 2\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
    "import numpy as np\nprint(np.arange(10))",
    "{\"key\": [1, 2, {\"nested\": null}], \"b\": true}",
    "<div class=\"x\">&amp; &lt;tag&gt;</div>",
    "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n",
    "tabs\there\t\tand\r\nwindows\r\nlines",
    "trailing newline\n",
    "------======= ''''''```````\"\"\"\"......!!!!!!??????",
    "<|user|>",
    "[gMASK]<sop><|system|>\nYou are helpful.<|user|>\nhi<|assistant|>",
    "<think>Let me think.</think>The answer is 4.",
    "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>",
    "<|observation|>\n<tool_response>{\"temp\": 18}</tool_response>",
    "<|endoftext|>",
    "text<|user|>text",
    "/nothink",
    "tell me /nothink",
    "<|begin_of_box|>boxed<|end_of_box|>",
    "<|user|><|assistant|>",
    "a<think>",
    " <think>",
    "<think>\n\n</think>\n",
    "[gMASK]<sop><|user|>\nWhat is 2+2?<|assistant|>\n<think></think>\n",
    "[MASK][sMASK]<eop>",
    "<|system|>\n<|begin_of_image|><|image|><|end_of_image|>",
    "x" * 40,
    "a  b   c    d",
    "12345678901234567890",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "e\u0301 vs \u00e9 (combining vs precomposed)",
    "ĠĊ literal byte-level chars",
    "\u00a0non-breaking\u2009thin\u3000ideographic spaces",
    "",
]


def make_vocab(out: Path, work: Path, llama_src: Path):
    from transformers import AutoTokenizer
    from tokenizers import Tokenizer
    d = work / "glm45-tokenizer"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copyfile(SHARED_TOKENIZER / f, d / f)
    for f in ("config.json", "generation_config.json"):
        shutil.copyfile(SHARED_GLM45 / f, d / f)
    path = out / "glm45-vocab.gguf"
    run_converter(llama_src, ["--vocab-only", "--outfile", path, d])

    hf = AutoTokenizer.from_pretrained(d)
    raw = Tokenizer.from_file(str(d / "tokenizer.json"))
    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    cases, disagreements = [], []
    for text in VOCAB_CASES:
        ids = hf.encode(text, add_special_tokens=False)
        ids_raw = raw.encode(text, add_special_tokens=False).ids
        assert ids == ids_raw, (text, ids, ids_raw)
        lids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        lids_nospecial = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        c = {"text": text, "ids": ids, "llama_cpp_ids": lids}
        if lids_nospecial != lids:
            c["llama_cpp_ids_special_false"] = lids_nospecial
        dec = hf.decode(ids)
        if dec != text:
            c["hf_decode"] = dec
        cases.append(c)
        if lids != ids:
            disagreements.append({"text": text, "hf": ids, "llama_cpp": lids})
    del llm
    (out / "glm45-vocab-cases.json").write_text(json.dumps({
        "tokenizer": "shared/tokenizer/glm45/tokenizer.json (GLM-4.5's vocabulary)",
        "hf": (f"transformers {transformers.__version__} AutoTokenizer (PreTrainedTokenizerFast, tokenizers "
               f"{importlib.metadata.version('tokenizers')}) encode(text, add_special_tokens=False); identical to "
               "tokenizers.Tokenizer.from_file(...).encode(text, add_special_tokens=False).ids"),
        "llama_cpp": (f"llama-cpp-python {llama_cpp.__version__}: Llama(glm45-vocab.gguf, vocab_only=True)."
                      "tokenize(text.encode(), add_bos=False, special=True) (special=False result added as "
                      "llama_cpp_ids_special_false where it differs)"),
        "cases": cases}, ensure_ascii=False, indent=1) + "\n")

    rd = gguf.GGUFReader(str(path))
    keys = gguf_kv_summary(rd, "tokenizer.")
    tokens = rd.fields["tokenizer.ggml.tokens"]
    ttype = rd.fields["tokenizer.ggml.token_type"]
    tok_list = [bytes(tokens.parts[i]).decode("utf-8") for i in tokens.data]
    types = [int(ttype.parts[i][0]) for i in ttype.data]
    ct = rd.fields["tokenizer.chat_template"]
    ct_text = bytes(ct.parts[ct.data[0]]).decode("utf-8")
    type_counts = {}
    for t in types:
        type_counts[str(t)] = type_counts.get(str(t), 0) + 1
    special_ids = {}
    for k in ("bos", "eos", "eot", "eom", "unknown", "padding", "seperator", "mask", "cls"):
        key = f"tokenizer.ggml.{k}_token_id"
        if key in keys:
            special_ids[k] = {"id": keys[key], "token": tok_list[keys[key]]}
    user_defined = [(i, tok_list[i]) for i, t in enumerate(types) if t == 4]
    control = [(i, tok_list[i]) for i, t in enumerate(types) if t == 3]
    return {
        "file": "glm45-vocab.gguf",
        "converter": "vendored llama.cpp convert_hf_to_gguf.py --vocab-only (no pre-tokenizer patch)",
        "keys": keys,
        "special_token_ids": special_ids,
        "token_count": len(tok_list),
        "token_type_counts": type_counts,
        "control_tokens": [[i, t] for i, t in control],
        "user_defined_tokens": [[i, t] for i, t in user_defined],
        "chat_template_length": len(ct_text),
        "chat_template_sha256": hashlib.sha256(ct_text.encode()).hexdigest(),
        "chat_template_equals_shared": ct_text == (SHARED_TOKENIZER / "chat_template.jinja").read_text(),
        "cases_file": "glm45-vocab-cases.json",
        "cases": len(cases),
        "hf_vs_llama_cpp_disagreements": disagreements,
    }


# ============================================================================================

def write_manifest(out: Path, sections: dict):
    mpath = out / "MANIFEST.json"
    old = json.loads(mpath.read_text()) if mpath.exists() else {}
    man = {"generator": versions()}
    for k in ("quants", "models", "vocab"):
        if k in sections:
            man[k] = sections[k]
        elif k in old:
            man[k] = old[k]
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name != "MANIFEST.json":
            os.chmod(p, 0o644)
            files[p.relative_to(out).as_posix()] = sha256(p)
    man["files"] = files
    mpath.write_text(json.dumps(man, indent=1, ensure_ascii=False, sort_keys=False) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", default="quants,models,vocab", help="comma-separated subset of quants,models,vocab")
    ap.add_argument("--model-types", help="with models: only these comma-separated folders of MODEL_TYPES "
                    "(e.g. bf16); the other folders and their MANIFEST cases stay as they are")
    ap.add_argument("--llama-src", type=Path, default=Path(os.environ.get("LLAMA_CPP_SRC", DEFAULT_LLAMA_SRC)))
    ap.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    ap.add_argument("--keep-work", action="store_true")
    a = ap.parse_args(argv)
    assert (a.llama_src / "convert_hf_to_gguf.py").exists(), f"no convert_hf_to_gguf.py in {a.llama_src}"
    torch.set_num_threads(2)
    transformers.logging.set_verbosity_error()
    only = [x for x in a.only.split(",") if x]
    a.out.mkdir(parents=True, exist_ok=True)
    work = a.work or Path(tempfile.mkdtemp(prefix="gguf-fixtures-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"versions: {versions()}")
    sections = {}
    try:
        if "quants" in only:
            sections["quants"] = make_quants(a.out, GGML())
        if "models" in only:
            folders = [x for x in a.model_types.split(",") if x] if a.model_types else None
            assert not folders or set(folders) <= {f for f, _ in MODEL_TYPES}, f"unknown model type in {folders}"
            sections["models"] = make_models(a.out, work, a.llama_src, folders)
        if "vocab" in only:
            sections["vocab"] = make_vocab(a.out, work, a.llama_src)
    finally:
        if not a.keep_work and not a.work:
            shutil.rmtree(work, ignore_errors=True)
    write_manifest(a.out, sections)
    total = sum(p.stat().st_size for p in a.out.rglob("*") if p.is_file())
    print(f"total fixture size: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
