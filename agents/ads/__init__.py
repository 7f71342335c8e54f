"""Google Ads reading for the agents: the digest's figures, budget previews, keyword metrics."""
