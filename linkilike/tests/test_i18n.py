from django.utils import translation

from campaigns.models import CampaignStatus
from linkilike.i18n import label_in_sentence


def test_labels_are_lowercased_inside_english_sentences_only() -> None:
    with translation.override("en"):
        assert label_in_sentence(CampaignStatus.IN_REVIEW.label) == "in review"
    with translation.override("de"):
        assert label_in_sentence(CampaignStatus.IN_REVIEW.label) == "In Prüfung"
