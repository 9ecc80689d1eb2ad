"""GGUF export (finetune_kit.export): round trips through transformers' GGUF loader (the default model in f16 and q8_0;
tiny models for LoRA, AdaLoRA, QLoRA, bf16, f32 and the rope layout), the Ollama and Jinja templates against the
training templates on two-turn conversations, the Modelfile as Ollama reads it, refusals, and the disk checks."""
import copy, errno, json, re, shutil, warnings
from pathlib import Path
import numpy as np, pytest, torch, gguf
from tokenizers import Tokenizer, models as tk_models, trainers, pre_tokenizers, decoders
from transformers import PreTrainedTokenizerFast, LlamaConfig, LlamaForCausalLM
from finetune_kit.models import load_model, tiny_model
from finetune_kit.adapters import lora, adalora, qlora, merge
from finetune_kit.prompts import Guanaco, ChatTemplate, Completion, Alpaca, PAIRS, QUOTES
import finetune_kit.export as ex
from finetune_kit.export import (export_gguf, load_gguf, round_as_exported, conversation_text, render_ollama, render_turns,
                                 turn_format, check_exportable, ExportRefused, NotEnoughSpace, jinja_template)


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope='module')
def tok():
    return load_model(quiet=True)[1]

def tiny_tokenizer(vocab_size=400, pre=None):
    "A byte-level BPE tokenizer trained on a few lines: its GGUF loads back in a second"
    t = Tokenizer(tk_models.BPE())
    t.pre_tokenizer, t.decoder = pre or pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    lines = ['how was the long run?', 'brutal|legs are dead', 'same time next week? 7am "sharp"', 'dude i need your advice',
             'wanna run saturday at the lake', 'gels are such a game changer|felt amazing at mile 15 today']
    t.train_from_iterator(lines * 10, trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                          special_tokens=['<|endoftext|>', '<|im_start|>', '<|im_end|>']))
    return PreTrainedTokenizerFast(tokenizer_object=t, bos_token='<|im_start|>', eos_token='<|im_end|>', unk_token='<|endoftext|>', pad_token='<|im_end|>')

@pytest.fixture(scope='module')
def ttok(): return tiny_tokenizer()

def randomise_lora(pm, seed=0, std=0.05):
    "Random B matrices: the merge then changes every adapted weight (a stand-in for training)"
    torch.manual_seed(seed)
    with torch.no_grad():
        for n, w in pm.named_parameters():
            if 'lora_B' in n or 'lora_E' in n: w.normal_(0, std)
    return pm

MSGS = [{'role': 'user', 'content': 'how was the long run?'}, {'role': 'assistant', 'content': 'brutal|legs are dead'},
        {'role': 'user', 'content': 'same time next week?'}]

def logits(model, tok, texts):
    b = tok(texts, return_tensors='pt', padding=True)
    with torch.no_grad(): return model(**b).logits, b['attention_mask'].bool()


# ---------------------------------------------------------------- the default model, f16 and q8_0

@pytest.fixture(scope='module')
def default_export(tmp_path_factory, tok):
    "The default model with a merged LoRA adapter (random B, std 0.01), exported in f16 and q8_0"
    model, _ = load_model(quiet=True)
    torch.manual_seed(0)
    merged = merge(randomise_lora(lora(model, r=8), std=0.01))
    d = tmp_path_factory.mktemp('default')
    outs = {q: export_gguf(merged, tok, d / f'twin-{q}.gguf', quant=q, template=Guanaco(), modelfile=None, quiet=True) for q in ('f16', 'q8_0')}
    return merged, outs

PROMPTS = ['dude i need your advice|she said she wanted to "take a break"', 'wanna run saturday? 7am at the lake',
           'gels are such a game changer|felt amazing at mile 15 today', 'how do i get faster at 5k']

def test_default_model_f16_round_trip(default_export, tok):
    merged, outs = default_export
    out = outs['f16']
    assert out.size == out.estimate and out.tensors == 272 and out.kept_f16 == []
    texts = [conversation_text(Guanaco(), tok, [{'role': 'user', 'content': p}]) for p in PROMPTS]
    back, back_tok = load_gguf(out.path)
    ref = round_as_exported(copy.deepcopy(merged), 'f16')
    (got, mask), (want, _) = logits(back, tok, texts), logits(ref, tok, texts)
    diff = (got - want).abs()[mask].max().item()
    print(f"f16: max |logit difference| vs the merged model rounded to f16: {diff:.2e}")
    assert diff <= 1e-3
    for t in texts + ['12345 ünïcödé 😀\n\n  spaces', '<|im_start|>user\nhi<|im_end|>']:
        assert back_tok(t)['input_ids'] == tok(t)['input_ids'], t
    enc = tok(texts[0], return_tensors='pt')
    kw = dict(max_new_tokens=24, do_sample=False, pad_token_id=tok.pad_token_id)
    assert torch.equal(back.generate(**enc, **kw), ref.generate(**enc, **kw))   # the same greedy reply, token for token

def test_default_model_q8_0_within_measured_tolerance(default_export, tok):
    merged, outs = default_export
    out = outs['q8_0']
    assert out.size == out.estimate and out.size < 0.55 * outs['f16'].size
    texts = [conversation_text(Guanaco(), tok, [{'role': 'user', 'content': p}]) for p in PROMPTS]
    import contextlib, io
    from transformers import AutoModelForCausalLM
    with contextlib.redirect_stderr(io.StringIO()):   # the model only: the tokenizer's round trip is the f16 test's
        back = AutoModelForCausalLM.from_pretrained(out.path.parent, gguf_file=out.path.name, dtype=torch.float32).eval()
    (got, mask), (exact, _) = logits(back, tok, texts), logits(merged, tok, texts)
    own, _ = logits(round_as_exported(copy.deepcopy(merged), 'q8_0'), tok, texts)
    lp, le = torch.log_softmax(got, -1), torch.log_softmax(exact, -1)
    kl = (le.exp() * (le - lp)).sum(-1)[mask]
    top1 = (got.argmax(-1) == exact.argmax(-1))[mask].float().mean().item()
    d_own, d_exact = (got - own).abs()[mask].max().item(), (got - exact).abs()[mask].max().item()
    print(f"q8_0: vs its own rounding {d_own:.2e}; vs unrounded max {d_exact:.3f}, mean KL {kl.mean():.2e}, top-1 agreement {top1:.4f}")
    assert d_own <= 1e-3                                       # the file holds exactly the q8_0 rounding
    # measured over the base model and 7 adapters: max 0.74-1.20, mean KL 1.8-3.4e-3, top-1 0.966-1.0; held to about twice that
    assert d_exact <= 2.5 and kl.mean() <= 1e-2 and top1 >= 0.93


# ---------------------------------------------------------------- tiny models: merge kinds, dtypes, the rope layout

def roundtrip(model, tok, path, quant='f16', template=Guanaco(), ref=None):
    "Max |logit difference| between the exported file loaded back and `ref` (default: `model` rounded as exported)"
    ref = round_as_exported(copy.deepcopy(model), quant) if ref is None else ref
    out = export_gguf(model, tok, path, quant=quant, template=template, modelfile=None, quiet=True)
    back, back_tok = load_gguf(out.path)
    texts = [conversation_text(Guanaco(), tok, MSGS), 'gels are such a game changer']
    (got, mask), (want, _) = logits(back, back_tok, texts), logits(ref, tok, texts)
    assert out.size == out.estimate
    return (got - want).abs()[mask].max().item()

@pytest.mark.parametrize('quant', ['f32', 'bf16', 'f16', 'q8_0'])
def test_tiny_round_trip_every_quant(tmp_path, ttok, quant):
    torch.manual_seed(0)
    merged = merge(randomise_lora(lora(tiny_model('llama', vocab_size=len(ttok)), r=4)))
    assert roundtrip(merged, ttok, tmp_path / f't-{quant}.gguf', quant) <= 1e-5

def test_rope_permutation_is_what_makes_it_match(tmp_path, ttok, monkeypatch):
    "Without the q/k row permutation the file loads fine but computes something else: the round trip catches it"
    merged = merge(randomise_lora(lora(tiny_model('llama', vocab_size=len(ttok)), r=4)))
    monkeypatch.setattr(ex, '_rope_rows', lambda w, heads: w)
    assert roundtrip(merged, ttok, tmp_path / 'unpermuted.gguf', 'f32') > 1e-2

def test_adalora_merged_by_export(tmp_path, ttok):
    torch.manual_seed(0)
    am = randomise_lora(adalora(tiny_model('llama', vocab_size=len(ttok)), total_steps=10, init_r=4, target_r=2))
    twin = copy.deepcopy(am)
    ref = round_as_exported(merge(twin), 'f16')
    assert roundtrip(am, ttok, tmp_path / 'ada.gguf', ref=ref) <= 1e-5
    assert not hasattr(am, 'merge_and_unload') or not any('lora_' in n for n, _ in am.named_parameters())  # consumed, as merge does

def test_qlora_dequantised_and_merged_by_export(tmp_path, ttok):
    base = tmp_path / 'tiny-base'
    tiny_model('llama', vocab_size=len(ttok)).save_pretrained(base); ttok.save_pretrained(base)
    def make():
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.manual_seed(0)
            qm, _ = qlora(str(base), r=4, alpha=8, dropout=0.0, gradient_checkpointing=False)
        return randomise_lora(qm)
    qm = make()
    assert qm.get_base_model().is_loaded_in_4bit
    ref = round_as_exported(merge(make()), 'f16')    # the same 4-bit weights and adapter, merged by adapters.merge
    assert roundtrip(qm, ttok, tmp_path / 'qlora.gguf', ref=ref) <= 1e-5

def test_llama3_rope_factors(tmp_path, ttok):
    "Llama 3's scaled rope goes in as llama.cpp's rope_freqs: plain frequency / factor == transformers' llama3 frequency"
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    cfg = LlamaConfig(vocab_size=len(ttok), hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=4,
                      num_key_value_heads=2, tie_word_embeddings=True,
                      rope_parameters={'rope_type': 'llama3', 'rope_theta': 10000.0, 'factor': 8.0, 'low_freq_factor': 1.0,
                                       'high_freq_factor': 4.0, 'original_max_position_embeddings': 64})
    out = export_gguf(LlamaForCausalLM(cfg).eval(), ttok, tmp_path / 'l3.gguf', template=Guanaco(), modelfile=None, quiet=True)
    r = gguf.GGUFReader(out.path)
    f = np.array([t for t in r.tensors if t.name == 'rope_freqs.weight'][0].data)
    plain = 1.0 / (10000.0 ** (torch.arange(0, 16, 2).float() / 16))
    scaled, _ = ROPE_INIT_FUNCTIONS['llama3'](cfg, 'cpu')
    np.testing.assert_allclose((plain / torch.from_numpy(f)).numpy(), scaled.numpy(), rtol=1e-6)
    assert f[0] == 1.0 and f[-1] == 8.0 and 1.0 < f[1] < f[2] < 8.0   # high frequencies kept, low ones divided by 8, smooth between


# ---------------------------------------------------------------- templates: Ollama and Jinja == training, two turns

def modelfile(path):
    "(TEMPLATE, [stops], FROM) of a Modelfile, read the way Ollama's parser does (no escapes; non-printables dropped)"
    text = Path(path).read_text(encoding='utf-8')
    assert all(ch.isprintable() or ch in '\n\t' for ch in text), "Ollama's Modelfile reader drops non-printable characters"
    tmpl = re.search(r'^TEMPLATE """(.*?)"""$', text, re.S | re.M).group(1)
    stops = [re.fullmatch(r'"(.*)"', v).group(1) for v in re.findall(r'^PARAMETER stop (.*)$', text, re.M)]
    return tmpl, stops, re.search(r'^FROM (.*)$', text, re.M).group(1)

TRICKY = [{'role': 'user', 'content': 'ok so {{ .Content }} and "quotes", back\\slash, tab\there'},
          {'role': 'assistant', 'content': 'lol|what 😀 ünïcödé'},
          {'role': 'user', 'content': 'line one\nline two {%- raw %}   '}]

@pytest.fixture(scope='module')
def exported_formats(tmp_path_factory, ttok, tok):
    "For each training template: (template, tokenizer, TEMPLATE and stops from its Modelfile, the file's chat template)"
    d, out = tmp_path_factory.mktemp('formats'), {}
    small = tiny_model('llama', vocab_size=len(ttok))
    for name, t in {'guanaco': Guanaco(), 'guest-host': Guanaco(human='Guest', assistant='Host'), 'pairs': PAIRS,
                    'quotes': QUOTES, 'alpaca': Alpaca(), 'chat': ChatTemplate(), 'chat-sam': ChatTemplate(system='You are Sam.')}.items():
        k = ttok
        if name.startswith('chat'):
            k = copy.deepcopy(ttok); k.chat_template = tok.chat_template
        e = export_gguf(small, k, d / name / f'{name}.gguf', template=t, quiet=True)
        tmpl, stops, src = modelfile(e.modelfile)
        assert src == f'./{name}.gguf'
        out[name] = (t, k, tmpl, stops, gguf.GGUFReader(e.path).fields['tokenizer.chat_template'].contents())
    return out

@pytest.mark.parametrize('name', ['guanaco', 'guest-host', 'pairs', 'alpaca', 'chat', 'chat-sam'])
@pytest.mark.parametrize('msgs', [MSGS, TRICKY], ids=['plain', 'tricky'])
def test_templates_write_what_training_wrote(exported_formats, name, msgs):
    t, k, tmpl, _, jinja = exported_formats[name]
    want = conversation_text(t, k, msgs)
    assert render_ollama(tmpl, msgs) == want
    assert k.apply_chat_template(msgs, chat_template=jinja, tokenize=False, add_generation_prompt=True) == want

def test_guanaco_two_turns_exact_string(exported_formats):
    t, k, tmpl, stops, jinja = exported_formats['guanaco']
    want = ('### Human: how was the long run?<|im_end|>\n### Assistant: brutal|legs are dead<|im_end|>\n'
            '### Human: same time next week?<|im_end|>\n### Assistant:')
    assert render_ollama(tmpl, MSGS) == want == conversation_text(t, k, MSGS)
    assert stops == ['### Human:', '### Assistant:']
    # the reply as Ollama returns it (with the space the model wrote) and as a client that strips it: the same prompt
    spaced = [MSGS[0], {'role': 'assistant', 'content': ' brutal|legs are dead'}, MSGS[2]]
    assert render_ollama(tmpl, spaced) == want == k.apply_chat_template(spaced, chat_template=jinja, tokenize=False, add_generation_prompt=True)

def test_chat_template_with_system(exported_formats, tok):
    t, k, tmpl, stops, jinja = exported_formats['chat']
    sys = [{'role': 'system', 'content': 'You are Sam, you text in lowercase.'}] + MSGS
    assert render_ollama(tmpl, sys) == conversation_text(t, k, sys) == tok.apply_chat_template(sys, tokenize=False, add_generation_prompt=True)
    assert render_ollama(tmpl, MSGS, system='You are Sam, you text in lowercase.') == render_ollama(tmpl, sys)  # the Modelfile's SYSTEM
    assert stops == ['<|im_end|>', '<|im_start|>user']
    t2, k2, tmpl2, _, _ = exported_formats['chat-sam']
    assert render_ollama(tmpl2, MSGS) == conversation_text(t2, k2, MSGS)
    assert render_ollama(tmpl2, MSGS).startswith('<|im_start|>system\nYou are Sam.<|im_end|>\n')

def test_quotes_continuation(exported_formats):
    t, k, tmpl, stops, jinja = exported_formats['quotes']
    msgs = [{'role': 'user', 'content': 'Quote by Victor Hugo:'}, {'role': 'assistant', 'content': ' "He who opens a school door, closes a prison."'},
            {'role': 'user', 'content': 'Quote by Jane Austen:'}]
    want = QUOTES.render({'author': 'Victor Hugo', 'quote': 'He who opens a school door, closes a prison.'}, k).text + 'Quote by Jane Austen:'
    assert render_ollama(tmpl, msgs) == want == conversation_text(t, k, msgs)
    assert k.apply_chat_template(msgs, chat_template=jinja, tokenize=False, add_generation_prompt=True) == want
    assert stops == []

def test_pairs_conversation_is_exchanges_in_a_row(exported_formats):
    t, k, tmpl, stops, _ = exported_formats['pairs']
    want = PAIRS.render({'prompt': MSGS[0]['content'], 'response': MSGS[1]['content']}, k).text + '### Human: same time next week?\n### Assistant:'
    assert render_ollama(tmpl, MSGS) == want and stops == ['### Human:']

def test_ollama_merges_consecutive_messages_like_its_server(exported_formats):
    _, _, tmpl, _, _ = exported_formats['guanaco']
    two = [{'role': 'user', 'content': 'hey'}, {'role': 'user', 'content': 'you there?'}]
    assert render_ollama(tmpl, two) == '### Human: hey\n\nyou there?<|im_end|>\n### Assistant:'

def test_bos_written_by_runtime_not_template(tmp_path, ttok):
    "A tokenizer that starts texts with BOS: add_bos_token in the file, the Jinja template writes {{ bos_token }}, Ollama's doesn't"
    from tokenizers import processors
    k = copy.deepcopy(ttok)
    k._tokenizer.post_processor = processors.TemplateProcessing(single='<|im_start|> $A', special_tokens=[('<|im_start|>', 1)])
    assert k('hi')['input_ids'][0] == 1
    e = export_gguf(tiny_model('llama', vocab_size=len(k)), k, tmp_path / 'bos.gguf', template=Guanaco(), quiet=True)
    r = gguf.GGUFReader(e.path)
    assert r.fields['tokenizer.ggml.add_bos_token'].contents() is True and e.format.bos
    tmpl, *_ = modelfile(e.modelfile)
    assert render_ollama(tmpl, MSGS) == conversation_text(Guanaco(), k, MSGS) and not render_ollama(tmpl, MSGS).startswith('<|im_start|>')
    assert r.fields['tokenizer.chat_template'].contents().startswith('{{ bos_token }}')


# ---------------------------------------------------------------- refusals: before anything is merged or written

def refused(model, tok, tmp_path, contains, **kw):
    with pytest.raises(ExportRefused, match=contains):
        export_gguf(model, tok, tmp_path / 'x.gguf', quiet=True, **kw)
    assert not list(tmp_path.glob('x.gguf*')) and not (tmp_path / 'Modelfile').exists()

def test_refuses_other_architectures(tmp_path, tok):
    refused(tiny_model('gpt2'), tok, tmp_path, "'gpt2': llama.cpp has a GPT-2 architecture", template=QUOTES)
    refused(tiny_model('blenderbot'), tok, tmp_path, 'encoder-decoder model: Ollama and LM Studio run decoder-only', template=PAIRS)
    from transformers import MistralConfig, MistralForCausalLM
    m = MistralForCausalLM(MistralConfig(vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2))
    refused(m, tok, tmp_path, "'mistral': export_gguf writes llama.cpp's 'llama' architecture only", template=Guanaco())

def test_refuses_llama_variants_it_cannot_verify(tmp_path, ttok):
    refused(tiny_model('llama', vocab_size=len(ttok), attention_bias=True), ttok, tmp_path, 'attention_bias/mlp_bias', template=Guanaco())
    yarn = tiny_model('llama', vocab_size=len(ttok), rope_parameters={'rope_type': 'yarn', 'rope_theta': 10000.0, 'factor': 4.0,
                                                                       'original_max_position_embeddings': 512})
    refused(yarn, ttok, tmp_path, "rope_type='yarn'", template=Guanaco())

def test_refuses_tokenizers_llama_cpp_would_read_differently(tmp_path, ttok):
    m = tiny_model('llama', vocab_size=len(ttok))
    spm = copy.deepcopy(ttok)
    j = json.loads(spm.backend_tokenizer.to_str()); j['model']['byte_fallback'] = True
    spm._tokenizer = Tokenizer.from_str(json.dumps(j))
    refused(m, spm, tmp_path, 'with byte fallback', template=Guanaco())
    ws = copy.deepcopy(ttok); ws._tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    refused(m, ws, tmp_path, 'none of the splits export_gguf knows', template=Guanaco())
    from tokenizers import normalizers
    nfc = copy.deepcopy(ttok); nfc._tokenizer.normalizer = normalizers.NFC()
    refused(m, nfc, tmp_path, 'NFC normalizer', template=Guanaco())
    refused(tiny_model('llama', vocab_size=100), ttok, tmp_path, "embedding only 100 rows", template=Guanaco())

def test_refuses_templates_quants_and_names(tmp_path, ttok):
    m = tiny_model('llama', vocab_size=len(ttok))
    refused(m, ttok, tmp_path, 'prompt needs exactly one field', template=Completion('{a} / {b}', prompt='{x} asks {y}:'))
    refused(m, ttok, tmp_path, 'this tokenizer has no chat template', template=ChatTemplate())
    refused(m, ttok, tmp_path, r"quant='q4_k_m': the gguf package quantises to f16, q8_0, bf16, f32 only", template=Guanaco(), quant='q4_k_m')
    with pytest.raises(ValueError, match=r'name the file \*\.gguf'): export_gguf(m, ttok, tmp_path / 'twin.bin', template=Guanaco())

def test_refusal_leaves_the_peft_model_usable(tmp_path, tok):
    pm = lora(tiny_model('gpt2'), r=4)
    refused(pm, tok, tmp_path, "'gpt2'", template=QUOTES)
    assert any('lora_' in n for n, _ in pm.named_parameters())   # not merged: nothing was consumed


# ---------------------------------------------------------------- disk space, partial files, progress

def test_not_enough_space_before_merging(tmp_path, ttok, monkeypatch):
    pm = lora(tiny_model('llama', vocab_size=len(ttok)), r=4)
    monkeypatch.setattr(shutil, 'disk_usage', lambda p: type('U', (), {'free': 1_000_000})())
    with pytest.raises(NotEnoughSpace, match=r'has 1\.0 MB free; the file needs 20.\.. kB, with 16\.8 MB to spare') as e:
        export_gguf(pm, ttok, tmp_path / 'twin.gguf', template=Guanaco(), quiet=True)
    assert e.value.errno == errno.ENOSPC and not list(tmp_path.iterdir())
    assert any('lora_' in n for n, _ in pm.named_parameters())   # refused before the merge

def test_disk_full_while_writing_removes_the_partial_file(tmp_path, ttok, monkeypatch):
    calls = {'n': 0}
    real = gguf.GGUFWriter.write_tensor_data
    def full(self, tensor, *a, **k):
        calls['n'] += 1
        if calls['n'] == 3: raise OSError(errno.ENOSPC, 'No space left on device')
        return real(self, tensor, *a, **k)
    monkeypatch.setattr(gguf.GGUFWriter, 'write_tensor_data', full)
    with pytest.raises(NotEnoughSpace, match='filled up while writing twin.gguf'):
        export_gguf(tiny_model('llama', vocab_size=len(ttok)), ttok, tmp_path / 'twin.gguf', template=Guanaco(), quiet=True)
    assert not list(tmp_path.iterdir())

def test_progress_and_size_announced(tmp_path, ttok, capsys):
    pm = lora(tiny_model('llama', vocab_size=len(ttok)), r=4)
    out = export_gguf(pm, ttok, tmp_path / 'twin.gguf', template=Guanaco())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"twin.gguf: f16, 20 tensors, {ex.fmt_bytes(out.estimate)}; prompt format: Guanaco")
    assert lines[1] == 'merging the LoRA adapter into the base model...' and lines[2].startswith('merged in ')
    assert lines[-1].startswith(f"wrote {out.path} ({ex.fmt_bytes(out.size)}) in ") and lines[-1].endswith(f"Ollama: {out.modelfile}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ['Modelfile', 'twin.gguf']
