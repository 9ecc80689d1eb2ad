"""The CUDA story of finetune_kit in one run and one report: T4 emulation, estimate_memory against real peaks, packing.

On a GPU machine (no network needed; at most 8 minutes: a 480 s budget, self-timed, split into a budget per section):

    python bench/cuda_check.py --out DIR            # writes DIR/cuda_check.json and DIR/cuda_check.txt (the table)

Rehearsal anywhere, on CPU with tiny sizes (what CI runs, tests/test_cuda_check.py; CUDA-only items are skipped,
saying so):

    python bench/cuda_check.py --dry --out DIR

On the device tool (a lent GPU machine with its own python3 and torch, no network, one bash command of at most 2,000
characters):
  1. here, once, on a machine with PyPI (needs the dev venv):   python bench/cuda_check.py --prepare
     It fills .cuda_check/ (which git-ignores itself, ~27 MB): wheels of the tested versions (constraints.txt)
     of what that machine's image lacks or has older (transformers, peft, datasets, bitsandbytes trimmed to its CUDA 13
     libraries, trl, ...) and the offline default tokenizer. `--bundle-python` if that image's Python is not 3.12.
  2. the one command, with carry=[".cuda_check"] and timeout_s=600:
     PYTHONUNBUFFERED=1 python3 bench/cuda_check.py --bundle .cuda_check --out $OUT 2>&1 | tee $OUT/cuda_check.log
     (the report and the table come back in $OUT, the report rewritten after every section, so a timeout keeps what
     ran). 15 minutes of device time hold one start (1-2 min) and one full run, not two: to rerun only what failed,
     call again at once, while the machine is warm, with e.g. `--only t4-oom,t4-qlora-7B --budget 200` (env and
     data always run).

What it runs (sections, in order; each has a time budget, a failure is recorded and the next section runs):
  env                  versions, GPU, bf16 support, CUDA context size; the T4 cap (15 GB, via
                       torch.cuda.set_per_process_memory_fraction)
  data                 a long-tailed corpus from the shipped sample data: the same samples one per row and multipacked
  t4-qlora-1B/3B/7B    random-initialised Llama-3.2-1B/-3B and the podcast story's 7B shapes (KNOWN_SIZES) saved to a
                       local checkpoint and loaded with `qlora(path)` in 4-bit onto CUDA, fp16 (no bf16) under the cap;
                       a short `fit` (console display, GPU readouts) at batch 1 and at the largest batch that fits
                       (estimate_memory's prediction, then tried: +1 while it fits, -1 on OOM): step time, tokens/s,
                       peak allocated/reserved memory, estimate_memory's prediction and its error
  t4-lora-1B           the same for LoRA on the fp16 1B, without and with gradient checkpointing
  t4-oom               a batch that cannot fit under the cap: torch.OutOfMemoryError carrying our message with the
                       estimate, and an adapter saved (found as the newest adapter folder under output_dir)
  t4-fp16-overflow     logits pushed past fp16's 65504 from step 4 on: NonFiniteLoss with the fp16 explanation, the
                       last good adapter saved, finite and equal to the weights in memory
  packing-isolation    packed-row outputs equal the same samples run alone (check_packing's probe and a full
                       2048-token row), fp16 and bf16 under sdpa, flash-attention when importable; a control without
                       isolation must differ
  t4-packed-vs-padded  real tokens/s of the same samples padded (one per row) and multipacked, QLoRA 1B, same batch
  bf16-qlora-1B        the Ampere+ path uncapped: fit's automatic precision must pick bf16
  trl-vs-fit           TRL's SFTTrainer (packing=True and its default) against fit multipack: same rows, model, GPU

Where the numbers go: `memory_rows` of the report (printed as a markdown table) is the measured column that goes beside
`estimate_memory`'s table in nbs/04_adapters.ipynb (the 1B LoRA and 1B/3B/7B QLoRA rows, batch 1 x 2048 tokens).
"Measured" there is the peak reserved by PyTorch's allocator plus the CUDA context (measured in `env`), which is what a
real card must hold; the cap itself only bounds the allocator, so a real T4 has slightly less room than the emulation.
"""
import argparse, contextlib, gc, importlib.util, io, json, math, os, platform, re, shutil, subprocess, sys, tempfile
import time, traceback, zipfile
from pathlib import Path

T_START = time.monotonic()  # the report's total counts from here: bundle install and imports included
ROOT = Path(__file__).resolve().parents[1]
BUNDLE_SITE = Path(tempfile.gettempdir()) / 'cuda_check_site'
BUNDLE_PACKAGES = ('transformers', 'peft', 'datasets', 'dill', 'multiprocess', 'bitsandbytes', 'regex', 'fsspec')
TRL_VERSION = '1.16.0'  # not a project dependency (not in constraints.txt); --dry ran with it on CPU


def _bootstrap(argv):
    "With `--bundle DIR`: install DIR/wheels into a private folder, first on sys.path (before torch is imported)"
    if '--bundle' not in argv: return
    bundle = argv[argv.index('--bundle') + 1]
    wheels = sorted((Path(bundle) / 'wheels').glob('*.whl'))
    if not wheels: sys.exit(f"cuda_check: --bundle {bundle} has no wheels/*.whl; make it with --prepare")
    marker = BUNDLE_SITE / '.installed'
    if not marker.exists() or marker.read_text() != '\n'.join(w.name for w in wheels):
        subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-index', '--no-deps', '--no-compile',
                        '--no-cache-dir', '--upgrade', '--target', str(BUNDLE_SITE), *map(str, wheels)], check=True)
        marker.write_text('\n'.join(w.name for w in wheels))
    sys.path.insert(0, str(BUNDLE_SITE))

if __name__ == '__main__': _bootstrap(sys.argv)
sys.path.insert(0, str(ROOT))
for _k in ('HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'TRANSFORMERS_OFFLINE'): os.environ.setdefault(_k, '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('MPLBACKEND', 'Agg')

import numpy as np, torch
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from finetune_kit.models import load_model, supports_bf16
from finetune_kit.chats import Chat, Turn, read_whisperx, read_messenger, sample_data
from finetune_kit.tokens import tokenize_chats, Collator, check_packing, describe
from finetune_kit.adapters import (KNOWN_SIZES, GPU_MEMORY_GB, GB, known_config, estimate_memory, lora, qlora,
                                   checkpointing_on)
from finetune_kit.train import fit, training_defaults, NonFiniteLoss

T4_GB = GPU_MEMORY_GB['T4']   # usable GB (2**30 bytes) of a T4: the cap of the emulation
TOTAL_BUDGET_S = 480          # the whole run, measured by the script


# ------------------------------------------------------------------ sections, budgets, the report

class SkipSection(Exception): "Raised inside a section to skip the rest of it, with the reason"

class Section:
    "One part of the run: its own deadline, notes, value checks, skipped items and results"
    def __init__(self, name, budget):
        self.name, self.budget, self.t0 = name, budget, time.monotonic()
        self.deadline = self.t0 + budget
        self.notes, self.checks, self.skipped, self.results, self.error = [], [], [], {}, None
        self.unmeasured = []  # CUDA paths a section that ran could not measure (e.g. flash-attention absent)

    def left(self)->float: return self.deadline - time.monotonic()
    def note(self, msg): self.notes.append(msg)
    def skip(self, why): raise SkipSection(why)
    def check(self, ok, what, value=None)->bool:
        "Record a checked value; a False check fails the section"
        self.checks.append(dict(what=what, ok=bool(ok), value=value)); return bool(ok)
    def time_for(self, item, need=5.0)->bool:
        "True when `need` seconds are left; otherwise record `item` as skipped for the budget"
        if self.left() >= need: return True
        self.skipped.append(dict(item=item, why=f"section budget spent ({self.budget:.0f} s)")); return False

    def record(self, status, seconds):
        return dict(name=self.name, status=status, seconds=round(seconds, 1), budget_s=round(self.budget, 1),
                    notes=self.notes, checks=self.checks, skipped=self.skipped, results=self.results, error=self.error,
                    unmeasured=self.unmeasured)


SECTIONS = []  # (name, budget_s, function, CUDA paths it measures)

def section(name, budget, cuda_paths=()):
    def deco(fn): SECTIONS.append((name, budget, fn, tuple(cuda_paths))); return fn
    return deco


def run_sections(ctx, sections, total_s, only=None, min_left=10.):
    "Run `sections` in order within `total_s` seconds, none with under `min_left` left; a failure doesn't stop the run"
    for name, budget, fn, paths in sections:
        left = total_s - (time.monotonic() - ctx.t0)
        sec = Section(name, max(0., min(budget, left)))
        if only and name not in only | {'env', 'data'}:  # env and data set up what every other section uses
            ctx.add(sec.record('skipped', 0) | dict(why='not in --only'), paths); continue
        if left < min(min_left, budget):
            ctx.add(sec.record('skipped', 0) | dict(why=f"total time budget spent ({total_s:.0f} s)"), paths); continue
        status, why = 'ok', None
        try: fn(ctx, sec)
        except SkipSection as e: status, why = 'skipped', str(e)
        except Exception as e:  # torch.OutOfMemoryError included: the run goes on
            status, sec.error = 'failed', f"{type(e).__name__}: {e}"[:3000]
            sec.note('traceback: ' + ' | '.join(traceback.format_exc().strip().splitlines()[-6:]))
        finally: ctx.cleanup()
        if status == 'ok' and not all(c['ok'] for c in sec.checks): status = 'failed'
        if status == 'ok' and sec.skipped: status = 'partial'
        ctx.add(sec.record(status, time.monotonic() - sec.t0) | ({'why': why} if why else {}), paths)
        said = f" ({why or sec.error})" if why or sec.error else ''
        print(f"== {name}: {status} in {time.monotonic() - sec.t0:.1f} s{said}", flush=True)


class Context:
    "Settings of the run (CUDA or dry), shared objects (tokenizer, data, checkpoints) and the report being written"
    def __init__(self, args):
        self.t0, self.dry, self.args = T_START, args.dry, args
        self.cuda = torch.cuda.is_available() and not args.dry
        self.device = 'cuda' if self.cuda else 'cpu'
        self.seq = 128 if self.dry else 2048
        self.steps1, self.steps_n = (3, 2) if self.dry else (4, 3)  # optimizer steps of a run at batch 1 / above
        self.t4_dtype = torch.float16 if self.cuda else torch.float32   # T4 emulation: fp16 compute, never bf16
        self.t4_precision = dict(fp16=True, bf16=False) if self.cuda else {}
        self.cap_gb, self.context_gb = None, None
        self.out = Path(args.out); self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix='cuda_check-', dir=_work_root(args, self.cuda)))
        self.tok, self.data, self.ckpts, self.runs = None, {}, {}, []
        self.report = dict(script='bench/cuda_check.py', mode='dry' if self.dry else 'cuda',
                           started=time.strftime('%Y-%m-%d %H:%M:%S %Z'), budget_s=args.budget, seq_len=self.seq,
                           sections=[], runs=self.runs, memory_rows=[], unmeasured=[], seconds=None)

    def add(self, rec, paths):
        self.report['sections'].append(rec)
        if self.dry: self.report['unmeasured'] += [f"{p} [{rec['name']}: dry run on CPU]" for p in paths]
        elif rec['status'] != 'ok':
            self.report['unmeasured'] += [f"{p} [{rec['name']}: {rec['status']}]" for p in paths]
        else: self.report['unmeasured'] += [f"{p} [{rec['name']}]" for p in rec.get('unmeasured', [])]
        self.save()

    def save(self):
        self.report['seconds'] = round(time.monotonic() - self.t0, 1)
        (self.out / 'cuda_check.json').write_text(json.dumps(self.report, indent=1, default=str))

    def cleanup(self):
        gc.collect()
        if self.cuda: torch.cuda.empty_cache()

    def set_cap(self, gb):
        "Cap this process's CUDA allocator at `gb` GB (None: the whole card)"
        if not self.cuda: return
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(1.0 if gb is None else min(1.0, gb * GB / total))
        self.cap_gb = gb

    def result(self, section_name):
        return next((s['results'] for s in self.report['sections'] if s['name'] == section_name), {})


def _work_root(args, cuda):
    "Where checkpoints go: --work, else /dev/shm when it holds the 7B (fast), else the temp folder"
    if args.work: Path(args.work).mkdir(parents=True, exist_ok=True); return args.work
    shm = Path('/dev/shm')
    if cuda and shm.is_dir() and shutil.disk_usage(shm).free > 30 * GB: return str(shm)
    return None


# ------------------------------------------------------------------ measuring one fit

class CountingCollator:
    "Wraps a collator and counts the real tokens (sum of row lengths, before padding) of every batch it makes, in order"
    def __init__(self, inner): self.inner, self.counts = inner, []
    def __call__(self, features):
        self.counts.append(sum(len(f['input_ids']) for f in features))
        return self.inner(features)


class StepTimer(TrainerCallback):
    "Times each optimizer step (synchronising CUDA), takes its real tokens from `counter`, stops the run at `deadline`"
    def __init__(self, deadline=None, cuda=False, counter=None):
        self.deadline, self.cuda, self.counter, self.steps, self.stopped = deadline, cuda, counter, [], False
    def _sync(self):
        if self.cuda: torch.cuda.synchronize()
    def on_step_begin(self, args, state, control, **kwargs):
        self._sync(); self._t = time.perf_counter()
    def on_step_end(self, args, state, control, **kwargs):
        self._sync()
        k = len(self.steps)  # batches are collated in step order (one per step: no gradient accumulation here)
        tokens = self.counter.counts[k] if len(self.counter.counts) > k else 0
        self.steps.append((time.perf_counter() - self._t, tokens))
        if self.deadline and time.monotonic() > self.deadline: control.should_training_stop = self.stopped = True
    def summary(self)->dict:
        timed = self.steps[1:] if len(self.steps) > 1 else self.steps  # step 1 warms kernels and the optimizer up
        t, n = sum(s for s, _ in timed), sum(k for _, k in timed)
        return dict(steps=len(self.steps), first_step_s=round(self.steps[0][0], 3) if self.steps else None,
                    step_s=round(float(np.median([s for s, _ in timed])), 3) if timed else None,
                    tokens_per_s=round(n / t, 1) if t > 0 and n else None, stopped_for_budget=self.stopped)


class At(TrainerCallback):
    "Call `fn(model)` once, when step `step` begins"
    def __init__(self, step, fn): self.step, self.fn, self.done = step, fn, False
    def on_step_begin(self, args, state, control, model=None, **kwargs):
        if state.global_step == self.step and not self.done: self.done = True; self.fn(model)


class Tee(io.TextIOBase):
    "Write to the console and keep a copy (the console display's lines are checked)"
    def __init__(self, *streams): self.streams = streams
    def write(self, s):
        for f in self.streams: f.write(s)
        return len(s)
    def flush(self):
        for f in self.streams: f.flush()
    def isatty(self): return False


def newest_adapter(root)->Path|None:
    "The most recently written peft adapter folder under `root` (wherever fit names it)"
    found = [p.parent for p in Path(root).rglob('adapter_config.json')
             if any((p.parent / f).exists() for f in ('adapter_model.safetensors', 'adapter_model.bin'))]
    return max(found, key=lambda p: (p / 'adapter_config.json').stat().st_mtime, default=None)


def _ckpt_setting(model, out, steps, fit_kw)->bool:
    if fit_kw.get('gradient_checkpointing') is not None: return bool(fit_kw['gradient_checkpointing'])
    d = training_defaults(model, out, steps)
    return bool(d.get('activation_checkpointing', d.get('gradient_checkpointing', False)))


def estimate(ctx, model, bs, dtype, optim, ckpt, cap_gb):
    "estimate_memory's total for this run (checkpointed or not) and whether it says the run fits `cap_gb`"
    e = estimate_memory(model, seq_len=ctx.seq, batch_size=bs, gpu=cap_gb, dtype=dtype, optimizer=optim)
    return (e.total_checkpointed if ckpt else e.total), e.fits, e


def train_run(ctx, sec, model, tok, ds, label, bs, steps, collator=None, dtype=None, precision=None, callbacks=(),
              **fit_kw):
    "One short `fit` in console mode: times, tokens/s, peaks, the estimate and its error; OOM recorded, not raised"
    out = ctx.work / 'runs' / f"{sec.name}-{label}-bs{bs}"
    dtype = dtype or ctx.t4_dtype
    precision = ctx.t4_precision if precision is None else precision
    defaults = training_defaults(model, out, steps)
    optim, ckpt = fit_kw.get('optim', defaults['optim']), _ckpt_setting(model, out, steps, fit_kw)
    rec = dict(section=sec.name, label=label, bs=bs, seq_len=ctx.seq, dtype=str(dtype).replace('torch.', ''),
               capped_gb=ctx.cap_gb, optim=optim, checkpointing=ckpt, status=None)
    est, fits, _ = estimate(ctx, model, bs, dtype, optim, ckpt, ctx.cap_gb)
    rec.update(estimate_gb=round(est, 2), estimate_term='total_checkpointed' if ckpt else 'total', estimate_fits=fits)
    ctx.cleanup()
    if ctx.cuda: torch.cuda.reset_peak_memory_stats()
    counter = CountingCollator(collator or Collator(tok))
    timer, buf, t = StepTimer(sec.deadline, ctx.cuda, counter), io.StringIO(), time.monotonic()
    try:
        with contextlib.redirect_stdout(Tee(sys.stdout, buf)):
            res = fit(model, tok, ds, output_dir=out, max_steps=steps, bs=bs, collator=counter,
                      notebook=False, every=0, callbacks=[timer, *callbacks], save_strategy='no', logging_steps=1,
                      **precision, **fit_kw)
        losses = [l for l in res.losses if l is not None]
        rec.update(status='ok', loss_first=losses[0] if losses else None, loss_last=losses[-1] if losses else None,
                   fp16=bool(res.trainer.args.fp16), bf16=bool(res.trainer.args.bf16),
                   widget_mem_gb=res.history[-1].get('mem_gb') if res.history else None,
                   widget_peak_gb=res.history[-1].get('peak_gb') if res.history else None,
                   widget_tokens_per_s=res.history[-1].get('tokens_per_s') if res.history else None)
        del res
    except torch.OutOfMemoryError as e:
        rec.update(status='oom', message=str(e)[:1500], adapter_saved=str(newest_adapter(out) or ''))
    lines = buf.getvalue().splitlines()
    rec.update(timer.summary(), seconds=round(time.monotonic() - t, 1),
               console_progress_lines=sum(l.startswith('step ') for l in lines),
               console_gpu_lines=sum(l.startswith('step ') and ' GPU ' in l and 'peak' in l for l in lines))
    if ctx.cuda:
        alloc, resv = torch.cuda.max_memory_allocated() / GB, torch.cuda.max_memory_reserved() / GB
        measured = resv + (ctx.context_gb or 0)
        rec.update(peak_alloc_gb=round(alloc, 2), peak_reserved_gb=round(resv, 2), measured_gb=round(measured, 2),
                   error_pct=round(100 * (est / measured - 1), 1) if rec['status'] == 'ok' else None)
    else: rec.update(peak_alloc_gb=None, peak_reserved_gb=None, measured_gb=None, error_pct=None)
    if timer.stopped: sec.note(f"{label} bs={bs}: stopped by the section budget after {len(timer.steps)} steps")
    ctx.runs.append(rec); ctx.save()
    ctx.cleanup()
    return rec


def check_readouts(ctx, sec, rec):
    "The console display printed progress lines; on CUDA they carry the GPU memory readouts"
    if rec['status'] != 'ok': return
    run = f"{rec['label']} bs={rec['bs']}"
    sec.check(rec['console_progress_lines'] > 0, f"{run}: console progress lines", rec['console_progress_lines'])
    sec.check(rec['tokens_per_s'] and rec['tokens_per_s'] > 0, f"{run}: tokens/s measured", rec['tokens_per_s'])
    sec.check(rec['loss_last'] is not None and math.isfinite(rec['loss_last']), f"{run}: finite loss", rec['loss_last'])
    if ctx.cuda:
        sec.check(rec['console_gpu_lines'] > 0 and rec['widget_peak_gb'], f"{run}: widget GPU readouts",
                  dict(lines=rec['console_gpu_lines'], peak_gb=rec['widget_peak_gb']))
        if ctx.cap_gb:
            sec.check(rec['fp16'] and not rec['bf16'], f"{run}: fp16 (T4), no bf16",
                      dict(fp16=rec['fp16'], bf16=rec['bf16']))


def largest_batch(ctx, sec, model, tok, ds, label, steps, tries, collator=None, **fit_kw):
    "estimate_memory's largest batch under the cap, then tried: one more while it fits, one less on OOM"
    out = ctx.work / 'runs' / 'estimate'
    optim = training_defaults(model, out, steps)['optim']
    ckpt = _ckpt_setting(model, out, steps, fit_kw)
    cap = ctx.cap_gb
    if not ctx.cuda:  # no allocator to fill on CPU: a pretend cap at which the estimate predicts batch 2
        cap = estimate(ctx, model, 2, ctx.t4_dtype, optim, ckpt, None)[0] + 1e-3
        sec.note(f"{label}: dry run, pretend cap {cap:.3f} GB so the search predicts batch 2; no OOM can happen on CPU")
    pred = 0
    while pred < 64 and estimate(ctx, model, pred + 1, ctx.t4_dtype, optim, ckpt, cap)[0] <= cap: pred += 1
    found = dict(estimate_max_bs=pred, tried={}, measured_max_bs=None, at_least=False)
    sec.results.setdefault('largest_batch', {})[label] = found
    if pred < 1: sec.note(f"{label}: estimate_memory says not even batch 1 fits {cap} GB"); return found
    bs, direction = pred, 0
    for _ in range(tries):
        if not sec.time_for(f"{label} bs={bs}", 8 if ctx.cuda else 1): break
        rec = train_run(ctx, sec, model, tok, ds, label, bs, steps, collator, **fit_kw)
        check_readouts(ctx, sec, rec)
        found['tried'][bs] = rec['status']
        if rec['status'] == 'ok':
            found['measured_max_bs'] = max(found['measured_max_bs'] or 0, bs)
            if direction < 0: break
            direction, bs = 1, bs + 1
        else:
            if direction > 0: break
            direction, bs = -1, bs - 1
            if bs < 1: break
    found['at_least'] = bool(found['tried']) and list(found['tried'].values())[-1] == 'ok' and direction > 0
    return found


# ------------------------------------------------------------------ models and data

def model_config(ctx, size):
    "The `KNOWN_SIZES` Llama config of `size` (tiny in a dry run), with the tokenizer's special ids"
    cfg = known_config(size)
    if ctx.dry:
        for k, v in dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, head_dim=16, vocab_size=min(cfg.vocab_size, len(ctx.tok))).items():
            setattr(cfg, k, v)
    tok = ctx.tok
    cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id = tok.bos_token_id, tok.eos_token_id, tok.pad_token_id
    cfg.max_position_embeddings = max(4096, ctx.seq)
    return cfg


def checkpoint(ctx, size)->Path:
    "A random-initialised checkpoint of `size` in fp16 (fp32 dry) with the tokenizer, written once (uncapped)"
    if size in ctx.ckpts: return ctx.ckpts[size]
    path = ctx.work / f"random-llama-{size}"
    cap = ctx.cap_gb
    ctx.set_cap(None)
    torch.manual_seed(0)
    with torch.device(ctx.device):
        dtype = torch.float16 if ctx.cuda else torch.float32
        model = AutoModelForCausalLM.from_config(model_config(ctx, size), dtype=dtype)
    model.save_pretrained(path); ctx.tok.save_pretrained(path)
    del model; ctx.cleanup(); ctx.set_cap(cap)
    ctx.ckpts[size] = path
    return path


def drop_checkpoint(ctx, size):
    if size in ctx.ckpts: shutil.rmtree(ctx.ckpts.pop(size), ignore_errors=True)


def data_for(ctx, key, vocab):
    "The tokenized rows `key` ('packed' or 'rows') with ids mapped into a vocabulary of `vocab` (the 7B has 32000)"
    ds = ctx.data[key]
    if vocab >= len(ctx.tok): return ds
    if (key, vocab) not in ctx.data:
        f = lambda b: {'input_ids': [[i % vocab for i in r] for r in b['input_ids']],
                       'labels': [[l if l < 0 else l % vocab for l in r] for r in b['labels']]}
        ctx.data[key, vocab] = ds.map(f, batched=True)
    return ctx.data[key, vocab]


def corpus(n, seed=0, turns=(2, 8), mu=2.0, sigma=1.0):
    "`n` host/guest conversations whose turns are long-tailed runs of the shipped sample data's words"
    text = [t.text for c in read_whisperx(sample_data('podcast')) for t in c.turns]
    text += [t.text for c in read_messenger(sample_data('messenger'), me='Sam Rivera') for t in c.turns]
    words = re.findall(r"\S+", ' '.join(text))
    rng = np.random.default_rng(seed)
    chats = []
    for k in range(n):
        ts = []
        for j in range(int(rng.integers(turns[0], turns[1] + 1))):
            m = int(min(600, max(1, rng.lognormal(mu, sigma))))
            i = int(rng.integers(0, len(words) - m))
            ts.append(Turn('Host' if j % 2 else 'Guest', ' '.join(words[i:i + m])))
        chats.append(Chat(f'ep{k}', ['Guest', 'Host'], f'ep{k}.json', ts, {'me': 'Host'}))
    return chats


# ------------------------------------------------------------------ the sections

@section('env', 30, ["the CUDA context size (what the allocator's peaks leave out)"])
def env_section(ctx, sec):
    from importlib.metadata import version, PackageNotFoundError
    r = sec.results
    r.update(python=platform.python_version(), torch=torch.__version__, torch_cuda=torch.version.cuda,
             cuda_available=torch.cuda.is_available(), work=str(ctx.work))
    for m in ('transformers', 'peft', 'accelerate', 'datasets', 'bitsandbytes', 'trl', 'flash_attn'):
        try: r[m] = version(m.replace('_', '-'))
        except PackageNotFoundError: r[m] = None
    tok_dir = Path(ctx.args.tokenizer) if ctx.args.tokenizer else None
    if tok_dir is None and ctx.args.bundle: tok_dir = Path(ctx.args.bundle) / 'tokenizer'
    if tok_dir is None or not tok_dir.exists():
        from finetune_kit.models import default_checkpoint
        tok_dir = default_checkpoint(quiet=True)
    ctx.tok = AutoTokenizer.from_pretrained(str(tok_dir))
    if ctx.tok.pad_token is None: ctx.tok.pad_token = ctx.tok.eos_token
    r.update(tokenizer=str(tok_dir), vocab=len(ctx.tok))
    if ctx.dry:
        sec.note("dry run: CPU, tiny model sizes, seq 128, fp32; the CUDA items are skipped and listed in `unmeasured`")
        return
    if not ctx.cuda: raise RuntimeError("no CUDA device here: run with --dry to rehearse on CPU")
    p = torch.cuda.get_device_properties(0)
    torch.cuda.init(); x = torch.ones(1, device='cuda'); torch.cuda.synchronize()
    free, total = torch.cuda.mem_get_info()
    ctx.context_gb = max(0., (total - free - torch.cuda.memory_reserved()) / GB)
    del x
    r.update(gpu=p.name, capability=f"sm_{p.major}{p.minor}", total_gb=round(p.total_memory / GB, 1),
             bf16_supported=supports_bf16(0), cuda_context_gb=round(ctx.context_gb, 2), t4_cap_gb=T4_GB,
             t4_cap_fraction=round(T4_GB * GB / p.total_memory, 4))
    sec.note(f"T4 emulation: fp16 compute and the allocator capped at {T4_GB} GB; speeds are this GPU's, not a T4's")


@section('data', 30)
def data_section(ctx, sec):
    if ctx.tok is None: sec.skip("no tokenizer (env failed)")
    chats = corpus(60, turns=(2, 6), mu=1.5, sigma=0.8) if ctx.dry else corpus(300)
    # the same samples (conversations cut at turn boundaries into pieces of <= seq tokens) one per row, and multipacked
    ctx.data['chunks'] = chunks = tokenize_chats(chats, ctx.tok, max_len=ctx.seq)
    ctx.data['packed'] = packed = tokenize_chats(chats, ctx.tok, max_len=ctx.seq, pack='multipack')
    d_rows, d_packed = describe(chunks, bs=2, plot=False), describe(packed, bs=2, plot=False)
    sec.results.update(chats=len(chats), rows=len(chunks), packed_rows=len(packed), tokens=d_rows['tokens'],
                       packed_tokens=d_packed['tokens'],
                       samples_per_packed_row=round(d_packed['samples'] / len(packed), 2),
                       real_share_padded_bs2=round(d_rows['real_share'], 3),
                       real_share_packed_bs2=round(d_packed['real_share'], 3))
    sec.check(len(packed) < len(chunks), "multipack makes fewer rows than one sample per row",
              (len(packed), len(chunks)))
    sec.check(d_packed['tokens'] == d_rows['tokens'] and d_packed['samples'] == len(chunks),
              "multipack keeps every sample and token", (d_packed['tokens'], d_rows['tokens']))
    sec.check(d_packed['real_share'] > d_rows['real_share'], "packed batches carry a larger real-token share",
              (d_packed['real_share'], d_rows['real_share']))


def _need_data(ctx, sec):
    if 'packed' not in ctx.data: sec.skip("no tokenized data (the data section did not finish)")


def _qlora_model(ctx, size, dtype):
    path = checkpoint(ctx, size)
    return qlora(str(path), r=16, alpha=32, dropout=0.05, dtype=str(dtype).replace('torch.', ''), device=ctx.device)


def t4_qlora(size, budget):
    paths = [f"QLoRA {size}: 4-bit load onto CUDA, fp16 fit under the T4 cap (paged 8-bit AdamW, checkpointing)",
             f"QLoRA {size}: estimate_memory against peak memory, largest batch under {T4_GB} GB"]
    if size == '1B': paths.append("the widget's GPU memory readouts in console mode")
    @section(f't4-qlora-{size}', budget, paths)
    def run(ctx, sec):
        _need_data(ctx, sec)
        ctx.set_cap(T4_GB)
        t = time.monotonic(); model, tok = _qlora_model(ctx, size, ctx.t4_dtype)
        sec.results['load_s'] = round(time.monotonic() - t, 1)
        sec.check(getattr(model, 'is_loaded_in_4bit', False), f"QLoRA {size} is 4-bit")
        ds, col = data_for(ctx, 'packed', model.config.vocab_size), Collator(tok, padding='max_length', max_len=ctx.seq)
        if sec.time_for(f"{size} bs=1"):
            rec = train_run(ctx, sec, model, tok, ds, f"qlora-{size}", 1, ctx.steps1, col)
            check_readouts(ctx, sec, rec)
            if ctx.cuda: sec.check(rec['status'] == 'ok', f"QLoRA {size} batch 1 fits {T4_GB} GB", rec['status'])
        largest_batch(ctx, sec, model, tok, ds, f"qlora-{size}", ctx.steps_n, 3 if ctx.cuda else 1, col)
        del model
        if size != '1B': drop_checkpoint(ctx, size)
    return run

t4_qlora('1B', 50)


def lora_1b(ctx):
    "LoRA 1B (r=16) in the T4's dtype with packed rows and a fixed-length collator: (model, tok, ds, collator)"
    model, tok = load_model(str(checkpoint(ctx, '1B')), device=ctx.device, dtype=ctx.t4_dtype, quiet=True)
    model = lora(model, r=16, alpha=32, dropout=0.05)
    ds, col = data_for(ctx, 'packed', model.config.vocab_size), Collator(tok, padding='max_length', max_len=ctx.seq)
    return model, tok, ds, col


@section('t4-lora-1B', 45, ["LoRA 1B fp16 under the T4 cap: peaks against estimate_memory, checkpointed or not"])
def t4_lora(ctx, sec):
    _need_data(ctx, sec)
    ctx.set_cap(T4_GB)
    model, tok, ds, col = lora_1b(ctx)
    if sec.time_for("lora-1B bs=1"):
        check_readouts(ctx, sec, train_run(ctx, sec, model, tok, ds, 'lora-1B', 1, ctx.steps1, col))
    largest_batch(ctx, sec, model, tok, ds, 'lora-1B', ctx.steps_n, 2 if ctx.cuda else 1, col)
    if sec.time_for("lora-1B bs=1 checkpointed"):
        rec = train_run(ctx, sec, model, tok, ds, 'lora-1B-ckpt', 1, ctx.steps_n, col, gradient_checkpointing=True)
        check_readouts(ctx, sec, rec)
        sec.check(rec['estimate_term'] == 'total_checkpointed', "checkpointed run compared with total_checkpointed")


@section('t4-oom', 25, ["a real CUDA out-of-memory under the cap: our message with the estimate, adapter saved"])
def t4_oom(ctx, sec):
    _need_data(ctx, sec)
    ctx.set_cap(T4_GB)
    model, tok, ds, col = lora_1b(ctx)
    out = ctx.work / 'runs' / 'oom'
    optim = training_defaults(model, out, 2)['optim']
    if ctx.cuda:  # the smallest batch estimate_memory puts at twice the cap: certain to fail
        bs = next(b for b in range(1, 257) if estimate(ctx, model, b, ctx.t4_dtype, optim, False, T4_GB)[0] > 2 * T4_GB)
        cbs = []
    else:
        bs = 2
        def boom(m): raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated by --dry)")
        cbs = [At(1, boom)]
        sec.note("dry run: the OOM is raised from a callback at step 2; a real allocation failure needs CUDA")
    r = sec.results; r['bs'] = bs
    try:
        fit(model, tok, ds, output_dir=out, max_steps=3, bs=bs, collator=col, notebook=False, quiet=True,
            callbacks=cbs, save_strategy='no', **ctx.t4_precision)
        r['raised'] = None
    except torch.OutOfMemoryError as e: r.update(raised=type(e).__name__, message=str(e)[:2000])
    msg = r.get('message', '')
    saved = newest_adapter(out)
    r['adapter_saved'] = str(saved) if saved else None
    sec.check(r['raised'] == 'OutOfMemoryError', f"batch {bs} under {T4_GB} GB raises torch.OutOfMemoryError",
              r['raised'])
    sec.check('estimate_memory for batch' in msg and ' GB' in msg, "the message carries estimate_memory's numbers",
              msg[:200])
    sec.check('per_device_train_batch_size' in msg and 'gradient_accumulation_steps' in msg,
              "the message names the knobs")
    sec.check(saved is not None and (saved / 'adapter_config.json').exists(), "an adapter was saved",
              r['adapter_saved'])
    if saved is not None: sec.check(str(saved) in msg, "the message says where the adapter is")
    m = re.search(r'fits (\S+) \(([\d.]+|None) GB\)', msg)
    if m: r['message_gpu_gb'] = m.group(2)
    if ctx.cuda and m and m.group(2) != 'None' and abs(float(m.group(2)) - T4_GB) > 0.5:
        sec.note(f"oom_message judges the fit against the card's {m.group(2)} GB, not the {T4_GB} GB process cap")


@section('t4-fp16-overflow', 30, ["fp16 overflow on CUDA: NonFiniteLoss with the fp16 cause, last good adapter saved"])
def t4_overflow(ctx, sec):
    _need_data(ctx, sec)
    ctx.set_cap(T4_GB)
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file
    model, tok, ds, col = lora_1b(ctx)
    # fp16's largest number is 65504: logits scaled by 1e5 overflow in fp16 (finite in fp32/bf16); on CPU use inf
    factor = 1e5 if ctx.cuda else float('inf')
    if not ctx.cuda: sec.note("dry run: fp32 on CPU cannot overflow at 1e5, so the logits are scaled by inf")
    hooks = []
    def poison(m): hooks.append(m.get_output_embeddings().register_forward_hook(lambda mod, i, o: o * factor))
    out = ctx.work / 'runs' / 'overflow'
    r = sec.results
    try:
        fit(model, tok, ds, output_dir=out, max_steps=6, bs=1, collator=col, notebook=False, quiet=True,
            callbacks=[At(3, poison)], save_strategy='no', **ctx.t4_precision)
        r['raised'] = None
    except NonFiniteLoss as e: r.update(raised=type(e).__name__, message=str(e)[:2000])
    finally:
        for h in hooks: h.remove()
    msg = r.get('message', '')
    saved = newest_adapter(out)
    r['adapter_saved'] = str(saved) if saved else None
    sec.check(r['raised'] == 'NonFiniteLoss', "a non-finite loss stops fit with NonFiniteLoss", r['raised'])
    sec.check('NaN/inf at step 4' in msg, "the message names the step", msg[:120])
    if ctx.cuda: sec.check('fp16 overflow' in msg, "the message explains fp16 overflow", msg[:300])
    if sec.check(saved is not None, "an adapter was saved", r['adapter_saved']):
        sd, mem = load_file(str(saved / 'adapter_model.safetensors')), get_peft_model_state_dict(model)
        sec.check(all(torch.isfinite(v).all() for v in sd.values()), "the saved adapter is finite")
        diffs = [(sd[k].float().cpu() - mem[k].float().cpu()).abs().max().item() for k in sd if k in mem]
        diff = max(diffs) if diffs else None
        sec.check(set(sd) == set(mem) and diff == 0,
                  "the saved adapter is the last good one (equal to the weights in memory)", diff)
        r['adapter_trained'] = any(v.abs().max().item() > 0 for k, v in sd.items() if 'lora_B' in k)


@torch.no_grad()
def long_row_isolation(model, ds, dev)->dict:
    "Relative difference of final hidden states: a packed row's samples vs each alone, and vs the row unseparated"
    row = max(ds, key=lambda r: sum(p == 0 for p in r['position_ids']))  # the row packing the most samples
    ids, pos = torch.tensor(row['input_ids']), torch.tensor(row['position_ids'])
    starts = (pos == 0).nonzero().flatten().tolist() + [len(ids)]
    base = model.get_base_model() if hasattr(model, 'get_base_model') else model
    body = base.model
    out = lambda **kw: body(use_cache=False, **{k: v.to(dev) for k, v in kw.items()}).last_hidden_state[0].float()
    packed = out(input_ids=ids[None], position_ids=pos[None])
    joined = out(input_ids=ids[None])  # the control: one causal row, where samples see each other
    alone = torch.cat([out(input_ids=ids[None, a:b]) for a, b in zip(starts[:-1], starts[1:])])
    scale = alone.abs().max().item()
    return dict(tokens=len(ids), samples=len(starts) - 1, rel=(packed - alone).abs().max().item() / scale,
                control_rel=(joined[starts[1]:] - alone[starts[1]:]).abs().max().item() / scale)


@section('packing-isolation', 30, ["packing isolation on CUDA under sdpa (fp16 and bf16)",
                                   "packing isolation under flash-attention (needs flash_attn on the GPU machine)"])
def packing_isolation(ctx, sec):
    _need_data(ctx, sec)
    ctx.set_cap(None)
    model, _ = load_model(str(checkpoint(ctx, '1B')), device=ctx.device, dtype=ctx.t4_dtype, quiet=True,
                          attn_implementation='sdpa')
    ds = data_for(ctx, 'packed', model.config.vocab_size)
    dtypes = [ctx.t4_dtype] + ([torch.bfloat16] if ctx.cuda and supports_bf16(0) else [])
    for dt in dtypes:
        model.to(dt)
        name = f"sdpa-{str(dt).replace('torch.', '')}"
        tol = 1e-4 if dt == torch.float32 else 2e-2 if dt == torch.float16 else 5e-2
        try: probe = check_packing(model)
        except ValueError as e: probe = None; sec.note(f"{name}: {e}")
        res = long_row_isolation(model, ds, ctx.device) | dict(probe_rel=probe, tolerance=tol)
        sec.results[name] = res
        sec.check(probe is not None, f"{name}: check_packing's probe passes", probe)
        sec.check(res['rel'] < tol, f"{name}: a {res['tokens']}-token packed row equals its {res['samples']} samples "
                  "alone", res['rel'])
        sec.check(res['control_rel'] > 10 * tol, f"{name}: control (samples joined without position_ids) differs",
                  res['control_rel'])
    del model
    if not ctx.cuda: sec.note("dry run: fp32 on CPU; flash-attention needs CUDA"); return
    if importlib.util.find_spec('flash_attn') is None:
        sec.note("flash-attention: flash_attn is not importable here (no wheel on the image, no network to build one)")
        sec.unmeasured.append("packing isolation under flash-attention (needs flash_attn on the GPU machine)")
        return
    model, tok = load_model(str(checkpoint(ctx, '1B')), device=ctx.device, dtype=torch.float16, quiet=True,
                            attn_implementation='flash_attention_2')
    rel = check_packing(model, Collator(tok, flatten=True))
    sec.results['flash_attention_2-float16'] = dict(probe_rel=rel)
    sec.check(rel < 2e-2, "flash_attention_2: packed (flattened) rows equal samples alone", rel)


@section('t4-packed-vs-padded', 45, ["packed vs padded trained tokens/s on a GPU (QLoRA 1B, fp16, T4 cap)"])
def packed_vs_padded(ctx, sec):
    _need_data(ctx, sec)
    ctx.set_cap(T4_GB)
    model, tok = _qlora_model(ctx, '1B', ctx.t4_dtype)
    steps = 6 if ctx.cuda else 3
    r = sec.results
    for key, label in (('chunks', 'padded'), ('packed', 'multipack')):
        if not sec.time_for(label, 10 if ctx.cuda else 1): continue
        ds = data_for(ctx, key, model.config.vocab_size)
        rec = train_run(ctx, sec, model, tok, ds, label, 2, steps, Collator(tok))
        check_readouts(ctx, sec, rec)
        r[label] = dict(tokens_per_s=rec['tokens_per_s'], step_s=rec['step_s'], status=rec['status'],
                        real_share=round(describe(ctx.data[key], bs=2, plot=False)['real_share'], 3))
    if r.get('padded', {}).get('tokens_per_s') and r.get('multipack', {}).get('tokens_per_s'):
        r['speedup'] = round(r['multipack']['tokens_per_s'] / r['padded']['tokens_per_s'], 2)
        if ctx.cuda: sec.check(r['speedup'] > 1, "multipack trains more real tokens/s than padding", r['speedup'])
        else: sec.note("dry run: CPU tokens/s are not a GPU's; no speed check")
    del model


t4_qlora('3B', 65)
t4_qlora('7B', 100)


@section('bf16-qlora-1B', 35, ["the Ampere+ path: QLoRA 1B in bf16 picked automatically by fit, uncapped"])
def bf16_qlora(ctx, sec):
    _need_data(ctx, sec)
    ctx.set_cap(None)
    dtype = torch.bfloat16 if ctx.cuda else torch.float32
    if ctx.cuda and not supports_bf16(0): sec.skip(f"{torch.cuda.get_device_name(0)} has no bf16")
    if not ctx.cuda: sec.note("dry run: fp32 on CPU (the bf16 choice needs an Ampere+ GPU)")
    model, tok = _qlora_model(ctx, '1B', dtype)
    ds, col = data_for(ctx, 'packed', model.config.vocab_size), Collator(tok, padding='max_length', max_len=ctx.seq)
    big = (ctx.result('t4-qlora-1B').get('largest_batch', {}).get('qlora-1B', {}).get('measured_max_bs') or 4)
    for bs, steps in ((1, ctx.steps1), (big, ctx.steps_n))[:2 if ctx.cuda else 1]:
        if not sec.time_for(f"bf16 bs={bs}"): break
        rec = train_run(ctx, sec, model, tok, ds, 'qlora-1B-bf16', bs, steps, col, dtype=dtype, precision={})
        check_readouts(ctx, sec, rec)
        if ctx.cuda:
            sec.check(rec['bf16'] and not rec['fp16'], f"bs={bs}: fit chose bf16 by itself",
                      dict(bf16=rec['bf16'], fp16=rec['fp16']))
    del model


def _sft_config(**kw):
    "An SFTConfig from the fields this TRL version has (checkpointing under either of transformers' names)"
    from trl import SFTConfig
    fields = SFTConfig.__dataclass_fields__
    for old, new in (('gradient_checkpointing', 'activation_checkpointing'),
                     ('gradient_checkpointing_kwargs', 'activation_checkpointing_kwargs')):
        if old in kw and new in fields: kw[new] = kw.pop(old)
    return SFTConfig(**{k: v for k, v in kw.items() if k in fields})


@section('trl-vs-fit', 60, ["TRL SFTTrainer (packing=True and default) against fit multipack on a GPU"])
def trl_vs_fit(ctx, sec):
    _need_data(ctx, sec)
    if importlib.util.find_spec('trl') is None:
        sec.skip("trl is not importable here (not a project dependency; the GPU machine gets it from --prepare)")
    from trl import SFTTrainer
    ctx.set_cap(T4_GB)
    model, tok = _qlora_model(ctx, '1B', ctx.t4_dtype)
    steps, bs = (5, 2) if ctx.cuda else (2, 2)
    rows = data_for(ctx, 'chunks', model.config.vocab_size)
    packed = data_for(ctx, 'packed', model.config.vocab_size)
    r = sec.results
    if sec.time_for('fit multipack', 10 if ctx.cuda else 1):
        rec = train_run(ctx, sec, model, tok, packed, 'fit-multipack', bs, steps, Collator(tok))
        r['fit_multipack'] = dict(tokens_per_s=rec['tokens_per_s'], step_s=rec['step_s'], status=rec['status'])
    d = training_defaults(model, ctx.work, steps)
    ckpt = bool(d.get('activation_checkpointing', d.get('gradient_checkpointing', False)))
    for packing in (True, False):
        label = f"trl-{'packing' if packing else 'default'}"
        if not sec.time_for(label, 10 if ctx.cuda else 1): continue
        from transformers.trainer_callback import PrinterCallback
        args = _sft_config(output_dir=str(ctx.work / 'runs' / label), max_steps=steps, per_device_train_batch_size=bs,
                           learning_rate=2e-4, logging_steps=1, save_strategy='no', report_to='none', disable_tqdm=True,
                           optim=d['optim'], max_length=ctx.seq, packing=packing, use_cpu=not ctx.cuda,
                           include_num_input_tokens_seen='non_padding', gradient_checkpointing=ckpt,
                           gradient_checkpointing_kwargs={'use_reentrant': False}, dataset_num_proc=None,
                           **ctx.t4_precision)
        ctx.cleanup()
        if ctx.cuda: torch.cuda.reset_peak_memory_stats()
        t = time.monotonic()
        trainer = SFTTrainer(model=model, args=args, train_dataset=rows.select_columns(['input_ids', 'labels']),
                             processing_class=tok)
        trainer.remove_callback(PrinterCallback)
        trainer.data_collator = counter = CountingCollator(trainer.data_collator)  # TRL's own collator, counted
        trainer.add_callback(timer := StepTimer(sec.deadline, ctx.cuda, counter))
        trainer.train()
        peak = round(torch.cuda.max_memory_reserved() / GB, 2) if ctx.cuda else None
        r[label.replace('-', '_')] = timer.summary() | dict(seconds=round(time.monotonic() - t, 1), packing=packing,
                                                            peak_reserved_gb=peak)
        sec.check(timer.steps and r[label.replace('-', '_')]['tokens_per_s'], f"{label}: trained tokens/s measured",
                  r[label.replace('-', '_')]['tokens_per_s'])
        del trainer; ctx.cleanup()
    fm = r.get('fit_multipack', {}).get('tokens_per_s')
    for k in ('trl_packing', 'trl_default'):
        if fm and r.get(k, {}).get('tokens_per_s'): r[k]['fit_multipack_ratio'] = round(fm / r[k]['tokens_per_s'], 2)
    if not ctx.cuda: sec.note("dry run: CPU figures; only a GPU comparison is fair (TRL's GPU-oriented kernels)")
    del model


# ------------------------------------------------------------------ the table

def memory_rows(ctx):
    "Measured GB beside estimate_memory's table (04_adapters): batch 1 T4 runs of 1B LoRA and 1B/3B/7B QLoRA"
    rows = []
    for rec in ctx.runs:
        m = re.fullmatch(r'(qlora|lora)-(\w+)', rec['label'])
        # the notebook's rows: QLoRA as qlora() trains it (checkpointed), LoRA as fit trains it (not checkpointed)
        if m and rec['bs'] == 1 and rec['section'].startswith('t4-') and rec['checkpointing'] == (m[1] == 'qlora'):
            rows.append(dict(size=m.group(2), method=m.group(1), estimate_term=rec['estimate_term'],
                             estimate_gb=rec['estimate_gb'], measured_gb=rec['measured_gb'], error_pct=rec['error_pct'],
                             peak_alloc_gb=rec['peak_alloc_gb'], status=rec['status']))
    return rows


def _fmt(v, nd=2):
    if v is None: return '-'
    if isinstance(v, float): return f"{v:.{nd}f}"
    return str(v)


def table(ctx)->str:
    rep, lines = ctx.report, []
    lines.append(f"finetune_kit CUDA check, {rep['mode']} run, {rep['seconds']} s of {rep['budget_s']} s budget"
                 + (f", {ctx.result('env').get('gpu')}" if ctx.cuda else ''))
    lines.append(f"\n{'section':22} {'status':8} {'s':>6} {'budget':>6}  notes")
    for s in rep['sections']:
        extra = s.get('why') or s.get('error') or '; '.join([c['what'] for c in s['checks'] if not c['ok']][:2]) \
                or '; '.join(k['item'] + ': ' + k['why'] for k in s['skipped'][:2])
        lines.append(f"{s['name']:22} {s['status']:8} {s['seconds']:6.1f} {s['budget_s']:6.0f}  {extra or ''}"[:160])
    hdr = ['section', 'run', 'bs', 'status', 's/step', 'tok/s', 'est GB', 'alloc', 'resv+ctx', 'err%']
    lines.append('\n' + '  '.join(f"{h:>9}" if i > 1 else f"{h:20}" for i, h in enumerate(hdr)))
    for r in ctx.runs:
        vals = [r['section'], r['label'], r['bs'], r['status'], _fmt(r['step_s'], 3), _fmt(r['tokens_per_s'], 0),
                _fmt(r['estimate_gb']), _fmt(r['peak_alloc_gb']), _fmt(r['measured_gb']), _fmt(r['error_pct'], 1)]
        lines.append('  '.join(f"{str(v):>9}" if i > 1 else f"{str(v):20}" for i, v in enumerate(vals)))
    lines.append("\nMeasured column for nbs/04_adapters.ipynb's estimate_memory table (batch 1 x seq, T4 emulation):")
    lines.append("| size | method | estimate (term) | measured GB | error |\n|---|---|---|---|---|")
    for m in rep['memory_rows']:
        lines.append(f"| {m['size']} | {m['method']} | {m['estimate_gb']} ({m['estimate_term']}) | "
                     f"{_fmt(m['measured_gb'])} | {_fmt(m['error_pct'], 1)}% |")
    lines.append(f"\nUnmeasured CUDA paths ({len(rep['unmeasured'])}):")
    lines += [f"- {u}" for u in rep['unmeasured']]
    return '\n'.join(lines)


# ------------------------------------------------------------------ preparing the bundle for the GPU machine

def prepare(bundle:Path, bnb_cuda:str, python:str='3.12'):
    "Download the wheels the GPU image lacks (tested versions) and save the tokenizer into `bundle`"
    lines = (ROOT / 'constraints.txt').read_text().splitlines()
    pins = {k.lower(): v for k, v in (l.split('==', 1) for l in lines if '==' in l and not l.startswith('#'))}
    wanted = [f"{p}=={pins[p]}" for p in BUNDLE_PACKAGES] + [f"trl=={TRL_VERSION}"]
    wheels = bundle / 'wheels'; shutil.rmtree(wheels, ignore_errors=True); wheels.mkdir(parents=True)
    plats = [a for n in (28, 27, 24, 17) for a in ('--platform', f'manylinux_2_{n}_x86_64')]
    subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:',
                    '--python-version', python, '--implementation', 'cp', *plats, '--platform', 'manylinux2014_x86_64',
                    '-d', str(wheels), *wanted], check=True)
    keep = {'libbitsandbytes_cpu.so'} | {f'libbitsandbytes_cuda{v}.so' for v in bnb_cuda.split(',')}
    for whl in wheels.glob('bitsandbytes-*.whl'):
        _trim_wheel(whl, lambda n: not re.search(r'libbitsandbytes_\w+\.so$', n) or Path(n).name in keep)
    from finetune_kit.models import default_checkpoint
    AutoTokenizer.from_pretrained(str(default_checkpoint(quiet=True))).save_pretrained(bundle / 'tokenizer')
    (bundle / '.gitignore').write_text('*\n')  # the bundle ignores itself: it travels only when carried
    rel = bundle.resolve().relative_to(ROOT) if bundle.resolve().is_relative_to(ROOT) else bundle
    size = sum(f.stat().st_size for f in bundle.rglob('*') if f.is_file()) / 2**20
    print(f"{bundle}: {size:.1f} MiB, git-ignored ({', '.join(sorted(w.name for w in wheels.glob('*.whl')))})")
    print(f"device command (carry=['{rel}'], timeout_s=600):\n  PYTHONUNBUFFERED=1 python3 bench/cuda_check.py "
          f"--bundle {rel} --out $OUT 2>&1 | tee $OUT/cuda_check.log")


def _trim_wheel(whl:Path, keep):
    "Rewrite the wheel `whl` without the members `keep(name)` rejects (bitsandbytes ships a library per CUDA version)"
    tmp = whl.with_suffix('.tmp')
    with zipfile.ZipFile(whl) as zin, zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if not keep(item.filename): continue
            data = zin.read(item.filename)
            if item.filename.endswith('.dist-info/RECORD'):
                data = '\n'.join(l for l in data.decode().splitlines() if keep(l.split(',')[0])).encode() + b'\n'
            zout.writestr(item, data)
    tmp.replace(whl)


# ------------------------------------------------------------------ main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dry', action='store_true', help='CPU rehearsal with tiny sizes (what CI runs)')
    ap.add_argument('--out', default='runs/cuda_check', help='folder for cuda_check.json and cuda_check.txt')
    ap.add_argument('--budget', type=float, default=None, help=f'total seconds (default {TOTAL_BUDGET_S}; dry: 300)')
    ap.add_argument('--only', default=None, help='comma-separated section names to run (the others are skipped)')
    ap.add_argument('--tokenizer', default=None, help="tokenizer folder (default: the bundle's, else the offline one)")
    ap.add_argument('--bundle', default=None, help='folder made by --prepare: its wheels are installed first')
    ap.add_argument('--work', default=None, help='folder for the random checkpoints (default: /dev/shm or temp)')
    ap.add_argument('--keep', action='store_true', help='keep the work folder (checkpoints, adapters)')
    ap.add_argument('--prepare', nargs='?', const='.cuda_check', default=None, metavar='DIR',
                    help='make the bundle for the GPU machine in DIR (default .cuda_check) and exit')
    ap.add_argument('--bnb-cuda', default='130,132', help='bitsandbytes CUDA libraries to keep in the bundle')
    ap.add_argument('--bundle-python', default='3.12', help="the GPU machine's Python version, for binary wheels")
    args = ap.parse_args(argv)
    if args.prepare: prepare(ROOT / args.prepare, args.bnb_cuda, args.bundle_python); return 0
    args.budget = args.budget or (300. if args.dry else TOTAL_BUDGET_S)
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    import datasets; datasets.disable_progress_bars()
    ctx = Context(args)
    try:
        run_sections(ctx, SECTIONS, args.budget, set(args.only.split(',')) if args.only else None)
        ctx.report['memory_rows'] = memory_rows(ctx)
        ctx.save()
        text = table(ctx)
        (ctx.out / 'cuda_check.txt').write_text(text + '\n')
        print('\n' + text + f"\n\nReport: {ctx.out / 'cuda_check.json'}", flush=True)
    finally:
        if not args.keep: shutil.rmtree(ctx.work, ignore_errors=True)
    return 1 if any(s['status'] == 'failed' for s in ctx.report['sections']) else 0


if __name__ == '__main__': sys.exit(main())
