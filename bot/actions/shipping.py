"""The shop's shipping options and delivery times (to a country, when named)."""

from django.utils.text import get_text_list
from django.utils.translation import gettext, ngettext, pgettext

from catalog import selectors as shop
from catalog.money import country_name, money_format

from .. import dialogue
from .base import handles


@handles(dialogue.Shipping)
def shipping(executor, action: dialogue.Shipping, state):
    options = shop.shipping_options(country=action.country)
    where = country_name(action.country) if action.country else ""
    if not options:
        if action.country:
            served = sorted({country_name(c) for o in shop.shipping_options() for c in o["countries"]})
            if served:
                text = gettext("No, we don't ship to %(country)s at the moment, but we deliver to %(countries)s.") % {
                    "country": where,
                    "countries": get_text_list(served, gettext("and")),
                }
            else:
                text = gettext("No, we don't ship to %(country)s at the moment.") % {"country": where}
            executor.reply.say(text)
            return dialogue.Outcome(action="shipping", ok=True)
        return dialogue.Outcome(action="shipping", ok=True, found=False)
    lines = []
    for o in options:
        days = o["max_days"]
        values = {
            "method": o["name"],
            "price": money_format(o["price"], o["currency"]),
            "days": f"{o['min_days']}–{o['max_days']}" if o["min_days"] != o["max_days"] else f"{o['min_days']}",
        }
        if o.get("free_over") is not None:
            values["amount"] = money_format(o["free_over"], o["currency"])
            line = ngettext(
                "%(method)s: %(price)s, %(days)s working day, free from %(amount)s",
                "%(method)s: %(price)s, %(days)s working days, free from %(amount)s",
                days,
            ) % values
        else:
            line = ngettext("%(method)s: %(price)s, %(days)s working day", "%(method)s: %(price)s, %(days)s working days", days) % values
        if not action.country:
            names = [country_name(c) for c in o["countries"]]
            listed = pgettext("list separator", ", ").join(names[:8]) + ("…" if len(names) > 8 else "")
            line += pgettext("countries after a shipping option", " (%(countries)s)") % {"countries": listed}
        lines.append(line)
    if action.intent == "delivery_period":
        head = gettext("Delivery times to %(country)s:") % {"country": where} if where else gettext("Delivery times:")
    else:
        # "Do you ship to Switzerland?" is a yes/no question: the answer starts with the yes.
        head = gettext("Yes, we ship to %(country)s:") % {"country": where} if where else gettext("Our shipping options:")
    executor.reply.say(head + "\n" + "\n".join(f"• {line}" for line in lines))
    return dialogue.Outcome(action="shipping", ok=True)

# -- account-ish -------------------------------------------------------------------------
