from modeltranslation.translator import TranslationOptions, register

from .models import InfinitePayIntegration


@register(InfinitePayIntegration)
class InfinitePayIntegrationTranslationOptions(TranslationOptions):
    # Label and Short Label are translated on Integration; registering the subclass
    # lets its admin show the per-language fields.
    fields = ()
