"""Cases (诉求): a company's request to government and everything that happens to it."""
