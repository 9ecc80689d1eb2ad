"""Kill anywhere, resume: a training process is SIGKILLed at seeded moments (half of them inside a checkpoint write),
then `fit(..., resume=True)` must finish the run and end where an uninterrupted run ends (same losses, same adapter).

Run by pytest (12 trials, ~1 minute on two CPU cores), or by hand to compare versions of finetune_kit:
    python tests/test_kill_resume.py OUT_DIR [--trials N] [--seed S]
It prints one line per trial and writes OUT_DIR/report.json. Each run is a forked child of one process that has
imported everything once (the parent does no torch work, so forking is safe); the child kills itself with a real
SIGKILL at the chosen moment, so nothing (no `finally`, no atexit) runs after it.

Moments: between saves, inside step k's forward or backward pass, just after the optimizer's update (before the
step counter moves), or at the end of step k before its save; inside checkpoint-k's save, before, in the middle of
(a truncated file) or after one of its writes: the adapter weights, the optimizer/scheduler/RNG states, the tokenizer,
trainer_state.json, the rotation that deletes an old checkpoint, or fit's history file."""
import os, sys, json, random, shutil, signal, subprocess, traceback
from pathlib import Path
import pytest

STEPS, TRIALS, SEED = 6, 12, 0
HISTORY = 'finetune_kit_history.json'
BETWEEN = ('forward', 'backward', 'optimizer', 'step_end')
MIDDLE = ('adapter weights', 'torch.save', 'trainer_state.json', 'rotation', 'history file')  # can be cut halfway


def test_kill_anywhere_then_resume(tmp_path):
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'MPLBACKEND': 'Agg',
           'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    p = subprocess.run([sys.executable, __file__, str(tmp_path), '--trials', str(TRIALS), '--seed', str(SEED)],
                       env=env, capture_output=True, text=True, timeout=900)
    print(p.stdout[-6000:])
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    trials = json.loads((tmp_path/'report.json').read_text())['trials']
    assert len(trials) == TRIALS and sum(t['during_save'] for t in trials) >= TRIALS // 2
    for t in trials:
        assert t['killed'], t                          # the kill really happened at that moment
        assert t['resume_exit'] == 0, t                # resume=True finished the run: no crash
        assert t['steps'] == STEPS and t['history_steps'] == list(range(1, STEPS + 1)), t
        assert t['max_loss_diff'] <= 1e-6 and t['max_weight_diff'] <= 1e-6, t   # as if never killed


# ---- the runner (python tests/test_kill_resume.py OUT) ----

def schedule(seed:int, trials:int, events:dict)->list:
    "Seeded kill moments: even trials inside a save (each kind of write in turn), odd ones between saves"
    rng, out = random.Random(seed), []
    kinds = sorted({e for evs in events.values() for e in evs})
    for i in range(trials):
        if i % 2 == 0:
            name = kinds[(i // 2) % len(kinds)]
            k = rng.choice([int(s) for s, evs in events.items() if name in evs])
            j = rng.choice([j for j, e in enumerate(events[str(k)]) if e == name])
            out.append(dict(step=k, phase='save', index=j, event=name,
                            when=rng.choice(['before', 'mid', 'after'] if name in MIDDLE else ['before', 'after'])))
        else: out.append(dict(step=rng.randint(1, STEPS), phase=rng.choice(BETWEEN)))
    return out

def describe(k:dict)->str:
    if k['phase'] != 'save': return f"step {k['step']}: {k['phase']}"
    return f"checkpoint-{k['step']} save, {k['when']} write {k['index']} ({k['event']})"


class Killer:
    "Wraps the writes of a checkpoint save and the steps of training; SIGKILLs this process at the chosen moment"
    def __init__(self, target:dict|None):
        self.target, self.saving, self.step, self.events, self.per_save = target, None, 0, [], {}

    def die(self): os.kill(os.getpid(), signal.SIGKILL)

    def at(self, phase:str, step:int):
        t = self.target
        if t and t['phase'] == phase and t['step'] == step: self.die()

    def write(self, name:str, fn, partial=None):
        "`fn` counted as a write event of the save in progress; `partial()` leaves the file cut halfway"
        def wrapped(*a, **k):
            if self.saving is None: return fn(*a, **k)
            i = len(self.events)
            self.events.append(name)
            t = self.target
            hit = t and t['phase'] == 'save' and t['step'] == self.saving and t['index'] == i
            if hit and t['when'] == 'before': self.die()
            if hit and t['when'] == 'mid' and partial is not None:
                partial(fn, *a, **k)
                self.die()
            r = fn(*a, **k)
            if hit: self.die()
            return r
        return wrapped

    def install(self, tok):
        import torch, shutil as sh, transformers.trainer as tt, transformers.trainer_callback as tc
        import peft.peft_model as pm, pathlib
        me = self
        def halve(path):
            b = Path(path).read_bytes()
            Path(path).write_bytes(b[:len(b) // 2])
        def cut_safetensors(fn, tensors, filename, *a, **k):
            fn(tensors, filename, *a, **k)
            halve(filename)
        def cut_torch(fn, obj, f, *a, **k):
            fn(obj, f, *a, **k)
            if isinstance(f, (str, os.PathLike)): halve(f)
        def cut_json(fn, state, path, *a, **k):
            fn(state, path, *a, **k)
            halve(path)
        def cut_rmtree(fn, path, *a, **k):
            first = next((p for p in sorted(Path(path).iterdir()) if p.is_file()), None)
            if first: first.unlink()
        pm.safe_save_file = self.write('adapter weights', pm.safe_save_file, cut_safetensors)
        torch.save = self.write('torch.save', torch.save, cut_torch)
        tc.TrainerState.save_to_json = self.write('trainer_state.json', tc.TrainerState.save_to_json, cut_json)
        cls = type(tok)
        cls.save_pretrained = self.write('tokenizer', cls.save_pretrained)
        rmtree = sh.rmtree
        ckpt_rmtree = self.write('rotation', rmtree, cut_rmtree)
        sh.rmtree = lambda path, *a, **k: (ckpt_rmtree if Path(path).name.startswith('checkpoint-') else rmtree)(path, *a, **k)
        replace, write_text = os.replace, pathlib.Path.write_text
        hist_replace = self.write('history file', replace, lambda fn, src, dst: halve(src) or fn(src, dst))
        os.replace = lambda src, dst, *a, **k: (hist_replace if Path(dst).name == HISTORY else replace)(src, dst, *a, **k)
        hist_text = self.write('history file', write_text, lambda fn, p, s, *a, **k: fn(p, s[:len(s) // 2]))
        pathlib.Path.write_text = lambda p, s, *a, **k: (hist_text if p.name == HISTORY else write_text)(p, s, *a, **k)
        save_checkpoint = tt.Trainer._save_checkpoint
        def starts(trainer, model, trial):
            me.saving, me.events = trainer.state.global_step, []
            return save_checkpoint(trainer, model, trial)
        tt.Trainer._save_checkpoint = starts
        on_save = tc.CallbackHandler.on_save
        def ends(handler, args, state, control):
            r = on_save(handler, args, state, control)
            me.per_save[str(state.global_step)], me.saving = list(me.events), None
            return r
        tc.CallbackHandler.on_save = ends

    def callback(self, model):
        from transformers import TrainerCallback
        me = self
        class Moments(TrainerCallback):
            def on_step_begin(self, args, state, control, **kw): me.step = state.global_step + 1
            def on_optimizer_step(self, args, state, control, **kw): me.at('optimizer', state.global_step + 1)
            def on_step_end(self, args, state, control, **kw): me.at('step_end', state.global_step)
        layer = model.get_base_model().model.layers[1]
        layer.register_forward_hook(lambda *a: me.at('forward', me.step) if model.training else None)
        lora_b = next(p for n, p in model.named_parameters() if 'lora_B' in n)
        lora_b.register_hook(lambda g: me.at('backward', me.step))
        return Moments()


def child(out:Path, tok, ds, kill:dict|None, resume:bool, result:Path|None):
    "One `fit` run in this (forked) process; writes what it ended with to `result`"
    from peft import LoraConfig
    from finetune_kit.adapters import peft_model
    from finetune_kit.models import tiny_model
    from finetune_kit.train import fit
    killer = Killer(kill)
    killer.install(tok)
    model = peft_model(tiny_model('llama'), LoraConfig(r=4, lora_alpha=8, target_modules=['q_proj', 'v_proj']))
    res = fit(model, tok, ds, output_dir=out, max_steps=STEPS, save_steps=1, logging_steps=1, bs=2, lr=1e-2,
              quiet=True, resume=resume, callbacks=[killer.callback(model)])
    if result is not None:
        result.write_text(json.dumps(dict(losses=res.losses, steps=res.steps, events=killer.per_save,
                                          history_steps=[r['step'] for r in res.history])))

def run(out:Path, tok, ds, kill=None, resume=False, result=None)->int:
    "Fork, run `child`, and return its exit status (negative: the signal that ended it)"
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try: child(out, tok, ds, kill, resume, result)
        except BaseException:
            traceback.print_exc()
            code = 3
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

def tensors(adapter:Path)->dict:
    from safetensors.numpy import load_file
    return load_file(str(adapter/'adapter_model.safetensors'))

def main(out:Path, trials:int, seed:int):
    import numpy as np
    from datasets import Dataset
    from transformers import AutoTokenizer
    import finetune_kit, finetune_kit.train
    import matplotlib.figure, matplotlib.backends.backend_agg  # imported once here, not in every child
    from finetune_kit.models import default_checkpoint
    print(f"finetune_kit from {Path(finetune_kit.__file__).parent}", flush=True)
    tok = AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))
    ids = [[5 + i, 6 + i, 7, 8, 9 + i, 10, 11, 12, 2] for i in range(12)]
    ds = Dataset.from_dict({'input_ids': ids, 'labels': ids})
    out.mkdir(parents=True, exist_ok=True)
    assert run(out/'base', tok, ds, result=out/'base.json') == 0, 'the uninterrupted run failed'
    base = json.loads((out/'base.json').read_text())
    ref = tensors(out/'base'/'adapter')
    report = []
    for i, k in enumerate(schedule(seed, trials, base['events'])):
        d = out/f"trial{i:02d}"
        killed = run(d, tok, ds, kill=k) == -signal.SIGKILL
        code = run(d, tok, ds, resume=True, result=out/f"trial{i:02d}.json")
        t = dict(trial=i, kill=describe(k), during_save=k['phase'] == 'save', killed=killed, resume_exit=code,
                 steps=None, history_steps=None, max_loss_diff=None, max_weight_diff=None)
        if code == 0:
            r = json.loads((out/f"trial{i:02d}.json").read_text())
            got = tensors(d/'adapter')
            t.update(steps=r['steps'], history_steps=r['history_steps'],
                     max_loss_diff=max(abs(a - b) for a, b in zip(r['losses'], base['losses']))
                                   if len(r['losses']) == len(base['losses']) else float('inf'),
                     max_weight_diff=max(float(np.abs(got[n] - ref[n]).max()) for n in ref))
        ok = code == 0 and t['max_loss_diff'] <= 1e-6 and t['max_weight_diff'] <= 1e-6
        print(f"trial {i:2d} kill at {t['kill']:<55} killed={killed} resume exit={code} "
              f"{'same as uninterrupted' if ok else 'DIFFERS' if code == 0 else 'CRASHED'}", flush=True)
        report.append(t)
    (out/'report.json').write_text(json.dumps({'trials': report, 'base_losses': base['losses']}, indent=1))
    n_ok = sum(t['resume_exit'] == 0 and t['max_loss_diff'] <= 1e-6 for t in report)
    print(f"{n_ok} of {len(report)} resumed runs finished equal to the uninterrupted one "
          f"({sum(t['during_save'] for t in report)} killed inside a save)")


if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('out', type=Path)
    ap.add_argument('--trials', type=int, default=TRIALS)
    ap.add_argument('--seed', type=int, default=SEED)
    a = ap.parse_args()
    main(a.out, a.trials, a.seed)
