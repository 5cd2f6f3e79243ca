"""Train the embedded demo model: a tiny Glm4MoeForCausalLM with an MTP layer.

    python Tools/demo-model/train.py                 # train, save, evaluate (about 2 hours on 2 cores)
    python Tools/demo-model/train.py --evaluate-only # loss plot, goldens and evaluation again, from the saved files

Writes, from a fixed seed:
  Sources/DemoModel/glm-4.5-demo/   config.json, generation_config.json, model.safetensors (bf16; the
                                    router's e_score_correction_bias f32), tokenizer.json,
                                    tokenizer_config.json, chat_template.jinja (official, unchanged)
  Tools/demo-model/report.md        evaluation on held-out tools, phrasings and values (+ report.json)
  Tools/demo-model/loss.png         training and held-out loss
  Tests/Fixtures/demo/                transformers' logits (golden.json) and MTP logits (mtp_golden.json)
                                    on the saved files, for swift-glm's tests

Architecture: every GLM-4.5 feature is on: a dense first layer then MoE layers (8 routed experts,
top-2, one shared expert, sigmoid router, norm_topk_prob, routed_scaling_factor 2.5), partial RoPE,
QK-norm, attention biases, untied lm_head, and one MTP layer saved as model.layers.{L}.* (spec §4).

Load balancing uses GLM-4.5's (DeepSeek-V3's auxiliary-loss-free) rule: after every optimizer step
each router's e_score_correction_bias moves by BIAS_UPDATE_RATE towards balance,
`bias_i += rate * sign(mean_load - load_i)`; the bias only affects which experts are chosen.

The MTP layer is trained as in spec §4.1: from the main model's final (post-norm) hidden state at
position i and the embedding of token i+1 it predicts token i+2, with loss weight MTP_LOSS_WEIGHT.
The loss covers the assistant's part of each conversation (what the model will generate) and,
with weight PROMPT_LOSS_WEIGHT, the prompt: parameter names recur in the tool schemas, so the
prompt too rewards copying. Copy drills (data.copy_drill: lists to repeat, pairs to recall; only
their copies are in the loss) come first for DRILL_WARMUP_STEPS and stay mixed in afterwards, so
that the model learns to copy early.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from pathlib import Path

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, Glm4MoeConfig, Glm4MoeForCausalLM
from transformers.models.glm4_moe import modeling_glm4_moe as hf_glm

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "Tools" / "fixtures"))
import data  # noqa: E402
import make_fixtures as fixtures  # noqa: E402

SEED = 4545
OUT = REPO / "Sources" / "DemoModel" / "glm-4.5-demo"
GOLDEN = REPO / "Tests" / "Fixtures" / "demo"
SHARED_TOKENIZER = REPO.parent / "shared" / "tokenizer" / "glm45"
REGULAR_VOCAB = 2012                     # + GLM's 36 added tokens = 2048
VOCAB = REGULAR_VOCAB + len(fixtures.GLM_ADDED_TOKENS)
CONFIG = dict(
    architectures=["Glm4MoeForCausalLM"], model_type="glm4_moe",
    vocab_size=VOCAB, hidden_size=256, intermediate_size=768, num_hidden_layers=5,
    num_attention_heads=4, num_key_value_heads=2, head_dim=64, partial_rotary_factor=0.5,
    moe_intermediate_size=128, n_routed_experts=8, num_experts_per_tok=2, n_shared_experts=1,
    first_k_dense_replace=1, n_group=1, topk_group=1, norm_topk_prob=True, routed_scaling_factor=2.5,
    use_qk_norm=True, attention_bias=True, tie_word_embeddings=False, rope_theta=10000.0,
    max_position_embeddings=2048, rms_norm_eps=1e-5, hidden_act="silu", initializer_range=0.02,
    num_nextn_predict_layers=1,
    pad_token_id=REGULAR_VOCAB + 0,                                           # <|endoftext|>
    eos_token_id=[REGULAR_VOCAB + 0, REGULAR_VOCAB + 7, REGULAR_VOCAB + 9],   # + <|user|>, <|observation|>
)
TRAIN_EXAMPLES = 64000
DRILLS = 24000                           # copy drills (data.copy_drill): the warm-up's, then mixed in
DRILL_WARMUP_STEPS = 250                 # steps on drills alone, before the chat data
STEPS = 2800
TOKENS_PER_BATCH = 6144
MAX_LEN = 768
LR, WARMUP, MIN_LR_FRACTION = 3e-3, 100, 0.05
MTP_LOSS_WEIGHT = 0.3
PROMPT_LOSS_WEIGHT = 0.2
BIAS_UPDATE_RATE = 1e-2
EVAL_EVERY = 200
EVAL_COUNTS = dict(call=160, result=80, thinking=80)
MAX_FILE_BYTES = 16 * 2**20


# --------------------------------------------------------------------------------------------
# Rendering and tokenization
# --------------------------------------------------------------------------------------------

def render_prompt(tok, ex):
    return tok.apply_chat_template(fixtures._template_messages(ex["messages"]), tools=ex["tools"],
                                   add_generation_prompt=True, tokenize=False,
                                   enable_thinking=ex["enable_thinking"])


def write_tokenizer(examples):
    renderer = AutoTokenizer.from_pretrained(SHARED_TOKENIZER)
    corpus = [render_prompt(renderer, ex) + ex["completion"] for ex in examples]
    corpus += [f"{t}. {x}" for t, x in data.FABLES]
    OUT.mkdir(parents=True, exist_ok=True)
    fixtures.write_glm_bpe_tokenizer(OUT, SHARED_TOKENIZER, corpus, REGULAR_VOCAB, CONFIG["max_position_embeddings"],
                                     words_apart=True)
    tok = AutoTokenizer.from_pretrained(OUT)
    assert len(tok) == VOCAB, len(tok)
    return tok


def encode(tok, ex):
    """(prompt ids, completion ids, whether the prompt is in the loss)."""
    prompt = render_prompt(tok, ex)
    p = tok.encode(prompt, add_special_tokens=False)
    c = tok.encode(ex["completion"], add_special_tokens=False)
    assert tok.decode(p + c) == prompt + ex["completion"]
    return p, c, True


def encode_drill(tok, drill):
    """A copy drill: its prompt is random words, nothing to learn from; only the copy is."""
    prompt, completion = drill
    return tok.encode(prompt, add_special_tokens=False), tok.encode(completion, add_special_tokens=False), False


def batches_by_length(encoded, rng):
    """Batches of similar length, at most TOKENS_PER_BATCH padded tokens each, in random order."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]) + len(encoded[i][1]))
    out, cur, cur_max = [], [], 0
    for i in order:
        n = len(encoded[i][0]) + len(encoded[i][1])
        if cur and max(cur_max, n) * (len(cur) + 1) > TOKENS_PER_BATCH:
            out.append(cur)
            cur, cur_max = [], 0
        cur.append(i)
        cur_max = max(cur_max, n)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def collate(encoded, idx):
    T = max(len(encoded[i][0]) + len(encoded[i][1]) for i in idx)
    ids = torch.full((len(idx), T), CONFIG["pad_token_id"], dtype=torch.long)
    target = torch.zeros((len(idx), T), dtype=torch.bool)   # token t is a completion token
    prompt = torch.zeros((len(idx), T), dtype=torch.bool)   # token t is a prompt token
    for r, i in enumerate(idx):
        p, c, prompt_in_loss = encoded[i]
        ids[r, : len(p) + len(c)] = torch.tensor(p + c)
        prompt[r, : len(p)] = prompt_in_loss
        target[r, len(p): len(p) + len(c)] = True
    return ids, target, prompt


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

class MTPLayer(torch.nn.Module):
    """model.layers.{L}.*: enorm, hnorm, eh_proj, a full MoE decoder layer, shared_head.norm (spec §4.1)."""

    def __init__(self, cfg):
        super().__init__()
        H, L = cfg.hidden_size, cfg.num_hidden_layers
        self.enorm = hf_glm.Glm4MoeRMSNorm(H, eps=cfg.rms_norm_eps)
        self.hnorm = hf_glm.Glm4MoeRMSNorm(H, eps=cfg.rms_norm_eps)
        self.eh_proj = torch.nn.Linear(2 * H, H, bias=False)
        self.layer = hf_glm.Glm4MoeDecoderLayer(cfg, layer_idx=L)
        self.shared_head = torch.nn.Module()
        self.shared_head.norm = hf_glm.Glm4MoeRMSNorm(H, eps=cfg.rms_norm_eps)

    def forward(self, model, hidden, next_ids):
        """hidden [B, T, H] post-norm states at 0..T-1, next_ids [B, T] tokens at 1..T → normed [B, T, H]."""
        e = model.model.embed_tokens(next_ids)
        x = self.eh_proj(torch.cat([self.enorm(e), self.hnorm(hidden)], dim=-1))
        T = x.shape[1]
        pos = torch.arange(T).unsqueeze(0)
        # Causal, spelled out: with no mask the eager attention of a bare decoder layer attends everywhere.
        causal = torch.full((T, T), torch.finfo(x.dtype).min, dtype=x.dtype).triu(1)[None, None]
        out = self.layer(x, attention_mask=causal, position_ids=pos,
                         position_embeddings=model.model.rotary_emb(x, pos))
        return self.shared_head.norm(out[0] if isinstance(out, tuple) else out)

    def checkpoint_tensors(self, L):
        out = {}
        for n, t in self.state_dict().items():
            name = n[len("layer."):] if n.startswith("layer.") else n
            out[f"model.layers.{L}.{name}"] = t
        return out


def build():
    torch.manual_seed(SEED)
    cfg = Glm4MoeConfig(**CONFIG)
    cfg._attn_implementation = "sdpa"
    model = Glm4MoeForCausalLM(cfg)
    mtp = MTPLayer(cfg)
    for module in (model, mtp):
        module.apply(model._init_weights)
        for m in module.modules():
            if isinstance(m, hf_glm.Glm4MoeTopkRouter):
                torch.nn.init.normal_(m.weight, std=cfg.initializer_range)
                m.e_score_correction_bias.zero_()
    return cfg, model, mtp


class LoadBalancer:
    """Counts each router's expert choices during a step; then nudges e_score_correction_bias."""

    def __init__(self, modules):
        self.routers = [m for mod in modules for m in mod.modules() if isinstance(m, hf_glm.Glm4MoeTopkRouter)]
        self.counts = [torch.zeros(r.n_routed_experts) for r in self.routers]
        for i, r in enumerate(self.routers):
            r.register_forward_hook(self._hook(i))
        self.enabled = True

    def _hook(self, i):
        def hook(module, inputs, output):
            if self.enabled:
                idx = output[0]
                self.counts[i] += torch.bincount(idx.flatten(), minlength=module.n_routed_experts).float()
        return hook

    @torch.no_grad()
    def update(self):
        imbalance = []
        for r, c in zip(self.routers, self.counts):
            r.e_score_correction_bias += BIAS_UPDATE_RATE * torch.sign(c.mean() - c)
            imbalance.append(float(c.max() / c.mean().clamp(min=1)))
            c.zero_()
        return imbalance


def losses(model, mtp, ids, target, prompt):
    """Cross-entropy of the main head on completion tokens, and of the MTP head on tokens two ahead;
    and of the main head on prompt tokens."""
    h = model.model(input_ids=ids, use_cache=False).last_hidden_state          # [B, T, H], after model.norm
    sel = target[:, 1:]                                                         # predict t+1 at t
    main = torch.nn.functional.cross_entropy(model.lm_head(h[:, :-1][sel]), ids[:, 1:][sel])
    psel = prompt[:, 1:]
    on_prompt = torch.nn.functional.cross_entropy(model.lm_head(h[:, :-1][psel]), ids[:, 1:][psel]) \
        if psel.any() else torch.zeros(())                                      # a batch of drills
    g = mtp(model, h[:, :-2], ids[:, 1:-1])                                     # [B, T-2, H]
    sel2 = target[:, 2:]                                                        # predict t+2 at t
    extra = torch.nn.functional.cross_entropy(model.lm_head(g[sel2]), ids[:, 2:][sel2])
    return main, extra, on_prompt


@torch.no_grad()
def held_out_loss(model, mtp, encoded, balancer):
    balancer.enabled = False
    model.eval(), mtp.eval()
    tot, totm, n = 0.0, 0.0, 0
    for idx in batches_by_length(encoded, random.Random(0)):
        batch = collate(encoded, idx)
        a, b, _ = losses(model, mtp, *batch)
        target = batch[1]
        k = int(target[:, 1:].sum())
        tot, totm, n = tot + float(a) * k, totm + float(b) * k, n + k
    model.train(), mtp.train()
    balancer.enabled = True
    return tot / n, totm / n


@torch.no_grad()
def drill_accuracy(model, encoded):
    """Teacher-forced: the share of held-out copy-drill tokens that are the main head's greedy choice."""
    model.eval()
    right = total = 0
    for idx in batches_by_length(encoded, random.Random(0)):
        ids, target, _ = collate(encoded, idx)
        sel = target[:, 1:]
        choice = model(input_ids=ids, use_cache=False).logits[:, :-1].argmax(-1)
        right += int((choice[sel] == ids[:, 1:][sel]).sum())
        total += int(sel.sum())
    model.train()
    return right / total


def train(train_set, drills, valid_set, valid_drills, steps):
    """DRILL_WARMUP_STEPS on `drills`, then `steps` on `train_set` (which holds drills too)."""
    cfg, model, mtp = build()
    balancer = LoadBalancer([model, mtp])
    params = list(model.parameters()) + list(mtp.parameters())
    print(f"parameters: {sum(p.numel() for p in params) / 1e6:.2f} M")
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.95))
    log = {"step": [], "loss": [], "mtp_loss": [], "valid_step": [], "valid_loss": [], "valid_mtp_loss": [],
           "valid_drill_accuracy": []}
    rng = random.Random(SEED)
    warmup_order, order, step, t0 = [], [], 0, time.time()
    steps += DRILL_WARMUP_STEPS
    model.train(), mtp.train()
    while step < steps:
        if step < DRILL_WARMUP_STEPS:
            warmup_order = warmup_order or batches_by_length(drills, rng)
            batch = collate(drills, warmup_order.pop())
        else:
            order = order or batches_by_length(train_set, rng)
            batch = collate(train_set, order.pop())
        lr = LR * (step + 1) / WARMUP if step < WARMUP else \
            LR * (MIN_LR_FRACTION + (1 - MIN_LR_FRACTION) * 0.5 * (1 + math.cos(math.pi * (step - WARMUP) / (steps - WARMUP))))
        for g in opt.param_groups:
            g["lr"] = lr
        main, extra, on_prompt = losses(model, mtp, *batch)
        opt.zero_grad()
        (main + MTP_LOSS_WEIGHT * extra + PROMPT_LOSS_WEIGHT * on_prompt).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        imbalance = balancer.update()
        step += 1
        log["step"].append(step), log["loss"].append(main.item()), log["mtp_loss"].append(extra.item())
        if step % 20 == 0:
            print(f"step {step}/{steps} loss {float(main):.4f} mtp {float(extra):.4f} prompt {float(on_prompt):.4f} lr {lr:.2e} "
                  f"max/mean expert load per router {' '.join(f'{x:.2f}' for x in imbalance)} {time.time() - t0:.0f}s", flush=True)
        if step % EVAL_EVERY == 0 or step == steps:
            v, vm = held_out_loss(model, mtp, valid_set, balancer)
            copied = drill_accuracy(model, valid_drills)
            log["valid_step"].append(step), log["valid_loss"].append(v), log["valid_mtp_loss"].append(vm)
            log["valid_drill_accuracy"].append(copied)
            print(f"  held-out loss {v:.4f} mtp {vm:.4f}; copy drills {100 * copied:.1f}% tokens right", flush=True)
    log["seconds"] = time.time() - t0
    return cfg, model, mtp, log


def save(cfg, model, mtp):
    L = cfg.num_hidden_layers
    tensors = {k: v for k, v in model.state_dict().items()}
    tensors.update(mtp.checkpoint_tensors(L))
    out = {}
    for k, v in tensors.items():
        # Real GLM-4.5 checkpoints keep the router bias in f32 and everything else in bf16.
        out[k] = v.detach().contiguous().float() if k.endswith("e_score_correction_bias") else \
            v.detach().to(torch.bfloat16).contiguous()
    path = OUT / "model.safetensors"
    save_file(out, str(path), metadata={"format": "pt"})
    path.chmod(0o644)  # safetensors writes 0600
    size = path.stat().st_size
    assert size <= MAX_FILE_BYTES, f"model.safetensors is {size} bytes, over {MAX_FILE_BYTES}"
    cfgj = cfg.to_dict()
    cfgj.update(dtype="bfloat16", transformers_version=transformers.__version__)
    cfgj.pop("_attn_implementation_autoset", None)
    cfgj["_name_or_path"] = ""   # phase 2 loads from OUT; keep no machine path in the file
    (OUT / "config.json").write_text(json.dumps(cfgj, indent=2, sort_keys=True) + "\n")
    gen = {"_from_model_config": True, "eos_token_id": CONFIG["eos_token_id"], "pad_token_id": CONFIG["pad_token_id"],
           "transformers_version": transformers.__version__}
    (OUT / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# Evaluation on the saved files
# --------------------------------------------------------------------------------------------

def load_saved():
    """transformers' own loader for the main model (it skips model.layers.{L}.*), ours for the MTP layer."""
    model = Glm4MoeForCausalLM.from_pretrained(OUT, dtype=torch.float32, attn_implementation="eager").eval()
    cfg = model.config
    L = cfg.num_hidden_layers
    raw = load_file(str(OUT / "model.safetensors"))
    mtp = MTPLayer(cfg).eval()
    prefix = f"model.layers.{L}."
    sub = {k[len(prefix):]: v.float() for k, v in raw.items() if k.startswith(prefix)}
    state = {(k if k.split(".")[0] in ("enorm", "hnorm", "eh_proj", "shared_head") else "layer." + k): v
             for k, v in sub.items()}
    mtp.load_state_dict(state, strict=True)
    return model, mtp


TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)
ARG = re.compile(r"<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)</arg_value>", re.S)


def parse_calls(text):
    """GLM-4.5 tool calls in generated text (spec §8.1), arguments as strings."""
    calls = []
    for block in TOOL_CALL.findall(text):
        name = block.split("<arg_key>")[0].strip()
        calls.append({"name": name, "arguments": {k.strip(): v for k, v in ARG.findall(block)}})
    return calls


def as_strings(args):
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in args.items()}


@torch.no_grad()
def generate(model, tok, ex, max_new_tokens=160):
    p = tok.encode(render_prompt(tok, ex), add_special_tokens=False)
    out = model.generate(torch.tensor([p]), attention_mask=torch.ones(1, len(p), dtype=torch.long),
                         max_new_tokens=max_new_tokens, do_sample=False,
                         eos_token_id=CONFIG["eos_token_id"], pad_token_id=CONFIG["pad_token_id"])
    ids = out[0, len(p):].tolist()
    return p, ids, tok.decode(ids)


@torch.no_grad()
def mtp_agreement(model, mtp, prompt, generated):
    """On the model's own greedy output: does MTP at i (h_i, t_{i+1}) pick the main model's choice at i+1?"""
    seq = torch.tensor([prompt + generated])
    h = model.model(input_ids=seq, use_cache=False).last_hidden_state
    main_choice = model.lm_head(h).argmax(-1)[0]                    # [T]: choice for t+1 at t
    g = mtp(model, h[:, :-1], seq[:, 1:])                          # [1, T-1, H]
    mtp_choice = model.lm_head(g).argmax(-1)[0]                    # [T-1]: choice for t+2 at t
    P, n = len(prompt), len(generated)
    agree = total = 0
    for i in range(P - 1, P + n - 2):                              # i+1 is a generated position
        agree += int(mtp_choice[i] == main_choice[i + 1])
        total += 1
    return agree, total


def call_parts(want, got, offered):
    """Per expected call, what the call at the same place got right: a name of one of the offered tools
    (copied, if not chosen right), the expected name, the expected parameter names, the expected values."""
    out = []
    for i, w in enumerate(want):
        g = got[i] if i < len(got) else {"name": None, "arguments": {}}
        out.append(dict(name_offered=g["name"] in offered, name=g["name"] == w["name"],
                        keys=set(g["arguments"]) == set(w["arguments"]),
                        values=sorted(g["arguments"].values()) == sorted(w["arguments"].values())))
    return out


def evaluate(tok):
    model, mtp = load_saved()
    rows, mtp_agree, mtp_total = [], 0, 0
    sets = [("call", data.make_examples("heldout", EVAL_COUNTS["call"], SEED + 1, "call")),
            ("result", data.make_examples("heldout", EVAL_COUNTS["result"], SEED + 2, "result")),
            ("thinking", data.make_examples("heldout", EVAL_COUNTS["thinking"], SEED + 3))]
    t0 = time.time()
    for name, exs in sets:
        for ex in exs:
            p, ids, text = generate(model, tok, ex)
            a, n = mtp_agreement(model, mtp, p, ids)
            mtp_agree, mtp_total = mtp_agree + a, mtp_total + n
            thinks = text.lstrip("\n").startswith("<think>")
            think_ok = ("<think>" not in text) if not ex["enable_thinking"] else \
                (thinks and "</think>" in text and len(text.split("</think>")[0]) > len("\n<think>"))
            row = dict(set=name, kind=ex["kind"], enable_thinking=ex["enable_thinking"],
                       user=ex["messages"][-1]["content"] if ex["kind"] != "result" else
                       [m for m in ex["messages"] if m["role"] == "user"][-1]["content"],
                       output=text, thinking_ok=think_ok)
            answer = text.split("</think>")[-1]
            if ex["kind"] == "call":
                got = [{"name": c["name"], "arguments": c["arguments"]} for c in parse_calls(answer)]
                want = [{"name": c["name"], "arguments": as_strings(c["arguments"])} for c in ex["calls"]]
                offered = [t["function"]["name"] for t in ex["tools"]]
                row.update(expected=want, got=got, call_ok=got == want, parts=call_parts(want, got, offered))
            if ex["kind"] == "result":
                values = data.result_values(ex["results"])
                row.update(values=values, restated_ok=all(v in answer for v in values) and "<tool_call>" not in answer)
            rows.append(row)
        print(f"evaluated {name}: {len(exs)} examples, {time.time() - t0:.0f}s", flush=True)
    calls = [r for r in rows if "call_ok" in r]
    results = [r for r in rows if "restated_ok" in r]
    parts = [p for r in calls for p in r["parts"]]
    summary = {
        "tool_call_exact": sum(r["call_ok"] for r in calls) / len(calls),
        "call_name_offered": sum(p["name_offered"] for p in parts) / len(parts),
        "call_name": sum(p["name"] for p in parts) / len(parts),
        "call_keys": sum(p["keys"] for p in parts) / len(parts),
        "call_values": sum(p["values"] for p in parts) / len(parts),
        "expected_calls": len(parts),
        "tool_call_cases": len(calls),
        "multi_call_exact": (lambda m: sum(r["call_ok"] for r in m) / max(1, len(m)))(
            [r for r in calls if len(r["expected"]) > 1]),
        "multi_call_cases": len([r for r in calls if len(r["expected"]) > 1]),
        "thinking_follows_flag": sum(r["thinking_ok"] for r in rows) / len(rows),
        "thinking_cases": len(rows),
        "result_restated": sum(r["restated_ok"] for r in results) / len(results),
        "result_cases": len(results),
        "mtp_agreement": mtp_agree / mtp_total,
        "mtp_positions": mtp_total,
    }
    return summary, rows


def write_report(summary, rows, log, size):
    targets = {"tool_call_exact": 0.90, "thinking_follows_flag": 0.95, "result_restated": 0.90, "mtp_agreement": 0.60}
    (HERE / "report.json").write_text(json.dumps({"summary": summary, "examples": rows}, indent=1) + "\n")
    lines = ["# Demo model evaluation", "",
             f"Written by `Tools/demo-model/train.py` (seed {SEED}, transformers {transformers.__version__}, "
             f"torch {torch.__version__}); greedy decoding with transformers on the saved bf16 files.", "",
             "Every example is held out: tool names, descriptions and parameter names that never occur in training, "
             "user phrasings from separate templates, and argument values (cities, tickers, people, topics, …) from "
             "separate pools. Thinking is on for about half of the prompts.", "",
             "| metric | result | target | cases |", "|---|---|---|---|"]
    rowsdef = [("right tool and exactly the right argument values", "tool_call_exact", "tool_call_cases"),
               ("… of which several calls in one turn", "multi_call_exact", "multi_call_cases"),
               ("per expected call: the name of one of the tools offered", "call_name_offered", "expected_calls"),
               ("per expected call: the right tool's name", "call_name", "expected_calls"),
               ("per expected call: the right parameter names", "call_keys", "expected_calls"),
               ("per expected call: the right values", "call_values", "expected_calls"),
               ("thinking follows `enable_thinking`", "thinking_follows_flag", "thinking_cases"),
               ("answer after a tool result restates its values", "result_restated", "result_cases"),
               ("MTP greedy next-next token = main model's greedy choice", "mtp_agreement", "mtp_positions")]
    for label, key, count in rowsdef:
        t = f"≥ {targets[key]:.0%}" if key in targets else ""
        lines.append(f"| {label} | {summary[key]:.1%} | {t} | {summary[count]} |")
    lines += ["", f"Training: {len(log['step'])} steps in {log['seconds'] / 60:.0f} min on this machine; final "
              f"held-out loss {log['valid_loss'][-1]:.3f} (MTP {log['valid_mtp_loss'][-1]:.3f}); checkpoint "
              f"{size / 2**20:.1f} MiB.", "", "## Failures (first 12)", ""]
    fails = [r for r in rows if not (r.get("call_ok", True) and r.get("restated_ok", True) and r["thinking_ok"])]
    for r in fails[:12]:
        lines.append(f"- `{r['set']}` thinking={r['enable_thinking']}: {json.dumps(r['user'])} → "
                     f"{json.dumps(r['output'][:300])}")
    (HERE / "report.md").write_text("\n".join(lines) + "\n")


def plot(log):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    k = 20
    smooth = lambda xs: [sum(xs[max(0, i - k + 1): i + 1]) / len(xs[max(0, i - k + 1): i + 1]) for i in range(len(xs))]
    ax.plot(log["step"], smooth(log["loss"]), label="train (main head)")
    ax.plot(log["step"], smooth(log["mtp_loss"]), label="train (MTP head)")
    ax.plot(log["valid_step"], log["valid_loss"], "o-", label="held-out (main)")
    ax.plot(log["valid_step"], log["valid_mtp_loss"], "o-", label="held-out (MTP)")
    ax.axvline(DRILL_WARMUP_STEPS, color="gray", ls=":", label="copy drills only, before")
    ax.set_yscale("log"), ax.set_xlabel("step"), ax.set_ylabel("cross-entropy (assistant tokens)")
    ax.set_title("glm-4.5-demo training"), ax.legend(), ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(HERE / "loss.png", dpi=100)


def write_golden(tok):
    """transformers' logits on the saved files, in the format of Tests/Fixtures/models/*/golden.json."""
    model, mtp = load_saved()
    ex = data.make_examples("heldout", 1, SEED + 9, "call")[0]
    p, c, _ = encode(tok, ex)
    seqs = [(p + c)[-24:], tok.encode("\n<think>The user greets me.</think>\nHello!<|user|>", add_special_tokens=False)]
    with torch.no_grad():
        logits = [fixtures.logits_of(model, [s])[0] for s in seqs]
    GOLDEN.mkdir(parents=True, exist_ok=True)
    fixtures.write_golden(GOLDEN / "golden.json", "float32_from_bf16", seqs, logits,
                          {"notes": "Sources/DemoModel/glm-4.5-demo loaded by Glm4MoeForCausalLM.from_pretrained "
                                    "(bf16 weights upcast to f32, eager attention)"})
    with torch.no_grad():
        mlog = []
        for s in seqs:
            ids = torch.tensor([s])
            h = model.model(input_ids=ids, use_cache=False).last_hidden_state
            mlog.append(model.lm_head(mtp(model, h[:, :-1], ids[:, 1:]))[0].float())
    fixtures.write_golden(GOLDEN / "mtp_golden.json", "float32_from_bf16", seqs, mlog, {
        "mtp_layer_index": CONFIG["num_hidden_layers"],
        "notes": "MTP head per spec 4.1: row i = logits for token i+2 from the post-norm hidden state at i and "
                 "the embedding of token i+1; causal attention over MTP positions 0..i, RoPE position i."})


def encode_all(tok, examples):
    """Token ids of each example, dropping those longer than MAX_LEN."""
    encoded = [encode(tok, ex) for ex in examples]
    return [e for e in encoded if len(e[0]) + len(e[1]) <= MAX_LEN]


def publish(tok, log):
    """From the saved files: loss plot, transformers goldens, evaluation and report."""
    plot(log)
    write_golden(tok)
    summary, rows = evaluate(tok)
    write_report(summary, rows, log, (OUT / "model.safetensors").stat().st_size)
    print(json.dumps(summary, indent=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--evaluate-only", action="store_true")
    ap.add_argument("--steps", type=int, default=STEPS, help="shorter runs for trying things out")
    ap.add_argument("--examples", type=int, default=TRAIN_EXAMPLES)
    ap.add_argument("--eval-examples", type=int, help="per evaluation set (default: %s)" % EVAL_COUNTS)
    a = ap.parse_args()
    if a.eval_examples:
        EVAL_COUNTS.update({k: a.eval_examples for k in EVAL_COUNTS})
    torch.set_num_threads(2)
    transformers.logging.set_verbosity_error()   # loading skips model.layers.{L}.* (the MTP layer) by design
    if a.evaluate_only:
        publish(AutoTokenizer.from_pretrained(OUT), json.loads((HERE / "training_log.json").read_text()))
        return
    valid_examples = data.make_examples("heldout", 300, SEED + 7)
    t0 = time.time()
    train_examples = data.make_examples("train", a.examples, SEED)
    tok = write_tokenizer(train_examples[:6000])
    drill_rng = random.Random(SEED + 11)
    drills = [encode_drill(tok, data.copy_drill(drill_rng)) for _ in range(DRILLS)]
    valid_drills = [encode_drill(tok, data.copy_drill(drill_rng)) for _ in range(300)]
    warmup_drills, mixed_drills = drills[: DRILLS * 2 // 3], drills[DRILLS * 2 // 3:]
    train_set = encode_all(tok, train_examples) + mixed_drills
    n_tok = sum(len(p) + len(c) for p, c, _ in train_set)
    print(f"data: {len(train_set)} examples, {n_tok} tokens ({n_tok / len(train_set):.0f}/example), "
          f"{time.time() - t0:.0f}s", flush=True)
    cfg, model, mtp, log = train(train_set, warmup_drills, [encode(tok, ex) for ex in valid_examples], valid_drills,
                                 a.steps)
    (HERE / "training_log.json").write_text(json.dumps(log) + "\n")
    save(cfg, model, mtp)
    publish(tok, log)


if __name__ == "__main__":
    main()
