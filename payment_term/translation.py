from modeltranslation.translator import TranslationOptions, register

from .models import PaymentTermIntegration


@register(PaymentTermIntegration)
class PaymentTermIntegrationTranslationOptions(TranslationOptions):
    fields = ()
