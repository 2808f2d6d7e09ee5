"""The influencer's campaign screens under /i/: the offers inbox and accept flow, their shares, their results.

They read and change campaign data (offers, shares, publications, results), so they live with the campaign
code; their URL names stay in the ``influencers`` namespace (``linkilike.urls`` merges this package's
``urls.urlpatterns`` with ``influencers.urls``).
"""
