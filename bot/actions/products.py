"""Products: a named product's stock or details, else a search of the catalog."""

from catalog.money import money_format

from .. import dialogue
from .base import handles


@handles(dialogue.Products)
def products(executor, action: dialogue.Products, state):
    from catalog.options import size_key
    from ..products import availability_text, product_card, product_get, product_index_refresh_if_due, product_search

    product = product_get(slug=action.product) if action.product else None
    if product is not None and action.intent in ("product_availability", "product_info"):
        state["slots"]["product"] = product.slug
        if action.intent == "product_availability":
            executor.reply.say(availability_text(product, colour=action.colour, size=action.size))
        else:
            sizes = sorted({v.size for v in product.variants.all() if v.size}, key=size_key)
            colours = sorted({v.colour for v in product.variants.all() if v.colour})
            details = [f"{product.name} costs {money_format(product.price, product.currency)}."]
            if product.materials:
                details.append(f"Material: {product.materials}.")
            if colours:
                details.append("Colours: " + ", ".join(colours) + ".")
            if sizes:
                details.append("Sizes: " + ", ".join(sizes) + ".")
            if product.description:
                details.append(product.description.split("\n")[0][:300])
            executor.reply.say(" ".join(details))
        executor.reply.cards.append(product_card(product, colour=action.colour, size=action.size))
        return dialogue.Outcome(action="products", ok=True)
    product_index_refresh_if_due()
    found = product_search(
        query=action.query,
        colour=action.colour,
        size=action.size,
        max_price=action.max_price,
        in_stock=action.intent == "product_availability" or bool(action.size),
    )
    if not found:
        return dialogue.Outcome(action="products", ok=True, found=False)
    state["slots"]["product"] = found[0].slug
    if action.intent == "place_order":
        executor.reply.say(
            "You can order on the product page: choose colour and size, add it to your bag and check out. "
            "Here is what I found:"
        )
    else:
        executor.reply.say("Here is what I found in our shop:")
    for product in found:
        executor.reply.cards.append(product_card(product, colour=action.colour, size=action.size))
    return dialogue.Outcome(action="products", ok=True)
