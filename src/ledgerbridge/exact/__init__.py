"""The Exact Online client: OAuth2 with rotating tokens, a rate governor per
division, typed errors, and the resources the sync engine uses."""
