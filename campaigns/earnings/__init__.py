"""Where campaigns meet money: earnings booked from a share's verified metrics, the campaign's budget
reservation, the pricing policy, campaign spend reads. Books through the money layer's ledger API
(``payouts.services.ledger``); the money layer knows nothing of campaigns.
"""
