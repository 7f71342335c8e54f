""" "Connect with …": OAuth 2.0 flows that create and keep connectors connected.

- ``specs``: each outside app (Meta, Google, LinkedIn, TikTok, Reddit) with its documented
  addresses, how it authenticates at the token endpoint and whether it takes PKCE; and each
  *target* (what a person connects: Facebook Pages and Instagram, YouTube, LinkedIn, TikTok,
  Reddit) with its scopes, how its accounts are discovered and the connector it becomes.
- ``client``: Authlib sessions for the authorization URL, the code exchange and refreshes.
- models (in ``connectors.models``): an organization's own app credentials, a connection waiting for its account to
  be chosen, and the OAuth facts of a connected connector.
- ``services``: starting a flow, the callback, choosing the account, refreshing tokens.
- ``views`` / ``tasks``: the pages and the refresh schedule.
"""
