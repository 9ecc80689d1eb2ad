"""Benchmark for finetune_kit.tokens (a script, not a test): python tests/bench_tokens.py [--quick]

On a generated corpus of conversations with long-tailed turn lengths it prints
1. the real-token share of batches: pad-to-max vs dynamic padding vs multipacking (target >= 97% packed),
2. training throughput on CPU with the offline default model (SmolLM2-135M) for the same three, in real tokens/s
   (target: packing >= 3x pad-to-max), with a LoRA adapter as finetune_kit trains,
3. tokenize_chats throughput vs a bare batched tok(texts) call on the same rendered text (target >= 70%).
"""
import os, sys, time, random, re
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch
from finetune_kit.models import load_model
from finetune_kit.chats import Chat, Turn, read_whisperx, read_messenger, sample_data
from finetune_kit.prompts import Guanaco
from finetune_kit.tokens import tokenize_chats, Collator, describe

QUICK = '--quick' in sys.argv

def sample_words():
    "The words of the sample data the package ships (podcast transcripts and Messenger threads), in order"
    text = [t.text for c in read_whisperx(sample_data('podcast')) for t in c.turns]
    text += [t.text for c in read_messenger(sample_data('messenger'), me='Sam Rivera') for t in c.turns]
    words = re.findall(r"\S+", ' '.join(text))
    assert len(words) > 5_000, f"only {len(words)} words in the sample data"
    return words

def corpus(n_chats, seed=0, turns=(2, 8)):
    "Conversations (sessions) of 2-8 turns; words per turn lognormal (median ~7, long tail to a few hundred)"
    words = sample_words()
    rng = random.Random(seed); nrng = np.random.default_rng(seed)
    chats = []
    for k in range(n_chats):
        ts = []
        for j in range(rng.randint(*turns)):
            n = int(min(600, max(1, nrng.lognormal(2.0, 1.0))))
            i = rng.randrange(len(words) - n)
            ts.append(Turn('Host' if j % 2 else 'Guest', ' '.join(words[i:i + n])))
        chats.append(Chat(f'ep{k}', ['Guest', 'Host'], f'ep{k}.json', ts, {'me': 'Host'}))
    return chats

def batches(rows, bs, seed=0):
    idx = list(range(len(rows))); random.Random(seed).shuffle(idx)   # Trainer's sampler shuffles
    return [[rows[i] for i in idx[j:j + bs]] for j in range(0, len(idx), bs)]

def share(rows, collator, bs):
    real = tot = 0
    for b in batches(rows, bs):
        out = collator(b); real += sum(len(r['input_ids']) for r in b); tot += out['input_ids'].numel()
    return real / tot

def lora(model):
    "The default model with a LoRA adapter (r=8 on q/v), as finetune_kit trains it"
    from peft import LoraConfig
    from finetune_kit.adapters import peft_model
    return peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=['q_proj', 'v_proj'], lora_dropout=0.0, task_type='CAUSAL_LM'))

def main():
    model, tok = load_model(quiet=True)
    max_len, bs_share, bs = 512, 8, 2
    chats = corpus(500 if QUICK else 2000)
    n_turns = sum(len(c.turns) for c in chats)
    ds = tokenize_chats(chats, tok, max_len=max_len)                       # one conversation per row (long ones chunked)
    mp = tokenize_chats(chats, tok, max_len=max_len, pack='multipack')      # several per row, position_ids restarting
    rows, prow = list(ds), list(mp)
    lens = np.array([len(r['input_ids']) for r in rows])
    print(f"corpus: {len(chats)} conversations, {n_turns} turns, {lens.sum()} tokens; {len(rows)} samples of <= {max_len} "
          f"tokens (median {int(np.median(lens))}, p90 {int(np.percentile(lens, 90))}, max {lens.max()}) -> {len(prow)} packed rows")
    cfgs = {'pad-to-max': (rows, Collator(tok, padding='max_length', max_len=max_len)),
            'dynamic': (rows, Collator(tok)),
            'multipack': (prow, Collator(tok))}
    print(f"\n1. real-token share of batches (bs={bs_share}, shuffled as Trainer does):")
    for name, (rs, col) in cfgs.items(): print(f"   {name:11s} {share(rs, col, bs_share):6.1%}")

    steps = 2 if QUICK else 3
    model = lora(model); model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    print(f"\n2. CPU training throughput: default model + LoRA r=8 (fp32, AdamW), bs={bs}, max_len={max_len}, {steps} timed "
          f"steps each after 1 warm-up, configs interleaved step by step (the CPU is shared), torch threads={torch.get_num_threads()}:")
    bl = {name: batches(rs, bs, seed=1)[:steps + 1] for name, (rs, _) in cfgs.items()}
    acc = {name: [0, 0, 0.0] for name in cfgs}   # real tokens, tokens, seconds
    for k in range(steps + 1):
        for name, (_, col) in cfgs.items():
            b = bl[name][k]; batch = col(b); t0 = time.perf_counter()
            out = model(**batch); out.loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
            dt = time.perf_counter() - t0
            if k: a = acc[name]; a[0] += sum(len(r['input_ids']) for r in b); a[1] += batch['input_ids'].numel(); a[2] += dt
    res = {}
    for name, (real, seen, t) in acc.items():
        res[name] = real / t
        print(f"   {name:11s} {real / t:8.0f} real tokens/s  ({seen / t:6.0f} tokens/s incl. padding, {t / steps:5.1f} s/step)")
    print(f"   multipack / pad-to-max: {res['multipack'] / res['pad-to-max']:.1f}x; multipack / dynamic: {res['multipack'] / res['dynamic']:.1f}x")
    del model

    big = corpus(1000 if QUICK else 3000, seed=7, turns=(2, 16))
    texts = [Guanaco().render(c, tok).text for c in big]
    n_tok = sum(len(x) for x in tok(texts[:50])['input_ids'])
    tb = []; to = []
    for _ in range(3):
        t0 = time.perf_counter(); enc = tok(texts); tb.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); out = tokenize_chats(big, tok, max_len=100000, pack=None); to.append(time.perf_counter() - t0)
    ntoks = sum(len(x) for x in enc['input_ids'])
    assert sum(len(x) for x in out['input_ids']) == ntoks, "tokenize_chats and tok(texts) disagree on the token count"
    print(f"\n3. tokenization of {len(big)} conversations ({sum(len(c.turns) for c in big)} turns, {ntoks} tokens), best of 3:")
    print(f"   bare tok(texts):  {min(tb):6.2f} s  ({ntoks / min(tb):9.0f} tokens/s)")
    print(f"   tokenize_chats:   {min(to):6.2f} s  ({ntoks / min(to):9.0f} tokens/s; renders, offsets, labels, Dataset)")
    print(f"   tokenize_chats reaches {min(tb) / min(to):.0%} of the bare tokenizer")

if __name__ == '__main__': main()
