"""Intent classifier over residents' text as it means, not as it is spelled.

Residents write 俺/咱/咋/啥/么子/冇, traditional characters (領證) and homophone slips (底保); the same
request then shares few n-grams with the training examples. This component folds those variants
first (`normalize`), then classifies with logistic regression over TF-IDF weighted jieba words and
character 1-4 grams of the folded text. TF-IDF with sublinear counts lets the rarer, telling words
(号, 挪, 退, 领导) outweigh the particles every message has, which raw counts (Rasa's
LogisticRegressionClassifier) do not. The features are its own (character n-grams of the whole
folded text also span jieba's word boundaries), so no Rasa featurizer is needed for intents.
Measured with `make eval-nlu` (README, "NLU").
"""

from __future__ import annotations

import logging
import pickle
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from civil_affairs.tfidf import view_vector

logger = logging.getLogger(__name__)

USER_DICT = Path(__file__).resolve().parent.parent / "nlu" / "jieba" / "userdict.txt"
# Dialect words and homophone slips folded to the standard word (longest first). Only spellings
# that mean nothing else in residents' messages: 中 (= OK) and 么 stay, they are too ambiguous.
FOLDS = (
    ("么子", "什么"),
    ("啥子", "什么"),
    ("啥", "什么"),
    ("咋个", "怎么"),
    ("咋", "怎么"),
    ("冇得", "没有"),
    ("冇", "没"),
    ("俺们", "我们"),
    ("俺", "我"),
    ("咱们", "我们"),
    ("咱", "我们"),
    ("晓得", "知道"),
    ("底保", "低保"),
    ("抵保", "低保"),
    ("低宝", "低保"),
    ("唔系", "不是"),
)
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _simplifier() -> Any:
    """Traditional → simplified (opencc ships its tables; nothing is downloaded)."""
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Simplified, half-width, lower-case text with dialect words and slips folded."""
    text = unicodedata.normalize("NFKC", _simplifier().convert(text)).lower()
    for variant, standard in FOLDS:
        text = text.replace(variant, standard)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _jieba() -> jieba.Tokenizer:
    """A jieba tokenizer with the project's dictionary, separate from Rasa's global one."""
    tokenizer = jieba.Tokenizer()
    if USER_DICT.is_file():
        tokenizer.load_userdict(str(USER_DICT))
    return tokenizer


def words(text: str) -> list[str]:
    """jieba words of normalised text (the analyzer of the word vectorizer; module level to pickle)."""
    return [w for w in _jieba().lcut(text) if w.strip()]


class FastScorer:
    """The fitted vectorizers and classifier as plain arrays, to classify one message at a time.

    Scoring a message through sklearn (two ``transform`` calls, each rebuilding the idf diagonal,
    then ``predict_proba`` with its input checks) took about 11 ms here, most of NLU's time per
    message; the same arithmetic on a dict of counts takes well under 1 ms. ``probabilities`` equals
    ``predict_proba`` (``tests/nlu/test_fast_scorer.py`` compares them).
    """

    def __init__(self, vectorizers: list[TfidfVectorizer], classifier: LogisticRegression) -> None:
        self.views = []
        offset = 0
        for vectorizer in vectorizers:
            if not vectorizer.sublinear_tf or vectorizer.norm != "l2" or not vectorizer.use_idf:
                raise ValueError("FastScorer assumes sublinear tf, idf and l2 norm per view")
            self.views.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset))
            offset += len(vectorizer.vocabulary_)
        self.coef = np.ascontiguousarray(classifier.coef_.T)  # (features, classes)
        self.intercept = classifier.intercept_.copy()
        self.classes = [str(c) for c in classifier.classes_]
        self.multinomial = len(self.classes) > 2 and getattr(classifier, "multi_class", "auto") != "ovr"

    def probabilities(self, text: str) -> np.ndarray:
        """P(intent) for one normalised text, in ``classes`` order."""
        scores = self.intercept.copy()
        for analyze, vocabulary, idf, offset in self.views:
            columns, values = view_vector(analyze(text), vocabulary, idf)
            if len(columns):
                scores += values @ self.coef[columns + offset]
        if self.multinomial:
            exp = np.exp(scores - scores.max())
            return exp / exp.sum()
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + np.exp(-scores[-1]))
            return np.array([1.0 - p, p])
        sigmoid = 1.0 / (1.0 + np.exp(-scores))
        return sigmoid / sigmoid.sum()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NormalizedNgramIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression over TF-IDF word and character n-grams of dialect-normalised text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """C: inverse regularisation (TF-IDF rows are unit length, so it is larger than for counts)."""
        return {
            "C": 30.0,
            "max_iter": 1000,
            "char_min_ngram": 1,
            "char_max_ngram": 4,
            "ranking_length": 10,
            "random_state": 42,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages this component imports."""
        return ["sklearn", "jieba", "opencc"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: dict[str, Any] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._scorer: FastScorer | None = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NormalizedNgramIntentClassifier:
        """A new, untrained classifier."""
        return cls(config, model_storage, resource)

    def _features(self, texts: list[str], fit: bool = False) -> Any:
        folded = [normalize(t) for t in texts]
        assert self._model is not None, "train() or load() sets the model first"
        vectorizers = self._model["vectorizers"]
        parts = [v.fit_transform(folded) if fit else v.transform(folded) for v in vectorizers]
        return hstack(parts).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the vectorizers and the classifier on the intent examples."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        self._model = {
            "vectorizers": [
                TfidfVectorizer(analyzer=words, sublinear_tf=True),
                TfidfVectorizer(
                    analyzer="char_wb",
                    sublinear_tf=True,
                    ngram_range=(self.config["char_min_ngram"], self.config["char_max_ngram"]),
                ),
            ]
        }
        features = self._features([e.get(TEXT) for e in examples], fit=True)
        classifier = LogisticRegression(
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
            random_state=self.config["random_state"],
        )
        classifier.fit(features, [e.get(INTENT) for e in examples])
        self._model["classifier"] = classifier
        self._scorer = None
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the intent and the ranking of each message."""
        if not self._model or not messages:
            return messages
        if self._scorer is None:
            self._scorer = FastScorer(self._model["vectorizers"], self._model["classifier"])
        scorer = self._scorer
        for message in messages:
            row = scorer.probabilities(normalize(message.get(TEXT) or ""))
            order = np.argsort(-row)
            ranking = [{"name": scorer.classes[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[: self.config["ranking_length"]] or ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        """Store the fitted vectorizers and classifier in the model's storage."""
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "model.pkl").write_bytes(pickle.dumps(self._model))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NormalizedNgramIntentClassifier:
        """The classifier as trained (the model file is written by our own training only)."""
        try:
            with model_storage.read_from(resource) as directory:
                model = pickle.loads((directory / "model.pkl").read_bytes())
        except (ValueError, FileNotFoundError):
            logger.warning("No trained %s in the model; it will not classify.", cls.__name__)
            model = None
        return cls(config, model_storage, resource, model)
