"Tests for finetune_kit.train: console path, Stop/interrupt/exception saving the adapter, NaN stop, OOM message, resume, AdaLoRA, 2-process DDP (and a NaN on one of them)."
import os, sys, json, math, subprocess, textwrap
from pathlib import Path
from unittest import mock
import pytest, torch
from datasets import Dataset
from transformers import AutoTokenizer, TrainerCallback
from peft import LoraConfig, PeftModel
from finetune_kit.adapters import peft_model, peft_compat
from finetune_kit.models import tiny_model, default_checkpoint
from finetune_kit import train as T
from finetune_kit.widget import NotebookDisplay

os.environ.setdefault('MPLBACKEND', 'Agg')


@pytest.fixture(scope='module')
def tok(): return AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))

def lora(seed=0):
    return peft_model(tiny_model('llama', seed=seed), LoraConfig(r=4, lora_alpha=8, target_modules=['q_proj', 'v_proj']))

@pytest.fixture(scope='module')
def ds(tok):
    ids = [tok(t)['input_ids'][:10] for t in ["hej! lazy weekend, hiking then pierogi :)", "hej! yes, 10am at the usual place :)",
                                              "hej! busy, the release is on friday :)", "hej! soup, always soup when it rains :)"]]
    n = min(map(len, ids)); ids = [i[:n] for i in ids]*4
    return Dataset.from_dict({'input_ids': ids, 'labels': ids, 'attention_mask': [[1]*n]*len(ids)})

class At(TrainerCallback):
    "Run `fn(state)` at the end of optimizer step `step`"
    def __init__(self, step, fn): self.step, self.fn = step, fn
    def on_step_end(self, args, state, control, **kw):
        if state.global_step == self.step: self.fn(state)

def test_console_path_prints_lines_saves_png_history_adapter(tok, ds, tmp_path, capsys):
    res = T.fit(lora(), tok, ds, ds.select(range(2)), output_dir=tmp_path, max_steps=6, lr=1e-2, notebook=False, every=0,
                logging_steps=1, eval_steps=3, save_steps=100)
    out = capsys.readouterr().out
    lines = [l for l in out.splitlines() if l.startswith('step ')]
    assert lines[-1].startswith('step 6/6 (100%) · loss ') and 'tok/s' in lines[-1], lines
    assert f"Loss plot saved to {tmp_path/'loss.png'}" in out and (tmp_path/'loss.png').read_bytes()[:4] == b'\x89PNG'
    assert [r['step'] for r in res.history] == [1, 2, 3, 4, 5, 6]
    assert all({'loss', 'lr', 'grad_norm', 'tokens_per_s', 'mem_gb', 'peak_gb', 'epoch'} <= r.keys() for r in res.history[1:])
    assert [r['step'] for r in res.history if 'eval_loss' in r] == [3, 6]
    assert res.losses[-1] < res.losses[0]
    assert json.loads((tmp_path/'history.json').read_text()) == res.history
    with peft_compat(): m = PeftModel.from_pretrained(tiny_model('llama'), str(res.adapter_dir))  # the saved adapter loads
    assert res.adapter_dir == tmp_path/'adapter' and res.samples == [] and res.stopped is None

def test_stop_button_stops_and_saves(tok, ds, tmp_path):
    nd = NotebookDisplay(show=False)
    with mock.patch.object(T, 'make_display', lambda *a, **k: nd):
        res = T.fit(lora(), tok, ds, output_dir=tmp_path, max_steps=50, callbacks=[At(3, lambda s: nd.stop_button.click())])
    # the click lands after the display's check for step 3 (callbacks run in order), so the run ends after step 4
    assert res.stopped == 'stop button' and res.steps == 4
    assert (res.adapter_dir/'adapter_config.json').exists() and 'Stop requested' in nd.logbox.value
    assert nd.stop_button.disabled and 'stopped' in nd.status.value

def _boom(exc):
    def f(state): raise exc
    return f

def test_keyboard_interrupt_saves_adapter_and_reraises(tok, ds, tmp_path, capsys):
    model = lora()
    with pytest.raises(KeyboardInterrupt) as e:
        T.fit(model, tok, ds, output_dir=tmp_path, max_steps=50, lr=1e-2, notebook=False, callbacks=[At(3, _boom(KeyboardInterrupt()))])
    saved = tmp_path/'adapter-step3'
    assert (saved/'adapter_config.json').exists() and str(saved) in capsys.readouterr().out
    assert any(str(saved) in n for n in getattr(e.value, '__notes__', []))
    with peft_compat(): back = PeftModel.from_pretrained(tiny_model('llama'), str(saved))  # holds the trained weights, not the initial zeros
    b = {n: p for n, p in back.named_parameters() if 'lora_B' in n}
    assert b and all(p.abs().sum() > 0 for p in b.values())

def test_exception_shown_in_widget_and_reraised(tok, ds, tmp_path):
    nd = NotebookDisplay(show=False)
    with mock.patch.object(T, 'make_display', lambda *a, **k: nd), pytest.raises(RuntimeError, match='disk full'):
        T.fit(lora(), tok, ds, output_dir=tmp_path, max_steps=10, callbacks=[At(2, _boom(RuntimeError('disk full')))])
    assert 'RuntimeError: disk full' in nd.logbox.value and (tmp_path/'adapter-step2'/'adapter_config.json').exists()

def test_nan_loss_stops_at_once_with_cause_and_keeps_good_weights(tok, ds, tmp_path):
    model = lora()
    poison = {'on': False}
    head = model.get_base_model().lm_head
    head.register_forward_hook(lambda mod, inp, out: out * float('nan') if poison['on'] else out)
    with pytest.raises(T.NonFiniteLoss) as e:
        T.fit(model, tok, ds, output_dir=tmp_path, max_steps=50, notebook=False, quiet=True,
              callbacks=[At(2, lambda s: poison.update(on=True))])
    msg = str(e.value)
    assert 'NaN/inf at step 3' in msg and 'learning rate' in msg and str(tmp_path/'adapter-step2') in msg
    with peft_compat(): back = PeftModel.from_pretrained(tiny_model('llama'), str(tmp_path/'adapter-step2'))
    assert all(torch.isfinite(p).all() for n, p in back.named_parameters() if 'lora_' in n)
    fp16_args = mock.Mock(fp16=True, learning_rate=2e-4, max_grad_norm=1.0)
    assert 'fp16 overflow' in T.nan_message(7, fp16_args) and 'T4' in T.nan_message(7, fp16_args)

def test_cuda_oom_message_names_the_knobs(tok, ds, tmp_path):
    with pytest.raises(torch.OutOfMemoryError) as e:
        T.fit(lora(), tok, ds, output_dir=tmp_path, max_steps=10, notebook=False, quiet=True,
              callbacks=[At(1, _boom(torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB')))])
    msg = str(e.value)
    for knob in ('per_device_train_batch_size=4', 'gradient_accumulation_steps', 'max_len', 'checkpointing=True', '4-bit'):
        assert knob in msg, (knob, msg)
    assert str(tmp_path/'adapter-step1') in msg
    assert 'estimate_memory for batch 4 x 10 tokens: lora: weights' in msg and ' GB' in msg, msg  # the adapters module's numbers

def test_resume_continues_from_last_checkpoint_with_its_history(tok, ds, tmp_path):
    r1 = T.fit(lora(), tok, ds, output_dir=tmp_path, max_steps=4, save_steps=2, logging_steps=1, notebook=False, quiet=True)
    assert sorted(p.name for p in tmp_path.glob('checkpoint-*')) == ['checkpoint-2', 'checkpoint-4']
    r2 = T.fit(lora(), tok, ds, output_dir=tmp_path, max_steps=6, save_steps=2, logging_steps=1, notebook=False, quiet=True, resume=True)
    assert r2.steps == 6 and [r['step'] for r in r2.history] == [1, 2, 3, 4, 5, 6]
    assert r2.history[:4] == r1.history  # restored from checkpoint-4, then continued
    assert r2.trainer.state.global_step == 6

def test_resume_without_checkpoint_says_so(tok, ds, tmp_path):
    nd = NotebookDisplay(show=False)
    with mock.patch.object(T, 'make_display', lambda *a, **k: nd):
        r = T.fit(lora(), tok, ds, output_dir=tmp_path/'new', max_steps=2, resume=True)
    assert r.steps == 2 and 'has no checkpoint-* folder' in nd.logbox.value

def test_adalora_callback_attached_automatically(tok, ds, tmp_path):
    from peft import AdaLoraConfig
    from finetune_kit.adapters import AdaLoraCallback
    cfg = AdaLoraConfig(init_r=6, target_r=2, tinit=1, tfinal=1, deltaT=1, total_step=6, target_modules=['q_proj', 'v_proj'])
    model = peft_model(tiny_model('llama'), cfg)
    res = T.fit(model, tok, ds, output_dir=tmp_path, max_steps=6, notebook=False, quiet=True)
    cbs = [c for c in res.trainer.callback_handler.callbacks if isinstance(c, AdaLoraCallback)]
    assert len(cbs) == 1 and len(cbs[0].history) == 7  # called after each of the 6 optimizer steps
    assert cbs[0].history[-1][1] < cbs[0].history[0][1]  # ranks were pruned: update_and_allocate really ran
    assert res.info.method == 'AdaLoRA'

def test_samples_at_checkpoints_and_html(tok, ds, tmp_path):
    res = T.fit(lora(), tok, ds, output_dir=tmp_path, max_steps=4, save_steps=2, lr=3e-2, notebook=False, quiet=True,
                prompts=['Who are you?'], samples_at_checkpoints=True, compare_kwargs=dict(max_new_tokens=4, fmt=lambda p: p))
    row = res.samples[0]
    assert set(row['checkpoints']) == {2, 4} and row['checkpoints'][4] == row['tuned']
    page = res.save_html(tmp_path/'run.html').read_text()
    assert 'step 2' in page and 'step 4' in page and 'data:image/png;base64,' in page

def test_conversation_alternates_markers_and_stops_at_eos(tok):
    script = iter([("I was in Kyiv.", False), ("What did you see?", False), ("", True)])
    with mock.patch.object(T, 'generate', lambda *a, **k: next(script)):
        conv = T.converse(None, tok, 'Tell me about your trip.', markers=('### Human:', '### Assistant:'), turns=6)
    assert conv == "### Human: Tell me about your trip.\n### Assistant: I was in Kyiv.\n### Human: What did you see?\n### Assistant:"

def test_generate_stops_at_marker(tok):
    model = lora(); model.eval()
    free, _ = T.generate(model, tok, 'Hello', max_new_tokens=12)
    assert len(free) > 3
    marker = free[2:6]  # a piece of what the model would write anyway: it must be cut there
    cut, _ = T.generate(model, tok, 'Hello', max_new_tokens=12, stop=[marker])
    assert marker not in cut and free.startswith(cut)

DDP_SCRIPT = textwrap.dedent('''
    import os, sys, json
    from accelerate import notebook_launcher
    out = sys.argv[1]
    def run(out):
        import torch
        from datasets import Dataset
        from transformers import AutoTokenizer, TrainerCallback
        from peft import LoraConfig
        from finetune_kit.adapters import peft_model
        from finetune_kit.models import tiny_model, default_checkpoint
        from finetune_kit.train import fit, NonFiniteLoss
        rank = int(os.environ['RANK'])
        tok = AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))
        ids = [[5, 6, 7, 8, 9, 10, 11, 12]]*16
        ds = Dataset.from_dict({'input_ids': ids, 'labels': ids, 'attention_mask': [[1]*8]*16})
        model = peft_model(tiny_model('llama'), LoraConfig(r=4, target_modules=['q_proj', 'v_proj']))
        res = fit(model, tok, ds, output_dir=f"{out}/ok", max_steps=3, bs=2, logging_steps=1, notebook=False,
                  prompts=['hi'], compare_kwargs=dict(max_new_tokens=3, fmt=lambda p: p))
        json.dump(dict(world=torch.distributed.get_world_size(), backend=torch.distributed.get_backend(),
                       mode=str(res.trainer.args.parallel_mode), steps=res.steps, n_samples=len(res.samples),
                       adapter=str(res.adapter_dir) if res.adapter_dir else None), open(f"{out}/rank{rank}.json", 'w'))
        # the same run again, where only process 1's loss goes NaN, at step 2
        model = peft_model(tiny_model('llama'), LoraConfig(r=4, target_modules=['q_proj', 'v_proj']))
        poison = {'on': False}
        model.get_base_model().lm_head.register_forward_hook(lambda m, i, o: o * float('nan') if poison['on'] else o)
        class OnRank1AtStep2(TrainerCallback):
            def on_step_begin(self, args, state, control, **kw): poison['on'] = rank == 1 and state.global_step == 1
        try:
            fit(model, tok, ds, output_dir=f"{out}/nan", max_steps=6, bs=2, logging_steps=1, notebook=False,
                callbacks=[OnRank1AtStep2()])
            raised = None
        except NonFiniteLoss as e: raised = str(e)
        json.dump(dict(rank=rank, raised=raised), open(f"{out}/nan-rank{rank}.json", 'w'))
    notebook_launcher(run, (out,), num_processes=2, use_port='29517')
''')

@pytest.fixture(scope='module')
def ddp(tmp_path_factory):
    "Two processes (gloo, CPU) started by accelerate's notebook_launcher, as in a notebook: two runs, one launch"
    out = tmp_path_factory.mktemp('ddp')
    script = out/'ddp.py'
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1', 'TOKENIZERS_PARALLELISM': 'false'}
    p = subprocess.run([sys.executable, str(script), str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return out, p.stdout

def test_two_processes_ddp_via_notebook_launcher(ddp):
    out, stdout = ddp
    r0, r1 = (json.loads((out/f'rank{i}.json').read_text()) for i in (0, 1))
    assert r0['world'] == r1['world'] == 2 and r0['backend'] == 'gloo' and 'DISTRIBUTED' in r0['mode']
    assert r0['steps'] == r1['steps'] == 3
    assert r0['n_samples'] == 1 and r1['n_samples'] == 0  # comparison and display on the main process only
    assert r0['adapter'] and r1['adapter'] is None and (out/'ok'/'adapter'/'adapter_config.json').exists()
    assert stdout.count(f"Adapter saved to {out/'ok'/'adapter'}") == 1, stdout

def test_a_nan_on_one_process_stops_both_and_saves_once(ddp):
    "Only process 1's loss goes NaN, at step 2: both stop at that step (before the fix, process 0 waited forever)"
    out, stdout = ddp
    r0, r1 = (json.loads((out/f'nan-rank{i}.json').read_text()) for i in (0, 1))
    assert r0['raised'].startswith('Training loss became NaN/inf at step 2 on process 1'), r0
    assert r1['raised'].startswith('Training loss became NaN/inf at step 2 on process 1'), r1
    assert str(out/'nan'/'adapter-step1') in r0['raised'] and 'saved to' not in r1['raised']
    assert [d.name for d in (out/'nan').glob('adapter*')] == ['adapter-step1']   # the rescue save happens once,
    assert stdout.count('ERROR: NonFiniteLoss') == 1, stdout      # told once, by process 0 (the first run: never)
    from safetensors.torch import load_file
    saved = load_file(str(out/'nan'/'adapter-step1'/'adapter_model.safetensors'))
    assert all(torch.isfinite(v).all() for v in saved.values())

def test_gradient_checkpointing_switch(tok, ds, tmp_path):
    "`fit(gradient_checkpointing=...)` sets the TrainingArguments field, whatever this transformers version names it"
    for on in (True, False):
        res = T.fit(lora(), tok, ds, output_dir=tmp_path/str(on), max_steps=1, notebook=False, quiet=True, gradient_checkpointing=on)
        assert getattr(res.trainer.args, T._CKPT) is on
