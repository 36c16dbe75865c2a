"""Oversight (监督): the big screen, the three rates, red flags and the public figures — all
computed from the case record, never typed in."""
