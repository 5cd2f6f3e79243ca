#!/usr/bin/env python3
"""Makes the tokenizer test fixtures in Tests/Fixtures/tokenizer/ with the reference packages
(versions pinned in requirements.txt):

* glm45_cases.json   GLM-4.5 ids for a multilingual corpus from BOTH references:
                     tiktoken (shared/tokenizer/glm4-tokenizer.model + GLM's regex + the added
                     tokens of shared/glm45/tokenizer_config.json as specials) and tokenizers
                     (shared/tokenizer/glm45/tokenizer.json); with and without special-token
                     matching; decode with and without skipping specials; plus a ~1 MB text built
                     deterministically from the corpus (count + FNV-1a of its ids).
* glm45_decode.json  random id streams (partial UTF-8 tokens, specials, out-of-range ids) and
                     their decoded text from both references.
* small_bpe/         a tiny byte-level BPE tokenizer.json of a different shape (GPT-2 style
                     ByteLevel regex with add_prefix_space, Digits, NFC, merges without
                     ignore_merges, added tokens with lstrip/rstrip/normalized) + its cases.
* split_misc/        another tiny one exercising Split behaviours, String patterns, a regex
                     the Swift side runs through NSRegularExpression, and NFKC + its cases.
* normalizers.json   NFC/NFD/NFKC/NFKD of strings heavy in marks, compatibility characters and
                     jamo (HF's normalizers use Unicode 9.0 tables).

Usage (from anywhere): python Tools/tokenizer/make_fixtures.py
"""
import json
import os
import random
import sys

import tiktoken
import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(REPO), "shared")
OUT = os.path.join(REPO, "Tests", "Fixtures", "tokenizer")

GLM_PAT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

# ---------------------------------------------------------------------------------------------
# Corpus

NAMED = [
    ("empty", ""),
    ("english", "The quick brown fox jumps over the lazy dog. It's 2024, and we've got 3.14159 reasons to smile!"),
    ("english_contractions", "I'm sure you'll see they're here; he'd've known. DON'T SHOUT, I'LL HEAR. 'tis 'S 'ſ 'Ll 'K"),
    ("russian", "Съешь же ещё этих мягких французских булок, да выпей чаю. Москва — столица России."),
    ("chinese", "用户询问杭州和北京的天气怎么样。我来帮您查询杭州和北京的天气情况。人工智能正在改变世界，深度学习模型越来越大"),
    ("japanese", "日本語のテキストです。カタカナとひらがな、そして漢字が混ざっています。東京タワーは３３３メートル！"),
    ("arabic", "مرحبا بالعالم! هذا نص عربي للاختبار، والأرقام ١٢٣٤٥٦٧٨٩٠ أيضاً."),
    ("korean_hindi_thai", "안녕하세요 세계! नमस्ते दुनिया, यह हिंदी है। สวัสดีชาวโลก ภาษาไทย"),
    ("code_tabs_crlf", "def main():\r\n\tif x == 1:\r\n\t\treturn {\"a\": [1, 2, 3]}\r\n\telse:\r\n\t\tpass  # comment\r\n\r\n\r\nint main(void) { return 0; }\n"),
    ("code_python", "import os\n\nclass Foo(object):\n    def __init__(self, x=None):\n        self.x = x  # TODO\n\n    def bar(self):\n        return [i**2 for i in range(10) if i % 2 == 0]\n"),
    ("whitespace_runs", "a" + " " * 37 + "b\t\t\t\tc\n\n\n\n  \n \n\t\nd" + " " * 5 + "\n" + "\u3000\u3000x\u00a0\u00a0y \u2028 z\u0085w\x0b\x0cv   "),
    ("trailing_spaces", "end with spaces     "),
    ("only_newlines", "\n\n\r\n\r\r\n"),
    ("digits_long", "1234567890123456789012345678901234567890 and 00000007 and 3.141592653589793238462643383279"),
    ("digits_unicode", "٣٤٥ ０１２３ ²³ Ⅻ ①②③ ½ 𝟘𝟙𝟚 ၁၂၃"),
    ("emoji_zwj", "Family: 👨‍👩‍👧‍👦 flag: 🇺🇦🇯🇵 skin: 👍🏽👋🏿 heart: ❤️‍🔥 ZWJ alone:\u200d text 🧑🏻‍💻!"),
    ("combining_marks", "e\u0301 a\u0308 n\u0303 Z\u0351\u0352\u0353a\u0354\u0355l\u0356g\u0357o \u0915\u093f \u0e01\u0e34 e\u0301\u0301\u0301"),
    ("special_tokens", "[gMASK]<sop><|system|>\nYou are helpful.<|user|>\nHi /nothink<|assistant|>\n<think>hmm</think>ok"),
    ("special_inside_words", "a<|user|>b<think>c</think>d/nothinke<|endoftext|>f[MASK]g<|image|>h"),
    ("special_partial", "<|user| <|use <think <|endoftext| /nothin [gMASK <<|user|>> <<think>> //nothink"),
    ("tool_call", "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>北京</arg_value>\n</tool_call><|observation|>"),
    ("unicode_edges", "\ufeffBOM \ufffd repl \U0010fffd pua \ue000 nonchar \ufdd0 \U0001f600 \U00010940\U00010941 new-letters \u0888 \U0001E030"),
    ("mixed", "Hello мир 世界 🌍! こんにちは, مرحبا. Ünïcödé façade naïve café — “quotes” ‘single’ «guillemets» …"),
    ("punct_runs", "!!!??? ... --- *** ###\n\n>>> <<< ((())) [[]] {{}} ||| \\\\ // @@ ~~~ ```python\n"),
    ("apostrophes", "'s 's' ''s don''t '' ' s 'x 'RE 'rE 'vE 'mM \u2019s rock'n'roll"),
    ("long_letters", "a" * 3000),
    ("long_cjk_piece", "的" * 500 + "一二三四五六七八九十" * 120),
    ("long_spaces", " " * 5000 + "x" + "\t" * 1000 + "\n" * 100),
    ("long_digits", "9" * 4001),
    ("long_punct", "=-" * 2000),
]


SCRIPTS = {
    "ascii": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "cyr": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГД",
    "cjk": "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年",
    "kana": "あいうえおかきくけこアイウエオカキクケコー",
    "arab": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "deva": "कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह\u093f\u0940\u0941\u094d",
    "digit": "0123456789٠١٢٣٤٥٦٧٨٩０１２３²³½Ⅻ①",
    "space": [" ", " ", " ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2028", "\u0085", "\x0b", "\x0c", "  ", "\n\n"],
    "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~—–…“”‘’«»¿¡·",
    "mark": "\u0300\u0301\u0302\u0308\u0327\u0351\u20dd\ufe0f\u200d",
    "emoji": ["😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "🧑‍💻", "🔥", "🙂", "✨", "🥲"],
    "special": ["<|user|>", "<|assistant|>", "<think>", "</think>", "/nothink", "[gMASK]", "<sop>",
                "<|endoftext|>", "<tool_call>", "<|use", "<think", "<|im_start|>", "<tool>", "[LS]", "[RS]", "--", ";"],
    "contraction": ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'ſ", "'Re"],
}


def random_code_point(rng):
    while True:
        c = rng.choice([
            rng.randrange(0x20, 0x7F), rng.randrange(0xA0, 0x250), rng.randrange(0x370, 0x1000),
            rng.randrange(0x1000, 0x3000), rng.randrange(0x3000, 0xA000), rng.randrange(0xA000, 0xD800),
            rng.randrange(0xE000, 0x10000), rng.randrange(0x10000, 0x20000), rng.randrange(0x10000, 0x110000),
            rng.randrange(0, 0x20),
        ])
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


def random_text(rng, n):
    parts = []
    for _ in range(n):
        kind = rng.choice(list(SCRIPTS) + ["cp", "cp", "word"])
        if kind == "cp":
            parts.append(random_code_point(rng))
        elif kind == "word":
            pool = SCRIPTS[rng.choice(["ascii", "cyr", "cjk", "kana", "arab", "deva"])]
            parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
        else:
            parts.append(rng.choice(SCRIPTS[kind]))
    return "".join(parts)


def corpus():
    rng = random.Random(20250101)
    cases = list(NAMED)
    for i in range(300):
        cases.append((f"random_{i:03d}", random_text(rng, rng.randint(1, 120))))
    return cases


def big_text(cases):
    """~1 MB, rebuilt identically by the Swift test: "<i>: <text of case i mod n>\n" over the
    non-empty cases shorter than 2000 characters, until at least 1,000,000 UTF-8 bytes."""
    texts = [t for _, t in cases if 0 < len(t) < 2000]
    parts, size, i = [], 0, 0
    while size < 1_000_000:
        s = f"{i}: {texts[i % len(texts)]}\n"
        parts.append(s)
        size += len(s.encode())
        i += 1
    return "".join(parts)


def fnv1a64(ids):
    h = 0xCBF29CE484222325
    for x in ids:
        for b in int(x).to_bytes(4, "little"):
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


# ---------------------------------------------------------------------------------------------
# GLM-4.5 references

def glm_references():
    import base64
    ranks = {}
    with open(os.path.join(SHARED, "tokenizer", "glm4-tokenizer.model"), "rb") as f:
        for line in f:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    config = json.load(open(os.path.join(SHARED, "glm45", "tokenizer_config.json")))
    added = {v["content"]: int(k) for k, v in config["added_tokens_decoder"].items()}
    special = {int(k) for k, v in config["added_tokens_decoder"].items() if v["special"]}
    enc = tiktoken.Encoding("glm45", pat_str=GLM_PAT, mergeable_ranks=ranks, special_tokens=added)
    hf = Tokenizer.from_file(os.path.join(SHARED, "tokenizer", "glm45", "tokenizer.json"))
    hf_plain = Tokenizer.from_file(os.path.join(SHARED, "tokenizer", "glm45", "tokenizer.json"))
    hf_plain.encode_special_tokens = True  # specials become text; non-special added tokens still match
    non_special = {c for c, i in added.items() if i not in special}
    return enc, hf, hf_plain, special, non_special


def glm_cases(cases):
    enc, hf, hf_plain, special, non_special = glm_references()
    out = []
    for name, text in cases:
        tk = enc.encode(text, allowed_special="all")
        tk_plain = enc.encode(text, allowed_special=non_special, disallowed_special=())
        h = hf.encode(text, add_special_tokens=False).ids
        h_plain = hf_plain.encode(text, add_special_tokens=False).ids
        if tk != h or tk_plain != h_plain:
            print(f"note: references differ on {name}", file=sys.stderr)
        out.append({
            "name": name, "text": text,
            "tiktoken": tk, "tokenizers": h,
            "tiktoken_no_special": tk_plain, "tokenizers_no_special": h_plain,
            "decode": hf.decode(h, skip_special_tokens=False),
            "decode_skip_special": hf.decode(h, skip_special_tokens=True),
        })
    big = big_text(cases)
    tk_big = enc.encode(big, allowed_special="all")
    h_big = hf.encode(big, add_special_tokens=False).ids
    assert tk_big == h_big, "references differ on the big text"
    return {
        "generator": f"tiktoken {tiktoken.__version__}, tokenizers {tokenizers.__version__}",
        "cases": out,
        "big": {"utf8_bytes": len(big.encode()), "count": len(tk_big), "fnv1a64": fnv1a64(tk_big),
                "head": tk_big[:64], "tail": tk_big[-64:]},
    }


def glm_decode_cases():
    enc, hf, _, special, _ = glm_references()
    rng = random.Random(7)
    byte_ids = [enc.encode_single_token(bytes([b])) for b in range(0x80, 0x100)]
    out = []
    for i in range(200):
        ids = []
        for _ in range(rng.randint(0, 40)):
            r = rng.random()
            if r < 0.35:
                ids.append(rng.choice(byte_ids))
            elif r < 0.7:
                ids.append(rng.randrange(0, 151329))
            elif r < 0.85:
                ids.append(rng.randrange(151329, 151365))
            else:
                ids.append(rng.randrange(151365, 300000))  # unknown: skipped by tokenizers
        known = [x for x in ids if x < 151365]
        out.append({
            "ids": ids,
            "tokenizers": hf.decode(ids, skip_special_tokens=False),
            "tokenizers_skip_special": hf.decode(ids, skip_special_tokens=True),
            "tiktoken": enc.decode(known),
            "tiktoken_skip_special": enc.decode([x for x in known if x not in special]),
        })
    return {"cases": out}


# ---------------------------------------------------------------------------------------------
# Small tokenizer.json files of other shapes

def training_texts(cases):
    texts = [t for _, t in cases if t] * 3
    rng = random.Random(99)
    texts += [random_text(rng, 80) for _ in range(400)]
    return texts


def small_bpe(cases):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>", "<pad>"], show_progress=False)
    tok.train_from_iterator(training_texts(cases), trainer)
    tok.add_special_tokens([AddedToken("<|im_start|>", special=True, normalized=False),
                            AddedToken("<|im_end|>", special=True, normalized=False)])
    tok.add_tokens([AddedToken("<tool>", special=False, normalized=True),
                    AddedToken("[LS]", special=False, lstrip=True, normalized=False),
                    AddedToken("[RS]", special=False, rstrip=True, normalized=False),
                    AddedToken("<|émoji|>", special=False, normalized=False),
                    # matched by its NFC form in NFC-normalized text
                    AddedToken("<cafe\u0301>", special=False, normalized=True)])
    return tok


def split_misc(cases):
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"[,;]"), "merged_with_previous"),
        pre_tokenizers.Split("--", "removed"),
        pre_tokenizers.Split(Regex(r"[0-9]+"), "merged_with_next"),
        pre_tokenizers.Split(Regex(r"\s+"), "contiguous", invert=True),
        pre_tokenizers.Split(Regex(r"[A-Z]"), "isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.Sequence([decoders.ByteLevel()])
    trainer = trainers.BpeTrainer(vocab_size=700, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<s>", "</s>"], show_progress=False)
    tok.train_from_iterator(training_texts(cases), trainer)
    return tok


def small_cases(tok, cases):
    plain = Tokenizer.from_str(tok.to_str())
    plain.encode_special_tokens = True
    out = []
    for name, text in cases:
        ids = tok.encode(text, add_special_tokens=False).ids
        out.append({
            "name": name, "text": text, "tokenizers": ids,
            "tokenizers_no_special": plain.encode(text, add_special_tokens=False).ids,
            "decode": tok.decode(ids, skip_special_tokens=False),
            "decode_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    return {"generator": f"tokenizers {tokenizers.__version__}", "cases": out}


def normalizer_cases():
    """Normal forms of mark-, compatibility- and jamo-heavy strings, where Foundation needs
    correcting to match HF (see Normalizer.swift)."""
    rng = random.Random(3)
    pools = [range(0x300, 0x370), range(0x1100, 0x1200), range(0xAC00, 0xAC40), range(0x370, 0x400),
             range(0xF900, 0xFB50), range(0x2000, 0x2200), range(0x900, 0xA00), range(0xB00, 0xB80),
             range(0xE00, 0xF00), range(0x1E00, 0x2000), range(0x3000, 0x3100), range(0xFF00, 0xFFF0),
             range(0x1D400, 0x1D800), range(0x41, 0x7B), range(0xC0, 0x250), range(0x1AB0, 0x1B80),
             range(0x10000, 0x110000), range(0xA960, 0xA980), range(0xD7B0, 0xD800), range(0x20D0, 0x2100)]
    texts = ["\u1b3c\u0385\u0b3c\u080e", "\u1113\u1176x\u1100\u1161\u11a8", "a\u0385\u0b3c",
             "\U000107ba \U0001e030 \u0888", "e\u0301\u0323 \u1e0b\u0323 \ufb01 \u2460 \u00bd"]
    while len(texts) < 600:
        t = "".join(chr(c) for c in (rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 12)))
                    if not 0xD800 <= c <= 0xDFFF)
        texts.append(t)
    forms = {"NFC": normalizers.NFC(), "NFD": normalizers.NFD(), "NFKC": normalizers.NFKC(), "NFKD": normalizers.NFKD()}
    return {"generator": f"tokenizers {tokenizers.__version__}",
            "cases": [dict(text=t, **{k: n.normalize_str(t) for k, n in forms.items()}) for t in texts]}


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def main():
    cases = corpus()
    write_json(os.path.join(OUT, "glm45_cases.json"), glm_cases(cases))
    write_json(os.path.join(OUT, "glm45_decode.json"), glm_decode_cases())
    write_json(os.path.join(OUT, "normalizers.json"), normalizer_cases())
    extra = [(n, t) for n, t in cases if len(t) < 2000]
    extra += [("added_in_text", "x<|im_start|>user\nhi<|im_end|> a <tool> b  [LS]  c [RS]   d <|émoji|>"),
              ("prefix_space", "start<|im_start|>mid<|im_end|> end"),
              ("normalized_added", "a<caf\u00e9>b<cafe\u0301>c <cafe> d"),
              ("split_misc", "a,b;c--d 12ab 3 ,; x -- y Hello World ＡＢＣ ﬁ 12,34;56")]
    for name, maker in [("small_bpe", small_bpe), ("split_misc", split_misc)]:
        tok = maker(cases)
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
        tok.save(os.path.join(OUT, name, "tokenizer.json"))
        write_json(os.path.join(OUT, name, "cases.json"), small_cases(tok, extra))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
