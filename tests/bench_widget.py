"""Widget overhead: the same short `fit` with the notebook widget (drawn into an unshown ipywidgets container) and
with no display at all. Prints wall times, the difference, and the widget's own measured drawing time as a share of
training time (the direct figure; wall-time differences on a shared CPU are noisy, so runs alternate and the median
is taken).
Usage: python tests/bench_widget.py [--model tiny|default] [--steps 40] [--repeats 3]"""
import argparse, os, statistics, tempfile, time
os.environ.setdefault('MPLBACKEND', 'Agg'); os.environ.setdefault('HF_HUB_OFFLINE', '1')
from unittest import mock
import torch
from datasets import Dataset
from transformers import AutoTokenizer
from peft import LoraConfig
from finetune_kit.adapters import peft_model
from finetune_kit.models import tiny_model, load_model, default_checkpoint
from finetune_kit import train as T
from finetune_kit.widget import NotebookDisplay, ConsoleDisplay

ap = argparse.ArgumentParser()
ap.add_argument('--model', default='tiny'); ap.add_argument('--steps', type=int, default=40); ap.add_argument('--repeats', type=int, default=3)
a = ap.parse_args()
tok = AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))
ids = tok("### Human: How was your weekend?\n### Assistant: hej! lazy one :) hiking, then pierogi with mum")['input_ids']
ds = Dataset.from_dict({'input_ids': [ids]*64, 'labels': [ids]*64, 'attention_mask': [[1]*len(ids)]*64})

def make():
    base = tiny_model('llama') if a.model == 'tiny' else load_model(quiet=True)[0]
    return peft_model(base, LoraConfig(r=8, target_modules=['q_proj', 'v_proj']))

def run(widget):
    disp = NotebookDisplay(show=False) if widget else ConsoleDisplay(quiet=True)
    with mock.patch.object(T, 'make_display', lambda *x, **k: disp):
        r = T.fit(make(), tok, ds, output_dir=tempfile.mkdtemp(), max_steps=a.steps, bs=4, logging_steps=1, save_strategy='no')
    return r.seconds, disp

run(False)  # warm-up
times = {True: [], False: []}; share = []
for i in range(a.repeats):
    for w in (True, False):
        s, d = run(w); times[w].append(s)
        if w: share.append(d.draw_seconds/s); draws = d.draws
on, off = statistics.median(times[True]), statistics.median(times[False])
print(f"model={a.model} steps={a.steps} logging every step, repeats={a.repeats}, torch threads={torch.get_num_threads()}")
print(f"with widget   : {on:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times[True])})")
print(f"without widget: {off:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times[False])})")
print(f"wall-time overhead: {100*(on-off)/off:+.2f}%  ({off/a.steps*1000:.0f} ms/step)")
print(f"widget drawing time / training time: {100*statistics.median(share):.2f}% (median; {draws} redraws in the last run)")
