from django.shortcuts import get_object_or_404, render

from .models import Article, Category, Product


def home(request):
    return render(request, "catalog/home.html", {"categories": Category.objects.all(), "products": Product.objects.filter(is_active=True)[:12]})


def category_detail(request, slug):
    category = get_object_or_404(Category, slug=slug)
    return render(request, "catalog/category.html", {"category": category, "products": category.products.filter(is_active=True)})


def product_detail(request, slug):
    product = get_object_or_404(Product, slug=slug, is_active=True)
    return render(request, "catalog/product.html", {"product": product, "variants": product.variants.all()})


def article_list(request):
    return render(request, "catalog/article_list.html", {"articles": Article.objects.filter(is_published=True)})


def article_detail(request, slug):
    article = get_object_or_404(Article, slug=slug, is_published=True)
    return render(request, "catalog/article.html", {"article": article})
