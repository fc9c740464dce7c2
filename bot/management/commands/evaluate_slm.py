"""python manage.py evaluate_slm: how good and how fast the shipped (or any) SLM artifact is."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Evaluate an SLM artifact: accuracy, macro-F1, per-intent table and most confused pairs on its "
        "held-out test split; out-of-scope recall on CLINC150 validation; accuracy on the independent "
        "shopper set; latency p50/p95 of the model path on one thread."
    )

    def add_arguments(self, parser):
        parser.add_argument("--artifact", default="", help="artifact folder (default: the --language's shipped artifact)")
        parser.add_argument("--language", default="en", choices=["en", "ja"],
                            help="which shipped artifact (settings.SLM_ARTIFACT_DIR / SLM_ARTIFACT_DIR_JA) when no --artifact")
        parser.add_argument("--json", default="", help="also write the full report to this file")
        parser.add_argument("--no-latency", action="store_true")
        parser.add_argument("--errors", action="store_true", help="list the shopper-set messages it gets wrong")

    def handle(self, *args, **opts):
        from bot.slm.classifier import ArtifactError
        from bot.training.evaluation import evaluate_artifact
        from bot.training.metrics import format_per_intent

        from bot.slm import artifact_dir

        artifact = Path(opts["artifact"]) if opts["artifact"] else artifact_dir(opts["language"])
        if not (artifact / "test.jsonl").exists():
            raise CommandError(f"{artifact} has no test.jsonl: not an SLM artifact written by train_slm")
        try:
            report = evaluate_artifact(artifact, shared_dir=Path(settings.SHARED_DIR), threads=1, latency=not opts["no_latency"])
        except ArtifactError as exc:
            raise CommandError(str(exc)) from exc
        w = self.stdout.write
        t = report["test"]
        w(f"artifact {artifact} (language {report['language']}, version {report['version']}, threshold {report['threshold']:.2f}, "
          f"temperature {report['temperature']:.3f})")
        w(f"held-out test split (n={t['n']}): accuracy {t['accuracy']:.4f}  macro-F1 {t['macro_f1']:.4f}  "
          f"in-scope accuracy {report['test_in_scope_accuracy']:.4f}  confidently wrong {report['test_confidently_wrong']:.4f}")
        if "dev" in report:
            w(f"dev split (n={report['dev']['n']}): accuracy {report['dev']['accuracy']:.4f}  macro-F1 {report['dev']['macro_f1']:.4f}")
        if "clinc_oos_val_recall" in report:
            w(f"CLINC150 validation oos_val: out-of-scope recall {report['clinc_oos_val_recall']:.4f} (n={report['clinc_oos_val_n']}); "
              f"unrelated in-domain classes: {report['clinc_val_unrelated_recall']:.4f} (n={report['clinc_val_unrelated_n']})")
        elif "ja_out_of_scope_recall" in report:
            w(f"Japanese out-of-scope set: recall {report['ja_out_of_scope_recall']:.4f} (n={report['ja_out_of_scope_n']})")
        elif report["language"] == "en":
            w("CLINC150 validation: not found under SHARED_DIR, skipped")
        s = report.get("eval_shoppers", {"n": 0, "errors": []})
        if s["n"]:
            w(f"independent shopper set (n={s['n']}): accuracy {s['accuracy']:.4f}  macro-F1 {s['macro_f1']:.4f}  "
              f"confidently wrong {s['confidently_wrong']:.4f}  (argmax accuracy {s['raw_accuracy']:.4f})")
        else:
            w("independent shopper set: not found, skipped")
        if "latency_1_thread" in report:
            lat = report["latency_1_thread"]
            w(f"latency, model path incl. tokenization, 1 thread: p50 {lat['p50_ms']:.2f} ms  p95 {lat['p95_ms']:.2f} ms (n={lat['n']})")
        w(f"model file: {report['model_bytes'] / 1e6:.1f} MB")
        w("\nper intent (test split, acted intent):")
        w(format_per_intent(t))
        w("\nmost confused pairs (gold -> predicted, count):")
        for gold, pred, n in t["confused_pairs"]:
            w(f"  {gold:28s} -> {pred:28s} {n}")
        if opts["errors"]:
            w("\nshopper-set errors:")
            for e in s["errors"]:
                w(f"  [{e['gold']} -> {e['pred']} {e['confidence']:.2f}] {e['text']}")
        if opts["json"]:
            Path(opts["json"]).write_text(json.dumps(report, indent=1), encoding="utf-8")
