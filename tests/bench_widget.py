"""Widget overhead, with its live guarantees on: the same short `fit` with the notebook widget (status refreshed every
0.5 s by its ticker thread, plot redrawn by its own thread within a 2% CPU budget and at least every 5 s, into an
unshown ipywidgets container) and with no display at all. Prints, side by side from one run: wall times and their
difference, the process's CPU time with and without (robust to other load on a shared machine), the widget's own
drawing CPU time as a share of training time, and the refresh gaps it kept (a plot gap can exceed 5 s by the time
to the next logged step: there is nothing new to draw before it). Runs alternate
(widget, none, widget, ...) and medians are taken, since wall times on a shared CPU are noisy.
Usage: python tests/bench_widget.py [--model default|tiny] [--steps 60] [--repeats 3]"""
import argparse, os, statistics, tempfile, time
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
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
ap.add_argument('--model', default='default', choices=['default', 'tiny'])
ap.add_argument('--steps', type=int, default=60)
ap.add_argument('--repeats', type=int, default=3)
a = ap.parse_args()
tok = AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))
ids = tok("### Human: How was your weekend?\n### Assistant: hej! lazy one :) hiking, then pierogi with mum")['input_ids']
ds = Dataset.from_dict({'input_ids': [ids]*64, 'labels': [ids]*64, 'attention_mask': [[1]*len(ids)]*64})

def make():
    base = tiny_model('llama') if a.model == 'tiny' else load_model(quiet=True)[0]
    return peft_model(base, LoraConfig(r=8, target_modules=['q_proj', 'v_proj']))

def watch(widget):
    "Times at which `widget`'s value changed"
    seen = []
    widget.observe(lambda ch: seen.append(time.monotonic()), names='value')
    return seen

def gaps(times, start, end):
    ts = [start] + [t for t in times if start <= t <= end] + [end]
    return max(b - a for a, b in zip(ts, ts[1:]))

def run(widget):
    disp = NotebookDisplay(show=False) if widget else ConsoleDisplay(quiet=True)
    status, frames = (watch(disp.status), watch(disp.image)) if widget else ([], [])
    model = make()
    with mock.patch.object(T, 'make_display', lambda *x, **k: disp):
        t0, cpu0 = time.monotonic(), time.process_time()
        r = T.fit(model, tok, ds, output_dir=tempfile.mkdtemp(), max_steps=a.steps, bs=4, logging_steps=1,
                  save_strategy='no')
        t1, cpu = time.monotonic(), time.process_time() - cpu0
    out = dict(seconds=r.seconds, cpu=cpu)  # cpu: all threads of this process, whatever else the machine runs
    if widget:
        first = frames[1] if len(frames) > 1 else t1  # the 'waiting' frame, then the first with a point
        out.update(share=disp.draw_seconds/r.seconds, frames=len(frames), status_gap=gaps(status, t0 + 1, t1),
                   plot_gap=gaps(frames, first, t1), cold=disp.pane.costs[0],
                   frame_ms=statistics.median(disp.pane.costs[1:]) * 1000 if len(disp.pane.costs) > 1 else 0)
    return out

run(False)  # warm-up: imports, caches
on, off = [], []
for i in range(a.repeats):
    on.append(run(True))
    off.append(run(False))
med = lambda rs, k: statistics.median(r[k] for r in rs)
runs = lambda rs, k, fmt: ', '.join(fmt.format(r[k]) for r in rs)
w, n = med(on, 'seconds'), med(off, 'seconds')
print(f"model={a.model} steps={a.steps} logging every step, repeats={a.repeats}, torch threads={torch.get_num_threads()}")
print(f"with widget   : {w:.2f} s (runs: {runs(on, 'seconds', '{:.2f}')})")
print(f"without widget: {n:.2f} s (runs: {runs(off, 'seconds', '{:.2f}')})")
print(f"wall-time difference: {100*(w-n)/n:+.2f}%  ({n/a.steps*1000:.0f} ms/step without the widget)")
cw, cn = med(on, 'cpu'), med(off, 'cpu')
print(f"process CPU time: {cw:.2f} s with, {cn:.2f} s without: {100*(cw-cn)/cn:+.2f}% "
      f"(runs with: {runs(on, 'cpu', '{:.2f}')}; without: {runs(off, 'cpu', '{:.2f}')})")
print(f"widget drawing CPU / training time: {100*med(on, 'share'):.2f}% (median; runs: {runs(on, 'share', '{:.2%}')}; "
      f"the first, cold frame, {1000*med(on, 'cold'):.0f} ms, included)")
print(f"refresh kept: status every <= {max(r['status_gap'] for r in on):.2f} s, plot every <= "
      f"{max(r['plot_gap'] for r in on):.2f} s, {med(on, 'frames'):.0f} frames a run, "
      f"median frame {med(on, 'frame_ms'):.0f} ms CPU")
