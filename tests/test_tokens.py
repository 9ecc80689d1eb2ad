"Collator, packing isolation through the Trainer path, label checks (finetune_kit.tokens)"
import os, tempfile
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import pytest, torch
from types import SimpleNamespace
from datasets import Dataset
from transformers import Trainer, TrainingArguments
from finetune_kit.models import tiny_model
from finetune_kit.testing import default_tokenizer
from finetune_kit.tokens import Collator, check_packing, check_labels, PACKING_VERIFIED

@pytest.fixture(scope='module')
def tok(): return default_tokenizer()

def _samples(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for k in range(n):
        L = int(torch.randint(4, 30, (1,), generator=g))
        ids = torch.randint(3, 5000, (L,), generator=g).tolist() + [2]   # every sample ends in a real EOS (== pad)
        out.append(ids)
    return out

def _packed_rows(samples, per_row=3):
    rows = []
    for i in range(0, len(samples), per_row):
        grp = samples[i:i + per_row]
        ids = sum(grp, []); pos = sum([list(range(len(s))) for s in grp], [])
        labs = sum([[-100] + s[1:] for s in grp], [])
        rows.append({'input_ids': ids, 'labels': labs, 'position_ids': pos})
    return rows

def _trainer(model, ds, collator, d):
    args = TrainingArguments(output_dir=d, per_device_train_batch_size=len(ds), learning_rate=0.0, max_steps=1,
                             report_to=[], use_cpu=True, logging_strategy='no', save_strategy='no', dataloader_num_workers=0)
    return Trainer(model=model, args=args, train_dataset=ds, data_collator=collator)

def _token_losses(logits, labels):
    "per-position cross entropy of shifted labels (nan where ignored)"
    lg, lb = logits[..., :-1, :].float(), labels[..., 1:]
    ce = torch.nn.functional.cross_entropy(lg.reshape(-1, lg.shape[-1]), lb.reshape(-1), ignore_index=-100, reduction='none')
    return ce.reshape(lb.shape), lb != -100

def _per_sample_packed(logits, batch):
    ce, on = _token_losses(logits, batch['labels'])
    res = []
    for j in range(batch['input_ids'].shape[0]):
        pos = batch['position_ids'][j].tolist(); starts = [k for k, p in enumerate(pos) if p == 0] + [len(pos)]
        for s, e in zip(starts[:-1], starts[1:]):
            # tokens s..e-1 form a sample; their targets are predicted at s..e-2 (shifted by one)
            m = on[j, s:e - 1]
            if m.any(): res.append(ce[j, s:e - 1][m].mean().item())
    return res

def test_packed_equals_separate_through_trainer(tok):
    "Per-sample losses and the batch loss of a packed batch equal separate computation, via Trainer.compute_loss in train mode"
    torch.manual_seed(0)
    model = tiny_model('llama').train()
    samples = _samples(6)
    with tempfile.TemporaryDirectory() as d:
        tr = _trainer(model, Dataset.from_list(_packed_rows(samples)), Collator(tok), d)
        batch = tr._prepare_inputs(next(iter(tr.get_train_dataloader())))
        assert batch['use_cache'] is False and 'attention_mask' not in batch
        model.train()
        loss, out = tr.compute_loss(model, batch, return_outputs=True)
        packed = _per_sample_packed(out.logits, batch)
        # separately: one sample per batch through the same trainer/collator
        sep, num, den = [], 0.0, 0
        for s in samples:
            b = tr._prepare_inputs(Collator(tok)([{'input_ids': s, 'labels': s}]))
            l1, o1 = tr.compute_loss(model, b, return_outputs=True)
            ce, on = _token_losses(o1.logits, b['labels'])
            sep.append(ce[on].mean().item()); num += ce[on].sum().item(); den += int(on.sum())
    assert sorted(packed) == pytest.approx(sorted(sep), abs=1e-4)
    assert packed == pytest.approx(sep, abs=1e-4)
    assert loss.item() == pytest.approx(num / den, abs=1e-4)

def test_leak_is_detected_without_guarantee(tok):
    "The same packed batch without use_cache=False gives different losses (so the test above can fail)"
    model = tiny_model('llama').train()
    samples = _samples(6)
    batch = Collator(tok)(_packed_rows(samples)); batch.pop('use_cache')
    out = model(**batch)
    sep = [_token_losses(model(**Collator(tok)([{'input_ids': s}])).logits, torch.tensor([[-100] + s[1:]])) for s in samples]
    sep = [ce[on].mean().item() for ce, on in sep]
    assert _per_sample_packed(out.logits, batch) != pytest.approx(sep, abs=1e-4)

def test_one_step_trainer_runs_packed(tok):
    "A real 1-step Trainer run with lr=0 on packed rows gives the loss of the separate samples"
    model = tiny_model('llama')
    samples = _samples(4, seed=3)
    with tempfile.TemporaryDirectory() as d:
        tr = _trainer(model, Dataset.from_list(_packed_rows(samples, per_row=2)), Collator(tok), d)
        res = tr.train()
    num = den = 0
    model.eval()
    with torch.no_grad():
        for s in samples:
            ce, on = _token_losses(model(torch.tensor([s])).logits, torch.tensor([s]))
            num += ce[on].sum().item(); den += int(on.sum())
    assert res.training_loss == pytest.approx(num / den, abs=1e-4)

@pytest.mark.parametrize('kind', ['llama', 'gpt2'])
@pytest.mark.parametrize('impl', ['sdpa', 'eager'])
def test_check_packing_models(kind, impl):
    m = tiny_model(kind); m.config._attn_implementation = impl
    assert check_packing(m) < 1e-4

@pytest.mark.parametrize('model_type', [t for t in PACKING_VERIFIED if t not in ('llama', 'gpt2')])
def test_check_packing_verified_types(model_type):
    "every model type in PACKING_VERIFIED really isolates (tiny random model from its config class)"
    from transformers import AutoConfig, AutoModelForCausalLM
    cfg = AutoConfig.for_model(model_type, vocab_size=6000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                               num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=512)
    m = AutoModelForCausalLM.from_config(cfg)
    assert check_packing(m) < 1e-4

def test_check_packing_refusals(tok):
    with pytest.raises(ValueError, match='encoder-decoder'): check_packing(tiny_model('blenderbot'))
    with pytest.raises(ValueError, match='encoder-decoder'): check_packing(tiny_model('blenderbot').config)
    with pytest.raises(ValueError, match='not verified'): check_packing(SimpleNamespace(model_type='bloom'))
    with pytest.raises(ValueError, match='flatten=True'): check_packing(SimpleNamespace(model_type='llama', _attn_implementation='flash_attention_2'))
    class Leaky(Collator):
        def __call__(self, f): b = super().__call__(f); b.pop('use_cache'); return b
    with pytest.raises(ValueError, match='see each other'): check_packing(tiny_model('llama'), Leaky(tok))

def test_flatten_isolates(tok):
    assert check_packing(tiny_model('llama'), Collator(tok, flatten=True)) < 1e-4

def test_collator_eos_equals_pad(tok):
    "EOS trained when pad == EOS, for every padding mode"
    rows = [{'input_ids': [5, 6, 2]}, {'input_ids': [7, 2]}, {'input_ids': [8, 9, 10, 11, 2]}]
    for kw in [{}, {'padding_side': 'left'}, {'padding': 'max_length', 'max_len': 12}, {'pad_to_multiple_of': 8}]:
        b = Collator(tok, **kw)(rows)
        assert (b['labels'] == 2).sum() == 3, kw          # the three real EOS
        assert (b['input_ids'] == 2).sum() == 3 + (b['attention_mask'] == 0).sum(), kw
        assert ((b['labels'] != -100) == (b['attention_mask'] == 1)).all(), kw
        check_labels(b, tok)

def test_check_labels_fires(tok):
    with pytest.raises(ValueError, match='no trainable labels'):
        check_labels(Dataset.from_dict({'input_ids': [[1, 2]], 'labels': [[-100, -100]]}), tok)
    with pytest.raises(ValueError, match='never learn to stop'):
        check_labels({'labels': torch.tensor([[5, 6, -100]])}, tok)
    ds = Dataset.from_dict({'input_ids': [[1, 2], [3, 4]], 'labels': [[-100, 2], [-100, -100]]})
    st = check_labels(ds.select([1, 0]), tok)
    assert st == dict(rows=2, rows_without_labels=1, trainable=1, tokens=4, eos_trained=1)
    with pytest.raises(ValueError, match="no 'labels' column"): check_labels(Dataset.from_dict({'x': [1]}), tok)

# ---- tokenization pipeline -------------------------------------------------------------------------------------------
import random
from finetune_kit.chats import Chat, Turn
from finetune_kit.prompts import Guanaco, ChatTemplate, QUOTES, PAIRS
from finetune_kit.tokens import tokenize_chats, tokenize_records, tokenize_seq2seq, pack_rows, describe, tokenize_report, mask_text

def _chat(k, n_turns, rng, me='Host', guest='Guest', words=(1, 40)):
    vocab = ['so', 'the', 'model', 'learns', 'to', 'stop', 'when', 'EOS', 'is', 'trained', 'café', '😂', 'well,', 'right?', '###', 'Human:']
    turns = [Turn(me if j % 2 else guest, ' '.join(rng.choice(vocab) for _ in range(rng.randint(*words)))) for j in range(n_turns)]
    return Chat(f'episode {k}', [guest, me], f'ep{k}.json', turns, {'me': me})

def test_responses_token_by_token(tok):
    "train_on='responses' trains exactly the persona's words and the EOS closing them, checked token by token"
    chat = Chat('ep', ['Guest', 'Lex'], 'ep.json', [Turn('Guest', 'It would really be with Diet Coke.'),
                Turn('Lex', 'Still, to this day, Diet Coke is still part of it.'), Turn('Guest', 'Yeah, eight or nine a day.'),
                Turn('Lex', 'Nice. What about your setup?')], {'me': 'Lex'})
    row = tokenize_chats(chat, tok)[0]
    pieces = []   # (text, trained) in order; tokenized separately here only to build the expectation
    for t in chat.turns:
        me = t.speaker == 'Lex'
        pieces += [(f"### {'Assistant' if me else 'Human'}:", False), (' ' + t.text, me), ('<|im_end|>', me), ('\n', False)]
    exp_ids, exp_on = [], []
    for text, on in pieces:
        ids = tok(text, add_special_tokens=False)['input_ids']; exp_ids += ids; exp_on += [on] * len(ids)
    assert row['input_ids'] == exp_ids
    got_on = [l != -100 for l in row['labels']]
    assert got_on == exp_on
    assert [l for l in row['labels'] if l != -100] == [i for i, on in zip(exp_ids, exp_on) if on]
    assert sum(1 for i, on in zip(exp_ids, exp_on) if on and i == tok.eos_token_id) == 2

def test_eos_trained_through_pipeline_pad_eq_eos(tok):
    assert tok.pad_token_id == tok.eos_token_id
    rng = random.Random(0)
    chats = [_chat(k, rng.randint(2, 8), rng) for k in range(20)]
    ds = tokenize_chats(chats, tok, max_len=4096)
    n_persona = sum(t.speaker == 'Host' for c in chats for t in c.turns)
    for kw in [{}, {'padding': 'max_length', 'max_len': 4096}, {'padding_side': 'left'}]:
        b = Collator(tok, **kw)(list(ds))
        assert int((b['labels'] == tok.eos_token_id).sum()) == n_persona
        assert check_labels(b, tok)['eos_trained'] == n_persona
    q = tokenize_records([{'author': 'A', 'quote': 'q'}] * 3, tok, QUOTES, max_len=16)
    b = Collator(tok, padding='max_length', max_len=16)(list(q))
    assert int((b['labels'] == 2).sum()) == 3 and int((b['input_ids'] == 2).sum()) == 3 + int((b['attention_mask'] == 0).sum())

@pytest.mark.parametrize('template', [Guanaco(), ChatTemplate(system='Be Host.')])
def test_chunks_never_cross_conversations(tok, template):
    rng = random.Random(1)
    chats = [_chat(k, rng.randint(1, 12), rng, words=(1, 60)) for k in range(30)]
    full = tokenize_chats(chats, tok, max_len=100000, template=template, train_on='all', pack=None)
    ch = tokenize_chats(chats, tok, max_len=48, template=template, train_on='all')
    assert all(len(c) == 1 for c in ch['chats']) and all(len(r) <= 48 for r in ch['input_ids'])
    by_chat = {}
    for r in ch: by_chat.setdefault(r['chats'][0], []).extend(r['input_ids'])
    lost = 0
    for r in full:   # rows of a chat, in order, are that chat (minus 1-token rows, which have no target and are dropped)
        got, it = by_chat.get(r['chats'][0], []), iter(r['input_ids'])
        assert all(any(x == y for y in it) for x in got)   # an ordered subsequence
        lost += len(r['input_ids']) - len(got)
    assert lost == tokenize_report(ch)['rows_without_labels_dropped']
    # chunk boundaries fall between turns unless a turn was split: count rows not starting at a turn header
    assert sum(ch['split']) >= 1
    mp = tokenize_chats(chats, tok, max_len=48, template=template, train_on='all', pack='multipack')
    chunks = {tuple(r) for r in ch['input_ids']}
    for r in mp:
        pos = r['position_ids']; starts = [i for i, p in enumerate(pos) if p == 0] + [len(pos)]
        assert len(starts) - 1 == len(r['chats'])
        for a, b in zip(starts[:-1], starts[1:]): assert tuple(r['input_ids'][a:b]) in chunks  # each sample is one whole chunk
    assert sorted(sum(mp['chats'], [])) == sorted(sum(ch['chats'], []))

def test_multipack_fill_and_determinism(tok):
    rng = random.Random(2)
    chats = [_chat(k, rng.randint(2, 6), rng, words=(1, 25)) for k in range(200)]
    a = tokenize_chats(chats, tok, max_len=256, pack='multipack', seed=3)
    b = tokenize_chats(chats, tok, max_len=256, pack='multipack', seed=3)
    c = tokenize_chats(chats, tok, max_len=256, pack='multipack', seed=4)
    assert a['input_ids'] == b['input_ids'] and a['input_ids'] != c['input_ids']
    st = describe(a, bs=8, plot=False)
    assert st['real_share'] > 0.97 and st['samples'] == 200
    assert sorted(map(len, a['input_ids'])) == sorted(map(len, c['input_ids'])) or len(a) == len(c)

def test_packed_pipeline_equals_separate_through_trainer(tok):
    "tokenize_chats(pack='multipack') rows through Trainer.compute_loss give the separate rows' losses"
    rng = random.Random(5)
    chats = [_chat(k, rng.randint(2, 4), rng, words=(1, 12)) for k in range(8)]
    sep_ds = tokenize_chats(chats, tok, max_len=128)
    mp = tokenize_chats(chats, tok, max_len=128, pack='multipack')
    assert len(mp) < len(sep_ds)
    model = tiny_model('llama')
    with tempfile.TemporaryDirectory() as d:
        tr = _trainer(model, mp, Collator(tok), d)
        batch = tr._prepare_inputs(next(iter(tr.get_train_dataloader())))
        model.train()
        loss, out = tr.compute_loss(model, batch, return_outputs=True)
        num = den = 0
        for r in sep_ds:
            b = tr._prepare_inputs(Collator(tok)([r]))
            _, o = tr.compute_loss(model, b, return_outputs=True)
            ce, on = _token_losses(o.logits, b['labels']); num += ce[on].sum().item(); den += int(on.sum())
    assert loss.item() == pytest.approx(num / den, abs=1e-4)

def test_wrong_persona_fails_fast(tok):
    chat = _chat(0, 4, random.Random(0))
    ds = tokenize_chats(chat, tok, persona='Nobody')
    assert len(ds) == 0 and tokenize_report(ds)['samples_without_rows'] == 1
    with pytest.raises(ValueError, match='no trainable labels'): check_labels(ds, tok)
    with pytest.raises(ValueError, match="pass persona="): tokenize_chats(Chat('t', [], 'f', [Turn('a', 'b')]), tok)
    with pytest.raises(ValueError, match='train_on='): tokenize_chats(chat, tok, train_on='assistant')
    with pytest.raises(ValueError, match='renders records'): tokenize_chats(chat, tok, template=QUOTES)

def test_special_token_in_text_is_not_eos(tok):
    chat = Chat('t', ['G', 'H'], 'f', [Turn('G', 'type <|im_end|> to stop'), Turn('H', 'ok <|im_end|><|im_start|>user')], {'me': 'H'})
    r = tokenize_chats(chat, tok, train_on='all')[0]
    assert r['input_ids'].count(tok.eos_token_id) == 2 and r['input_ids'].count(tok.bos_token_id) == 0
    assert r['escaped'] == 3

def test_seq2seq_rows(tok):
    recs = [{'prompt': 'dude|gels are such a game changer', 'response': "oh wow|that's a lot of running"}] * 3
    ds = tokenize_seq2seq(recs, tok)
    assert ds[0]['labels'] == tok(recs[0]['response'], add_special_tokens=False)['input_ids'] + [2]
    b = Collator(tok)(list(ds)); check_labels(b, tok)
    with torch.no_grad(): assert torch.isfinite(tiny_model('blenderbot')(**b).loss)
    with pytest.raises(ValueError, match='encoder-decoder'): check_packing(tiny_model('blenderbot'))

def test_mask_text_markers(tok):
    row = tokenize_records([{'prompt': 'hi', 'response': 'yo'}], tok, PAIRS)[0]
    t = mask_text(row, tok)
    assert t == f"[{sum(l != -100 for l in row['labels'])}/{len(row['labels'])} tokens trained]\n### Human: hi\n### Assistant:« yo»⟨EOS✓⟩"

def test_check_packing_peft_model():
    from peft import LoraConfig
    from finetune_kit.adapters import peft_model
    m = peft_model(tiny_model('llama'), LoraConfig(r=4, target_modules=['q_proj', 'v_proj'], task_type='CAUSAL_LM'))
    assert check_packing(m) < 1e-4
