"""A user's bad day, case by case: half-written checkpoints, NaN gradients, full or read-only disks, lost history,
Ctrl-C, bad data, broken adapter folders, a merged QLoRA model (the kill-anywhere test is tests/test_kill_resume.py,
the multi-process NaN tests/test_train.py). Disk cases use monkeypatched writes, which run anywhere; where this
machine can mount one (root), the same cases also run on a real tmpfs."""
import os, io, re, json, errno, shutil, signal, subprocess, traceback, warnings
from pathlib import Path
from unittest import mock
import pytest, torch
from datasets import Dataset
from transformers import AutoTokenizer, TrainerCallback
from peft import LoraConfig
from safetensors.torch import load_file, save_file
from finetune_kit.adapters import peft_model, load_adapter, save_adapter, lora, merge, checkpointing_on
from finetune_kit.models import tiny_model, default_checkpoint, quiet_transformers
from finetune_kit.widget import ConsoleDisplay
from finetune_kit import train as T


@pytest.fixture(scope='module')
def tok(): return AutoTokenizer.from_pretrained(default_checkpoint(quiet=True))

IDS = [[5 + i, 6 + i, 7, 8, 9 + i, 10, 11, 12, 2] for i in range(12)]
DS = Dataset.from_dict({'input_ids': IDS, 'labels': IDS})

def tiny_lora(**kw):
    return peft_model(tiny_model('llama', **kw), LoraConfig(r=4, lora_alpha=8, target_modules=['q_proj', 'v_proj']))

def run(tok, out, steps=6, ds=DS, model=None, **kw):
    kw = {'quiet': True, **kw}
    return T.fit(model or tiny_lora(), tok, ds, output_dir=out, max_steps=steps, bs=2, lr=1e-2, logging_steps=1, **kw)

class At(TrainerCallback):
    "`fn(state)` when step `step` begins ('begin'), after its optimizer update ('update') or when it ends ('end')"
    def __init__(self, step, fn, when='end'): self.step, self.fn, self.when = step, fn, when
    def on_step_begin(self, args, state, control, **kw):
        if self.when == 'begin' and state.global_step + 1 == self.step: self.fn(state)
    def on_optimizer_step(self, args, state, control, **kw):
        if self.when == 'update' and state.global_step + 1 == self.step: self.fn(state)
    def on_step_end(self, args, state, control, **kw):
        if self.when == 'end' and state.global_step == self.step: self.fn(state)

def boom(exc):
    def f(state): raise exc
    return f

def logged():
    "A console display whose lines are kept (fit(..., quiet=True) would show nothing)"
    buf = io.StringIO()
    return buf, mock.patch.object(T, 'make_display', lambda *a, **k: ConsoleDisplay(file=buf, every=3600))

def weights(folder): return load_file(str(Path(folder)/'adapter_model.safetensors'))

@pytest.fixture(scope='module')
def straight(tok, tmp_path_factory):
    "The uninterrupted 6-step run everything is compared with"
    out = tmp_path_factory.mktemp('straight')
    return run(tok, out, save_steps=1), out


# ---- 1. a half-written checkpoint; a resume that fails ----

def test_resume_skips_a_half_written_checkpoint(tok, tmp_path, straight):
    with pytest.raises(RuntimeError): run(tok, tmp_path, save_steps=1, callbacks=[At(5, boom(RuntimeError('lost')), 'begin')])
    opt = tmp_path/'checkpoint-4'/'optimizer.pt'
    opt.write_bytes(opt.read_bytes()[:1000])                         # killed while writing it
    buf, display = logged()
    with display: res = T.fit(tiny_lora(), tok, DS, output_dir=tmp_path, max_steps=6, bs=2, lr=1e-2, logging_steps=1,
                              save_steps=1, resume=True)
    assert 'skipping checkpoint-4, which is incomplete (optimizer.pt is cut short)' in buf.getvalue()
    assert res.steps == 6 and [r['step'] for r in res.history] == list(range(1, 7))
    assert res.losses == pytest.approx(straight[0].losses, abs=1e-6)

def test_a_resume_that_fails_to_load_saves_no_untrained_adapter(tok, tmp_path):
    run(tok, tmp_path, steps=2, save_steps=1)
    other = peft_model(tiny_model('llama'), LoraConfig(r=8, target_modules=['q_proj', 'v_proj']))  # r=8: won't load
    with pytest.raises(Exception) as e: run(tok, tmp_path, steps=4, model=other, resume=True)
    assert not list(tmp_path.glob('adapter-step*'))
    assert any('Training had not started' in n for n in getattr(e.value, '__notes__', [])), e.value


# ---- 2. NaN/inf gradients ----

def test_a_nan_gradient_is_refused_before_the_update(tok, tmp_path):
    model, poison = tiny_lora(), {'on': False}
    for n, p in model.named_parameters():
        if 'lora_B' in n: p.register_hook(lambda g: g * float('nan') if poison['on'] else g)
    with pytest.raises(T.NonFiniteLoss) as e:
        run(tok, tmp_path/'nan', model=model, callbacks=[At(3, lambda s: poison.update(on=True), 'begin')])
    msg = str(e.value)
    assert msg.startswith('Gradients became NaN/inf at step 3') and 'the weights are those of step 2' in msg, msg
    with pytest.raises(RuntimeError): run(tok, tmp_path/'ref', callbacks=[At(3, boom(RuntimeError('x')), 'begin')])
    kept, ref = weights(tmp_path/'nan'/'adapter-step2'), weights(tmp_path/'ref'/'adapter-step2')
    assert all(torch.isfinite(v).all() for v in kept.values())
    assert all(torch.equal(kept[k], ref[k]) for k in ref)            # the last good weights, exactly

def test_fp16_scaler_skips_are_allowed_then_stop(tok):
    "With a loss scaler an inf gradient is a skipped step, not a failure, until it happens `max_skipped` times in a row"
    model = tiny_lora()
    for p in model.parameters():
        if p.requires_grad: p.grad = torch.full_like(p, float('inf'))
    guard = T._Guard(ConsoleDisplay(quiet=True), max_skipped=5)
    guard.trainer = mock.Mock(accelerator=mock.Mock(scaler=object()))
    args, state = mock.Mock(device=torch.device('cpu'), fp16=True, learning_rate=2e-4, max_grad_norm=1.), mock.Mock(global_step=7)
    for _ in range(4): guard.on_pre_optimizer_step(args, state, mock.Mock(), model=model)
    with pytest.raises(T.NonFiniteLoss, match='5 updates in a row'): guard.on_pre_optimizer_step(args, state, mock.Mock(), model=model)
    guard.trainer.accelerator.scaler = None                           # no scaler: the first one stops the run
    guard.skipped = 0
    with pytest.raises(T.NonFiniteLoss, match='Gradients became NaN/inf at step 8'):
        guard.on_pre_optimizer_step(args, state, mock.Mock(), model=model)

def test_a_batch_without_trained_tokens_is_diagnosed(tok, tmp_path):
    labels = [r if i % 2 else [-100] * len(r) for i, r in enumerate(IDS[:8])]   # every other row trains nothing
    ds = Dataset.from_dict({'input_ids': IDS[:8], 'labels': labels})
    for seed in range(10):                                           # find a data order with an all-empty batch
        try: run(tok, tmp_path/str(seed), steps=4, ds=ds, seed=seed)
        except T.NonFiniteLoss as e:
            assert 'the batch has no trained token' in str(e) and 'learning rate' not in str(e), e
            return
    pytest.fail('no data order put two empty rows together')


# ---- 3. full and read-only disks ----

def _failing_writes(under:Path, on:dict):
    "Patch the writers Trainer and peft use so that, while `on['full']`, files under `under` fail: ENOSPC after half"
    import peft.peft_model as pm
    save_st, save_pt = pm.safe_save_file, torch.save
    def full(path):
        return on['full'] and Path(str(path)).resolve().is_relative_to(under.resolve())
    def st(tensors, filename, *a, **k):
        if not full(filename): return save_st(tensors, filename, *a, **k)
        Path(filename).write_bytes(b'\0' * 10)
        raise OSError(errno.ENOSPC, 'No space left on device', str(filename))
    def pt(obj, f, *a, **k):
        if not (isinstance(f, (str, os.PathLike)) and full(f)): return save_pt(obj, f, *a, **k)
        raise RuntimeError(f'[enforce fail at inline_container.cc] . PytorchStreamWriter failed writing file {f}: file write failed')
    return mock.patch.multiple(pm, safe_save_file=st), mock.patch.object(torch, 'save', pt)

def test_a_full_disk_mid_run_saves_the_adapter_elsewhere(tok, tmp_path, capsys):
    on = {'full': False}
    p1, p2 = _failing_writes(tmp_path, on)
    with p1, p2, pytest.raises(OSError) as e:
        run(tok, tmp_path, save_steps=1, callbacks=[At(2, lambda s: on.update(full=True))], quiet=False)
    told = ' '.join(getattr(e.value, '__notes__', []))
    assert 'checkpoint-2 failed' in told and 'the partial folder was removed' in told, told
    rescued = Path(told.split('was saved to ')[1].split()[0])
    assert not rescued.is_relative_to(tmp_path) and rescued.name == 'adapter-step2', told
    assert str(rescued) in capsys.readouterr().out                   # printed too, not only in the exception
    back = load_adapter(rescued, tiny_model('llama'))                 # a whole adapter, not a 0-byte README
    assert all(torch.isfinite(p).all() for n, p in back.named_parameters() if 'lora_' in n)
    assert not (tmp_path/'adapter-step2').exists() and not (tmp_path/'checkpoint-2').exists()
    assert not list(tmp_path.glob('.adapter*'))                       # no half-written folder left to confuse anyone
    res = run(tok, tmp_path, save_steps=1, resume=True)               # space freed: resume from checkpoint-1
    assert res.steps == 6 and [r['step'] for r in res.history] == list(range(1, 7))
    shutil.rmtree(rescued.parent, ignore_errors=True)

def test_a_read_only_output_dir_is_refused_before_training(tok, tmp_path):
    ro = tmp_path/'ro'
    ro.mkdir()
    if os.geteuid() != 0: ro.chmod(0o555)
    elif subprocess.run(['mount', '-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', str(ro)], capture_output=True).returncode:
        pytest.skip('root without mount: a read-only folder cannot be made here')
    try:
        with pytest.raises(T.OutputDirError, match="can't be written"): run(tok, ro/'run', save_steps=1)
    finally:
        if os.geteuid() == 0: subprocess.run(['umount', str(ro)])
        else: ro.chmod(0o755)

@pytest.fixture
def tmpfs(tmp_path):
    "A real small filesystem (root only; skipped elsewhere)"
    made = []
    def mount(size):
        d = tmp_path/f"tmpfs-{size}"
        d.mkdir()
        if os.geteuid() != 0 or subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(d)],
                                                capture_output=True).returncode:
            pytest.skip('needs root and mount for a real tmpfs (the monkeypatched tests cover the same paths)')
        made.append(d)
        return d
    yield mount
    for d in made: subprocess.run(['umount', str(d)])

def test_real_tmpfs_too_small_is_refused_before_training(tok, tmpfs):
    with pytest.raises(T.OutputDirError, match='one checkpoint needs about'): run(tok, tmpfs('1m')/'run', save_steps=1)

def test_real_tmpfs_filling_up_mid_run(tok, tmpfs):
    d = tmpfs('6m')/'run'                 # a checkpoint is ~3 MB (the tokenizer): the second one doesn't fit
    buf, display = logged()
    with display, pytest.raises(Exception) as e:   # tokenizers' own write error is a bare Exception
        T.fit(tiny_lora(), tok, DS, output_dir=d, max_steps=8, bs=2, logging_steps=1, save_steps=1, save_total_limit=5)
    assert 'room for 1 checkpoints' in buf.getvalue() and 'it may fill up' in buf.getvalue()  # warned before
    told = ' '.join(getattr(e.value, '__notes__', []))
    assert 'checkpoint-2 failed' in told and 'the partial folder was removed' in told, told
    assert f"was saved to {d/'adapter-step2'}" in told, told          # room again once the partial one is gone
    back = load_adapter(d/'adapter-step2', tiny_model('llama'))
    assert all(torch.isfinite(p).all() for n, p in back.named_parameters() if 'lora_' in n)
    assert T.last_checkpoint(d) == (d/'checkpoint-1', [])              # resume=True continues from there


# ---- 4. history across a resume ----

def test_history_comes_back_without_fits_own_file(tok, tmp_path):
    first = run(tok, tmp_path, steps=4, save_steps=2)
    (tmp_path/'checkpoint-4'/T.HISTORY_FILE).unlink()   # died after Trainer's save, before fit's history file
    res = run(tok, tmp_path, save_steps=2, resume=True)
    assert [r['step'] for r in res.history] == list(range(1, 7))
    assert res.losses[:4] == pytest.approx(first.losses, abs=1e-7)
    assert json.loads((tmp_path/'history.json').read_text())[0]['step'] == 1


# ---- 5. Ctrl-C and Stop save a resumable checkpoint ----

def test_ctrl_c_finishes_the_step_saves_a_checkpoint_and_says_so_briefly(tok, tmp_path):
    steps = 10
    ref = run(tok, tmp_path/'ref', steps=steps, save_steps=5)
    sigint = At(8, lambda s: os.kill(os.getpid(), signal.SIGINT), 'begin')
    with pytest.raises(KeyboardInterrupt) as e: run(tok, tmp_path/'run', steps=steps, save_steps=5, callbacks=[sigint])
    msg = str(e.value)
    assert msg.startswith('Interrupted at step 8.') and 'checkpoint-8 saved' in msg and 'adapter-step8' in msg, msg
    frames = traceback.extract_tb(e.value.__traceback__)
    assert len(frames) <= 4 and not any('torch' in f.filename or 'transformers' in f.filename for f in frames), frames
    assert T.checkpoint_problem(tmp_path/'run'/'checkpoint-8') is None
    res = run(tok, tmp_path/'run', steps=steps, save_steps=5, resume=True)
    assert res.history[7]['step'] == 8 and res.trainer.state.global_step == steps
    assert res.losses == pytest.approx(ref.losses, abs=1e-6)            # as if never interrupted
    a, b = weights(res.adapter_dir), weights(ref.adapter_dir)
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)

def test_a_second_ctrl_c_stops_at_once(tok, tmp_path):
    model = tiny_lora()
    def twice(state):
        os.kill(os.getpid(), signal.SIGINT)                 # first: finish the step...
        os.kill(os.getpid(), signal.SIGINT)                 # ...second: no, now
    with pytest.raises(KeyboardInterrupt) as e: run(tok, tmp_path, model=model, save_steps=5, callbacks=[At(3, twice, 'begin')])
    assert 'Interrupted at step 2.' in str(e.value) and T.checkpoint_problem(tmp_path/'checkpoint-2') is None

def test_an_interrupt_inside_the_update_saves_the_adapter_not_a_checkpoint(tok, tmp_path):
    with pytest.raises(KeyboardInterrupt) as e:
        run(tok, tmp_path, save_steps=2, callbacks=[At(3, boom(KeyboardInterrupt()), 'update')])
    assert "inside step 3's optimizer update" in str(e.value) and (tmp_path/'adapter-step3').exists()
    assert not (tmp_path/'checkpoint-3').exists() and T.last_checkpoint(tmp_path)[0].name == 'checkpoint-2'

def test_stop_button_leaves_a_resumable_checkpoint(tok, tmp_path):
    from finetune_kit.widget import NotebookDisplay
    nd = NotebookDisplay(show=False)
    with mock.patch.object(T, 'make_display', lambda *a, **k: nd):
        res = T.fit(tiny_lora(), tok, DS, output_dir=tmp_path, max_steps=50, bs=2, callbacks=[At(3, lambda s: nd.stop_button.click())])
    assert res.stopped == 'stop button' and res.steps == 4 and T.last_checkpoint(tmp_path)[0].name == 'checkpoint-4'
    more = run(tok, tmp_path, steps=6, resume=True)
    assert [r['step'] for r in more.history][:4] == [r['step'] for r in res.history][:4] and more.steps == 6


# ---- 6. bad data is refused before any weights move ----

def test_bad_data_gets_the_right_diagnosis(tok, tmp_path):
    masked = Dataset.from_dict({'input_ids': IDS, 'labels': [[-100] * 9] * 12})
    with pytest.raises(ValueError, match='every label is -100'): run(tok, tmp_path/'a', ds=masked)
    first = Dataset.from_dict({'input_ids': IDS, 'labels': [[r[0]] + [-100] * 8 for r in IDS]})
    with pytest.raises(ValueError, match="only on a row's first token"): run(tok, tmp_path/'b', ds=first)
    rows = [list(range(3, 1203))] * 4
    long = Dataset.from_dict({'input_ids': rows, 'labels': rows})
    gpt2 = peft_model(tiny_model('gpt2'), LoraConfig(r=4, target_modules=['c_attn']))
    with pytest.raises(ValueError, match='reads 1024 positions'): run(tok, tmp_path/'c', ds=long, model=gpt2)
    src, tgt = [list(range(3, 603))] * 4, [[5, 6, 2]] * 4
    bb = peft_model(tiny_model('blenderbot'), LoraConfig(r=4, target_modules=['q_proj'], task_type='SEQ_2_SEQ_LM'))
    with pytest.raises(ValueError, match='reads 512 positions'):
        run(tok, tmp_path/'d', ds=Dataset.from_dict({'input_ids': src, 'labels': tgt}), model=bb)
    assert not any((tmp_path/x).exists() for x in 'abcd')              # refused before output_dir was even made

def test_tokenizing_beyond_the_models_positions_is_refused(tok):
    from finetune_kit.tokens import tokenize_records, tokenize_seq2seq
    import copy
    gpt2_tok = copy.deepcopy(tok)
    gpt2_tok.model_max_length = 1024
    with pytest.raises(ValueError, match='longer than the 1024 positions'):
        tokenize_records([{'prompt': 'hi', 'response': 'yo'}], gpt2_tok, max_len=4096)
    gpt2_tok.model_max_length = 128
    with pytest.raises(ValueError, match='target_max_len=256'):
        tokenize_seq2seq([{'prompt': 'hi', 'response': 'yo'}], gpt2_tok, max_len=128, target_max_len=256)


# ---- 7. broken adapter folders ----

def test_broken_adapter_folders_say_which_file(tok, tmp_path):
    good = save_adapter(tiny_lora(), tmp_path/'good')
    def broken(name, fn):
        d = tmp_path/name
        shutil.copytree(good, d)
        fn(d)
        return d
    cases = [('no-weights', lambda d: (d/'adapter_model.safetensors').unlink(), FileNotFoundError, 'no adapter_model.safetensors'),
             ('cut-weights', lambda d: (d/'adapter_model.safetensors').write_bytes(b'\x10\0\0\0\0\0\0\0{"a'), ValueError,
              'adapter_model.safetensors is truncated'),
             ('cut-config', lambda d: (d/'adapter_config.json').write_text('{"r": 4, "tar'), ValueError,
              'adapter_config.json is not valid JSON (line 1'),
             ('empty', lambda d: [f.unlink() for f in d.iterdir()], FileNotFoundError, 'has no adapter_config.json')]
    for name, fn, exc, says in cases:
        d = broken(name, fn)
        with pytest.raises(exc, match=f"{re.escape(str(d))}.*{re.escape(says)}"): load_adapter(d, tiny_model('llama'))
    with pytest.raises(ValueError, match='match no layer'): load_adapter(good, tiny_model('llama', num_hidden_layers=1))
    renamed = broken('renamed', lambda d: save_file({k.replace('layers', 'blocks'): v for k, v in weights(d).items()},
                                                    str(d/'adapter_model.safetensors')))
    with pytest.raises(ValueError, match='adapter weights of the model are not in the file'): load_adapter(renamed, tiny_model('llama'))
    assert load_adapter(good, tiny_model('llama')) is not None


# ---- 8. merging a QLoRA model leaves a plain model ----

def test_merged_qlora_is_a_plain_model(tok, tmp_path):
    pytest.importorskip('bitsandbytes')
    from finetune_kit.adapters import qlora
    from finetune_kit.train import _run_info
    with quiet_transformers():
        tiny_model('llama').save_pretrained(tmp_path/'tiny')
        tok.save_pretrained(tmp_path/'tiny')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        qm, _ = qlora(str(tmp_path/'tiny'), r=8)
        merged = merge(qm)
    assert merged.is_loaded_in_4bit is False and getattr(merged.config, 'quantization_config', None) is None
    again = lora(merged, r=4, targets=['q_proj'])
    assert _run_info(again, torch.device('cpu')).method == 'LoRA' and not checkpointing_on(again.get_base_model())
    assert T.training_defaults(again, tmp_path, 10)[T._CKPT] is False
    assert type(merge(again)).__name__ == 'LlamaForCausalLM'             # merging again works
