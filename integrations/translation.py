from modeltranslation.translator import TranslationOptions, register

from .models import Integration


@register(Integration)
class IntegrationTranslationOptions(TranslationOptions):
    fields = ("label", "short_label")
    required_languages = ("en",)
