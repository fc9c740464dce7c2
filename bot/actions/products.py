"""Products: a named product's stock or details, else a search of the catalog."""

from django.utils.translation import gettext, pgettext

from catalog.money import money_format

from .. import dialogue
from ..text import sentences_join
from .base import handles


@handles(dialogue.Products)
def products(executor, action: dialogue.Products, state):
    from catalog.options import size_key
    from ..products import availability_text, other_options, product_card, product_get, product_index_refresh_if_due, product_search

    product = product_get(slug=action.product) if action.product else None
    if product is not None and action.intent in ("product_availability", "product_info"):
        state["slots"]["product"] = product.slug
        if action.intent == "product_availability":
            executor.reply.say(availability_text(product, colour=action.colour, size=action.size, options=action.options))
        else:
            sizes = sorted({v.size for v in product.variants.all() if v.size}, key=size_key)
            colours = sorted({v.colour for v in product.variants.all() if v.colour})
            details = [
                gettext("%(product)s costs %(price)s.") % {"product": product.name, "price": money_format(product.price, product.currency)}
            ]
            if product.materials:
                details.append(gettext("Material: %(materials)s.") % {"materials": product.materials})
            if colours:
                details.append(gettext("Colours: %(colours)s.") % {"colours": pgettext("list separator", ", ").join(colours)})
            if sizes:
                details.append(gettext("Sizes: %(sizes)s.") % {"sizes": pgettext("list separator", ", ").join(sizes)})
            for name, values in other_options(product.variants.all()):
                # "Flavour: Chocolate, Vanilla." — the option's name as the shop wrote it
                details.append(gettext("%(option)s: %(values)s.") % {"option": name, "values": pgettext("list separator", ", ").join(values)})
            if product.description:
                details.append(product.description.split("\n")[0][:300])
            executor.reply.say(sentences_join(details))
        executor.reply.cards.append(product_card(product, colour=action.colour, size=action.size, options=action.options))
        return dialogue.Outcome(action="products", ok=True)
    product_index_refresh_if_due()
    found = product_search(
        query=action.query,
        colour=action.colour,
        size=action.size,
        options=action.options,
        max_price=action.max_price,
        in_stock=action.intent == "product_availability" or bool(action.size),
    )
    if not found:
        return dialogue.Outcome(action="products", ok=True, found=False)
    state["slots"]["product"] = found[0].slug
    if action.intent == "place_order":
        executor.reply.say(
            gettext(
                "You can order on the product page: choose colour and size, add it to your bag and check out. "
                "Here is what I found:"
            )
        )
    else:
        executor.reply.say(gettext("Here is what I found in our shop:"))
    for product in found:
        executor.reply.cards.append(product_card(product, colour=action.colour, size=action.size, options=action.options))
    return dialogue.Outcome(action="products", ok=True)
