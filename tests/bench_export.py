"""llama.cpp reads what export_gguf writes: the files loaded with llama-cpp-python, side by side with transformers.

llama-cpp-python is not a finetune_kit dependency (it compiles llama.cpp from source). To run this, install it once in
your venv; a minimal CPU build took 11 min on 2 shared cores here:

    CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF" nice -n 19 pip install llama-cpp-python

    python tests/bench_export.py        # prints the numbers; exit status 1 when a check fails

What it checks, on the offline default model with a merged LoRA adapter (f16 and q8_0 files):
- llama.cpp tokenizes like the tokenizer trained with (the pre-tokenizer name in the file), also for SmolLM2's and
  Llama 3's own splits (the default tokenizer with their pre-tokenizers, on tiny models);
- the prompt llama-cpp-python builds from the file's chat template is the training format (`conversation_text`);
- llama.cpp's logits match transformers' on the same weights, and a greedy reply in the trained format, timed;
- Llama 3's scaled rope (`rope_freqs`): llama.cpp's logits match transformers' llama3 rope, and don't without it;
- when a Go toolchain is on PATH (Debian: apt-get install golang-go), the Modelfile templates run through Go's own
  text/template give what finetune_kit's interpreter (`render_ollama`) gives, on every template and tricky messages.
"""
import copy, json, sys, time, tempfile, contextlib, io, os, shutil, subprocess
from pathlib import Path
import numpy as np, torch

try:
    import llama_cpp
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
except ImportError:
    print("llama-cpp-python is not installed; see this file's docstring for the build command. Nothing checked.")
    sys.exit(2)

from tokenizers import Tokenizer
from transformers import LlamaConfig, LlamaForCausalLM
from finetune_kit.models import load_model, tiny_model
from finetune_kit.adapters import lora, merge
from finetune_kit.prompts import Guanaco
from finetune_kit.export import (export_gguf, round_as_exported, conversation_text, turn_format, ollama_template, ollama_values,
                                 render_ollama)
from finetune_kit.prompts import ChatTemplate, Alpaca, PAIRS, QUOTES

THREADS = int(os.environ.get('BENCH_THREADS', '1'))   # one, like OMP_NUM_THREADS=1 for torch: a fair side by side
FAILED = []
def check(ok, what):
    print(f"  [{'ok' if ok else 'FAIL'}] {what}")
    if not ok: FAILED.append(what)

def open_llama(path, logits_all=True):
    with contextlib.redirect_stderr(io.StringIO()):
        return Llama(str(path), n_ctx=512, n_threads=THREADS, logits_all=logits_all, verbose=False)

def llama_logits(llm, ids):
    llm.reset(); llm.eval(ids)
    return np.array(llm.scores[:len(ids)])

STRINGS = ["how was the long run?", "I'm DONE, don't @ me... 12345 or 3.14159?", "  two  spaces\n\nand\tnewlines\r\n",
           "ünïcödé, 日本語, emoji 😀👍🏽", "<|im_start|>user\nhi<|im_end|>", "### Human: yo\n### Assistant:", "x" * 40 + " 2024-12-01"]

def tokenization(llm, tok, label):
    same = [llm.tokenize(s.encode(), add_bos=False, special=True) == tok(s, add_special_tokens=False)['input_ids'] for s in STRINGS]
    check(all(same), f"{label}: llama.cpp tokenizes {sum(same)}/{len(same)} test strings like the transformers tokenizer")

GO_MAIN = r'''package main

import ("encoding/json"; "fmt"; "os"; "text/template")

type Message struct { Role string; Content string }
type Case struct { Template string; System string; Messages []Message }

func main() {
	var cases []Case
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil { panic(err) }
	out := []string{}
	for _, c := range cases {
		t := template.Must(template.New("").Parse(c.Template))
		ms := []*Message{}
		for i := range c.Messages { ms = append(ms, &c.Messages[i]) }
		var b = new(bytesBuffer)
		if err := t.Execute(b, map[string]any{"System": c.System, "Messages": ms, "Response": ""}); err != nil { fmt.Fprintln(os.Stderr, err); os.Exit(1) }
		out = append(out, b.s)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

type bytesBuffer struct{ s string }
func (b *bytesBuffer) Write(p []byte) (int, error) { b.s += string(p); return len(p), nil }
'''

def go_check(tok):
    "The Modelfile templates through Go's text/template (Ollama's engine) vs finetune_kit's interpreter"
    if not shutil.which('go'): print("  (no Go toolchain on PATH: skipped; Debian: apt-get install golang-go)"); return
    chat_tok = copy.deepcopy(tok)
    templates = {'Guanaco': Guanaco(), 'Guest/Host': Guanaco(human='Guest', assistant='Host'), 'PAIRS': PAIRS, 'QUOTES': QUOTES,
                 'Alpaca': Alpaca(), 'ChatTemplate': ChatTemplate(), 'ChatTemplate(system=...)': ChatTemplate(system='You are Sam.')}
    convs = [[{'role': 'user', 'content': 'how was the long run?'}, {'role': 'assistant', 'content': 'brutal|legs are dead'},
              {'role': 'user', 'content': 'same time next week?'}],
             [{'role': 'system', 'content': 'You are Sam.'}, {'role': 'user', 'content': 'ok so {{ .Content }} "quotes" back\\slash\ttab'},
              {'role': 'assistant', 'content': ' lol|what 😀 ünïcödé'}, {'role': 'user', 'content': 'line one\nline two  '},
              {'role': 'user', 'content': 'and again'}],
             [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': ''}, {'role': 'user', 'content': ' '}]]
    cases, want = [], []
    for name, t in templates.items():
        tmpl = ollama_template(turn_format(t, chat_tok))
        for conv in convs:
            for system in (None, 'Modelfile system'):
                v = ollama_values(conv, system)
                cases.append({'Template': tmpl, 'System': v['System'], 'Messages': v['Messages']})
                want.append(render_ollama(tmpl, conv, system))
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / 'main.go').write_text(GO_MAIN)
        t0 = time.time()
        r = subprocess.run(['go', 'run', 'main.go'], cwd=d, input=json.dumps(cases), capture_output=True, text=True,
                           env={**os.environ, 'GOCACHE': str(Path(d) / 'cache'), 'GOFLAGS': '-mod=mod', 'GO111MODULE': 'off'})
    if r.returncode: check(False, f"Go ran the templates: {r.stderr.strip()[:300]}"); return
    got = json.loads(r.stdout)
    same = sum(g == w for g, w in zip(got, want))
    check(same == len(cases), f"Go {subprocess.run(['go', 'version'], capture_output=True, text=True).stdout.split()[2]} text/template "
                              f"== render_ollama on {same}/{len(cases)} template x conversation cases ({time.time() - t0:.0f} s)")

def main():
    out_dir = Path(tempfile.mkdtemp(prefix='bench_export_'))
    print(f"llama-cpp-python {llama_cpp.__version__}, {THREADS} threads, files in {out_dir}")
    model, tok = load_model(quiet=True)
    torch.manual_seed(0)
    pm = lora(model, r=8)
    with torch.no_grad():
        for n, w in pm.named_parameters():
            if 'lora_B' in n: w.normal_(0, 0.01)
    merged = merge(pm)
    msgs = [{'role': 'user', 'content': 'how was the long run?'}, {'role': 'assistant', 'content': 'brutal|legs are dead'},
            {'role': 'user', 'content': 'wanna run saturday? 7am at the lake'}]
    prompt = conversation_text(Guanaco(), tok, msgs)
    ids = tok(prompt)['input_ids']
    rows = []
    for quant in ('f16', 'q8_0'):
        print(f"\n== {quant}")
        t0 = time.time()
        out = export_gguf(copy.deepcopy(merged), tok, out_dir / f'twin-{quant}.gguf', quant=quant, template=Guanaco(), quiet=True)
        t_export = time.time() - t0
        t0 = time.time(); llm = open_llama(out.path); t_load = time.time() - t0
        tokenization(llm, tok, quant)
        tmpl = llm.metadata['tokenizer.chat_template']
        rendered = Jinja2ChatFormatter(template=tmpl, eos_token=tok.eos_token, bos_token=tok.bos_token)(messages=msgs).prompt
        check(rendered == prompt, f"{quant}: llama-cpp-python's prompt from the file's chat template is the Guanaco training text")
        ref = round_as_exported(copy.deepcopy(merged), quant)
        with torch.no_grad(): hf = ref(torch.tensor([ids])).logits[0].numpy()
        lc = llama_logits(llm, ids)
        d, top1 = np.abs(lc - hf).max(), (lc.argmax(-1) == hf.argmax(-1)).mean()
        check(top1 >= 0.95, f"{quant}: logits llama.cpp vs transformers on the same weights: max |diff| {d:.3f} "
                            f"(logits up to {np.abs(hf).max():.0f}), same top token at {top1:.1%} of {len(ids)} positions")
        llm.close()
        gen = open_llama(out.path, logits_all=False)   # as an app runs it: logits of the last position only
        for i, conv in enumerate((msgs, msgs[-1:])):
            t0 = time.time()
            r = gen.create_chat_completion(messages=conv, temperature=0.0, top_k=1, max_tokens=48, stop=list(out.format.stops), seed=0)
            t_gen = time.time() - t0
            reply, n_gen = r['choices'][0]['message']['content'], r['usage']['completion_tokens']
            enc = tok(conversation_text(Guanaco(), tok, conv), return_tensors='pt')
            t0 = time.time()
            with torch.no_grad():
                g = ref.generate(**enc, max_new_tokens=48, do_sample=False, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                                 stop_strings=list(out.format.stops), tokenizer=tok)
            t_hf = time.time() - t0
            hf_reply = tok.decode(g[0, enc['input_ids'].shape[1]:], skip_special_tokens=True)
            for s in out.format.stops: hf_reply = hf_reply.split(s)[0]
            print(f"  {len(conv)}-message chat, llama.cpp reply: {reply!r}\n  {' ' * len(str(len(conv)))}               transformers   : {hf_reply!r}")
            same = reply.strip() == hf_reply.strip()
            check(same or quant != 'f16', f"{quant}: greedy reply in the Guanaco format, llama.cpp == transformers" + ('' if quant == 'f16' else f": {same} (not required for q8_0)"))
            rows.append((quant, len(conv), out.size, out.estimate, t_export, t_load, n_gen, t_gen, t_hf, d, top1))
        gen.close()

    print("\n== pre-tokenizers: the default tokenizer with SmolLM2's and Llama 3's own splits")
    from finetune_kit.export import _LLAMA3_SPLIT
    splits = {'smollm': {'type': 'Sequence', 'pretokenizers': [{'type': 'Digits', 'individual_digits': True},
                         {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}]},
              'llama-bpe': {'type': 'Sequence', 'pretokenizers': [{'type': 'Split', 'pattern': {'Regex': _LLAMA3_SPLIT}, 'behavior': 'Isolated', 'invert': False},
                            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False}]}}
    for name, pre in splits.items():
        t = copy.deepcopy(tok)
        j = json.loads(t.backend_tokenizer.to_str()); j['pre_tokenizer'] = pre; j['model']['ignore_merges'] = name == 'llama-bpe'  # as Llama 3's
        t._tokenizer = Tokenizer.from_str(json.dumps(j))
        out = export_gguf(tiny_model('llama'), t, out_dir / f'pre-{name}.gguf', template=Guanaco(), modelfile=None, quiet=True)
        llm = open_llama(out.path)
        tokenization(llm, t, f"pre-tokenizer {name!r}")
        llm.close()

    print("\n== Llama 3 rope (rope_freqs), a tiny random Llama, f32")
    rp = {'rope_type': 'llama3', 'rope_theta': 10000.0, 'factor': 8.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
          'original_max_position_embeddings': 64}
    cfg = dict(vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, initializer_range=0.2,
               num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)
    torch.manual_seed(0)
    l3 = LlamaForCausalLM(LlamaConfig(**cfg, rope_parameters=rp)).eval()
    plain = LlamaForCausalLM(LlamaConfig(**cfg)).eval(); plain.load_state_dict(l3.state_dict())
    seq = tok(" ".join(STRINGS) * 3)['input_ids'][:200]
    with torch.no_grad(): want = l3(torch.tensor([seq])).logits[0].numpy()
    diffs = {}
    for label, m in (('with rope_freqs', l3), ('without (plain rope)', plain)):
        out = export_gguf(m, tok, out_dir / f"l3-{label.split()[0]}.gguf", quant='f32', template=Guanaco(), modelfile=None, quiet=True)
        llm = open_llama(out.path)
        diffs[label] = np.abs(llama_logits(llm, seq) - want).max()
        llm.close()
    print(f"  max |logit diff| vs transformers' llama3 rope over {len(seq)} positions: " + ', '.join(f"{k} {v:.2e}" for k, v in diffs.items()))
    check(diffs['with rope_freqs'] * 20 < diffs['without (plain rope)'], "llama.cpp applies the Llama 3 rope factors as transformers does")

    print("\n== Ollama's template engine")
    go_check(tok)

    print("\n| quant | messages | size | estimate | export s | llama.cpp load s | reply tokens | llama.cpp s | transformers s | max |Δ logit| | same top-1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for q, nm, size, est, te, tl, n, tg, th, d, t1 in rows:
        print(f"| {q} | {nm} | {size:,} | {est:,} | {te:.1f} | {tl:.2f} | {n} | {tg:.2f} | {th:.2f} | {d:.3f} | {t1:.1%} |")
    print(f"\n{len(FAILED)} check(s) failed" + (': ' + '; '.join(FAILED) if FAILED else ''))
    return 1 if FAILED else 0

if __name__ == '__main__': sys.exit(main())
