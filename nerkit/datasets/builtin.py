"""The named datasets nerkit knows out of the box.

Paths mirror the layout of the project's shared corpora folder, so a copy of it can
serve as ``NERKIT_DATA_DIR``. URLs pin the commits the copies were taken from and the
checksums are those of the original files: a download is accepted only when it is
byte-identical to what the published numbers were computed on.
"""

from __future__ import annotations

from nerkit.datasets.spec import DataFile, DatasetSpec

_RAW = "https://raw.githubusercontent.com"

_WNUT17 = f"{_RAW}/leondz/emerging_entities_17/e52a2d2a71ac1a051ca2d532eef28653c5c02603"
_WNUT17_ORIGIN = (
    "github.com/leondz/emerging_entities_17 (commit e52a2d2a71ac1a051ca2d532eef28653c5c02603)"
)

# CoNLL-2002 is redistributed by NLTK's data index as one zip; the files are its members.
_CONLL2002_ZIP = (
    f"{_RAW}/nltk/nltk_data/5db857e6f7df11eabb5e5665836db9ec8df07e28/packages/corpora/conll2002.zip"
)
_CONLL2002_ORIGIN = "github.com/nltk/nltk_data (commit 5db857e6f7df11eabb5e5665836db9ec8df07e28), packages/corpora/conll2002.zip"

_WEIBO = f"{_RAW}/hltcoe/golden-horse/7a73c08e45ed94312af4ef2d97cc35a47d029e99/data"
_WEIBO_ORIGIN = "github.com/hltcoe/golden-horse (commit 7a73c08e45ed94312af4ef2d97cc35a47d029e99)"

_MSRA = f"{_RAW}/OYE93/Chinese-NLP-Corpus/e9bb5b5f262466af5d45bcf7ee3380f2cb994907/NER/MSRA"
_MSRA_ORIGIN = (
    "github.com/OYE93/Chinese-NLP-Corpus (commit e9bb5b5f262466af5d45bcf7ee3380f2cb994907)"
)

# Every built-in file is whitespace-separated columns; most names have no extension
# that format detection could use.
_CONLL = {"format": "conll"}


def strip_segmentation_digit(token: str) -> str:
    """Weibo NER writes each character followed by its word-segmentation position
    digit (``科0``); standard loaders drop that last character."""
    return token[:-1]


def _wnut17(path: str, sha256: str) -> DataFile:
    return DataFile(
        path=f"wnut17/{path}",
        sha256=sha256,
        url=f"{_WNUT17}/{path}",
        origin=f"{_WNUT17_ORIGIN}, path {path}",
    )


def _conll2002(path: str, sha256: str) -> DataFile:
    return DataFile(
        path=f"conll2002/{path}",
        sha256=sha256,
        url=_CONLL2002_ZIP,
        member=f"conll2002/{path}",
        origin=f"{_CONLL2002_ORIGIN}, member conll2002/{path}",
    )


def _weibo(split: str, sha256: str) -> DataFile:
    name = f"weiboNER_2nd_conll.{split}"
    return DataFile(
        path=f"weibo-ner/{name}",
        sha256=sha256,
        url=f"{_WEIBO}/{name}",
        origin=f"{_WEIBO_ORIGIN}, path data/{name}",
    )


# The corpus README allows research use in the context of the shared task only.
_CONLL2002_LICENSE = "research only (CoNLL-2002 terms)"
_CONLL2002_CITATION = (
    "Erik F. Tjong Kim Sang. 2002. Introduction to the CoNLL-2002 Shared Task: "
    "Language-Independent Named Entity Recognition. In Proceedings of CoNLL-2002, Taipei, Taiwan."
)

BUILTIN_DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        name="wnut17",
        description="WNUT-17 emerging and rare entities (social media), 6 types",
        language="English",
        license="CC BY 4.0",
        citation=(
            "Leon Derczynski, Eric Nichols, Marieke van Erp and Nut Limsopatham. 2017. "
            "Results of the WNUT2017 Shared Task on Novel and Emerging Entity Recognition. "
            "In Proceedings of the 3rd Workshop on Noisy User-generated Text, pages 140-147."
        ),
        files={
            "train": _wnut17(
                "wnut17train.conll",
                "731820e13f71af324c6b55a1575ec2ce59fbaa2a0806f8f0400b98d56cd6a7a5",
            ),
            "dev": _wnut17(
                "emerging.dev.conll",
                "e053b752b8155113ca66e7db08af5f2f5f43ab993694e4774f1ec5bad42312d8",
            ),
            # The adjudicated gold test file (the one the HF `wnut_17` loader uses).
            "test": _wnut17(
                "emerging.test.annotated",
                "2aa79b764e56ec9264a1b30fdd9b70195bd00ff400b62edd8f399d5f13c178f0",
            ),
        },
        reader_options=_CONLL,
        homepage="https://github.com/leondz/emerging_entities_17",
    ),
    DatasetSpec(
        name="conll2002-es",
        description="CoNLL-2002 Spanish news (EFE), LOC MISC ORG PER",
        language="Spanish",
        license=_CONLL2002_LICENSE,
        citation=_CONLL2002_CITATION,
        files={
            "train": _conll2002(
                "esp.train", "a20d95cab7d88a19a86f8c1ad6329325c99fbd9529ed978cbd7e31d4b01b4008"
            ),
            "dev": _conll2002(
                "esp.testa", "85c17793b77881c53d19017d9d0f1e6fb98b7ddcab54a5f24b05ed1793103c87"
            ),
            "test": _conll2002(
                "esp.testb", "1f8f7a392c6d4979a5592a5794eed43d7869b46da6851bbcde99714149f1d016"
            ),
        },
        reader_options=_CONLL,
        homepage="https://www.clips.uantwerpen.be/conll2002/ner/",
    ),
    DatasetSpec(
        name="conll2002-nl",
        description="CoNLL-2002 Dutch news (De Morgen), LOC MISC ORG PER",
        language="Dutch",
        license=_CONLL2002_LICENSE,
        citation=_CONLL2002_CITATION,
        files={
            "train": _conll2002(
                "ned.train", "0a419dcb356b62c8cff38515675550b3d5dbea9f45a1c4956328dbd5cc7fcdbc"
            ),
            "dev": _conll2002(
                "ned.testa", "51259d4bfe52462f211d3d0b67173a7ecbfa296e199f6c6bd0895f4c78155057"
            ),
            "test": _conll2002(
                "ned.testb", "2aa748edb82e6f9c4d82e57a4bed69ded18cfa4803122c75070335d513517488"
            ),
        },
        reader_options=_CONLL,
        homepage="https://www.clips.uantwerpen.be/conll2002/ner/",
    ),
    DatasetSpec(
        name="weibo",
        description="Weibo NER, revised 2nd version (social media), 4 types x named/nominal",
        language="Chinese",
        # The messages themselves remain under Weibo's terms of service.
        license="CC BY-SA 3.0 (annotations)",
        citation=(
            "Nanyun Peng and Mark Dredze. 2015. Named Entity Recognition for Chinese Social Media "
            "with Jointly Trained Embeddings. In Proceedings of EMNLP 2015. "
            "Hangfeng He and Xu Sun. 2017. F-Score Driven Max Margin Neural Network for Named "
            "Entity Recognition in Chinese Social Media. In Proceedings of EACL 2017."
        ),
        files={
            "train": _weibo(
                "train", "4e8954c54ab33b0afc9a8abb85715c47422645cc6d1b49fdb24540f4a427e997"
            ),
            "dev": _weibo(
                "dev", "e72730d83aac680505280b6301c879b3ba470d29ac308979d48cdc58ee4907cc"
            ),
            "test": _weibo(
                "test", "faaf6c0ebde5348b935cfd5c89f0f22c9e0779d60667d8b5efbc647b6707d50e"
            ),
        },
        reader_options={**_CONLL, "token_transform": strip_segmentation_digit},
        homepage="https://github.com/hltcoe/golden-horse",
    ),
    DatasetSpec(
        name="msra",
        description="MSRA NER (SIGHAN 2006, news), test split only (3442 sentences), LOC ORG PER",
        language="Chinese",
        license="research only (none stated)",
        citation=(
            "Gina-Anne Levow. 2006. The Third International Chinese Language Processing Bakeoff: "
            "Word Segmentation and Named Entity Recognition. In Proceedings of the Fifth SIGHAN "
            "Workshop on Chinese Language Processing, pages 108-117."
        ),
        files={
            "test": DataFile(
                path="msra-ner/msra_test_bio.txt",
                sha256="2be8e580bcb22e9086e4403d82a7ec0f6e18019ebef35b0fd52941724bdf89a3",
                url=f"{_MSRA}/msra_test_bio.txt",
                origin=f"{_MSRA_ORIGIN}, path NER/MSRA/msra_test_bio.txt",
            )
        },
        reader_options=_CONLL,
        homepage="https://github.com/OYE93/Chinese-NLP-Corpus",
    ),
    DatasetSpec(
        name="hironsan",
        description="Hironsan corpus: small Japanese NER corpus (morphemes), 8 types",
        language="Japanese",
        license="MIT",
        citation=(
            "Hiroki Nakayama. Hironsan corpus. https://github.com/Hironsan/hironsan_corpus "
            "(PyPI package hironsancorpus 0.1.2)."
        ),
        files={
            "all": DataFile(
                path="hironsan-ja/iob_sents.txt",
                sha256="fc55bffe080deea3b63f9923cd33ee9a96b500a997d5719b4a5c03d216ef2a3e",
                package="hironsancorpus",
                origin="PyPI package hironsancorpus (pip install hironsancorpus), hironsan/corpus/iob_sents.txt",
            )
        },
        reader_options=_CONLL,
        # The file is in file order; the package's own reader cuts 450 / 50, and nerkit
        # takes a dev split out of that 50 so that early stopping has something to use.
        partition=(("train", 450), ("dev", 25), ("test", None)),
        homepage="https://github.com/Hironsan/hironsan_corpus",
    ),
)
