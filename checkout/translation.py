from modeltranslation.translator import TranslationOptions, register

from .models import Product


@register(Product)
class ProductTranslationOptions(TranslationOptions):
    # A product's name per language; a language without one shows the English name.
    fields = ("name",)
    required_languages = ("en",)
