from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from campaigns.captions import (
    TRACKING_LINK_PLACEHOLDER,
    caption_compose,
    caption_fit,
    hashtags_normalize,
    utm_apply,
)

LINK = "https://linkilike.app/t/AbCdEf12"


def test_compose_puts_disclosure_first_and_adds_link_and_hashtags() -> None:
    caption = caption_compose(text="Great coffee.", disclosure="#ad", link=LINK, hashtags=["#coffee"])

    assert caption == f"#ad Great coffee.\n\n{LINK}\n\n#coffee"


def test_an_edit_cannot_remove_disclosure_or_link() -> None:
    edited = "I removed everything sponsored about this"

    caption = caption_compose(text=edited, disclosure="#Werbung", link=LINK)

    assert caption.startswith("#Werbung ")
    assert LINK in caption


def test_compose_does_not_repeat_what_the_text_already_has() -> None:
    text = f"#ad Great #coffee here {LINK}"

    caption = caption_compose(text=text, disclosure="#ad", link=LINK, hashtags=["#coffee", "#Linz"])

    assert caption.count("#ad") == 1
    assert caption.count(LINK) == 1
    assert caption.count("#coffee") == 1
    assert caption.endswith("#Linz")


def test_utm_parameters_are_added() -> None:
    url = utm_apply(url="https://shop.example/roast?ref=1", campaign_slug="autumn")

    query = parse_qs(urlsplit(url).query)
    assert query == {
        "ref": ["1"],
        "utm_source": ["linkilike"],
        "utm_medium": ["influencer"],
        "utm_campaign": ["autumn"],
    }


def test_edited_utm_values_are_kept() -> None:
    url = utm_apply(url="https://shop.example/?utm_source=newsletter", campaign_slug="autumn")

    query = parse_qs(urlsplit(url).query)
    assert query["utm_source"] == ["newsletter"]
    assert query["utm_campaign"] == ["autumn"]


def test_hashtags_are_normalised_and_deduplicated() -> None:
    assert hashtags_normalize("coffee, #Linz  #coffee") == ["#coffee", "#Linz"]
    with pytest.raises(ValueError, match="not a hashtag"):
        hashtags_normalize("<script>")


def test_x_counts_links_as_23_characters() -> None:
    text = "a" * 250
    caption = caption_compose(text=text, disclosure="#ad", link=TRACKING_LINK_PLACEHOLDER)
    # "#ad " + 250 + "\n\n" + 23 (link) = 279
    fit = caption_fit(caption=caption, network_code="x", has_media=False, hashtag_count=1)

    assert fit.length == 279
    assert fit.fits


def test_too_long_caption_says_by_how_much() -> None:
    caption = caption_compose(text="a" * 300, disclosure="#ad", link=TRACKING_LINK_PLACEHOLDER)

    fit = caption_fit(caption=caption, network_code="x", has_media=False, hashtag_count=1)

    assert not fit.fits
    assert "Too long for X: 329 of 280 characters (49 over)." in fit.problems


def test_bluesky_counts_graphemes() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji, five code points
    caption = "#ad " + family * 296
    fit = caption_fit(caption=caption, network_code="bluesky", has_media=False, hashtag_count=1)

    assert len(caption) > 300
    assert fit.length == 300
    assert fit.fits


def test_instagram_needs_media_and_warns_about_links() -> None:
    fit = caption_fit(caption="#ad hi", network_code="instagram", has_media=False, hashtag_count=1)

    assert not fit.fits
    assert fit.problems == ["Instagram needs an image or video."]
    assert any("not clickable" in warning for warning in fit.warnings)


def test_instagram_hashtag_limit() -> None:
    fit = caption_fit(caption="#ad", network_code="instagram", has_media=True, hashtag_count=31)

    assert fit.problems == ["Instagram allows at most 30 hashtags."]
