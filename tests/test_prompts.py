"Templates: marker neutralisation (fuzzed), spans, chat-template errors (finetune_kit.prompts)"
import os, re, copy
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from finetune_kit.chats import Chat, Turn
from finetune_kit.testing import default_tokenizer
from finetune_kit.prompts import Guanaco, ChatTemplate, Completion, Alpaca, QUOTES, PAIRS, TemplateRefused, personas

TOK = default_tokenizer()  # shared: tests that change it work on a copy
pieces = st.sampled_from(['### Human:', '### Assistant:', '##Assistant :', '<|im_end|>', '<|im_start|>', '<|endoftext|>',
                          '\n', ' ', '#', 'hello', 'café', '😂', 'Assistant:', '|', '<', '>'])
texts = st.lists(pieces, min_size=1, max_size=12).map(''.join)
turns = st.lists(st.tuples(st.booleans(), texts), min_size=1, max_size=6)

def _chat(ts): return Chat('t', ['G', 'H'], 'f.json', [Turn('H' if me else 'G', t) for me, t in ts], {'me': 'H'})

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns)
def test_guanaco_markers_never_make_turns(ts):
    r = Guanaco().render(_chat(ts), TOK)
    assert len(re.findall(r'#{2,}\s*(?:Human|Assistant)\s*:', r.text)) == len(ts)
    ids = TOK(r.text, add_special_tokens=False)['input_ids']
    assert ids.count(TOK.eos_token_id) == len(ts) and ids.count(TOK.bos_token_id) == 0
    for s, (me, _) in zip(r.spans, ts):
        assert s.persona == me and r.text[s.start:s.end].startswith('### ')
        assert r.text[s.train_start:s.train_end].endswith('<|im_end|>') if me else s.train_start == s.train_end
    assert ''.join(r.text[s.start:s.end] for s in r.spans) == r.text
    expected = sum(len(re.findall(r'<\|im_end\|>|<\|im_start\|>|<\|endoftext\|>', t)) + len(re.findall(r'#{2,}\s*(?:Human|Assistant)\s*:', t)) for _, t in ts)
    assert r.escaped == expected

@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns)
def test_chat_template_spans(ts):
    r = ChatTemplate(system='S').render(_chat(ts), TOK)
    assert ''.join(r.text[s.start:s.end] for s in r.spans) == r.text
    assert TOK(r.text, add_special_tokens=False)['input_ids'].count(TOK.eos_token_id) == len(ts) + 1  # + system turn
    for s, (me, t) in zip(r.spans, ts):
        if me: assert r.text[s.train_start:s.train_end].endswith('<|im_end|>')

def test_personas_and_groups():
    c = Chat('g', ['A', 'B', 'Me'], 'f', [Turn('A', 'hi'), Turn('B', 'yo'), Turn('Me', 'hey all')], {'me': 'Me'})
    msgs, flags, _ = ChatTemplate(system=False).messages(c, TOK)
    assert [m['content'] for m in msgs] == ['A: hi', 'B: yo', 'hey all'] and flags == [False, False, True]
    assert personas(c, ['A', 'B']) == {'A', 'B'}
    r = Guanaco().render(c, TOK, persona=['A', 'B'])
    assert [s.persona for s in r.spans] == [True, True, False]

def test_chat_template_errors():
    two = Chat('b', ['A', 'B'], 'f', [Turn('A', 'x'), Turn('A', 'y'), Turn('B', 'z')], {'me': 'B'})
    strict = copy.copy(TOK)
    strict.chat_template = ("{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception("
                            "'Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{{ m['content'] }}</s>{% endfor %}")
    with pytest.raises(TemplateRefused, match=r'merge=True'): ChatTemplate().render(two, strict)
    lead = Chat('b', ['A', 'B'], 'f', [Turn('B', 'first'), Turn('A', 'x'), Turn('B', 'z')], {'me': 'B'})
    assert ChatTemplate(merge=True).render(lead, strict).text == 'x</s>z</s>'   # a leading persona turn is dropped
    rewrite = copy.copy(TOK); rewrite.chat_template = "{% for m in messages %}{{ m['content'] | upper }}\n{% endfor %}"
    with pytest.raises(TemplateRefused, match='Guanaco'): ChatTemplate().render(two, rewrite)
    trim = copy.copy(TOK)
    trim.chat_template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] | trim }}<|im_end|>{% endfor %}"
    r = ChatTemplate(system=False).render(Chat('t', ['A', 'B'], 'f', [Turn('A', ' x '), Turn('B', '  y  ')], {'me': 'B'}), trim)
    assert r.text[r.spans[1].train_start:r.spans[1].train_end] == 'y<|im_end|>'
    none = copy.copy(TOK); none.chat_template = None
    with pytest.raises(TemplateRefused, match='no chat template'): ChatTemplate().render(two, none)

def test_completions():
    r = QUOTES.render({'author': 'A', 'quote': 'say <|im_end|> twice'}, TOK)
    assert r.escaped == 1 and TOK(r.text)['input_ids'].count(2) == 1
    with pytest.raises(KeyError, match="needs field 'quote'"): QUOTES.render({'author': 'x'}, TOK)
    a = Alpaca().render({'instruction': 'Do', 'input': '  ', 'output': 'ok'}, TOK)
    assert '### Input:' not in a.text and a.text[a.spans[0].train_start:] == 'ok<|im_end|>'
    p = PAIRS.render({'prompt': '### Assistant: fake', 'response': 'real'}, TOK)
    assert p.text.count('### Assistant:') == 1 and p.escaped == 1
