"""Tests for finetune_kit.talk: the history is written exactly as training wrote it (PAIRS, Guanaco, the chat template),
stop markers cut a reply, each chat reply gets its own seed, bursts become separate bubbles, the blind test's
bookkeeping (hypothesis), the console paths, and the bubbles laid out in headless chromium."""

from types import SimpleNamespace
import pytest, torch
from hypothesis import given, settings, strategies as st
from transformers import AutoTokenizer
from finetune_kit.models import tiny_model, default_checkpoint
from finetune_kit.adapters import lora
from finetune_kit.chats import Chat, Turn
from finetune_kit.prompts import PAIRS, Guanaco, ChatTemplate
from finetune_kit import talk as T
from browser import probe_page

@pytest.fixture(scope='module')
def tok(): return AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))

HISTORY = [('user', 'dude i need your advice|she said she wanted to "take a break"'), ('assistant', 'oh no|when'),
           ('user', 'last night'), ('assistant', 'ugh|im sorry'), ('user', 'what do i do')]

# ---- the prompt is what training saw ----

def test_pairs_prompt_is_the_training_prefix(tok):
    for p, r in [('2?', '2 works'), ('Coffee this week?|Been forever!', 'yes but late|what time')]:
        text, special, stop = T.render_history([('user', p)], tok, PAIRS)
        assert text + PAIRS.response.format(response=r) + tok.eos_token == PAIRS.render({'prompt': p, 'response': r}, tok).text
        assert not special and stop == ['### Human:']

def _chat(history):
    return Chat('t', ['Friend', 'Sam'], 'x', [Turn('Sam' if r == 'assistant' else 'Friend', t) for r, t in history], {'me': 'Sam'})

def test_guanaco_prompt_is_the_training_prefix(tok):
    text, _, stop = T.render_history(HISTORY, tok, Guanaco())
    full = Guanaco().render(_chat(HISTORY + [('assistant', 'x')]), tok).text
    assert full.startswith(text) and full[len(text):] == f" x{tok.eos_token}\n"
    assert stop == ['### Human:', '### Assistant:']

def test_chat_template_prompt_is_the_training_prefix(tok):
    text, special, stop = T.render_history(HISTORY, tok, ChatTemplate(system=False))
    full = ChatTemplate(system=False).render(_chat(HISTORY + [('assistant', 'x')]), tok).text
    assert special and full.startswith(text) and full[len(text):].startswith('x<|im_end|>') and stop == ['<|im_end|>']

def test_history_forms_and_errors(tok):
    as_dicts = [{'role': r, 'text': t} for r, t in HISTORY]
    assert T.render_history(as_dicts, tok) == T.render_history(HISTORY, tok)
    with pytest.raises(TypeError, match=r'history\[0\]'): T.render_history(['hi'], tok)
    with pytest.raises(ValueError, match="end with a 'user'"): T.render_history([], tok)
    with pytest.raises(ValueError, match='no place for a prompt'): T.render_history([('user', 'x')], tok, PAIRS.__class__('{x}'))

# ---- stop markers and seeds, with a scripted model ----

class Scripted(torch.nn.Module):
    "A stand-in model whose `generate` returns a fixed continuation (token ids of `text` + EOS) and records the seed"
    def __init__(self, tok, texts):
        super().__init__()
        self.tok, self.texts, self.seeds, self.w = tok, list(texts), [], torch.nn.Parameter(torch.zeros(1))
        self.config, self.device = SimpleNamespace(is_encoder_decoder=False), torch.device('cpu')
    def generate(self, input_ids, attention_mask=None, **kw):
        self.seeds.append(torch.initial_seed())
        new = self.tok(self.texts.pop(0), add_special_tokens=False)['input_ids'] + [self.tok.eos_token_id]
        return torch.cat([input_ids, torch.tensor([new])], 1)

def test_stop_markers_cut_the_reply(tok):
    m = Scripted(tok, [' yo|sup\n### Human: what about you?'])
    assert T.reply(m, tok, 'hey') == 'yo|sup'
    m = Scripted(tok, [' ok<|im_end|>'])
    assert T.reply(m, tok, 'hey', template=ChatTemplate()) == 'ok'

def test_each_chat_reply_has_its_own_seed_and_bursts_become_bubbles(tok):
    m = Scripted(tok, [' lol|no way|when', ' ok'])
    conv = T.Conversation(m, tok, seed=10)
    assert conv.send('she said yes') == ['lol', 'no way', 'when']
    conv.send('tomorrow')
    assert m.seeds == [11, 13]                                   # never the same draws twice
    html = T.chat_html(conv.history, name='Sam')
    assert html.count('fk-bubble fk-model') == 4 and html.count('fk-bubble fk-user') == 2
    assert html.index('no way') < html.index('when') < html.index('tomorrow')

def test_switch_uses_the_same_model_with_the_adapter_off(tok):
    model = lora(tiny_model('llama'), init_lora_weights=False)
    conv = T.Conversation(model, tok, max_new_tokens=6)
    tuned = T.reply(model, tok, 'dude', max_new_tokens=6)
    with model.disable_adapter(): base = T.reply(model, tok, 'dude', max_new_tokens=6)
    assert T.reply(model, tok, 'dude', max_new_tokens=6, adapter=False) == base != tuned
    conv.switch(False)
    conv.send('dude')
    assert conv.history[-1]['side'] == 'base'

def test_chat_console_loop(tok, capsys):
    m = Scripted(tok, [' lol|no way', ' hm'])
    lines = iter(['she said yes', '/base', 'really?', ''])
    conv = T.chat(m, tok, name='Sam', notebook=False, input_fn=lambda prompt: next(lines))
    out = capsys.readouterr().out
    assert 'Sam [model]: lol\nSam [model]: no way' in out and 'no adapter to switch off' in out
    assert len(conv.history) == 4

# ---- the blind test ----

@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=5), st.text(min_size=1, max_size=5)), min_size=1, max_size=12),
       st.integers(0, 10**6), st.lists(st.integers(0, 1), min_size=12, max_size=12))
def test_blind_test_bookkeeping(pairs, seed, choices):
    real, fake = [r for r, _ in pairs], [f for _, f in pairs]
    t = T.BlindTest([f"p{i}" for i in range(len(pairs))], real, fake, seed)
    assert len(t.rounds) + t.skipped == len(pairs)
    assert t.skipped == sum(r.strip() == f.strip() for r, f in pairs)
    for r in t.rounds: assert sorted(r['options']) == sorted([real[int(r['prompt'][1:])], fake[int(r['prompt'][1:])]])
    spotted = 0
    for c in choices[:len(t.rounds)]:
        real_idx = t.rounds[len(t.picks)]['real']
        spotted += t.pick(c) == (c == real_idx)
    s = t.score
    assert s['answered'] == len(t.rounds) and s['spotted'] + s['fooled'] == s['answered'] and spotted == s['answered']
    assert t.done and t.current is None
    again = T.BlindTest([f"p{i}" for i in range(len(pairs))], real, fake, seed)
    assert [r['options'] for r in again.rounds] == [r['options'] for r in t.rounds]   # the seed fixes the order

def test_blind_console(capsys):
    lines = iter(['a', 'b', 'a'])
    t = T.blind_test(['2?', 'ok?', 'hm'], ['2 works', 'ya', 'lol'], ['yeah', 'sure', 'no'], name='Sam', notebook=False,
                     input_fn=lambda prompt: next(lines))
    assert t.done and 'rounds' in capsys.readouterr().out

# ---- the bubbles in a real headless browser ----

PROBE = '''<script>window.addEventListener('load', () => {
  const box = el => { const r = el.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.right)]; };
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify({user: [...document.querySelectorAll('.fk-user')].map(box),
    model: [...document.querySelectorAll('.fk-tuned, .fk-base')].map(box), width: document.body.clientWidth});
  document.body.appendChild(pre); });</script>'''

def test_bubbles_in_headless_chromium(tmp_path):
    hist = [{'role': 'user', 'text': 'dude i need your advice'}, {'role': 'assistant', 'text': 'LOL|not sure|what happened', 'side': 'tuned'},
            {'role': 'user', 'text': 'she left'}, {'role': 'assistant', 'text': 'I am sorry to hear that.', 'side': 'base'}]
    page = tmp_path/'chat.html'
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0;width:600px">'
                    f'{T.chat_html(hist, name="Sam")}</body></html>', encoding='utf-8')
    got = probe_page(page, PROBE, tmp_path, window='800,600', budget_ms=3000)
    assert len(got['user']) == 2 and len(got['model']) == 4, got       # three messages of the burst, one base reply
    mid = got['width'] / 2
    assert all(r > mid and l > 0 for l, r in got['user']) and all(l < mid for l, r in got['model']), got
    assert all(r > 550 for _, r in got['user']) and all(l < 50 for l, _ in got['model']), got  # right- and left-aligned
