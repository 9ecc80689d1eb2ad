"""bench/cuda_check.py --dry in CI, so the CUDA check never rots: its code paths on CPU with tiny sizes.

One run of the script (~40 s on CI's CPU) feeds the tests below, which check the JSON report's structure and values;
the runner's budget and failure handling and the bundle's wheel trimming are tested in-process without training."""
import importlib.util, json, math, os, re, subprocess, sys, time, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / 'bench' / 'cuda_check.py'
SECTIONS = ['env', 'data', 't4-qlora-1B', 't4-lora-1B', 't4-oom', 't4-fp16-overflow', 'packing-isolation',
            't4-packed-vs-padded', 't4-qlora-3B', 't4-qlora-7B', 'bf16-qlora-1B', 'trl-vs-fit']
DEVICE_COMMAND = ('PYTHONUNBUFFERED=1 python3 bench/cuda_check.py --bundle .cuda_check --out $OUT 2>&1 '
                  '| tee $OUT/cuda_check.log')


@pytest.fixture(scope='module')
def dry(tmp_path_factory):
    "(report, stdout, table text, wall seconds) of one `--dry` run"
    out = tmp_path_factory.mktemp('cuda_check')
    env = {**os.environ, 'CUDA_VISIBLE_DEVICES': '', 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1',
           'HF_DATASETS_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'MPLBACKEND': 'Agg',
           'TOKENIZERS_PARALLELISM': 'false'}
    t = time.monotonic()
    p = subprocess.run([sys.executable, '-W', 'error::FutureWarning', str(SCRIPT), '--dry', '--out', str(out)],
                       capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    seconds = time.monotonic() - t
    assert p.returncode == 0, f"--dry exited {p.returncode}\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}"
    print(f"cuda_check --dry: {seconds:.0f} s")
    return json.loads((out / 'cuda_check.json').read_text()), p.stdout, (out / 'cuda_check.txt').read_text(), seconds


def sec(report, name): return next(s for s in report['sections'] if s['name'] == name)
def runs(report, label): return {r['bs']: r for r in report['runs'] if r['label'] == label}


def test_every_section_ran_in_order_and_passed_its_checks(dry):
    report, _, _, seconds = dry
    assert report['mode'] == 'dry' and report['seq_len'] == 128 and report['script'] == 'bench/cuda_check.py'
    assert [s['name'] for s in report['sections']] == SECTIONS
    for s in report['sections']:
        trl_absent = s['name'] == 'trl-vs-fit' and s['status'] == 'skipped' and 'trl is not importable' in s['why']
        assert s['status'] == 'ok' or trl_absent, (s['name'], s['status'], s.get('why'), s.get('error'), s['checks'])
        assert s['error'] is None and s['skipped'] == [] and all(c['ok'] for c in s['checks']), s
        assert 0 <= s['seconds'] <= s['budget_s'] + 5, (s['name'], s['seconds'], s['budget_s'])
    assert sum(len(s['checks']) for s in report['sections']) >= 50
    assert report['seconds'] <= report['budget_s'] and report['seconds'] <= seconds + 1


def test_each_size_and_method_trains_at_batch_1_and_the_searched_batch(dry):
    report = dry[0]
    vocab = {'qlora-1B': 49152, 'qlora-3B': 49152, 'qlora-7B': 32000, 'lora-1B': 49152}  # dry: min(vocab, tokenizer's)
    for label, v in vocab.items():
        rs = runs(report, label)
        assert set(rs) == {1, 2}, (label, sorted(rs))
        for bs, r in rs.items():
            assert r['status'] == 'ok' and r['seq_len'] == 128 and r['dtype'] == 'float32'
            assert r['optim'] == 'adamw_torch' and r['fp16'] is False and r['bf16'] is False
            assert r['steps'] == (3 if bs == 1 else 2) and r['step_s'] > 0 and r['tokens_per_s'] > 0
            assert abs(r['loss_first'] - math.log(v)) < 0.5, (label, r['loss_first'])  # random: ~uniform over vocab
            assert r['console_progress_lines'] >= 1 and r['console_gpu_lines'] == 0  # lines are throttled by draw cost
            assert r['checkpointing'] == label.startswith('qlora')  # qlora() checkpoints, fit's LoRA defaults don't
            assert r['estimate_term'] == ('total_checkpointed' if r['checkpointing'] else 'total')
            assert r['peak_alloc_gb'] is None and r['measured_gb'] is None and r['error_pct'] is None  # no CUDA
        assert 0.5 < rs[1]['estimate_gb'] < rs[2]['estimate_gb'] < 1.0, label  # 0.5 GB overhead + a tiny model's terms
    ck = runs(report, 'lora-1B-ckpt')[1]
    assert ck['checkpointing'] and ck['estimate_term'] == 'total_checkpointed'


def test_largest_batch_search_predicts_then_tries(dry):
    report = dry[0]
    for name, label in (('t4-qlora-1B', 'qlora-1B'), ('t4-lora-1B', 'lora-1B'), ('t4-qlora-7B', 'qlora-7B')):
        s = sec(report, name)
        want = {'estimate_max_bs': 2, 'tried': {'2': 'ok'}, 'measured_max_bs': 2, 'at_least': True}
        assert s['results']['largest_batch'][label] == want
        assert any('pretend cap' in n for n in s['notes'])


def test_oom_path_gives_our_message_and_saves_an_adapter(dry):
    s = sec(dry[0], 't4-oom')
    r = s['results']
    assert r['raised'] == 'OutOfMemoryError' and r['bs'] == 2
    assert 'estimate_memory for batch 2 x 128 tokens: lora: weights' in r['message']
    assert 'per_device_train_batch_size=2' in r['message'] and r['adapter_saved'] in r['message']
    assert {c['what'] for c in s['checks']} >= {"an adapter was saved", "the message says where the adapter is",
                                                "the message carries estimate_memory's numbers"}
    assert any('simulated' in n or 'callback' in n for n in s['notes'])


def test_overflow_stops_with_our_message_and_keeps_the_last_good_adapter(dry):
    s = sec(dry[0], 't4-fp16-overflow')
    r = s['results']
    assert r['raised'] == 'NonFiniteLoss' and 'NaN/inf at step 4' in r['message'] and r['adapter_saved'] in r['message']
    assert r['adapter_trained']  # three good steps moved lora_B off its zero init before the overflow
    same = next(c for c in s['checks'] if 'last good one' in c['what'])
    assert same['ok'] and same['value'] == 0.0


def test_packed_rows_equal_their_samples_alone_and_the_control_differs(dry):
    s = sec(dry[0], 'packing-isolation')
    r = s['results']['sdpa-float32']
    assert r['samples'] >= 2 and r['tokens'] <= 128 and r['tolerance'] == 1e-4
    assert r['rel'] < 1e-5 and r['probe_rel'] < 1e-5
    assert r['control_rel'] > 1e-2  # the same tokens as one causal row (no position_ids): samples see each other
    assert 'sdpa-bfloat16' not in s['results']  # bf16 and flash-attention are CUDA items


def test_data_and_packed_vs_padded(dry):
    report = dry[0]
    d = sec(report, 'data')['results']
    assert d['chats'] == 60 and d['packed_rows'] < d['rows'] and d['tokens'] == d['packed_tokens']
    assert d['real_share_packed_bs2'] > 0.9 > d['real_share_padded_bs2']
    p = sec(report, 't4-packed-vs-padded')['results']
    assert p['padded']['status'] == p['multipack']['status'] == 'ok'
    assert p['multipack']['real_share'] > p['padded']['real_share'] and p['speedup'] > 0
    assert {r['label'] for r in report['runs'] if r['section'] == 't4-packed-vs-padded'} == {'padded', 'multipack'}


def test_unmeasured_lists_every_cuda_path(dry):
    un = dry[0]['unmeasured']
    assert all(u.endswith('dry run on CPU]') for u in un)
    for what in ('real CUDA out-of-memory', 'fp16 overflow on CUDA', 'flash-attention', 'QLoRA 7B: 4-bit load onto',
                 "widget's GPU memory readouts", 'TRL SFTTrainer', 'bf16', 'CUDA context'):
        assert any(what in u for u in un), what
    assert len(un) >= 15


def test_table_and_memory_rows(dry):
    report, stdout, text, _ = dry
    assert text in stdout
    for name in SECTIONS: assert re.search(rf"^{re.escape(name)}\s+(ok|skipped)\s", text, re.M), name
    assert '| size | method | estimate (term) | measured GB | error |' in text and 'Unmeasured CUDA paths' in text
    rows = {(m['size'], m['method']): m for m in report['memory_rows']}
    assert set(rows) == {('1B', 'qlora'), ('1B', 'lora'), ('3B', 'qlora'), ('7B', 'qlora')}
    assert rows['1B', 'lora']['estimate_term'] == 'total'
    assert rows['7B', 'qlora']['estimate_term'] == 'total_checkpointed'
    assert all(m['measured_gb'] is None for m in rows.values())


@pytest.fixture(scope='module')
def cc():
    "The script imported as a module (its sections register; nothing runs)"
    spec = importlib.util.spec_from_file_location('cuda_check', SCRIPT)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


class FakeContext:
    def __init__(self): self.t0, self.sections, self.unmeasured, self.cleaned = time.monotonic(), [], [], 0
    def add(self, rec, paths): self.sections.append(rec)
    def cleanup(self): self.cleaned += 1


def test_runner_records_a_failure_goes_on_and_keeps_to_budgets(cc):
    def boom(ctx, s): raise RuntimeError('kernel exploded')
    def checks(ctx, s): s.check(True, 'fine'); s.check(False, 'wrong value', 3)
    def slow_items(ctx, s):
        for i in range(3):
            if s.time_for(f"item {i}", need=0.3): time.sleep(0.25)
    def skipper(ctx, s): s.skip('needs CUDA')
    def overrun(ctx, s): time.sleep(1.5)
    def never(ctx, s): raise AssertionError('must not run: the total budget is spent')
    plan = [('boom', 10, boom, ()), ('checks', 10, checks, ()), ('items', 0.6, slow_items, ()),
            ('skipper', 10, skipper, ()), ('overrun', 10, overrun, ()), ('late', 10, never, ())]
    ctx = FakeContext()
    cc.run_sections(ctx, plan, total_s=2.2, min_left=0.4)
    got = {s['name']: s for s in ctx.sections}
    only = FakeContext()
    cc.run_sections(only, [('env', 1, lambda c, s: None, ()), ('data', 1, lambda c, s: None, ()), plan[3]],
                    total_s=5, only={'skipper'}, min_left=0.4)
    assert [(s['name'], s['status']) for s in only.sections] == [('env', 'ok'), ('data', 'ok'), ('skipper', 'skipped')]
    assert [s['name'] for s in ctx.sections] == [p[0] for p in plan]
    assert got['boom']['status'] == 'failed' and got['boom']['error'] == 'RuntimeError: kernel exploded'
    assert got['checks']['status'] == 'failed'
    assert got['checks']['checks'][1] == dict(what='wrong value', ok=False, value=3)
    assert got['items']['status'] == 'partial' and [k['item'] for k in got['items']['skipped']] == ['item 2']
    assert got['skipper']['status'] == 'skipped' and got['skipper']['why'] == 'needs CUDA'
    assert got['overrun']['status'] == 'ok'
    assert got['late']['status'] == 'skipped' and 'total time budget spent' in got['late']['why']
    assert ctx.cleaned == 5  # after every section that ran, failed or not


def test_bundle_keeps_only_the_named_cuda_libraries(cc, tmp_path):
    whl = tmp_path / 'bitsandbytes-0.0-py3-none-any.whl'
    libs = [f'bitsandbytes/libbitsandbytes_{k}.so' for k in ('cpu', 'cuda118', 'cuda130', 'rocm64')]
    names = ['bitsandbytes/__init__.py'] + libs
    with zipfile.ZipFile(whl, 'w') as z:
        for n in names: z.writestr(n, b'x' * 10)
        z.writestr('bitsandbytes-0.0.dist-info/RECORD', ''.join(f"{n},sha256=abc,10\n" for n in names))
    keep = {'libbitsandbytes_cpu.so', 'libbitsandbytes_cuda130.so'}
    cc._trim_wheel(whl, lambda n: not re.search(r'libbitsandbytes_\w+\.so$', n) or Path(n).name in keep)
    with zipfile.ZipFile(whl) as z:
        left = set(z.namelist())
        record = z.read('bitsandbytes-0.0.dist-info/RECORD').decode()
    assert left == {names[0], names[1], names[3], 'bitsandbytes-0.0.dist-info/RECORD'}
    assert 'cuda118' not in record and 'rocm64' not in record and 'cuda130' in record


def test_the_documented_device_command_is_the_same_everywhere_and_fits(cc):
    assert DEVICE_COMMAND in cc.__doc__ and len(DEVICE_COMMAND) < 2000
    nb = json.loads((ROOT / 'nbs' / '04_adapters.ipynb').read_text())
    assert any(DEVICE_COMMAND in ''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')


@pytest.mark.parametrize('true_max, tried, measured, at_least', [
    (7, {5: 'ok', 6: 'ok', 7: 'ok'}, 7, True),     # the estimate is conservative: still fitting when the tries run out
    (5, {5: 'ok', 6: 'oom'}, 5, False),            # the estimate is right
    (3, {5: 'oom', 4: 'oom', 3: 'ok'}, 3, False),  # the estimate is optimistic: step down on OOM
])
def test_largest_batch_search_on_cuda(cc, monkeypatch, tmp_path, true_max, tried, measured, at_least):
    "The CUDA branch of the search (OOM included), with estimate_memory and fit replaced by a fake GPU of `true_max`"
    defaults = {'optim': 'paged_adamw_8bit', 'activation_checkpointing': True}
    monkeypatch.setattr(cc, 'training_defaults', lambda *a, **k: defaults)
    monkeypatch.setattr(cc, 'estimate', lambda ctx, model, bs, *a: (3.0 * bs, None, None))  # 15 GB cap -> predicts 5
    monkeypatch.setattr(cc, 'train_run', lambda ctx, sec, model, tok, ds, label, bs, *a, **k:
                        dict(status='ok' if bs <= true_max else 'oom', label=label, bs=bs))
    monkeypatch.setattr(cc, 'check_readouts', lambda *a: None)
    ctx = type('Ctx', (), dict(cuda=True, cap_gb=15.0, t4_dtype=None, work=tmp_path))()
    s = cc.Section('t4-fake', 60)
    found = cc.largest_batch(ctx, s, None, None, None, 'qlora-1B', 3, 3)
    assert found == dict(estimate_max_bs=5, tried=tried, measured_max_bs=measured, at_least=at_least)
    assert s.results['largest_batch']['qlora-1B'] is found
