"""What a curve's values are: a Metric's name, direction, kind and scale, in one small value object.

Every forecasting module needs the same three facts about the metric it forecasts:
- direction (`mode`): "max" (an accuracy, a reward) or "min" (a loss, an error), as Keras'
  EarlyStopping and Ray Tune name it;
- kind: "fraction", a bounded score in [0, 1] (accuracy, F1, AUC); "positive", a quantity >= 0 and
  unbounded above (cross-entropy, perplexity, MSE, an error rate in percent); "any", any finite series;
- scale: what "a small difference" means for it.

lcpipe maps each metric at the edge into one *internal* space where higher is better and equal
differences mean alike, forecasts and decides there, and maps forecasts and bands back for the user:

    fraction, max: v           (accuracy as today: the forecasters' log(1 - acc) space, [0, 1] bounds)
    fraction, min: 1 - v       (an error rate as a fraction is 1 - an accuracy)
    positive, min: -log v      (a loss: runs keep the *ratio* of their losses, so a shift in log space
                                is a change by a factor, and 0.002 is 0.2 % of the loss, whatever its unit)
    positive, max: log v
    any:           +-v / scale (scale: the typical range of the history's curves)

So the stop rule's margin, the noise floors and the band minimums, stated once in internal units,
are accuracy points for accuracies and relative differences for losses: "0.2 points" of a
cross-entropy of 2.18 is 0.0044 nats. This module is a leaf: numpy only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

MODES = ("min", "max", "auto")
KINDS = ("fraction", "positive", "any")
# a name holding one of these words is a quantity to minimise (Keras' and Ray Tune's mode="auto" read names alike)
MIN_WORDS = ("loss", "ce", "nll", "xe", "xent", "crossentropy", "err", "error", "mse", "rmse", "mae", "mape", "l1",
             "l2", "perplexity", "ppl", "bce", "wer", "cer", "bpb", "bpc", "bpd", "kl", "kld", "divergence", "fid",
             "regret", "cost", "time", "latency", "distance", "msle", "rmsle", "smape", "brier", "hinge", "huber",
             "nmse", "eer", "ter", "ser",  # normalised MSE; equal-error, translation-edit, symbol error rates
             # names of several words, matched joined: val_cross_entropy, CrossEntropy, neg_log_likelihood,
             # bits_per_byte (a log_likelihood alone is to maximise)
             "negloglikelihood", "negativeloglikelihood", "bitsperbyte", "bitsperchar", "bitspercharacter",
             "bitsperdim",
             # ranks and rates of mistakes (retrieval's mean and median rank, detection's miss and false-positive
             # rates; not "rank" alone: Re-ID's Rank-1, a rank correlation and an effective rank are maximised),
             # and vision's distances and distortions (LPIPS, KID, end-point and displacement errors, abs_rel)
             "meanrank", "medianrank", "medr", "meanr", "mdr", "mnr", "missrate", "misclassification", "fpr", "fnr",
             "falsepositiverate", "falsenegativerate", "hter", "lpips", "kid", "epe", "ade", "fde", "chamfer", "absrel",
             "sqrel", "sse", "bpp", "distortion", "nelbo", "negelbo",
             # video's FVD, forecasting's MASE, CRPS and pinball loss, segmentation's Hausdorff distance (HD95),
             # calibration error (ECE), false rejection rate, edit distances
             "fvd", "mase", "crps", "pinball", "hausdorff", "hd95", "ece", "frr", "levenshtein",
             # speech's diarization error rate, biometrics' false match / non-match and presentation-attack error
             # rates, flow's average end-point error, a cross-entropy cut short
             "der", "fmr", "fnmr", "apcer", "bpcer", "acer", "aepe", "crossent",
             # XGBoost's negative log-likelihoods (poisson-nloglik, cox-nloglik; a red team's were read by the history's
             # trend alone; not "deviance", which deviance_explained holds)
             "nloglik",
             # perplexity's other abbreviations and a negative log predictive density (red team: val_pplx, val_ppx and
             # nlpd were read as scores to maximise)
             "pplx", "ppx", "nlpd")
# ... of which these only as whole words: `nlpd` starts nlpdev_score, an NLP dev set's (review)
WHOLE_WORDS = frozenset({"pplx", "nlpd", "explained"})
# LightGBM's metrics named by their objective (evals_result_["valid_0"]["poisson"], "training's quantile"; red team:
# poisson, gamma, tweedie, quantile, fair and gamma_deviance were read as scores to maximise): losses only as the whole
# name, split words and counts aside (review: val_accuracy_quantile, reward_gamma, d2_tweedie_score and
# goodman_kruskal_gamma keep what their other words say)
OBJECTIVE_NAMES = frozenset({"poisson", "gamma", "tweedie", "quantile", "fair", "gammadeviance", "kullbackleibler",
                             "deviance"})
# ... of which these may go below 0 (a Gaussian's or a normalising flow's NLL, in nats, falls below 0 as the model
# gets good): any finite series, not a positive quantity; they are still minimised
SIGNED_WORDS = ("nll", "negloglikelihood", "negativeloglikelihood", "nelbo", "negelbo", "nlpd", "nloglik")
# ... and these only as the name's head: LightGBM's poisson, gamma and tweedie are negative log-likelihoods with the
# constant dropped (gamma_deviance is a deviance, >= 0; gamma_acc an accuracy)
SIGNED_HEADS = ("poisson", "gamma", "tweedie")
ENDINGS = ("err", "error", "loss")  # a word ending in one names a loss, short as "err" is: top5err, top1error
# ... and these with a count joined on (fpr95, fid50k_full, minADE6), word -> whether the count may end in k: few,
# since a dataset's name does the same (ade20k is no average displacement error) and a score's (AP50, in percent in
# Detectron2's logs; review)
COUNTED_WORDS = {"fpr": True, "fid": True, "kid": True, "ppl": True, "mse": True, "ece": True, "wer": True,
                 "ade": False, "fde": False}
# ... and these only as a name's last word: phone error rate (val_per) and false acceptance rate (test_far), not
# eval_samples_per_second or best_acc_so_far
LAST_MIN_WORDS = ("per", "far")
# a perplexity is the exponential of a loss: forecast as that loss (log of its values), in the loss's own log space, so
# that a perplexity and the cross-entropy it came from give one forecast and one decision (red team: exp(val_loss) from
# a history at another loss level was forecast 0.2 nats below the loss itself, 8 of 10 finals outside their bands,
# and two runs the loss kept were stopped). Only as the whole word (StyleGAN's ppl50k is a path length), and only with
# the kind inferred: --kind positive reads it as any positive quantity
PERPLEXITY_WORDS = ("perplexity", "ppl", "pplx", "ppx")
# ... and these a bounded score in [0, 1]
NEGATIONS = frozenset({"neg", "negated", "negative", "minus"})  # a name's first word that turns a gain into a cost
EVAL_WORDS = frozenset({"eval", "val", "valid", "validation", "test", "dev", "holdout"})  # a log's split words
TRAIN_WORDS = frozenset({"train", "training"})
SPLIT_WORDS = EVAL_WORDS | TRAIN_WORDS  # before a negation
FRACTION_WORDS = ("acc", "accuracy", "top1", "top5", "f1", "auc", "auroc", "auprc", "aucpr", "precision", "recall",
                  "iou", "miou", "dice", "map", "ap", "kappa")  # aucpr: XGBoost's area under the PR curve
# ... of which these are scores that go below 0: Cohen's kappa (plain or quadratic-weighted, as MCC and QWK, which
# no list names) lies in [-1, 1], below 0 where a model is worse than chance; any finite series, still maximised
SIGNED_SCORE_WORDS = ("kappa",)
# ... and a name holding one of these words is a score or loss moved or differenced, which may go below 0: an
# adjusted score (balanced accuracy adjusted for chance, the adjusted Rand index) or a change of one (f1_delta,
# loss_diff): any finite series, in the direction its head word says
SIGNED_MARKS = frozenset({"adjusted", "adj", "delta", "diff", "difference", "change"})
# ... and these a quantity to maximise of any size, a name's head over a loss word before it: loss_reduction,
# cost_savings, time_saved, timestep_reward, mean_reciprocal_rank, log_likelihood
GAIN_WORDS = ("reward", "return", "gain", "reduction", "savings", "saving", "saved", "improvement", "speedup",
              "reciprocalrank", "mrr", "inverseharmonicmeanrank", "inversegeometricmeanrank", "meanrankindex",
              "ndcg", "dcg", "bleu", "rouge", "psnr", "ssim", "elbo", "likelihood", "loglikelihood", "explained")
# ... and a name ending in one of these is a fall of what the words before it name, which turns its direction over:
# accuracy_drop is a loss, loss_drop and ppl_reduction gains (red team: accuracy_drop was maximised, ppl_drop
# minimised); a fall of nothing named (variance_reduction) keeps what the word alone says
DROP_WORDS = ("drop", "degradation", "decline", "decrease", "deterioration", "reduction")
# ... which may be followed by words that qualify how it is logged, not what it is (Lightning's _epoch and _step, W&B's
# /mean, a percent)
QUALIFIERS = frozenset({"epoch", "step", "mean", "avg", "average", "pct", "percent", "percentage", "rate", "total",
                        "sum", "median", "final", "last"})
# mode auto and a name that says no direction (val_mpjpe, a pose error): the direction the history's curves improve
# in, each curve's vote the side of its first quarter its last quarter lies on (a learning curve moves from where it
# starts toward better: 97-100 % of the dev, dev-loss and LoRA curves vote right, 72-98 % of the HPO table's, which
# holds diverged configs), decided by at least TREND_SHARE of at least TREND_MIN voting curves; a name that says one
# direction (mode auto) is kept but warned of when AGAINST_SHARE of at least AGAINST_MIN curves move the other way
TREND_SHARE, TREND_MIN, AGAINST_SHARE, AGAINST_MIN = 2 / 3, 3, 0.9, 5
POSITIVE_FLOOR = 1e-12  # log v needs v > 0: a loss of exactly 0 is read as this (or lower: Metric.with_scale)
SHOWN_AS_ZERO = 2  # ... and a forecast below this many times the floor is 0 to the user
ACCURACY_NOISE = 0.002  # the evaluation noise of an accuracy (measured on the dev corpus: 0.0016-0.0027),
# the unit lcpipe's decision constants (margin, std floor) are stated in
UNIT_RANGE = (0.01, 10.0)  # a study's noise is read as 1/100 to 10 times an accuracy's


# a curve's x axis, never its metric: `--metric step` read the step column as the values to forecast
AXIS_NAMES = frozenset({"epoch", "epochs", "step", "steps", "global_step", "_step", "trainer/global_step",
                        "iteration", "iter"})


def axis_named(name: str) -> str | None:
    """A line saying why `name` (a metric's) is no metric, where it names a curve's x axis; else None."""
    if str(name).strip().lower() not in AXIS_NAMES:
        return None
    return (f"{str(name).strip()!r} is the curves' x axis (their epoch or step), not a metric: name the column "
            "to forecast, e.g. test_acc or val_loss")


def noise_of(curves: list[np.ndarray]) -> float:
    """The evaluation noise of a study's curves (internal values): the robust std of the second
    differences of each curve's second half (white noise of std s gives std s * sqrt(6)), median
    over the curves; NaN when no curve has 8 points."""
    out = []
    for c in curves:
        c = np.asarray(c, dtype=float)
        tail = c[len(c) // 2:]
        if len(c) >= 8 and np.all(np.isfinite(tail)):
            out.append(1.4826 * np.median(np.abs(np.diff(tail, 2))) / np.sqrt(6))
    return float(np.median(out)) if out else float("nan")


def _moves(curves: list[np.ndarray]) -> tuple[int, int]:
    """(falling, rising): curves of 4 or more finite values whose last quarter's median lies below their first
    quarter's, and above it (ties vote neither). Medians of quarters, not single points: a first value logged as a
    0 placeholder, a warm-up dip or a spike at the second evaluation turned the vote of the farthest value from the
    first (review)."""
    falling = rising = 0
    for c in curves:
        v = np.asarray(c, dtype=float)
        v = v[np.isfinite(v)]
        if len(v) < 4:
            continue
        q = len(v) // 4
        first, last = float(np.median(v[:q])), float(np.median(v[-q:]))
        falling, rising = falling + (last < first), rising + (last > first)
    return falling, rising


def words(name: str) -> list[str]:
    """`val_loss` -> [val, loss]; `valLoss`, `eval/loss`, `Val Loss` alike; `ValCE`, `valMSE_step` -> [val,
    ce], [val, mse, step] (an acronym ending a word); `IoU` stays one word; `valloss` -> [valloss]."""
    spaced = re.sub(r"([a-z0-9])([A-Z][a-z])", r"\1 \2", name)
    spaced = re.sub(r"([a-z0-9])([A-Z]{2,})(?=[^A-Za-z]|$)", r"\1 \2", spaced)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def _holds(name: str, vocabulary: tuple[str, ...]) -> str | None:
    """The vocabulary word that the LAST word of `name` naming one is (a name's head comes last:
    `lossless_acc` is an accuracy), as a word or a word's end or start (`valloss`)."""
    for w in reversed(words(name)):
        for v in vocabulary:
            if w == v or (len(v) >= 4 and v not in WHOLE_WORDS and (w.endswith(v) or w.startswith(v))) \
                    or (v in ENDINGS and w.endswith(v)):
                return v
        counted = re.fullmatch(r"([a-z]+)\d+(k?)", w)  # fpr95, fid50k (StyleGAN's fid50k_full): the word, counted
        base = counted.group(1) if counted else None
        takes_k = COUNTED_WORDS.get(base)
        if base in vocabulary and takes_k is not None and (takes_k or not counted.group(2)):
            return base
    return None


def _head(name: str) -> tuple[str | None, str | None, str]:
    """(loss word, score word, the words of `name` that named it) of the last word of `name` that names
    either, alone or joined to the words before it (`cross_entropy` is `crossentropy`, the longest such
    phrase first): only one of them is set, and a gain word (GAIN_WORDS) is a score word."""
    ws = words(name.split("@")[0] or name)  # tpr@fpr=0.01: the rate at an operating point is the tpr
    if "at" in ws[1:]:  # tpr_at_fpr_1e-3, precision_at_rank_10: what follows "at" is the operating point
        ws = ws[:ws.index("at", 1)]
    core = [w for w in ws if w not in SPLIT_WORDS and w != "s" and not w.isdigit()]  # valid_0-poisson, "valid_1's
    if "".join(core) in OBJECTIVE_NAMES:  # gamma_deviance": the objective's name alone
        return "".join(core), None, " ".join(core)
    if ws and ws[-1] in LAST_MIN_WORDS and ws[-2:-1] != ["so"] and _head(" ".join(ws[:-1]))[2] == "":
        return ws[-1], None, ws[-1]  # ... unless a word before it names a score or loss (val_acc_per: a percent)
    for end in range(len(ws) - 1, -1, -1):
        for start in range(end):
            joined, text = "".join(ws[start:end + 1]), " ".join(ws[start:end + 1])
            if joined in MIN_WORDS:
                return joined, None, text
            if joined in GAIN_WORDS:
                return None, joined, text
        w = ws[end]
        loss, score = _holds(w, MIN_WORDS), _holds(w, FRACTION_WORDS) or _holds(w, GAIN_WORDS)
        if loss and score:  # both in one word: the whole word if either is it (nelbo), else its end (top5err is
            # an error, lossless_acc a score)
            lost = loss == w or (score != w and w.endswith(ENDINGS))
            return (loss, None, w) if lost else (None, score, w)
        if loss or score:
            return loss, score, w
    return None, None, ""


def _drop_of(name: str) -> tuple[str, str] | None:
    """(the direction, "min" or "max", of what falls; the words naming it) for a name ending in a DROP_WORDS word,
    or one followed by qualifiers alone (accuracy_drop_epoch, acc_drop@1, val_acc_reduction_pct: review), after
    words whose own direction is known (accuracy_drop, neg_log_loss_drop), else None (frame_drop_rate)."""
    ws = words(name.split("@")[0] or name)
    while ws and ws[-1] in QUALIFIERS:
        ws = ws[:-1]
    if len(ws) < 2 or ws[-1] not in DROP_WORDS:
        return None
    head = Metric.infer("_".join(ws[:-1]))
    return (head.mode, " ".join(ws[:-1])) if head.says_mode else None


def _a(words: str) -> str:
    """'a loss', 'an error', 'an mse' (these initialisms are read letter by letter)."""
    spelled = words.split()[0] in ("mse", "msle", "nll", "nmse", "sse", "fpr", "fnr", "mrr", "hter", "l1", "l2", "fde",
                                   "f1", "smape", "rmse", "rmsle", "mdr", "mnr", "lpips")
    return f"{'an' if words[0] in ('aefhilmnrsx' if spelled else 'aeiou') else 'a'} {words}"


@dataclass(frozen=True)
class Metric:
    """One metric: `name` (the column), `mode` "max" | "min", `kind` (see the module doc), `scale`
    (kind "any" only: internal = +-v / scale), `why` (how the mode was chosen, for stderr), `floor`
    (kind "positive" only: the least value log space reads; a 0 is read as it)."""

    name: str
    mode: str = "max"
    kind: str = "fraction"
    scale: float = 1.0
    why: str = "given"
    floor: float = POSITIVE_FLOOR  # kind "positive": the least value log-space reads (with_scale sets it)
    says_mode: bool = False  # the name itself says the direction (a loss, error or score word): infer with mode auto
    exp_of_loss: bool = False  # kind "positive": a perplexity, forecast as log(v), the loss it is the exponential of

    @classmethod
    def _turned(cls, name: str, better: str, mode: str, kind: str | None, what: str) -> Metric:
        """A name whose words turn a loss or a gain over (`what`: minus one, a fall of one): `better` under mode auto,
        and any finite series unless a kind is given."""
        why = f"--mode auto: {name!r} is {what}, {'higher' if better == 'max' else 'lower'} is better" \
            if mode == "auto" else f"--mode {mode}"
        return cls(name, better if mode == "auto" else mode, kind or "any", 1.0, why, says_mode=mode == "auto")

    @classmethod
    def infer(cls, name: str, mode: str = "auto", kind: str | None = None) -> Metric:
        """The metric `name` with `mode` ("auto": min for names like loss, ce, err, mse, perplexity,
        max otherwise) and `kind` (None: from the name: accuracy-like words a fraction, loss-like
        words positive, anything else any finite series)."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: choose min, max or auto")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind {kind!r}: choose from {', '.join(KINDS)}")
        if (drop := _drop_of(name)) is not None:  # accuracy_drop: a loss; loss_drop: a gain; either may go below 0
            return cls._turned(name, "min" if drop[0] == "max" else "max", mode, kind, f"a fall of {drop[1]}")
        loss_word, score_word, said = _head(name)
        ws = words(name)
        if loss_word and {"neg", "negated"} & set(ws) and "likelihood" not in "".join(ws) \
                and not loss_word.startswith("neg"):
            # scikit-learn's scorers: neg_log_loss, neg_mean_squared_error (test_neg_log_loss in cross_validate,
            # mean_test_neg_log_loss in GridSearchCV) are minus a loss, higher is better, < 0 (a
            # neg_log_likelihood is the NLL itself, a loss)
            return cls._turned(name, "max", mode, kind, f"minus {_a(said)}")
        lead = next((w for w in ws if w not in SPLIT_WORDS), "")
        if score_word and not loss_word and score_word not in FRACTION_WORDS and lead in NEGATIONS:
            # minus a gain that has no bounds: neg_reward, negative_return, val_neg_mean_reward (an RL library's
            # cost); lower is better, and any sign (red team: neg_reward was read as a gain, and the run going worst
            # kept). Only as the name's first word (after val_, test_ ...): acc_neg, neg_class_acc, negative_recall
            # name a score of the negative class, and reward_minus_baseline is a gain (review)
            return cls._turned(name, "min", mode, kind, f"minus {_a(said)}")
        says = mode == "auto" and bool(loss_word or score_word)  # the name decides the direction
        if mode == "auto":
            mode = "min" if loss_word else "max"
            why = (f"--mode auto: {name!r} names {_a(said)}, lower is better" if loss_word
                   else f"--mode auto: {name!r} names {_a(said)}, higher is better" if score_word in FRACTION_WORDS
                   else f"--mode auto: {name!r} reads as a gain ({said}), higher is better" if score_word
                   else f"--mode auto: {name!r} names no loss, error or score, higher is better: pass --mode min "
                        "(mode='min' in Python) if lower is better")
        else:
            why = f"--mode {mode}"
        if kind is None:
            signed = loss_word in SIGNED_WORDS + SIGNED_HEADS or any(w in SIGNED_WORDS for w in ws) \
                or score_word in SIGNED_SCORE_WORDS or bool(SIGNED_MARKS & set(ws))  # gaussian_nll_loss, kappa
            kind = "any" if signed else "positive" if loss_word else "fraction" if score_word in FRACTION_WORDS \
                else "any"
            perplexity = kind == "positive" and said in PERPLEXITY_WORDS
        else:
            perplexity = False
        return cls(name, mode, kind, 1.0, why, says_mode=says, exp_of_loss=perplexity)

    def with_history_direction(self, curves: list[np.ndarray]) -> tuple[Metric, str | None]:
        """(the metric, a warning or None) given the history's curves (user values): mode auto with a name that
        says no direction takes the direction most of them improve in (TREND_SHARE), else stays "max" and says to
        pass the mode; a name that says one is kept, with a warning where nearly all of them move the other way."""
        if not self.why.startswith("--mode auto"):
            return self, None  # a mode the user gave is theirs (mode_against_name warns where the name disagrees)
        falling, rising = _moves(curves)
        voted = falling + rising
        if not self.says_mode:
            if voted >= TREND_MIN and max(falling, rising) >= TREND_SHARE * voted:
                better = "min" if falling > rising else "max"
                moved = f"{falling if better == 'min' else rising} of {voted} history curves " \
                        f"{'fall' if better == 'min' else 'rise'}"
                why = f"--mode auto: {self.name!r} names no loss, error or score, and {moved}, so " \
                      f"{'lower' if better == 'min' else 'higher'} is better"
                return replace(self, mode=better, why=why), f"{why}; pass mode= (--mode) to say so"
            moved = f"its history curves do not move one way ({falling} of {voted} fall)" if voted >= TREND_MIN \
                else f"only {voted} of its history curves move ({rising} rise, {falling} fall; it takes {TREND_MIN} " \
                     "to tell a direction)"
            why = f"--mode auto: {self.name!r} names no loss, error or score, and {moved}, so higher is better: " \
                  "pass --mode min (mode='min' in Python) if lower is better"
            return replace(self, why=why), why
        against = falling if self.mode == "max" else rising
        if voted >= AGAINST_MIN and against >= AGAINST_SHARE * voted:
            says = "higher" if self.mode == "max" else "lower"
            other, moving, flag = ("lower", "fall", "min") if self.mode == "max" else ("higher", "rise", "max")
            return self, (f"{self.name!r}: {says} is better ({self.why}), but {against} of {voted} history curves "
                          f"{moving}: if {other} is better, pass --mode {flag} (mode='{flag}' in Python)")
        return self, None

    @property
    def bounded(self) -> bool:
        """Internal values lie in [0, 1] (an accuracy-like forecast space)."""
        return self.kind == "fraction"

    @property
    def sign(self) -> float:
        return 1.0 if self.mode == "max" else -1.0

    def with_scale(self, curves: list[np.ndarray]) -> Metric:
        """Kind "any": the scale set from the typical range (median of max - min) of these curves. Kind
        "positive": the floor lowered below POSITIVE_FLOOR to a tenth of their least positive value where
        that is smaller, so a loss logged in units of 1e-46 is read as it is, not clipped flat; never
        raised, so a run far below a foreign history's values is not clipped either."""
        if self.kind == "positive":
            values = np.concatenate([self._loss(c).ravel() for c in curves]) if curves else np.empty(0)
            positive = values[np.isfinite(values) & (values > 0)]
            floor = min(POSITIVE_FLOOR, max(np.finfo(float).tiny, 0.1 * float(positive.min()))) \
                if positive.size else POSITIVE_FLOOR
            return replace(self, floor=floor)
        if self.kind != "any":
            return self
        ranges = [float(np.ptp(c)) for c in curves if len(c) and np.all(np.isfinite(c))]
        scale = float(np.median(ranges)) if ranges else 1.0
        return replace(self, scale=scale if scale > 0 else 1.0)

    def unit(self, curves: list[np.ndarray]) -> float:
        """What "a small difference" is for this metric in this study, as a multiple of an accuracy's:
        1 for an accuracy (its constants are tuned in accuracy points); for a loss or any series,
        the study's own evaluation noise (noise_of its internal curves) over an accuracy's, within
        UNIT_RANGE. A language model's val loss is logged to a few parts in 10^5, a 10-epoch Keras
        loss jitters by percents: one margin in relative terms would suit neither."""
        if self.kind == "fraction":
            return 1.0
        noise = noise_of(curves)
        return float(np.clip(noise / ACCURACY_NOISE, *UNIT_RANGE)) if np.isfinite(noise) and noise > 0 else 1.0

    def _loss(self, values) -> np.ndarray:
        """A perplexity's values as the loss they are the exponential of (below 1 a negative loss, and 0 -inf: `wrong`
        refuses the one, and a 0 is a missed evaluation, left out); any other metric's as they are."""
        v = np.asarray(values, dtype=float)
        if not self.exp_of_loss:
            return v
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(v)

    def expected(self) -> str:
        """What a value must be, for messages."""
        if self.exp_of_loss and self.kind == "positive":
            return "a perplexity >= 1 (the exponential of a loss)"
        return {"fraction": "a fraction in [0, 1]", "positive": "a value >= 0 (a loss or error)",
                "any": "a finite number"}[self.kind]

    def admits(self) -> str:
        """What a series of another kind may do that this kind refuses, for the hint beside a wrong value:
        the user says kind "any" (--kind any) for a loss that goes negative (a WGAN critic's)."""
        if self.kind != "positive":
            return "leave [0, 1]"
        return "go below 1" if self.exp_of_loss else "go negative"

    def wrong(self, values: np.ndarray) -> np.ndarray:
        """Indices of finite values that contradict the kind (an accuracy above 1, a negative loss)."""
        values = np.asarray(values, dtype=float)
        finite = np.isfinite(values)
        if self.kind == "fraction":
            return np.flatnonzero(finite & ((values < 0) | (values > 1)))
        if self.kind == "positive":
            if self.exp_of_loss:  # below 1 is no perplexity; an exact 0 is a missed evaluation, as in a loss's log
                return np.flatnonzero(finite & (values < 1.0) & (values != 0.0))
            return np.flatnonzero(finite & (values < 0))
        return np.empty(0, dtype=int)

    def to_internal(self, values) -> np.ndarray:
        """User values -> the internal space (higher is better; see the module doc). NaN stays NaN."""
        v = np.asarray(values, dtype=float)
        if self.kind == "fraction":
            return v if self.mode == "max" else 1.0 - v
        if self.kind == "positive":
            with np.errstate(invalid="ignore", divide="ignore"):
                return self.sign * np.log(np.maximum(self._loss(v), self.floor))
        with np.errstate(over="ignore"):  # 1e308 over a scale of 0.01: inf, read as a divergence where it is checked
            return self.sign * v / self.scale

    def curve_to_internal(self, values) -> np.ndarray:
        """One curve's values (a run's, a trial's reports) -> the internal space, as to_internal, except that a
        positive metric's exact 0 after a positive value is read at half the curve's least positive value: an error
        counted on a small set steps 0.02, 0.01, 0 by its resolution, and at the floor (1e-12) its 0 lay 20 natural
        logs below its last step, so a trial holding 0 got a band of [0, 1.6e8] (red team). Per curve, so that no 0
        of another curve moves it (review: a global floor raised by one stray 0 showed every forecast as 0)."""
        v = np.asarray(values, dtype=float)
        zero = 1.0 if self.exp_of_loss else 0.0  # a perplexity of 1 is a loss of 0
        if self.kind != "positive" or v.ndim != 1 or not np.any(v == zero):
            return self.to_internal(v)
        loss = self._loss(v)
        positive = loss[np.isfinite(loss) & (loss > 0)]
        if not positive.size:
            return self.to_internal(v)
        least = max(self.floor, 0.5 * float(positive.min()))
        return self.to_internal(np.where(v == zero, np.exp(least) if self.exp_of_loss else least, v))

    def from_internal(self, values) -> np.ndarray:
        """The internal space -> user values."""
        z = np.asarray(values, dtype=float)
        if self.kind == "fraction":
            return z if self.mode == "max" else 1.0 - z
        if self.kind == "positive":
            with np.errstate(over="ignore"):
                v = np.exp(self.sign * z)
            # the floor a loss of exactly 0 was read as (to_internal) is 0 again, not the floor shown to a user
            v = np.where(v < SHOWN_AS_ZERO * self.floor, 0.0, v)
            if self.exp_of_loss:
                with np.errstate(over="ignore"):
                    return np.exp(v)
            return v
        return self.sign * z * self.scale

    def band_from_internal(self, mean, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, lower, upper) in user values, lower <= upper: a minimised metric's band turns over."""
        m, lo, hi = self.from_internal(mean), self.from_internal(lower), self.from_internal(upper)
        return (m, lo, hi) if self.mode == "max" else (m, hi, lo)

    def band_to_internal(self, mean, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, lower, upper) in the internal space, lower <= upper: the inverse of band_from_internal."""
        m, lo, hi = self.to_internal(mean), self.to_internal(lower), self.to_internal(upper)
        return (m, lo, hi) if self.mode == "max" else (m, hi, lo)

    def describe(self) -> str:
        """One line for stderr: the direction used and why, and the space it is forecast in."""
        space = {"fraction": "a fraction in [0, 1], forecast in log-error space",
                 "positive": "a perplexity, forecast as the loss it is the exponential of, in log space (margins "
                             "relative to that loss)" if self.exp_of_loss else
                             "a positive quantity, forecast in log space (margins relative to its value)",
                 "any": f"a finite series, forecast as is (scale {self.scale:g})"}[self.kind]
        better = "lower" if self.mode == "min" else "higher"
        return f"metric: {self.name}: {better} is better ({self.why}); {space}"


ACCURACY = Metric("test_acc", "max", "fraction", 1.0, "default")


def as_metric(metric: str | Metric) -> Metric:
    """A Metric from a Metric or a column name (mode inferred from the name)."""
    return metric if isinstance(metric, Metric) else Metric.infer(metric)
