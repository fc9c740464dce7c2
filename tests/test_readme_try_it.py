"""README's "Try it" section, walked through in Chromium on the demo shop (seed_demo).

The scenarios are read from README.md, not copied here: each table row (scenario, order, what
to try) and each question under "Other things to ask" becomes a test. A row whose order is not
that scenario's demo order, a promise ("tracking number", "creates an RMA", "outside the 30-day
window" ...) the assistant does not keep, or a question it does not understand fails. Facts are
read from the database rows, not written down here.

The live server runs in its own process, so the one-time codes a guest's cancel or return needs
are read from the file e-mail backend (EMAIL_FILE_PATH) that server writes to.
"""

from __future__ import annotations

import email
import io
import json
import re
import time
import uuid
from email.policy import default as default_policy
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.live import LiveServer, artifacts_dir, chromium_path

ROOT_README = Path(__file__).resolve().parents[1] / "README.md"
QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")

# --- README ---------------------------------------------------------------------------------


def try_it_section(text: str) -> str:
    match = re.search(r"^#{2,4}\s*Try it\s*$(.*?)(?=^#{1,3}\s)", text, re.M | re.S | re.I)
    assert match, "README.md has no 'Try it' section"
    return match.group(1)


def readme_rows(text: str | None = None) -> list[dict]:
    """The scenario table: [{scenario, number, phrase, promise}], tolerant of column wording."""
    section = try_it_section(text if text is not None else ROOT_README.read_text())
    lines = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    assert len(lines) > 2, "the 'Try it' section has no scenario table"
    cells = lambda line: [c.strip() for c in line.strip("|").split("|")]  # noqa: E731
    head = [h.lower() for h in cells(lines[0])]
    col = lambda *words: next(i for i, h in enumerate(head) if any(w in h for w in words))  # noqa: E731
    i_scenario, i_order, i_try = col("scenario", "case"), col("order"), col("try", "ask", "say")
    rows = []
    for line in lines[2:]:
        row = cells(line)
        number = re.search(r"\b\d{4,}\b", row[i_order])
        phrase = QUOTED.search(row[i_try])
        assert number and phrase, f"README 'Try it' row without an order number or a quoted phrase: {line}"
        promise = re.split(r"→|->", row[i_try], maxsplit=1)
        rows.append(
            {
                "scenario": row[i_scenario].strip("`* "),
                "number": number.group(0),
                "phrase": phrase.group(1),
                "promise": promise[1].strip() if len(promise) > 1 else "",
            }
        )
    return rows


def readme_questions(text: str | None = None) -> list[str]:
    """The quoted questions of the paragraph that offers other things to ask."""
    section = try_it_section(text if text is not None else ROOT_README.read_text())
    paragraphs = re.split(r"\n\s*\n", section)
    other = [p for p in paragraphs if re.search(r"other things|also ask|you can also", p, re.I)]
    assert other, "README 'Try it' lists no other things to ask"
    return [q for p in other for q in QUOTED.findall(p)]


def test_the_readme_parser_reads_rows_and_questions_and_fails_on_a_broken_table():
    sample = (
        "### Try it\n\nintro *\"where is my order?\"*\n\n| scenario | order | what to try |\n|---|---|---|\n"
        "| shipped | 10514 | \u201cwhere is my order?\u201d \u2192 status, tracking number |\n\n"
        "Other things to ask: \"do you ship to Switzerland?\", \"hello\".\n\n## Configuration\n"
    )
    assert readme_rows(sample) == [
        {"scenario": "shipped", "number": "10514", "phrase": "where is my order?", "promise": "status, tracking number"}
    ]
    assert readme_questions(sample) == ["do you ship to Switzerland?", "hello"]
    with pytest.raises(AssertionError):
        readme_rows(sample.replace("10514", "soon"))
    assert len(readme_rows()) >= 5 and len(readme_questions()) >= 2


# --- The demo shop, served ------------------------------------------------------------------


@pytest.fixture
def site(transactional_db, tmp_path):
    """The demo shop (seed_demo) and a live server over it that writes its e-mail to files."""
    if chromium_path() is None:
        pytest.skip("no Chromium at /usr/bin/chromium")
    out = io.StringIO()
    call_command("seed_demo", "--json", "--force", stdout=out)  # --force: tests run with DEBUG off
    # as bin/run does: the search indexes are built before the first shopper (embedding the demo's
    # articles and products in both languages takes longer than a chat reply may wait)
    call_command("index_search", stdout=io.StringIO())
    scenarios = {s["scenario"]: s for s in json.loads(out.getvalue())["demo_orders"]}
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    server = LiveServer(
        CELERY_TASK_ALWAYS_EAGER="1",
        CHANNELS_PREFIX=f"asgi-tryit-{uuid.uuid4().hex[:8]}",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    try:
        yield {"server": server, "scenarios": scenarios, "mail_dir": mail_dir}
    finally:
        server.close()


def emailed_code(site, address: str, *, after: float) -> str:
    """The newest six-digit code the server e-mailed to address since `after`."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for path in sorted(site["mail_dir"].glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
            if path.stat().st_mtime < after:
                continue
            for raw in reversed(re.split(rb"\n-{79}\n", path.read_bytes())):
                if not raw.strip():
                    continue
                message = email.message_from_bytes(raw.strip(), policy=default_policy)
                if address.lower() not in str(message["To"]).lower():
                    continue
                body = message.get_body(("plain",)).get_content()
                code = re.search(r"^\s*(\d{6})\s*$", body, re.M)
                if code:
                    return code.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no code e-mailed to {address} in {site['mail_dir']}")


class Widget:
    """The storefront chat widget in a real page."""

    def __init__(self, page):
        self.page = page
        self.replies = page.locator('[data-testid="sc-msg"]:not([data-sender="shopper"])')

    def open(self, url):
        self.page.goto(url + "/", wait_until="domcontentloaded")
        self.page.get_by_test_id("sc-launcher").click()

    def _answer(self, act) -> str:
        before = self.replies.count()
        act()
        self.replies.nth(before).wait_for(timeout=30_000)
        self.page.wait_for_timeout(300)  # a turn may end with a notice after the reply
        return "\n".join(self.replies.nth(i).inner_text() for i in range(before, self.replies.count()))

    def say(self, text: str) -> str:
        def act():
            self.page.get_by_test_id("sc-input").fill(text)
            self.page.get_by_test_id("sc-send").click()

        return self._answer(act)

    def quick_reply(self, label: str):
        buttons = self.page.get_by_test_id("sc-quick-reply").filter(has_text=re.compile(rf"^\s*{label}\s*$", re.I))
        return buttons.last if buttons.count() and buttons.last.is_visible() else None


def walk(widget: Widget, site, phrase: str, order: dict) -> str:
    """Say the README's phrase, then answer what the assistant asks (number, e-mail, yes, the
    e-mailed code) until it asks nothing more. Returns everything it said."""
    asked = time.time() - 1
    said = [widget.say(phrase)]
    code_sent = False
    for _ in range(6):
        text = said[-1]
        low = text.lower()
        if not code_sent and "code" in low and re.search(r"e-?mail|sent", low):
            code_sent = True
            said.append(widget.say(emailed_code(site, order["email"], after=asked)))
        elif (yes := widget.quick_reply("yes")) is not None:
            said.append(widget._answer(yes.click))
        elif re.search(r"\byes\s*/\s*no\b", low):
            said.append(widget.say("yes"))
        elif re.search(r"(what|which)('s| is) (your|the) order number", low):
            said.append(widget.say(f"it's {order['number']}"))
        elif re.search(r"e-?mail address", low) and order["email"] not in low:
            said.append(widget.say(order["email"]))
        else:
            break
    return "\n".join(said)


def date_shown(value, text: str) -> bool:
    """A date appears in the text in any usual English form ("3 May 2026", "May 3, 2026")."""
    return bool(re.search(rf"\b{value.day}\b", text)) and (value.strftime("%b") in text or value.strftime("%B") in text)


# --- The order scenarios ----------------------------------------------------------------------


def check_row(row: dict, site, page) -> None:
    from catalog.models import Order, ReturnRequest, ShopPolicy

    demo = site["scenarios"].get(row["scenario"])
    assert demo, f"README scenario {row['scenario']!r} is not one seed_demo makes: {sorted(site['scenarios'])}"
    assert demo["number"] == row["number"], f"README says {row['number']} for {row['scenario']}, seed_demo made {demo['number']}"
    before = Order.objects.get(number=demo["number"])
    rmas_before = set(ReturnRequest.objects.filter(order=before).values_list("rma_number", flat=True))
    window = ShopPolicy.current().return_window_days
    widget = Widget(page)
    widget.open(site["server"].url)
    said = walk(widget, site, row["phrase"], demo)

    after = Order.objects.get(number=demo["number"])
    rmas = list(ReturnRequest.objects.filter(order=after).order_by("-pk"))
    promise = row["promise"].lower()
    assert demo["number"] in said, said
    if "status" in promise or row["scenario"] in ("cancelled",):
        assert after.get_status_display().lower() in said.lower(), said
    if "carrier" in promise:
        assert after.carrier and after.carrier in said, said
    if "tracking" in promise:
        assert after.tracking_number and after.tracking_number in said, said
    if "expected delivery" in promise:
        assert after.estimated_delivery and date_shown(after.estimated_delivery, said), said
    if "cancel" in promise:
        assert "code" in said.lower() and after.status == Order.Status.CANCELLED, (after.status, said)
        assert "cancelled" in said.lower()
    if "rma" in promise:
        created = [r for r in rmas if r.rma_number not in rmas_before]
        assert created and created[0].rma_number in said, said
    if "each item" in promise:
        assert all(line.product_name in said for line in after.lines.all()), said
    if "why not" in promise or "outside" in promise:
        assert str(window) in said and not [r for r in rmas if r.rma_number not in rmas_before], said
        assert f"{window}-day" in promise or str(window) in promise, "README names another return window than the shop's"
    if "refund" in row["phrase"].lower():
        assert rmas and rmas[0].rma_number in said and rmas[0].get_status_display().lower() in said.lower(), said
    if not promise and row["scenario"] not in ("cancelled",) and "refund" not in row["phrase"].lower():
        raise AssertionError(f"no check for README row {row}: teach this test what it promises")


# --- The other questions ----------------------------------------------------------------------


def check_question(question: str, site, page) -> None:
    from bot.models import Conversation
    from bot.replies import TEXTS
    from catalog.models import Article, Product, ShippingMethod

    widget = Widget(page)
    widget.open(site["server"].url)
    said = widget.say(question)
    low, q = said.lower(), question.lower()
    assert TEXTS["unsure"][:40].lower() not in low, said

    if "ship to" in q:
        country = re.search(r"ship to ([A-Z][a-z]+)", question).group(1)
        methods = [m for m in ShippingMethod.objects.filter(is_active=True) if country.lower() in m.name.lower()]
        assert country in said, said
        if methods:
            assert any(m.name in said and f"{m.price:.2f}" in said for m in methods), said
        else:
            assert re.search(r"\b(not|don't|do not|sorry)\b", low), said
    elif "in stock" in q:
        words = [w for w in re.findall(r"[a-z]+", q) if w not in {"is", "the", "in", "stock", "do", "you", "have"}]
        colour = words[-1]
        product = next(
            p for p in Product.objects.filter(is_active=True) if all(w in p.name.lower() for w in words[:-1])
        )
        assert product.name in said, said
        variants = list(product.variants.filter(colour__iexact=colour))
        assert colour in low, said
        if not variants:  # the shop does not make it in that colour: the answer must say so
            assert re.search(r"\b(doesn't|does not|not|no)\b", low), said
        elif any(v.stock for v in variants):
            assert "in stock" in low and f"no {colour}" not in low, said
        else:
            assert re.search(r"sold out|out of stock", low), said
    elif "password" in q:
        article = Article.objects.filter(title__icontains="password").first()
        assert article and article.title in said, said
    elif "person" in q or "human" in q:
        conversation = Conversation.objects.order_by("-pk").first()
        assert conversation.status in (Conversation.Status.WAITING, Conversation.Status.AGENT), conversation.status
        assert conversation.escalations.exists()


# --- The walk ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_readme_try_it_scenario_and_question_works_in_the_browser(site, browser, monkeypatch):
    """Each scenario in a fresh browser context (a new shopper); all are tried, failures listed."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # plain ORM checks between browser steps
    failures = []
    cases = [(row["scenario"], check_row, row) for row in readme_rows()]
    cases += [(question, check_question, question) for question in readme_questions()]
    for name, check, case in cases:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            check(case, site, page)
            assert not errors, errors
        except Exception as exc:  # one broken scenario must not hide the others
            failures.append(f"{name}: {type(exc).__name__}: {str(exc)[-900:]}")
        finally:
            page.screenshot(path=str(artifacts_dir() / f"readme-try-it-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.png"))
            page.context.close()
    assert not failures, "\n\n".join(failures)
